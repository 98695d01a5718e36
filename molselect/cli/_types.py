"""The value types and actions of the command-line options: what argparse checks.

Every value is checked by the parser, before any data loads, and refused with
the option named (argparse's ``argument --seeds: ...``).  :class:`Renamed` is
the old spelling of a renamed option, which still works with a warning.
"""

from __future__ import annotations

import argparse

__all__ = ["positive_int", "one_seed", "seed_list", "n_jobs", "resample_size", "MIN_RESAMPLE",
           "separator", "Renamed", "Seeds"]


def positive_int(text):
    """``argparse`` type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def one_seed(text):
    """``argparse`` type: one integer seed (``--seed``, ``--data-seed``).

    A list or range (``0-4``) is refused with the option that takes several:
    ``--seeds`` of ``evaluate`` and ``transfer``.  The sign is the library's
    to check, with the option named (:func:`option_for`).
    """
    try:
        return int(text)
    except ValueError:
        several = any(mark in str(text).lstrip("-") for mark in ("-", ",", " "))
        raise argparse.ArgumentTypeError(
            f"expected one integer seed, got {text!r}"
            + (f"; several training seeds are --seeds {text} (of evaluate and transfer)"
               if several else "")) from None


def seed_list(text):
    """``argparse`` type: ``3``, ``0-7`` or ``0,1,2`` -> a list of seeds.

    Checked by :func:`molselect._checks.parse_seeds` (non-negative, a
    range that ends after it starts, at most ``MAX_SEEDS``, none repeated),
    so that a bad ``--seeds`` fails before any data loads.
    """
    from .._checks import parse_seeds

    try:
        return parse_seeds(str(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(_without_option(exc, "--seeds")) from None


def n_jobs(text):
    """``argparse`` type: a number of parallel jobs, as joblib counts them (``-1``: all CPUs).

    Checked by :func:`molselect._checks.parse_n_jobs` (0 and fewer than
    ``-cpu_count`` refused), before any data loads.
    """
    from .._checks import parse_n_jobs

    try:
        return parse_n_jobs(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(_without_option(exc, "--n-jobs")) from None


#: The smallest ``--resample``: a smaller training set cannot be relied on to hold both
#: classes of a classification target, nor to train a model on.
MIN_RESAMPLE = 10


def resample_size(text):
    """``argparse`` type: a ``--resample`` size, an integer >= :data:`MIN_RESAMPLE`."""
    value = positive_int(text)
    if value < MIN_RESAMPLE:
        raise argparse.ArgumentTypeError(
            f"{value} molecule(s) is too small a training set: every fit would train on "
            f"{value} resampled molecule(s), too few to hold both classes of a "
            f"classification target; give at least {MIN_RESAMPLE}")
    return value


def separator(text):
    """``argparse`` type: a field separator; ``\\t`` or ``tab`` is a tab."""
    text = str(text)
    if text.lower() in ("\\t", "tab", "\t"):
        return "\t"
    if not text:
        raise argparse.ArgumentTypeError("expected a separator such as ';' or '\\t', got ''")
    return text


def _without_option(exc, option):
    """The message of ``exc`` without its leading ``"--option: "`` (argparse names it)."""
    message = str(exc)
    return message[len(option) + 2:] if message.startswith(option + ": ") else message


class Renamed(argparse.Action):
    """The old spelling of a renamed option: it still sets the new option's value, and warns.

    Declared with :func:`renamed`; hidden from ``--help``.  The warning is a
    :class:`FutureWarning` (shown by default, unlike a ``DeprecationWarning``),
    which the command line prints as a ``warning: ...`` line.

    Parameters
    ----------
    option_strings, dest, **kwargs
        As for :class:`argparse.Action`.
    new : str
        The option's current spelling.
    why : str, optional
        What the new name makes clear, appended to the warning.
    """

    def __init__(self, option_strings, dest, new, why="", **kwargs):
        super().__init__(option_strings, dest, **kwargs)
        self.new = new
        self.why = why

    def __call__(self, parser, namespace, values, option_string=None):
        import warnings

        warnings.warn(f"{option_string} is renamed {self.new}; the old spelling will be "
                      f"removed in a future release{': ' + self.why if self.why else ''}",
                      FutureWarning, stacklevel=2)
        setattr(namespace, self.dest, values)


class Seeds(argparse.Action):
    """Flatten ``--seeds 0-2 5`` into one list, checked as a whole (count, repeats)."""

    def __call__(self, parser, namespace, values, option_string=None):
        from .._checks import parse_seeds

        try:
            flat = parse_seeds([seed for value in values for seed in value])
        except ValueError as exc:
            raise argparse.ArgumentError(self, _without_option(exc, "--seeds")) from None
        setattr(namespace, self.dest, flat)
