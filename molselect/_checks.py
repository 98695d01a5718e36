"""Checks of single values: seeds, seed lists, job counts, devices; and the one parameter-error
format (the SMILES text rules are :mod:`molselect.featurize._smiles`).

The declared parameter constraints (:mod:`molselect._param_validation`) use
the seed and device checks here, so that a value ``fit`` accepts is one that
:func:`check_random_state` and :func:`check_device` accept too.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["InvalidParameterError", "check_random_state", "repeat_seeds", "check_device",
           "param_error", "parse_seeds", "parse_n_jobs", "MAX_SEEDS"]

MAX_SEEDS = 1_000
"""Most seeds one study may run: each seed is a fit of the target alone and one per
candidate, so a thousand seeds of a ten-candidate study are 11,000 fits, days of work; a
larger list is a typing error (``0-1000000`` built two million jobs, 1.8 GB, before any fit).
"""

SEED_TYPES = "an integer >= 0, None, a numpy.random.RandomState or a numpy.random.Generator"


class InvalidParameterError(ValueError, TypeError):
    """A parameter value outside its declaration; ``param`` names the parameter.

    A ``ValueError`` and a ``TypeError``, as scikit-learn's error of the same
    name, so that code catching either keeps working.  The command line maps
    ``param`` back to the option that set the value.

    Parameters
    ----------
    message : str
        The message, ``"<name> must be <expected>, got <value>"``.
    param : str
        The parameter's name.

    Attributes
    ----------
    param : str
        The parameter's name.
    """

    def __init__(self, message, *, param):
        super().__init__(message)
        self.param = param

    def __reduce__(self):
        # Pickled across joblib workers: rebuild with the keyword argument.
        return (_rebuild_invalid_parameter_error, (str(self), self.param))


def _rebuild_invalid_parameter_error(message, param):
    return InvalidParameterError(message, param=param)


def param_error(name, expected, value, why=None):
    """The one format of a parameter error: ``"<name> must be <expected>, got <value>"``.

    The error carries the parameter's name in its ``param`` attribute, which
    the command line maps back to the option that set it.

    Parameters
    ----------
    name : str
        The parameter.
    expected : str
        What it must be.
    value : object
        What it is.
    why : str, optional
        Appended after a colon: why the constraint is what it is.

    Returns
    -------
    InvalidParameterError
    """
    return InvalidParameterError(
        f"{name} must be {expected}, got {value!r}" + (f": {why}" if why else ""), param=name)


def is_random_state(value):
    """Whether ``value`` is something :func:`check_random_state` accepts."""
    if value is None or isinstance(value, (np.random.RandomState, np.random.Generator)):
        return True
    return (not isinstance(value, (bool, np.bool_)) and isinstance(value, numbers.Integral)
            and value >= 0)


def check_random_state(random_state, name="random_state"):
    """Turn a ``random_state`` into a ``numpy.random.SeedSequence``: molselect's one seeding path.

    Like scikit-learn's ``check_random_state`` it accepts an int, None, a
    ``RandomState`` (and a ``Generator``); it returns a ``SeedSequence``
    rather than a ``RandomState`` because the trainings need seeds that are
    the same in every process and independent children of one seed
    (MolGroup's rounds and repeats: ``spawn``).  A training seeds torch from
    it with :func:`molselect.core.seed_everything`.

    Parameters
    ----------
    random_state : int, None, numpy.random.RandomState or numpy.random.Generator
        An int ``s`` gives ``SeedSequence(s)``, so an integer seed gives the
        same numbers as it always has; a RandomState or Generator gives one
        draw from it (advancing it, as scikit-learn does); None gives fresh
        entropy (unreproducible by request).
    name : str
        Parameter name for the error message.

    Returns
    -------
    numpy.random.SeedSequence
        Its ``entropy`` is the integer seed (the draw, for a RandomState or
        Generator).

    Raises
    ------
    ValueError
        For a negative integer, or anything that is not an integer, None, a
        ``RandomState`` or a ``Generator``.
    """
    if not is_random_state(random_state):
        raise param_error(name, SEED_TYPES, random_state)
    if isinstance(random_state, np.random.RandomState):
        random_state = int(random_state.randint(0, 2**31 - 1))
    elif isinstance(random_state, np.random.Generator):
        random_state = int(random_state.integers(0, 2**31 - 1))
    elif random_state is not None:
        random_state = int(random_state)
    return np.random.SeedSequence(random_state)


def repeat_seeds(seed_sequence, n_repeats):
    """The training seeds of ``n_repeats`` independent repeats of one training.

    Repeat 0 gets the seed the unrepeated training gets (so one repeat is
    exactly the unrepeated result), the others the first word of the
    sequence's independent children.

    Parameters
    ----------
    seed_sequence : numpy.random.SeedSequence
        From :func:`check_random_state`.
    n_repeats : int
        At least 1.

    Returns
    -------
    list of int
    """
    return [int(seed_sequence.generate_state(1)[0])] + [
        int(child.generate_state(1)[0]) for child in seed_sequence.spawn(n_repeats - 1)]


def check_device(device, name="device"):
    """Resolve ``device`` to a torch device, with errors that name the parameter.

    Returns
    -------
    torch.device

    Raises
    ------
    ValueError
        For a string torch does not know as a device, a device type molselect
        does not run on, or CUDA / MPS requested where it is not available.
    """
    import torch

    if device is None or (isinstance(device, str) and device == "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    expected = "'auto', 'cpu', 'cuda', 'cuda:N' or 'mps' (a string or a torch.device)"
    if isinstance(device, bool) or not isinstance(device, (str, torch.device)):
        raise param_error(name, expected, device)
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise param_error(name, expected, device, "torch knows no such device") from None
    available = "a device this machine has"
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise param_error(name, available, str(resolved), "CUDA is not available")
        if resolved.index is not None and resolved.index >= torch.cuda.device_count():
            raise param_error(name, available, str(resolved),
                              f"there are only {torch.cuda.device_count()} CUDA device(s)")
    elif resolved.type == "mps":
        if not torch.backends.mps.is_available():
            raise param_error(name, available, str(resolved), "MPS is not available")
    elif resolved.type != "cpu":
        raise param_error(name, expected, str(resolved), "molselect runs on CPU, CUDA or MPS")
    return resolved


def _seed_part(part, option):
    """One item of a seed list -> (first, last) of a range, checked."""
    text = str(part).strip()
    try:
        if "-" in text[1:]:
            lo, hi = text.split("-", 1) if not text.startswith("-") else (text, text)
            lo, hi = int(lo), int(hi)
        else:
            lo = hi = int(text)
    except ValueError:
        raise ValueError(f"{option}: expected a seed, a range such as 0-7 or a list such as "
                         f"0,1,2; got {text!r}") from None
    if lo < 0:
        raise ValueError(f"{option}: seeds must be integers >= 0, got {lo} in {text!r}")
    if hi < lo:
        raise ValueError(f"{option}: the range {text!r} ends before it starts; write {hi}-{lo}")
    return lo, hi


def parse_seeds(values, option="--seeds", max_seeds=MAX_SEEDS):
    """Parse and check a list of seeds: ``"3"``, ``"0-7"``, ``"0,1,2"`` or several of them.

    Every error is a ValueError that starts with ``option``, raised before
    anything is built: a range is counted, not expanded, so ``0-1000000``
    costs nothing.

    Parameters
    ----------
    values : str, int or iterable of str or int
        The seeds as typed: each item a seed, a range ``lo-hi`` (both ends
        included) or a comma-separated list of these.
    option : str, default "--seeds"
        The option or parameter named in messages.
    max_seeds : int, default MAX_SEEDS (1,000)
        Most seeds accepted.

    Returns
    -------
    list of int
        The seeds, in the order given.

    Raises
    ------
    ValueError
        For text that is not a seed or range, a negative seed, a range that
        ends before it starts, no seed at all, more than ``max_seeds`` seeds,
        or a seed given twice.
    """
    if isinstance(values, (str, int, np.integer)):
        values = [values]
    ranges = [_seed_part(part, option) for value in values for part in str(value).split(",")
              if part.strip()]
    if not ranges:
        raise ValueError(f"{option}: no seed given")
    count = sum(hi - lo + 1 for lo, hi in ranges)
    if count > max_seeds:
        raise ValueError(
            f"{option}: {count:,} seeds are more than the {max_seeds:,} a study may run (each "
            "seed is one fit of the target alone and one per candidate); give fewer")
    seeds = [seed for lo, hi in ranges for seed in range(lo, hi + 1)]
    repeated = sorted({s for s in seeds if seeds.count(s) > 1}) if len(set(seeds)) < count \
        else []
    if repeated:
        raise ValueError(f"{option}: seeds repeat ({', '.join(map(str, repeated[:10]))}); "
                         "each seed is a pair of fits, so give each once")
    return seeds


def parse_n_jobs(value, option="--n-jobs"):
    """Parse and check a number of parallel jobs, as joblib counts them.

    Parameters
    ----------
    value : str or int
        A positive count, or a negative one counting back from the number of
        CPUs (``-1`` = all of them).
    option : str, default "--n-jobs"
        The option or parameter named in messages.

    Returns
    -------
    int

    Raises
    ------
    ValueError
        For 0, text that is not an integer, or fewer than ``-cpu_count``.
    """
    import os

    cpus = os.cpu_count() or 1
    try:
        if isinstance(value, (bool, np.bool_)) or isinstance(value, float):
            raise ValueError
        n_jobs = int(str(value).strip())
    except ValueError:
        raise ValueError(f"{option}: expected a whole number of jobs such as 1, 4 or -1 (all "
                         f"CPUs), got {value!r}") from None
    if n_jobs == 0 or n_jobs < -cpus:
        raise ValueError(f"{option}: must be a positive number of jobs, or -1 to -{cpus} "
                         f"(all CPUs, all but one, ...; this machine has {cpus}), got {n_jobs}")
    return n_jobs
