"""What every command shares: the user-facing error, list arguments, result files and folders."""

from __future__ import annotations

__all__ = ["CLIError", "split_list", "check_out", "check_folder", "companion_path",
           "write_out"]


class CLIError(Exception):
    """A user-facing error: printed without a traceback, exit code 2."""


def split_list(values):
    """Accept ``a,b c`` as well as ``a b`` and ``a,b``: users type both.

    Parameters
    ----------
    values : list of str or None
        The option's values.

    Returns
    -------
    list of str
    """
    out = []
    for value in values or []:
        out.extend(part.strip() for part in str(value).split(",") if part.strip())
    return out


def check_out(path, option="--out", inputs=()):
    """Fail now, before any data is loaded, when ``path`` cannot be written.

    Parameters
    ----------
    path : path-like
        A result file.
    option : str, default="--out"
        The option that named it, for the message.
    inputs : iterable of path-like, optional
        The run's input files, which ``path`` must not be.

    Returns
    -------
    pathlib.Path
    """
    from .._files import check_writable

    try:
        return check_writable(path, inputs=inputs)
    except FileExistsError as exc:
        raise CLIError(f"{option} {exc}") from None
    except OSError as exc:
        reason = exc.strerror if exc.strerror and not str(exc).startswith(str(path)) else exc
        raise CLIError(f"{option} {path}: cannot write the results there ({reason}); "
                       "choose another file") from None


def check_folder(path, option="--results-dir"):
    """Fail now, before any data is loaded, when files cannot be kept in the folder ``path``.

    Parameters
    ----------
    path : path-like
        A folder (created when missing).
    option : str, default="--results-dir"
        The option that named it, for the message.

    Returns
    -------
    pathlib.Path
    """
    from pathlib import Path

    from .._files import check_writable

    try:
        check_writable(Path(path) / ".molselect-write-check")
    except OSError as exc:
        reason = exc.strerror if exc.strerror and exc.filename else exc
        raise CLIError(f"{option} {path}: cannot keep files in this folder ({reason}); "
                       "choose another folder") from None
    return Path(path)


def companion_path(path, label):
    """The file written next to a result file: ``gains.csv.gz`` -> ``gains.summary.csv.gz``.

    Parameters
    ----------
    path : path-like
        The result file (``--out``).
    label : str
        What the companion holds (``"summary"``, ``"history"``).

    Returns
    -------
    pathlib.Path
        ``<name>.<label>.csv``, where ``<name>`` is ``path``'s name without
        ``.gz`` and a ``.csv`` / ``.tsv`` / ``.json`` suffix, compressed
        (``.gz``) when ``path`` is.
    """
    from pathlib import Path

    path = Path(path)
    name, gz = path.name, path.name.lower().endswith(".gz")
    if gz:
        name = name[:-3]
    for suffix in (".csv", ".tsv", ".json"):
        if name.lower().endswith(suffix):
            name = name[:-len(suffix)]
            break
    return path.with_name(f"{name}.{label}.csv" + (".gz" if gz else ""))


def write_out(path, text, option="--out", inputs=()):
    """Write a result file atomically (temporary file + rename); errors name the option.

    Parameters
    ----------
    path : path-like
        The result file.
    text : str
        Its content.
    option : str, default="--out"
        The option that named it, for the message.
    inputs : iterable of path-like, optional
        The run's input files, which are never overwritten.

    Returns
    -------
    pathlib.Path
    """
    from .._files import atomic_write_text

    try:
        return atomic_write_text(path, text, inputs=inputs)
    except FileExistsError as exc:
        raise CLIError(f"{option} {exc}") from None
    except OSError as exc:
        raise CLIError(f"{option} {path}: writing the results failed ({exc}); the table "
                       "above is all that is left of this run") from None
