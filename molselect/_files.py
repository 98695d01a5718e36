"""Writing files safely: atomically, with the permissions the user's umask asks for."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["file_mode", "atomic_write_text", "check_writable"]


def file_mode():
    """The mode a plain ``open(path, "w")`` would give a new file: ``0o666`` less the umask.

    ``tempfile.mkstemp`` always creates files ``0o600``; files that are moved
    into place get this mode instead, so a shared cache or result folder stays
    readable by the others the umask allows.
    """
    # The umask can only be read by setting it; set it straight back.
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write_text(path, text):
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename.

    A reader (or a later run) sees the old file or the complete new one, never
    a partial write; if writing fails, the temporary file is removed.

    Parameters
    ----------
    path : str or path-like
    text : str

    Returns
    -------
    pathlib.Path
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def check_writable(path):
    """Make sure a file can be written at ``path`` now, before any long work.

    Creates the missing parent folders and writes (then removes) a temporary
    file next to ``path``: the only test that catches every case (a read-only
    or pseudo file system, a parent that is a file, missing permissions).

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    pathlib.Path

    Raises
    ------
    OSError
        With a message that says what is wrong with ``path``.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a directory; give a file name inside it")
    if path.exists() and not os.access(path, os.W_OK):
        raise PermissionError(f"{path} exists and is not writable")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise NotADirectoryError(f"cannot create the folder {path.parent}: a file of that name "
                                 "(or of one of its parents) exists") from None
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    os.unlink(tmp)
    return path
