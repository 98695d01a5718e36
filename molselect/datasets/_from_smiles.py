"""SMILES strings and their labels as arrays: ``from_smiles``.

scikit-learn's model selection (``cross_val_score``, ``GridSearchCV``) splits
``X`` and ``y`` by rows, so the estimators and selectors also take an array of
SMILES with an array of labels; :func:`from_smiles` turns them into a
:class:`~molselect.datasets.MoleculeDataset` through :func:`from_frame`, with
its checks and error messages.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..featurize._smiles import is_smiles
from ._validation import is_dataset

__all__ = ["from_smiles"]


def from_smiles(smiles, y, tasks=None, task_types=None, name=None, metric=None,
                on_invalid="raise", source=None):
    """Build a :class:`MoleculeDataset` from SMILES strings and an array of labels.

    The scikit-learn form of the data (``X`` a 1-D array of SMILES, ``y`` the
    labels), as ``fit(X, y)`` and ``score(X, y)`` of the estimators take it.
    The dataset is built by :func:`from_frame`, so SMILES, labels and task
    types are checked as for a table.

    Parameters
    ----------
    smiles : sequence of str, shape (n_samples,)
        The SMILES strings.
    y : array-like of shape (n_samples,) or (n_samples, n_tasks)
        Numeric labels; NaN marks a missing label.  A 1-D ``y`` is one task.
    tasks : sequence of str, optional
        Task names; defaults to ``task0, task1, ...`` (names that held-out
        data is not required to share, only their number).
    task_types : str or sequence of str, optional
        ``"classification"`` / ``"regression"`` (one string applies to every
        task); inferred when omitted (binary labels mean classification).
    name : str, optional
        Dataset name.
    metric : str, optional
        Metric; defaults to ROC-AUC for classification, RMSE otherwise.
    on_invalid : {"raise", "drop"}, default "raise"
        As in :func:`from_frame`: raise a ValueError naming the rows of
        invalid SMILES, or drop them with a warning (their row numbers go to
        ``dropped_rows``).
    source : str, optional
        How to name the data in error messages (default ``"SMILES"``).

    Returns
    -------
    MoleculeDataset

    Raises
    ------
    TypeError
        If ``smiles`` is not a 1-D collection of strings, or ``y`` is missing
        or is a dataset or mapping rather than an array of labels.
    ValueError
        If ``y`` does not have one row per SMILES, or for what :func:`from_frame`
        refuses (invalid SMILES, non-numeric or non-binary labels, no rows).

    Examples
    --------
    >>> from molselect.datasets import from_smiles
    >>> data = from_smiles(["CCO", "c1ccccc1", "CC(=O)O"], [1, 0, 1])  # doctest: +SKIP
    >>> data.tasks, data.task_types                                     # doctest: +SKIP
    (['task0'], ['classification'])
    """
    import pandas as pd

    from ._io import from_frame

    source = source or (f"dataset {name!r}" if name else "SMILES")
    if not is_smiles(smiles):
        raise TypeError(f"{source}: expected a 1-D sequence of SMILES strings, got "
                        f"{type(smiles).__name__}")
    if y is None or isinstance(y, (Mapping, str, bytes)) or is_dataset(y):
        raise TypeError(f"{source}: the labels y must be an array-like of numbers of shape "
                        f"(n_samples,) or (n_samples, n_tasks), got {type(y).__name__}")
    labels = np.asarray(y)
    if labels.ndim == 1:
        labels = labels[:, None]
    if labels.ndim != 2 or labels.shape[0] != len(smiles):
        raise ValueError(f"{source}: y has shape {np.shape(y)} but there are {len(smiles)} "
                         "SMILES; expected (n_samples,) or (n_samples, n_tasks)")
    tasks = [f"task{j}" for j in range(labels.shape[1])] if tasks is None else list(tasks)
    if len(tasks) != labels.shape[1]:
        raise ValueError(f"{source}: {len(tasks)} task names for {labels.shape[1]} label "
                         "columns")
    frame = pd.DataFrame(labels, columns=tasks)
    frame.insert(0, "smiles", np.asarray(smiles, dtype=object))
    return from_frame(frame, "smiles", tasks, task_types=task_types, name=name, metric=metric,
                      on_invalid=on_invalid, source=source)
