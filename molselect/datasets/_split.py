"""Scaffold and random splits (OGB / DeepChem conventions)."""

from __future__ import annotations

import numpy as np

from .._validation import describe_smiles, readable_smiles, too_long_note

__all__ = ["scaffold_split", "random_split", "murcko_scaffolds"]

# SMILES -> scaffold, shared across calls: loading the same large dataset twice
# (e.g. as target and as auxiliary) should not recompute 40k scaffolds.
_SCAFFOLD_CACHE: dict = {}
_CACHE_LIMIT = 1_000_000


def _check_fracs(fracs):
    fracs = tuple(float(f) for f in fracs)
    if len(fracs) != 3 or any(f < 0 for f in fracs) or not np.isclose(sum(fracs), 1.0):
        raise ValueError(f"split fractions must be three non-negative numbers summing to 1, "
                         f"got {fracs}")
    return fracs


def _as_smiles(smiles):
    ids = getattr(smiles, "ids", None)
    if ids is not None:
        smiles = ids
    if isinstance(smiles, str):
        raise TypeError("expected a sequence of SMILES (or a dataset), got a single string")
    return [s.strip() if isinstance(s, str) else s for s in smiles]


def murcko_scaffolds(smiles, mols=None):
    """Bemis-Murcko scaffold SMILES (chirality kept) of each molecule.

    Parameters
    ----------
    smiles : sequence of str or dataset
        The molecules (a dataset's ``ids`` are used).
    mols : sequence of rdkit.Chem.Mol, optional
        Already parsed molecules for the same SMILES, to avoid parsing twice.

    Returns
    -------
    list of str
        One scaffold per molecule (``""`` for acyclic molecules).

    Raises
    ------
    ValueError
        When a SMILES cannot be parsed, or is longer than ``MAX_SMILES_LENGTH``;
        the message lists the rows.
    """
    from rdkit import Chem
    from rdkit.Chem.Scaffolds import MurckoScaffold
    from rdkit.rdBase import BlockLogs

    smiles = _as_smiles(smiles)
    out = [None] * len(smiles)
    bad = []
    block = BlockLogs()
    try:
        for i, s in enumerate(smiles):
            cached = _SCAFFOLD_CACHE.get(s)
            if cached is not None:
                out[i] = cached
                continue
            mol = mols[i] if mols is not None else (
                Chem.MolFromSmiles(s) if readable_smiles(s) else None)
            if mol is None:
                bad.append(i)
                continue
            if _ring_free(mol):
                # What RDKit returns for every acyclic molecule (checked on the 23,610
                # acyclic molecules of the MoleculeNet files), without its all-pairs
                # distance matrix: cubic in the atoms, 40 s for a 2,000-atom chain.
                scaffold = ""
            else:
                # Same result as MurckoScaffoldSmiles(smiles=s, includeChirality=True),
                # which parses s itself; passing the mol lets the loader parse only once.
                scaffold = MurckoScaffold.MurckoScaffoldSmiles(mol=mol, includeChirality=True)
            out[i] = scaffold
            if len(_SCAFFOLD_CACHE) < _CACHE_LIMIT:
                _SCAFFOLD_CACHE[s] = scaffold
    finally:
        del block
    if bad:
        shown = ", ".join(f"{i} ({describe_smiles(smiles[i])})" for i in bad[:10])
        why = too_long_note(smiles[i] for i in bad)
        what = "invalid SMILES" if why else "SMILES cannot be parsed by RDKit"
        raise ValueError(
            f"{len(bad)} {what}, so they have no scaffold: rows "
            f"{shown}{' ...' if len(bad) > 10 else ''}; drop them first{why}"
        )
    return out


def _ring_free(mol):
    try:
        return mol.GetRingInfo().NumRings() == 0
    except RuntimeError:  # an unsanitized molecule has no ring information: ask RDKit
        return False


def scaffold_split(smiles, frac_train=0.8, frac_valid=0.1, frac_test=0.1, mols=None):
    """Deterministic Bemis-Murcko scaffold split (reproduces the official OGB splits).

    Molecules are grouped by Murcko scaffold (``includeChirality=True``);
    groups are sorted by (size, first index), largest first; each group goes to
    train while train stays within ``frac_train * n``, else to valid while
    train + valid stay within ``(frac_train + frac_valid) * n``, else to test.

    Parameters
    ----------
    smiles : sequence of str or dataset
        The molecules (a dataset's ``ids`` are used).
    frac_train, frac_valid, frac_test : float
        Fractions, summing to 1.
    mols : sequence of rdkit.Chem.Mol, optional
        Parsed molecules matching ``smiles`` (saves a second parse).

    Returns
    -------
    train_idx, valid_idx, test_idx : ndarray of int
        Sorted row indices.

    Raises
    ------
    ValueError
        Invalid fractions or unparsable SMILES.
    """
    frac_train, frac_valid, frac_test = _check_fracs((frac_train, frac_valid, frac_test))
    scaffolds = murcko_scaffolds(smiles, mols=mols)
    n = len(scaffolds)
    groups = {}
    for i, scaffold in enumerate(scaffolds):
        groups.setdefault(scaffold, []).append(i)
    ordered = sorted(groups.values(), key=lambda g: (len(g), g[0]), reverse=True)
    train_cutoff = frac_train * n
    valid_cutoff = (frac_train + frac_valid) * n
    train, valid, test = [], [], []
    for group in ordered:
        if len(train) + len(group) > train_cutoff:
            if len(train) + len(valid) + len(group) > valid_cutoff:
                test.extend(group)
            else:
                valid.extend(group)
        else:
            train.extend(group)
    return tuple(np.sort(np.asarray(part, dtype=np.int64)) for part in (train, valid, test))


def random_split(n, fracs=(0.8, 0.1, 0.1), random_state=0):
    """Seeded random split into train / valid / test.

    Parameters
    ----------
    n : int or sized
        Number of rows, or anything with a length (a dataset, a list).
    fracs : tuple of three floats, default (0.8, 0.1, 0.1)
        Train, valid and test fractions, summing to 1.  Train gets
        ``int(frac_train * n)`` rows and valid ``int((frac_train + frac_valid)
        * n) - int(frac_train * n)`` (DeepChem's ``RandomSplitter`` rule).
    random_state : int or numpy.random.Generator, default 0
        Seed.

    Returns
    -------
    train_idx, valid_idx, test_idx : ndarray of int
        Sorted row indices.
    """
    if not isinstance(n, (int, np.integer)):
        n = len(n)
    n = int(n)
    frac_train, frac_valid, _ = _check_fracs(fracs)
    rng = random_state if isinstance(random_state, np.random.Generator) \
        else np.random.default_rng(random_state)
    perm = rng.permutation(n)
    a = int(frac_train * n)
    b = int((frac_train + frac_valid) * n)
    return tuple(np.sort(part).astype(np.int64) for part in (perm[:a], perm[a:b], perm[b:]))
