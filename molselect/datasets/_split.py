"""Scaffold, random and fingerprint-cluster splits (OGB / DeepChem conventions)."""

from __future__ import annotations

import numpy as np

from ..featurize._smiles import describe_smiles, mol_from_smiles, smiles_of, too_long_note

__all__ = ["scaffold_split", "random_split", "cluster_split", "butina_clusters",
           "murcko_scaffolds", "CLUSTER_THRESHOLD"]

#: Tanimoto distance (1 - similarity) within which two Morgan fingerprints are neighbours
#: in :func:`cluster_split`: molecules at least 60% similar can share a cluster.
CLUSTER_THRESHOLD = 0.4

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
    return smiles_of(smiles, "a sequence of SMILES (or a dataset)")


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
            mol = mols[i] if mols is not None else mol_from_smiles(s)
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
    return _fill(ordered, n, frac_train, frac_valid)


def _fill(groups, n, frac_train, frac_valid):
    """Whole groups, in the given order, to train while it stays within its share, else
    to valid while train + valid stay within theirs, else to test (DeepChem's rule)."""
    train_cutoff = frac_train * n
    valid_cutoff = (frac_train + frac_valid) * n
    train, valid, test = [], [], []
    for group in groups:
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


def _morgan_fingerprints(smiles, mols=None):
    from rdkit.Chem import rdFingerprintGenerator
    from rdkit.rdBase import BlockLogs

    generator = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)
    smiles = _as_smiles(smiles)
    fps, bad = [], []
    block = BlockLogs()
    try:
        for i, s in enumerate(smiles):
            mol = mols[i] if mols is not None else mol_from_smiles(s)
            if mol is None:
                bad.append(i)
                continue
            fps.append(generator.GetFingerprint(mol))
    finally:
        del block
    if bad:
        shown = ", ".join(f"{i} ({describe_smiles(smiles[i])})" for i in bad[:10])
        raise ValueError(f"{len(bad)} invalid SMILES, so they have no fingerprint: rows "
                         f"{shown}{' ...' if len(bad) > 10 else ''}; drop them first"
                         f"{too_long_note(smiles[i] for i in bad)}")
    return fps


def butina_clusters(smiles, threshold=CLUSTER_THRESHOLD, mols=None):
    """Butina clusters of the molecules' Morgan fingerprints (radius 2, 2,048 bits).

    The same clusters as RDKit's ``rdkit.ML.Cluster.Butina.ClusterData`` on
    Tanimoto distances (without reordering), computed from one row of
    similarities at a time: memory grows with the number of neighbours, not
    with the square of the number of molecules (time still does).

    Parameters
    ----------
    smiles : sequence of str or dataset
        The molecules (a dataset's ``ids`` are used).
    threshold : float, default CLUSTER_THRESHOLD (0.4)
        Tanimoto distance (1 - similarity) within which two molecules are
        neighbours.
    mols : sequence of rdkit.Chem.Mol, optional
        Parsed molecules for the same SMILES.

    Returns
    -------
    list of tuple of int
        The clusters, each led by its centroid, in RDKit's order.
    """
    from rdkit import DataStructs

    threshold = float(threshold)
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be a Tanimoto distance in [0, 1], got {threshold}")
    fps = _morgan_fingerprints(smiles, mols)
    n = len(fps)
    neighbours = [np.flatnonzero(1.0 - np.asarray(DataStructs.BulkTanimotoSimilarity(fp, fps))
                                 <= threshold) for fp in fps]
    order = sorted(((len(nb), i) for i, nb in enumerate(neighbours)), reverse=True)
    seen = np.zeros(n, dtype=bool)
    clusters = []
    for _, i in order:
        if seen[i]:
            continue
        members = [i] + [int(j) for j in neighbours[i] if not seen[j] and j != i]
        seen[members] = True
        clusters.append(tuple(members))
    return clusters


def cluster_split(smiles, frac_train=0.8, frac_valid=0.1, frac_test=0.1, random_state=0,
                  threshold=CLUSTER_THRESHOLD, mols=None):
    """Seeded split that keeps each Butina fingerprint cluster in one part.

    What medicinal chemists use for a congeneric series, where most molecules
    share one Bemis-Murcko scaffold and a scaffold split degenerates: similar
    molecules (Morgan fingerprints within ``threshold`` Tanimoto distance of a
    cluster centroid, see :func:`butina_clusters`) never straddle train and
    test.  Clusters larger than the smaller of the valid and test shares go
    first, largest first (they could only fit in train); the others follow in
    an order drawn from ``random_state``; each goes to train, valid or test by
    the rule of :func:`scaffold_split`.

    Parameters
    ----------
    smiles, frac_train, frac_valid, frac_test, mols
        As in :func:`scaffold_split`.
    random_state : int or numpy.random.Generator, default 0
        Seed of the order of the clusters.
    threshold : float, default CLUSTER_THRESHOLD (0.4)
        Tanimoto distance of the Butina clustering.

    Returns
    -------
    train_idx, valid_idx, test_idx : ndarray of int
        Sorted row indices.
    """
    frac_train, frac_valid, frac_test = _check_fracs((frac_train, frac_valid, frac_test))
    clusters = [list(c) for c in butina_clusters(smiles, threshold, mols=mols)]
    n = sum(map(len, clusters))
    rng = random_state if isinstance(random_state, np.random.Generator) \
        else np.random.default_rng(random_state)
    shuffled = [clusters[i] for i in rng.permutation(len(clusters))]
    big = min(frac_valid, frac_test) * n
    ordered = sorted((c for c in shuffled if len(c) > big), key=len, reverse=True)
    ordered += [c for c in shuffled if len(c) <= big]
    return _fill(ordered, n, frac_train, frac_valid)
