"""SMILES text rules, written once: what text is parsed, how it is cleaned, and how it is named.

Every reader of SMILES in molselect (the table readers and the registry
loader, the splits, the leakage guard, featurization, the estimators' and
selectors' SMILES input) takes these rules from here: a SMILES is non-empty
printable ASCII of at most :data:`MAX_SMILES_LENGTH` characters, with the
whitespace around it removed, that RDKit can parse.  The messages that list
invalid SMILES cut long ones short and say why over-long ones are refused.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from rdkit import Chem

__all__ = ["MAX_SMILES_LENGTH", "blank_smiles", "describe_smiles", "is_smiles",
           "mol_from_smiles", "parse_smiles", "readable_smiles", "smiles_array", "smiles_of",
           "smiles_too_long", "strip_smiles", "too_long_note", "too_long_phrase",
           "too_long_reason"]

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


def readable_smiles(smiles):
    """Whether ``smiles`` is text a SMILES parser should see.

    That is non-empty printable ASCII of at most :data:`MAX_SMILES_LENGTH`
    characters.  SMILES are ASCII by definition.  RDKit skips some other
    characters silently (it reads ``'☃CC'`` as ethane and ``'\\x00C'`` as
    methane), reads ``''`` as a molecule without atoms, and raises
    ``UnicodeEncodeError`` on a lone surrogate: all of these are treated as
    invalid SMILES instead.  Longer text is refused before RDKit spends time
    on it (see :data:`MAX_SMILES_LENGTH`).

    Parameters
    ----------
    smiles : object

    Returns
    -------
    bool
    """
    # The length first: it costs nothing, and the other checks read every character.
    return isinstance(smiles, str) and 0 < len(smiles) <= MAX_SMILES_LENGTH and \
        smiles.isascii() and smiles.isprintable()


def mol_from_smiles(smiles, empty_is_valid=False):
    """The RDKit molecule of a SMILES, or None for one molselect counts as invalid.

    Text that :func:`readable_smiles` refuses is not given to RDKit at all.
    RDKit's error log is the caller's to silence (``rdkit.rdBase.BlockLogs``),
    once for a whole loop.

    Parameters
    ----------
    smiles : object
        One SMILES.
    empty_is_valid : bool, default=False
        Parse ``""`` as RDKit does, a molecule without atoms (featurization
        keeps positions so; the table readers refuse empty SMILES instead).

    Returns
    -------
    rdkit.Chem.Mol or None
    """
    readable = (empty_is_valid and smiles == "") or readable_smiles(smiles)
    return Chem.MolFromSmiles(smiles) if readable else None


def parse_smiles(smiles):
    """Parse SMILES once with RDKit, silencing its error log.

    Parameters
    ----------
    smiles : sequence of str
        The SMILES strings; ``None``/NaN/empty, text that is not printable
        ASCII and SMILES longer than ``MAX_SMILES_LENGTH`` count as invalid
        (the long ones are not parsed at all).

    Returns
    -------
    mols : list of rdkit.Chem.Mol or None
        One entry per input, ``None`` where the SMILES is invalid.
    invalid : ndarray of bool
        True where the SMILES is invalid.
    """
    from rdkit.rdBase import BlockLogs

    # BlockLogs restores RDKit's previous log settings when released, unlike
    # RDLogger.DisableLog, which would change them for the whole process.
    block = BlockLogs()
    try:
        mols = [mol_from_smiles(s) for s in smiles]
    finally:
        del block
    invalid = np.fromiter((m is None for m in mols), dtype=bool, count=len(mols))
    return mols, invalid


def strip_smiles(values):
    """The SMILES with the whitespace around them removed; other values as they are.

    Parameters
    ----------
    values : iterable

    Returns
    -------
    list
        Left as they are, values that are not strings stay invalid and are
        shown as themselves in messages.
    """
    return [s.strip() if isinstance(s, str) else s for s in values]


def smiles_array(values):
    """The SMILES of a table column, stripped, as an object array.

    A value that is not a string (a missing cell) becomes ``""``, an empty
    SMILES, which the readers report or drop as invalid.

    Parameters
    ----------
    values : iterable

    Returns
    -------
    numpy.ndarray of object
    """
    return np.array([s.strip() if isinstance(s, str) else "" for s in values], dtype=object)


def smiles_of(data, expected):
    """The stripped SMILES of a dataset (its ``ids``) or of a sequence of SMILES.

    Parameters
    ----------
    data : dataset or sequence of str
    expected : str
        What the caller takes, for the error message.

    Returns
    -------
    list

    Raises
    ------
    TypeError
        For a single string, which would otherwise be read character by character.
    """
    ids = getattr(data, "ids", None)
    if ids is not None:
        data = ids
    if isinstance(data, str):
        raise TypeError(f"expected {expected}, got a single string")
    return strip_smiles(data)


def blank_smiles(smiles):
    """Positions of the strings in ``smiles`` that are empty or only whitespace.

    Featurization reads ``""`` as a molecule without atoms, so training on it,
    or predicting it with a confident probability, would be silently
    meaningless: the callers refuse these.

    Parameters
    ----------
    smiles : sequence

    Returns
    -------
    numpy.ndarray of int
    """
    return np.flatnonzero([isinstance(s, str) and not s.strip() for s in smiles])


def is_smiles(X):
    """Whether ``X`` is a 1-D collection of SMILES strings (list, tuple, array or Series).

    Parameters
    ----------
    X : object

    Returns
    -------
    bool
        True for a list, tuple, 1-D array or pandas Series whose every item is a
        str (an empty one included); False for a single string and anything else.
    """
    import pandas as pd

    if isinstance(X, str) or not isinstance(X, (Sequence, np.ndarray, pd.Series)):
        return False
    if np.ndim(X) != 1:
        return False
    return all(isinstance(s, str) for s in X)


def smiles_too_long(smiles):
    """Whether ``smiles`` is a string longer than :data:`MAX_SMILES_LENGTH`.

    Parameters
    ----------
    smiles : object

    Returns
    -------
    bool
    """
    return isinstance(smiles, str) and len(smiles) > MAX_SMILES_LENGTH


def describe_smiles(smiles, width=40):
    """``repr`` of a SMILES for a message, cut short (with its length) when long.

    An error listing a 100,000-character SMILES in full would bury the rest
    of the message.

    Parameters
    ----------
    smiles : object
    width : int, default=40
        Longest text shown whole.

    Returns
    -------
    str
    """
    if isinstance(smiles, str) and len(smiles) > width:
        return f"{smiles[:width - 10]!r}... ({len(smiles):,} characters)"
    return repr(smiles)


def too_long_phrase():
    """``"longer than MAX_SMILES_LENGTH = 5,000 characters"``, as every message words it."""
    return f"longer than MAX_SMILES_LENGTH = {MAX_SMILES_LENGTH:,} characters"


def too_long_reason():
    """Why over-long SMILES are refused, for error messages."""
    return (f"molselect refuses SMILES {too_long_phrase()}, because featurizing such a "
            "molecule and computing its InChIKey and scaffold take time that grows with the "
            "square or the cube of its size (the longest SMILES of the MoleculeNet datasets "
            "has 1,340 characters)")


def too_long_note(smiles):
    """``"; N of them too long: <why>"`` for the over-long ones among ``smiles``, else ``""``.

    For messages that list invalid SMILES without saying why each is invalid.

    Parameters
    ----------
    smiles : iterable

    Returns
    -------
    str
    """
    n_long = sum(smiles_too_long(s) for s in smiles)
    return f"; {n_long} of them too long: {too_long_reason()}" if n_long else ""
