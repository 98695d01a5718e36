"""Molecule identity across datasets, to keep a target's valid/test molecules
out of the auxiliaries it is trained with."""

from __future__ import annotations

from collections import Counter

import numpy as np

from ..featurize._smiles import mol_from_smiles, smiles_of

__all__ = ["canonical_keys", "skeleton_keys", "find_overlap", "make_union"]

#: How :func:`find_overlap` decides that two molecules are the same.
MATCHES = ("exact", "skeleton")

# SMILES -> identity key.  Leakage checks run the same large auxiliaries
# against several targets, and an InChIKey costs ~0.2 ms, so keys are memoised.
_KEY_CACHE: dict = {}
# SMILES -> heavy-atom composition (None if invalid), so that repeated checks
# of a large auxiliary against new targets skip parsing it again.
_COMPOSITION_CACHE: dict = {}
_CACHE_LIMIT = 2_000_000


def _smiles_of(data):
    return smiles_of(data, "a sequence of SMILES or a dataset")


def _key(mol):
    from rdkit import Chem

    try:
        key = Chem.MolToInchiKey(mol)
    except Exception:  # noqa: BLE001 - any InChI failure falls back to SMILES
        key = ""
    # An empty InChIKey means InChI gave up (e.g. some organometallics).
    return key if key else "smiles:" + Chem.MolToSmiles(mol)


def canonical_keys(smiles):
    """An identity key per molecule: InChIKey, else canonical SMILES.

    Parameters
    ----------
    smiles : sequence of str or dataset
        The molecules (a dataset's ``ids`` are used).

    Returns
    -------
    ndarray of object
        The standard InChIKey where RDKit can compute one, otherwise
        ``"smiles:" +`` the canonical SMILES; ``None`` for invalid SMILES (RDKit
        cannot parse them, or they are not printable ASCII, or longer than
        ``MAX_SMILES_LENGTH``).  Keys are memoised per SMILES string.
    """
    from rdkit.rdBase import BlockLogs

    smiles = _smiles_of(smiles)
    out = np.empty(len(smiles), dtype=object)
    block = BlockLogs()
    try:
        for i, s in enumerate(smiles):
            if s in _KEY_CACHE:
                out[i] = _KEY_CACHE[s]
                continue
            mol = mol_from_smiles(s)
            key = None if mol is None else _key(mol)
            out[i] = key
            if len(_KEY_CACHE) < _CACHE_LIMIT and isinstance(s, str):
                _KEY_CACHE[s] = key
    finally:
        del block
    return out


_SKELETON_CACHE: dict = {}


def _skeleton_key(mol):
    from rdkit import Chem

    fragments = Chem.GetMolFrags(mol, asMols=True, sanitizeFrags=False)
    largest = max(fragments, key=lambda m: m.GetNumHeavyAtoms()) if fragments else mol
    try:
        key = Chem.MolToInchiKey(largest)
    except Exception:  # noqa: BLE001 - any InChI failure falls back to SMILES
        key = ""
    # The first block of an InChIKey hashes the connectivity layer alone: no stereo,
    # no isotopes, no (de)protonation.
    return key[:14] if key else "smiles:" + Chem.MolToSmiles(largest, isomericSmiles=False)


def skeleton_keys(smiles):
    """A looser identity key: the largest fragment's connectivity, without stereo or charge.

    Two molecules share it when their largest fragments have the same
    skeleton: enantiomers, E/Z isomers, a stereo-stripped copy, a salt or a
    hydrate (``CCO.Cl``), and an acid and its anion all match.

    Parameters
    ----------
    smiles : sequence of str or dataset

    Returns
    -------
    ndarray of object
        The first block (14 characters) of the largest fragment's InChIKey,
        else ``"smiles:" +`` its non-isomeric canonical SMILES; ``None`` for
        invalid SMILES (as in :func:`canonical_keys`).
    """
    from rdkit.rdBase import BlockLogs

    smiles = _smiles_of(smiles)
    out = np.empty(len(smiles), dtype=object)
    block = BlockLogs()
    try:
        for i, s in enumerate(smiles):
            if isinstance(s, str) and s in _SKELETON_CACHE:
                out[i] = _SKELETON_CACHE[s]
                continue
            mol = mol_from_smiles(s)
            out[i] = None if mol is None else _skeleton_key(mol)
            if len(_SKELETON_CACHE) < _CACHE_LIMIT and isinstance(s, str):
                _SKELETON_CACHE[s] = out[i]
    finally:
        del block
    return out


def _heavy_composition(mol):
    # Equal InChIKeys imply equal heavy-atom composition (InChI only moves
    # hydrogens and charges), so this cheap signature rules most pairs out.
    return frozenset(Counter(a.GetAtomicNum() for a in mol.GetAtoms()
                             if a.GetAtomicNum() > 1).items())


