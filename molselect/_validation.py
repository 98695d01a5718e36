"""Checks shared by the selectors, estimators and loaders: seeds, thresholds, devices, SMILES."""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["check_random_state", "as_seed", "check_threshold", "check_device",
           "MAX_SMILES_LENGTH", "readable_smiles", "smiles_too_long", "describe_smiles",
           "too_long_reason", "too_long_note"]

MAX_SMILES_LENGTH = 5_000
"""Longest SMILES, in characters, that molselect parses; longer ones are invalid.

Featurizing a molecule, computing its InChIKey (the leakage guard) and its
Bemis-Murcko scaffold take time that grows with the square or the cube of
its size, so one huge molecule stalls a whole run: a 100,000-atom chain
(``'C' * 100000``) had not finished after 90 s, with no message.  The length
is checked before RDKit parses anything, and it bounds the atom count
(every atom takes at least one character).

The limit comes from the data: the longest SMILES in the MoleculeNet files
of the registry (all but pcba, not measured) has 1,340 characters (sider,
476 heavy atoms; no other dataset goes beyond 722), so the limit leaves a
margin of almost four.  At the limit a molecule featurizes in about 0.1 s and
gets its InChIKey in about 0.3 s; a scaffold split can take a minute or two
for a dense ring system that large (RDKit's Murcko decomposition is cubic in
the atom count).
"""

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
    """Whether ``smiles`` is text a SMILES parser should see.

    That is non-empty printable ASCII of at most :data:`MAX_SMILES_LENGTH`
    characters.  SMILES are ASCII by definition.  RDKit skips some other
    characters silently (it reads ``'☃CC'`` as ethane and ``'\\x00C'`` as
    methane), reads ``''`` as a molecule without atoms, and raises
    ``UnicodeEncodeError`` on a lone surrogate: all of these are treated as
    invalid SMILES instead.  Longer text is refused before RDKit spends time
    on it (see :data:`MAX_SMILES_LENGTH`).
    """
    # The length first: it costs nothing, and the other checks read every character.
    return isinstance(smiles, str) and 0 < len(smiles) <= MAX_SMILES_LENGTH and \
        smiles.isascii() and smiles.isprintable()


def smiles_too_long(smiles):
    """Whether ``smiles`` is a string longer than :data:`MAX_SMILES_LENGTH`."""
    return isinstance(smiles, str) and len(smiles) > MAX_SMILES_LENGTH


def describe_smiles(smiles, width=40):
    """``repr`` of a SMILES for a message, cut short (with its length) when long.

    An error listing a 100,000-character SMILES in full would bury the rest
    of the message.
    """
    if isinstance(smiles, str) and len(smiles) > width:
        return f"{smiles[:width - 10]!r}... ({len(smiles):,} characters)"
    return repr(smiles)


def too_long_reason():
    """Why over-long SMILES are refused, for error messages."""
    return (f"molselect refuses SMILES longer than MAX_SMILES_LENGTH = "
            f"{MAX_SMILES_LENGTH:,} characters, because featurizing such a molecule and "
            "computing its InChIKey and scaffold take time that grows with the square or "
            "the cube of its size (the longest SMILES of the MoleculeNet datasets has "
            "1,340 characters)")


def too_long_note(smiles):
    """``"; N of them too long: <why>"`` for the over-long ones among ``smiles``, else ``""``.

    For messages that list invalid SMILES without saying why each is invalid.
    """
    n_long = sum(smiles_too_long(s) for s in smiles)
    return f"; {n_long} of them too long: {too_long_reason()}" if n_long else ""
