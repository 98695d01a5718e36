"""Checks of label values and of held-out data, shared by the datasets, selectors and estimators.

One place for them, so that a dataset that a selector accepts is also one
that an estimator accepts, and the messages say the same thing.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping

import numpy as np

__all__ = ["check_finite_labels", "check_binary_labels", "warn_integer_regression",
           "check_eval_set", "check_eval_sets"]

#: The largest label the float32 networks can hold; beyond it a label becomes inf.
FLOAT32_MAX = float(np.finfo(np.float32).max)

_DEFAULT_TASK = re.compile(r"(task)?\d+")


def check_finite_labels(y, tasks, source, rows=None):
    """Refuse infinite labels and finite labels beyond the float32 range.

    NaN is a missing label and passes.  The models compute in float32, where
    a label such as ``1e300`` becomes ``inf``; one such value turns every
    loss, and through the shared encoder every affinity, into NaN.

    Parameters
    ----------
    y : ndarray of shape (n_samples, n_tasks)
        Labels as float64.
    tasks : sequence of str
        Task (column) names, for the message.
    source : str
        How to name the data in the message (``"dataset 'x'"`` or a file).
    rows : ndarray of int, optional
        Row number in the source of each row of ``y`` (default: positions).

    Raises
    ------
    ValueError
        Naming the dataset, the column, the row and the value.
    """
    y = np.asarray(y, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        bad = np.isinf(y) | (np.abs(y) > FLOAT32_MAX)
    if not bad.any():
        return
    r, c = np.argwhere(bad)[0]
    row = int(r if rows is None else rows[r])
    raise ValueError(
        f"{source}: column {str(tasks[c])!r} has a non-finite or too large label "
        f"{float(y[r, c]):g} at row {row} (0-based; {int(bad.sum())} such value(s)); labels must be "
        f"finite and within the float32 range (|y| <= {FLOAT32_MAX:.3g}). Fix or remove "
        "those rows, or leave the label empty (missing)"
    )


def check_binary_labels(y, tasks, task_types, source):
    """Refuse a classification task whose labels are not all 0 or 1.

    Raises
    ------
    ValueError
        Naming the dataset, the task and the offending values.
    """
    clf = np.array([t == "classification" for t in task_types], dtype=bool)
    if not clf.any():
        return
    block = y[:, clf]
    wrong = ~np.isnan(block) & (block != 0.0) & (block != 1.0)
    if not wrong.any():
        return
    j = int(np.flatnonzero(wrong.any(axis=0))[0])
    task = np.asarray(tasks, dtype=object)[clf][j]
    other = np.unique(block[wrong[:, j], j])
    shown = ", ".join(f"{v:g}" for v in other[:5]) + (" ..." if other.size > 5 else "")
    raise ValueError(
        f"{source}: task {str(task)!r} is classification but has labels other than 0 and 1 "
        f"({shown}, first at row {int(np.flatnonzero(wrong[:, j])[0])}); molselect's "
        "classification is binary. Binarise the labels, or use task_types='regression'"
    )


def warn_integer_regression(y, tasks, task_types, source, stacklevel=3):
    """Warn when a task inferred as regression has a few integer labels, like 0/1/2.

    Binary labels mean classification; three to ten integer values, each
    seen three times or more on average, look like classes, which molselect
    would silently model as a regression.
    """
    for j, (task, kind) in enumerate(zip(tasks, task_types)):
        if kind != "regression":
            continue
        labelled = y[:, j][np.isfinite(y[:, j])]
        values = np.unique(labelled)
        # Classes repeat: three or more rows per value on average, not a handful of
        # integer measurements that happen to be distinct.
        if (3 <= values.size <= 10 and labelled.size >= 3 * values.size
                and np.all(np.mod(values, 1) == 0)):
            shown = ", ".join(f"{v:g}" for v in values)
            warnings.warn(
                f"{source}: task {str(task)!r} has only the integer labels {shown}; it is "
                "inferred as regression because molselect's classification is binary (0/1). "
                "If these are classes, binarise them; pass task_types='regression' to "
                "silence this warning", UserWarning, stacklevel=stacklevel,
            )


def check_eval_set(eval_set, target, what="eval_set"):
    """Check that one held-out dataset belongs to the target: same tasks and task types.

    Parameters
    ----------
    eval_set : dataset
        The target's validation (or test) split.
    target : MoleculeDataset
        The target's training data.
    what : str
        How to name ``eval_set`` in messages.

    Returns
    -------
    MoleculeDataset

    Raises
    ------
    TypeError
        If ``eval_set`` is not one dataset.
    ValueError
        If its tasks or task types differ from the target's, or it is empty.
    """
    from ._base import DatasetGroup, as_dataset

    if isinstance(eval_set, (Mapping, DatasetGroup, str, bytes)) or not (
            hasattr(eval_set, "ids") and hasattr(eval_set, "y")):
        raise TypeError(f"{what} must be one dataset (the target's validation split), got "
                        f"{type(eval_set).__name__}")
    valid = as_dataset(eval_set, name="eval_set")
    named = all(not _DEFAULT_TASK.fullmatch(t) for t in valid.tasks + target.tasks)
    if valid.n_tasks != target.n_tasks or (named and list(valid.tasks) != list(target.tasks)):
        raise ValueError(
            f"{what}'s tasks {valid.tasks[:5]} ({valid.n_tasks}) do not match the target "
            f"{target.name!r}'s tasks {target.tasks[:5]} ({target.n_tasks}): {what} must be "
            "the target's validation split (is the union's first member the target?)")
    if list(valid.task_types) != list(target.task_types):
        hint = ""
        if np.isnan(valid.y).all():
            hint = (" It has no labels at all, so its task types were inferred as regression; "
                    "give it labels, or build it with the target's task_types.")
        raise ValueError(
            f"{what}'s task types {valid.task_types[:5]} do not match the target "
            f"{target.name!r}'s {target.task_types[:5]}: {what} must be the target's "
            f"validation split, not another dataset's.{hint}")
    if len(valid) == 0:
        raise ValueError(f"{what} is empty")
    return valid


def check_eval_sets(eval_set, target):
    """Check every held-out dataset of ``eval_set`` (one dataset, a list, or None).

    Returns
    -------
    list of MoleculeDataset
        Empty for ``None`` or an empty list.
    """
    if eval_set is None:
        return []
    if isinstance(eval_set, (list, tuple)):
        return [check_eval_set(d, target, what=f"eval_set[{i}]") for i, d in enumerate(eval_set)]
    return [check_eval_set(eval_set, target)]
