"""The estimators' ``X`` and ``y`` in scikit-learn's form: SMILES strings and their labels.

``fit``, ``score`` and the ``eval_set`` of ``fit`` take either datasets (the
labels live in them) or an array of SMILES with an array of labels, which
:func:`molselect.datasets.from_smiles` turns into a dataset.  Labels given
beside a dataset are checked, never silently ignored: scikit-learn's
``Pipeline`` passes its ``y`` on to every step, so after a selector has built
the union from SMILES and ``y``, the estimator receives the union *and* the
same ``y``; those are the target's own labels and are accepted, any other
labels are refused.
"""

from __future__ import annotations

import numpy as np

from ..datasets._from_smiles import from_smiles
from ..featurize._smiles import is_smiles

__all__ = ["check_labels_beside", "eval_datasets", "is_smiles", "smiles_dataset"]


def smiles_dataset(X, y, task_types, what):
    """The dataset of SMILES ``X`` and labels ``y`` given to ``what`` ("fit", "score").

    Raises
    ------
    TypeError
        Without ``y``, or with a ``y`` that is not an array of labels.
    ValueError
        For invalid SMILES (naming the rows), labels of the wrong shape, kind
        or values (see :func:`~molselect.datasets.from_smiles`).
    """
    if y is None:
        raise TypeError(f"{what}: X holds SMILES strings, so their labels must be given as y "
                        f"({what}(smiles, y)); or pass a labelled dataset")
    return from_smiles(X, y, task_types=task_types, source=f"{what}: X")


def check_labels_beside(target, y, what):
    """Refuse labels ``y`` given beside a dataset unless they are its own labels.

    Parameters
    ----------
    target : MoleculeDataset
        The dataset (a union's target) given as ``X``.
    y : array-like or None
        What was given as ``y``.
    what : str
        The method, for messages.

    Raises
    ------
    ValueError
        If ``y`` is not None and differs from ``target.y`` (in shape or in any
        value; missing labels must be missing in both).
    """
    if y is None:
        return
    try:
        labels = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError):
        labels = None
    if labels is not None and labels.ndim == 1:
        labels = labels[:, None]
    if labels is None or labels.shape != target.y.shape or \
            not np.array_equal(labels, target.y, equal_nan=True):
        raise ValueError(
            f"{what}: y was given beside a dataset, but a dataset carries its own labels and y "
            f"differs from them (dataset {target.name!r}: y of shape {np.shape(y)}, its labels "
            f"{target.y.shape}). Pass y=None with a dataset, or pass X as SMILES strings with "
            "y as their labels")


def eval_datasets(eval_set, task_types):
    """``eval_set`` with every ``(smiles, labels)`` pair made a dataset.

    Parameters
    ----------
    eval_set : None, dataset, (smiles, labels) pair, or list of them
        As ``fit`` takes it.
    task_types : str
        The task type of the pairs' labels.

    Returns
    -------
    None, dataset or list
        ``eval_set`` itself when it holds no pair.
    """
    def pair(item):
        return isinstance(item, tuple) and len(item) == 2 and is_smiles(item[0])

    if pair(eval_set):
        return from_smiles(*eval_set, task_types=task_types, source="eval_set")
    if isinstance(eval_set, (list, tuple)) and any(pair(item) for item in eval_set):
        return [from_smiles(*item, task_types=task_types, source=f"eval_set[{i}]")
                if pair(item) else item for i, item in enumerate(eval_set)]
    return eval_set
