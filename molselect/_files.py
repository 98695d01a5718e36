"""Writing files safely: atomically, with the permissions the user's umask asks for.

An output path may be a regular file (replaced atomically: temporary file,
then rename), a symlink (followed: the file it points to is written, the link
stays), or a device, pipe or terminal (``/dev/null``, ``/dev/stdout``: written
through, never replaced by a regular file).  A name ending in ``.gz`` is
gzip-compressed.  A writer told the run's input files refuses to overwrite
one of them.
"""

from __future__ import annotations

import gzip
import os
import stat
import tempfile
import time
from pathlib import Path

__all__ = ["file_mode", "atomic_write", "atomic_write_text", "check_writable", "remove_stale_temporaries"]


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


def _special(path):
    """Whether ``path`` (links followed) exists and is neither a regular file nor a folder:
    a device, a pipe, a socket, a terminal."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def _destination(path):
    """The regular file to replace for ``path``: the target of a symlink, else ``path``."""
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def _same_file(a, b):
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return os.path.realpath(a) == os.path.realpath(b)


def _refuse_inputs(path, inputs):
    for given in inputs or ():
        if given is not None and _same_file(path, given):
            raise FileExistsError(
                f"{path} is one of this run's input files ({given}); writing the results "
                "there would overwrite it: choose another file")


def _encoded(path, text):
    data = text.encode("utf-8")
    if str(path).lower().endswith(".gz"):
        data = gzip.compress(data, mtime=0)  # mtime 0: the same text gives the same bytes
    return data


def atomic_write(path, write, *, inputs=()):
    """Write a file through ``write(handle)``: atomically where ``path`` is a regular file.

    The one atomic writer of molselect, for text (:func:`atomic_write_text`),
    arrays (the feature cache's ``.npz``) and streamed tables (a downloaded
    dataset).  For a regular file (or a new one) ``write`` fills a temporary
    file in the same folder that is then given the umask's mode
    (:func:`file_mode`) and renamed over ``path``: a reader (or a later run)
    sees the old file or the complete new one, never a partial write, and if
    ``write`` fails (or the process is interrupted with an exception) the
    temporary file is removed.  A symlink is followed: the file it points to
    is replaced and the link stays.  A device, pipe or terminal
    (``/dev/null``, ``/dev/stdout``) is written through, never replaced; a
    write error there (``/dev/full``) is raised.

    Parameters
    ----------
    path : str or path-like
        The file; its folder must exist.
    write : callable
        Called once with a binary file handle open for writing; it writes
        the whole content (compressing it itself, if it should be).
    inputs : iterable of str or path-like, optional
        The run's input files: writing over one of them is refused.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    FileExistsError
        When ``path`` is (or links to) one of ``inputs``.
    OSError
        When writing fails.
    """
    path = Path(path)
    if _special(path):
        with open(path, "wb") as handle:
            write(handle)
        return path
    target = _destination(path)
    _refuse_inputs(target, inputs)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
        os.chmod(tmp, file_mode())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path, text, *, inputs=()):
    """Write ``text`` to ``path``: atomically where ``path`` is a regular file.

    See :func:`atomic_write` for what happens with a regular file, a
    symlink, a device, pipe or terminal.  The text is UTF-8; a name ending
    in ``.gz`` is written gzip-compressed (with a zero timestamp, so the same
    text gives the same bytes).

    Parameters
    ----------
    path : str or path-like
    text : str
    inputs : iterable of str or path-like, optional
        As for :func:`atomic_write`.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    FileExistsError, OSError
        As :func:`atomic_write` does.
    """
    data = _encoded(Path(path), text)
    return atomic_write(path, lambda handle: handle.write(data), inputs=inputs)


def check_writable(path, *, inputs=()):
    """Make sure a file can be written at ``path`` now, before any long work.

    Creates the missing parent folders and writes (then removes) a temporary
    file next to ``path`` (next to the file a symlink points to): the only
    test that catches every case (a read-only or pseudo file system, a parent
    that is a file, missing permissions).  A device, pipe or terminal only
    needs to be writable.

    Parameters
    ----------
    path : str or path-like
    inputs : iterable of str or path-like, optional
        The run's input files: ``path`` must not be one of them.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    OSError
        With a message that says what is wrong with ``path``
        (``FileExistsError`` when it is one of ``inputs``).
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a directory; give a file name inside it")
    if path.exists() and not os.access(path, os.W_OK):
        raise PermissionError(f"{path} exists and is not writable")
    if _special(path):
        return path
    target = _destination(path)
    _refuse_inputs(target, inputs)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise NotADirectoryError(f"cannot create the folder {target.parent}: a file of that "
                                 "name (or of one of its parents) exists") from None
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    os.unlink(tmp)
    return path


def remove_stale_temporaries(folder, pattern=".*.tmp", min_age=600.0):
    """Delete temporary files that an interrupted write left in ``folder``.

    A write that is killed (``kill -9``, a power cut) between creating its
    temporary file and renaming it leaves the file behind.  Only files older
    than ``min_age`` seconds are removed, so the temporary file of a write
    that another process is doing right now is left alone.

    Parameters
    ----------
    folder : str or path-like
    pattern : str, default ".*.tmp"
        Glob of the temporary files (:func:`atomic_write` names them
        ``.<name>.<random>.tmp``).
    min_age : float, default 600
        Seconds since the last modification.

    Returns
    -------
    int
        How many files were removed (those another process removed first, or
        that could not be removed, are not counted).
    """
    folder = Path(folder)
    if not folder.is_dir():
        return 0
    now, removed = time.time(), 0
    for tmp in folder.glob(pattern):
        try:
            if tmp.is_file() and now - tmp.stat().st_mtime >= min_age:
                tmp.unlink()
                removed += 1
        except OSError:
            continue
    return removed
