"""What every command shares: the user-facing error, list arguments and result files."""

from __future__ import annotations

__all__ = ["CLIError", "split_list", "check_out", "write_out"]


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


def check_out(path, option="--out"):
    """Fail now, before any data is loaded, when ``path`` cannot be written.

    Parameters
    ----------
    path : path-like
        A result file.
    option : str, default="--out"
        The option that named it, for the message.

    Returns
    -------
    pathlib.Path
    """
    from .._files import check_writable

    try:
        return check_writable(path)
    except OSError as exc:
        reason = exc.strerror if exc.strerror and not str(exc).startswith(str(path)) else exc
        raise CLIError(f"{option} {path}: cannot write the results there ({reason}); "
                       "choose another file") from None


def write_out(path, text, option="--out"):
    """Write a result file atomically (temporary file + rename); errors name the option.

    Parameters
    ----------
    path : path-like
        The result file.
    text : str
        Its content.
    option : str, default="--out"
        The option that named it, for the message.

    Returns
    -------
    pathlib.Path
    """
    from .._files import atomic_write_text

    try:
        return atomic_write_text(path, text)
    except OSError as exc:
        raise CLIError(f"{option} {path}: writing the results failed ({exc}); the table "
                       "above is all that is left of this run") from None
