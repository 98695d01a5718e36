"""Parameter checks shared by the selectors and the estimators: seeds, thresholds, devices."""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["check_random_state", "as_seed", "check_threshold", "check_device"]

_SEED_TYPES = "an integer >= 0, None, a numpy.random.RandomState or a numpy.random.Generator"


def check_random_state(random_state, name="random_state"):
    """Check that ``random_state`` is something :func:`as_seed` accepts, drawing nothing.

    Raises
    ------
    ValueError
        For a negative integer, or anything that is not an integer, None, a
        ``RandomState`` or a ``Generator``; the message names the parameter.
    """
    if random_state is None or isinstance(random_state,
                                          (np.random.RandomState, np.random.Generator)):
        return
    if isinstance(random_state, bool) or not isinstance(random_state, numbers.Integral):
        raise ValueError(f"{name} must be {_SEED_TYPES}, got {random_state!r}")
    if random_state < 0:
        raise ValueError(f"{name} must be {_SEED_TYPES}, got the negative integer "
                         f"{random_state}")


def as_seed(random_state, name="random_state"):
    """Turn a ``random_state`` into an int seed, like scikit-learn's ``check_random_state``.

    Parameters
    ----------
    random_state : int, None, numpy.random.RandomState or numpy.random.Generator
        An int is returned unchanged (so integer seeds give the same results as
        before); a RandomState or Generator gives one draw from it (advancing
        it, as scikit-learn does); None stays None (fresh entropy downstream).
    name : str
        Parameter name for the error message.

    Returns
    -------
    int or None
    """
    check_random_state(random_state, name)
    if random_state is None:
        return None
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**31 - 1))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**31 - 1))
    return int(random_state)


def check_threshold(value, low=None, high=None, allow_none=True, name="threshold",
                    meaning=None, open_high=False):
    """Check a selection threshold: a real number (not NaN) within ``[low, high]``.

    Parameters
    ----------
    value : object
        The parameter's value.
    low, high : float or None
        Inclusive bounds (None: unbounded on that side).
    allow_none : bool, default=True
        Whether None (no threshold) is accepted.
    name : str
    meaning : str, optional
        What the bounds mean, appended to the message (e.g. the affinity's range).
    open_high : bool, default=False
        Exclude ``high`` itself (when no affinity could exceed it).

    Raises
    ------
    ValueError
    """
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value):
        kind = "a number" + (" or None" if allow_none else "")
        raise ValueError(f"{name} must be {kind}, got {value!r} ({type(value).__name__})")
    above = high is not None and (value >= high if open_high else value > high)
    if (low is not None and value < low) or above:
        lo = "(-inf" if low is None else f"[{low:g}"
        hi = "inf)" if high is None else f"{high:g}" + (")" if open_high else "]")
        raise ValueError(f"{name} must be in {lo}, {hi}, got {value!r}"
                         + (f": {meaning}" if meaning else ""))


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
    hint = "use 'auto', 'cpu', 'cuda' or 'cuda:N'"
    if isinstance(device, bool) or not isinstance(device, (str, torch.device)):
        raise ValueError(f"{name} must be a string such as 'cpu' or 'cuda:0' (or a "
                         f"torch.device), got {device!r}; {hint}")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise ValueError(f"{name}={device!r} is not a device: {hint}") from None
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"{name}={str(resolved)!r} was requested but CUDA is not available")
        if resolved.index is not None and resolved.index >= torch.cuda.device_count():
            raise ValueError(f"{name}={str(resolved)!r}: there are only "
                             f"{torch.cuda.device_count()} CUDA device(s)")
    elif resolved.type == "mps":
        if not torch.backends.mps.is_available():
            raise ValueError(f"{name}={str(resolved)!r} was requested but MPS is not available")
    elif resolved.type != "cpu":
        raise ValueError(f"{name}={str(resolved)!r}: molselect runs on 'cpu', 'cuda' or "
                         f"'mps' devices; {hint}")
    return resolved


def readable_smiles(smiles):
    """Whether ``smiles`` is text a SMILES parser should see: non-empty printable ASCII.

    SMILES are ASCII by definition.  RDKit skips some other characters silently
    (it reads ``'☃CC'`` as ethane and ``'\\x00C'`` as methane), reads ``''`` as a
    molecule without atoms, and raises ``UnicodeEncodeError`` on a lone
    surrogate: all of these are treated as invalid SMILES instead.
    """
    return isinstance(smiles, str) and bool(smiles) and smiles.isascii() and \
        smiles.isprintable()
