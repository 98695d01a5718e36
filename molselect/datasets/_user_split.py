"""Splitting a user's own dataset, and refusing a split whose parts cannot be scored.

A scaffold split of a congeneric series (most molecules share one scaffold),
of acyclic molecules (one empty scaffold) or of a small or imbalanced target
can leave a part empty or of one class.  Every score on such a part is NaN,
and a study built on it reports "no clear effect" about nothing.  So each
part is checked after splitting, and a degenerate split is an error that
says why and which split would work.
"""

from __future__ import annotations

import numpy as np

from ._base import CLASSIFICATION
from ._split import cluster_split, murcko_scaffolds, random_split, scaffold_split

__all__ = ["SPLITS", "MIN_PART_SIZE", "DegenerateSplitError", "split_indices", "check_split",
           "split_dataset"]

SPLITS = ("scaffold", "random", "cluster")

#: Fewest molecules a train, valid or test part may hold: a score on one molecule is
#: not a measurement (and ROC-AUC needs two, one of each class).
MIN_PART_SIZE = 2

# Beyond this many molecules a degenerate split does not try the cluster split as an
# alternative: its cost grows with the square of the size.
_CLUSTER_SUGGESTION_LIMIT = 20_000
_PARTS = ("train", "valid", "test")


class DegenerateSplitError(ValueError):
    """A split left a part that cannot be trained on or scored (too few molecules, or
    one class only)."""


def split_indices(smiles, split, fracs=(0.8, 0.1, 0.1), random_state=0, mols=None):
    """Row indices of train / valid / test under ``split``.

    Parameters
    ----------
    smiles : sequence of str or dataset
        The molecules.
    split : {"scaffold", "random", "cluster"}
        Bemis-Murcko scaffold split (deterministic), seeded random split, or
        seeded Butina fingerprint-cluster split (:func:`cluster_split`).
    fracs : tuple of three floats, default (0.8, 0.1, 0.1)
    random_state : int, default 0
        Seed of the random and cluster splits.
    mols : sequence of rdkit.Chem.Mol, optional
        Parsed molecules (saves parsing again).

    Returns
    -------
    tuple of three ndarray of int
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(map(repr, SPLITS))}, got {split!r}")
    if split == "scaffold":
        return scaffold_split(smiles, *fracs, mols=mols)
    if split == "cluster":
        return cluster_split(smiles, *fracs, random_state=random_state, mols=mols)
    return random_split(len(smiles), fracs, random_state=random_state)


def _problems(parts, task_types):
    """What is wrong with each part: a list of "valid: ..." strings, empty when fine."""
    classification = all(t == CLASSIFICATION for t in task_types)
    problems = []
    for name, y in zip(_PARTS, parts):
        if len(y) < MIN_PART_SIZE:
            problems.append(f"{name} has {len(y)} molecule(s) (at least {MIN_PART_SIZE} needed)")
            continue
        labelled = [y[~np.isnan(y[:, j]), j] for j in range(y.shape[1])]
        if classification:
            if not any(np.unique(v).size == 2 for v in labelled):
                present = sorted({f"{c:g}" for v in labelled for c in np.unique(v)})
                problems.append(f"{name} holds one class only ({'/'.join(present) or 'no labels'}"
                                f") in every task, so its ROC-AUC is undefined")
        elif not any(v.size >= MIN_PART_SIZE for v in labelled):
            problems.append(f"{name} has fewer than {MIN_PART_SIZE} labelled molecules in every "
                            "task")
    return problems


def check_split(data, indices, split="the", source=None):
    """Raise :class:`DegenerateSplitError` when a part of ``data`` cannot be scored.

    Every part needs at least :data:`MIN_PART_SIZE` molecules; for a
    classification dataset, both classes in at least one task (the rule
    the estimators score by); for regression, two labelled molecules in at
    least one task.

    Parameters
    ----------
    data : MoleculeDataset
    indices : tuple of three ndarray of int
        Train / valid / test rows.
    split : str
        The split's name, for the message.
    source : str, optional
        How to name the data in the message.

    Raises
    ------
    DegenerateSplitError
        Naming each faulty part and the sizes of all three.
    """
    problems = _problems([data.y[np.asarray(i, dtype=np.int64)] for i in indices],
                         data.task_types)
    if problems:
        sizes = "/".join(str(len(i)) for i in indices)
        raise DegenerateSplitError(
            f"{source or repr(data.name)}: the {split} split of {len(data)} molecules gives "
            f"train/valid/test {sizes}: {'; '.join(problems)}")


def _scaffold_cause(data, mols):
    scaffolds = murcko_scaffolds(data.ids, mols=mols)
    values, counts = np.unique(np.asarray(scaffolds, dtype=object), return_counts=True)
    top = int(np.argmax(counts))
    if counts[top] < 0.5 * len(data):
        return ""
    what = ("have no ring (acyclic molecules share the empty scaffold)" if values[top] == ""
            else f"share the scaffold {values[top]!r}")
    return (f". {counts[top]} of the {len(data)} molecules {what}, and a scaffold split keeps "
            "each scaffold in one part")


def _alternatives(data, split, fracs, random_state, mols):
    """The splits (with their sizes) that pass the checks where ``split`` did not."""
    tried = [(s, fracs) for s in SPLITS if s != split]
    if tuple(fracs) != (0.6, 0.2, 0.2):
        tried += [("random", (0.6, 0.2, 0.2))]
    found = []
    for other, other_fracs in tried:
        if other == "cluster" and len(data) > _CLUSTER_SUGGESTION_LIMIT:
            continue
        parts = split_indices(data.ids, other, other_fracs, random_state, mols=mols)
        if not _problems([data.y[p] for p in parts], data.task_types):
            sizes = "/".join(str(len(p)) for p in parts)
            option = f"split={other!r}" + (
                f" with fracs={tuple(other_fracs)}" if tuple(other_fracs) != tuple(fracs) else "")
            found.append(f"{option} ({sizes})")
        if found:
            break
    return found


def split_dataset(data, split, fracs=(0.8, 0.1, 0.1), random_state=0, mols=None, source=None):
    """Split ``data`` and check its parts; a degenerate split says why and what would work.

    Parameters
    ----------
    data : MoleculeDataset
    split : {"scaffold", "random", "cluster"}
    fracs : tuple of three floats, default (0.8, 0.1, 0.1)
    random_state : int, default 0
    mols : sequence of rdkit.Chem.Mol, optional
        Parsed molecules of ``data``.
    source : str, optional
        How to name the data in messages.

    Returns
    -------
    tuple of three ndarray of int
        Train / valid / test rows of ``data``.

    Raises
    ------
    DegenerateSplitError
        A part is too small or, for classification, of one class; the message
        names the parts, the cause for a scaffold split, and a split that
        passes the same checks (or says that none does).
    """
    parts = split_indices(data.ids, split, fracs, random_state, mols=mols)
    try:
        check_split(data, parts, split, source)
    except DegenerateSplitError as exc:
        cause = _scaffold_cause(data, mols) if split == "scaffold" else ""
        found = _alternatives(data, split, fracs, random_state, mols)
        advice = (f"; {found[0]} passes these checks: pass it instead" if found else
                  "; no scaffold, random or cluster split of these molecules passes these "
                  "checks: more molecules (or, for classification, more of the rare class) "
                  "are needed")
        raise DegenerateSplitError(f"{exc}{cause}{advice}") from None
    return parts