def find_overlap(reference, other, return_indices=False, match="exact"):
    """Which molecules of ``other`` also occur in ``reference``.

    Identity is the key of :func:`canonical_keys` (InChIKey, else canonical
    SMILES), so different spellings of one molecule match.  Invalid SMILES
    never match.  The InChIKey keeps stereochemistry and every fragment, so
    with ``match="exact"`` an enantiomer, a stereo-stripped copy, an
    isotopically labelled copy, a salt or a hydrate of a reference molecule is
    a *different* molecule;
    ``match="skeleton"`` compares :func:`skeleton_keys` instead and catches
    them too.

    Parameters
    ----------
    reference : sequence of str or dataset
        Molecules to protect (e.g. a target's valid and test sets).
    other : sequence of str or dataset
        Molecules to check (e.g. an auxiliary).
    return_indices : bool, default False
        Return the sorted indices instead of a mask.
    match : {"exact", "skeleton"}, default "exact"
        "exact": same InChIKey (stereo and salt forms differ); "skeleton":
        same largest-fragment connectivity (see :func:`skeleton_keys`).

    Returns
    -------
    ndarray of bool, shape (len(other),), or ndarray of int
        The mask (or the indices) of the molecules of ``other`` found in
        ``reference``.
    """
    from rdkit.rdBase import BlockLogs

    if match not in MATCHES:
        raise ValueError(f"match must be one of {MATCHES}, got {match!r}")
    ref_smiles = _smiles_of(reference)
    other_smiles = _smiles_of(other)
    if match == "skeleton":
        ref_keys = {k for k in skeleton_keys(ref_smiles) if k is not None}
        keys = skeleton_keys(other_smiles)
        mask = np.fromiter((k is not None and k in ref_keys for k in keys), dtype=bool,
                           count=len(keys))
        return np.flatnonzero(mask) if return_indices else mask
    ref_keys = {k for k in canonical_keys(ref_smiles) if k is not None}
    mask = np.zeros(len(other_smiles), dtype=bool)
    if not ref_keys or not other_smiles:
        return np.flatnonzero(mask) if return_indices else mask
    ref_set = set(ref_smiles)
    compositions = None
    block = BlockLogs()
    try:
        for i, s in enumerate(other_smiles):
            if s in ref_set:
                # A SMILES in the reference maps to a key in ref_keys unless it
                # is invalid, in which case it must not match.
                mask[i] = _KEY_CACHE.get(s) is not None if s in _KEY_CACHE else \
                    canonical_keys([s])[0] is not None
                continue
            key = _KEY_CACHE.get(s, False) if isinstance(s, str) else None
            if key is False:
                if compositions is None:
                    compositions = _reference_compositions(ref_smiles)
                composition = _COMPOSITION_CACHE.get(s, False)
                mol = None
                if composition is False:
                    mol = mol_from_smiles(s)
                    composition = None if mol is None else _heavy_composition(mol)
                    if len(_COMPOSITION_CACHE) < _CACHE_LIMIT:
                        _COMPOSITION_CACHE[s] = composition
                if composition is None or composition not in compositions:
                    continue
                key = _key(mol if mol is not None else mol_from_smiles(s))
                if len(_KEY_CACHE) < _CACHE_LIMIT:
                    _KEY_CACHE[s] = key
            mask[i] = key is not None and key in ref_keys
    finally:
        del block
    return np.flatnonzero(mask) if return_indices else mask


def _reference_compositions(smiles):
    out = set()
    for s in smiles:
        mol = mol_from_smiles(s)
        if mol is not None:
            out.add(_heavy_composition(mol))
    return out


def make_union(target, auxiliaries, *, held_out=None, return_leaked=False, match="exact"):
    """The training union of a target and its auxiliaries, held-out molecules removed.

    Every auxiliary molecule that also occurs in ``held_out`` (same key as
    :func:`find_overlap`) is dropped, so that training on the union never
    sees a molecule the target is validated or tested on.  This is the rule
    every selector's ``fit_transform`` applies, available on its own.

    Parameters
    ----------
    target : dataset
        The target's training data (the union's first member).
    auxiliaries : mapping of str to dataset, or list of datasets
        The auxiliaries to add, in order.
    held_out : dataset or list of datasets, optional
        The target's validation / test splits; None removes nothing.
    return_leaked : bool, default=False
        Also return how many molecules were removed from each auxiliary.
    match : {"exact", "skeleton"}, default="exact"
        As in :func:`find_overlap`.

    Returns
    -------
    DatasetGroup
        Target first, then the auxiliaries.
    dict of str to int
        Only with ``return_leaked``: molecules removed per auxiliary.

    Examples
    --------
    >>> union = make_union(bbbp.train, {"bace": bace.train},
    ...                    held_out=[bbbp.valid, bbbp.test])            # doctest: +SKIP
    """
    from ._base import DatasetGroup
    from ._validation import as_dataset, name_datasets

    target = as_dataset(target, name="target")
    if held_out is None:
        held_out = []
    elif not isinstance(held_out, (list, tuple)):
        held_out = [held_out]
    held_out = [as_dataset(d, name="held_out") for d in held_out]
    members, leaked_counts = [(target.name or "target", target)], {}
    for name, data in name_datasets(auxiliaries).items():
        leaked = np.zeros(len(data), dtype=bool)
        for split in held_out:
            leaked |= find_overlap(split, data, match=match)
        leaked_counts[name] = int(leaked.sum())
        members.append((name, data.subset(~leaked) if leaked.any() else data))
    union = DatasetGroup(members)
    return (union, leaked_counts) if return_leaked else union
