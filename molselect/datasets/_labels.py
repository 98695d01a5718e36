"""The rules on label values: finite, binary for classification, a target with a task to learn.

Shared by the dataset constructors and readers (:mod:`._base`, :mod:`._io`,
:mod:`._loaders`) and by the checks of a target that the selectors
(:func:`._validation.validate_target`) and the estimators both run
(:func:`check_target_tasks`), so that what one accepts the other accepts too.
"""

from __future__ import annotations

import warnings

import numpy as np

__all__ = ["FLOAT32_MAX", "check_finite_labels", "check_binary_labels",
           "warn_integer_regression", "check_target_tasks"]

#: The largest label the float32 networks can hold; beyond it a label becomes inf.
FLOAT32_MAX = float(np.finfo(np.float32).max)


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

    Parameters
    ----------
    y : ndarray of shape (n_samples, n_tasks)
        Labels, NaN where missing.
    tasks : sequence of str
        Task (column) names, for the message.
    task_types : sequence of str
        ``"classification"`` or ``"regression"`` per task; only the
        classification tasks are checked.
    source : str
        How to name the data in the message.

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

    Parameters
    ----------
    y, tasks, source
        As for :func:`check_binary_labels`.
    task_types : sequence of str
        The inferred type per task; only the regression tasks are looked at.
    stacklevel : int, default 3
        Passed to :func:`warnings.warn`.

    Warns
    -----
    UserWarning
        Naming the task and its integer labels.
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


def check_target_tasks(target, who, stacklevel=5):
    """Refuse a target with no task to learn; warn about its single-class tasks.

    The one target rule of the selectors and the estimators.  A
    classification task whose labels are all of one class has no defined
    ROC-AUC (:func:`~molselect.metrics.per_task_scores` gives it NaN and
    :func:`~molselect.metrics.evaluate` averages over the other tasks), yet a
    multi-task target keeps its other tasks to learn from and to score.  So
    such tasks only warn, and the target is refused when *every* task is
    unusable: no classification task has both classes and no regression
    task has a label.  A small sample of a sparse multi-task dataset (200
    molecules of toxcast) typically has some single-class tasks.

    Parameters
    ----------
    target : MoleculeDataset
        The target's training data.
    who : str
        What needs the target, for the messages (``"MolGroupSelector"``).
    stacklevel : int, default 5
        Passed to :func:`warnings.warn`; the default points at the caller
        of a selector's or estimator's ``fit`` (``fit`` -> ``_fit`` -> the
        check of the target -> this function).

    Warns
    -----
    UserWarning
        Naming the classification tasks with one class only, when other
        tasks are usable.

    Raises
    ------
    ValueError
        If a classification label is not 0 or 1, or no task is usable.
    """
    from ._base import CLASSIFICATION

    check_binary_labels(target.y, target.tasks, target.task_types, f"the target {target.name!r}")
    labelled = ~np.isnan(target.y)
    classes, usable = [], 0
    for j, (task, kind) in enumerate(zip(target.tasks, target.task_types)):
        values = np.unique(target.y[labelled[:, j], j])
        if kind != CLASSIFICATION:
            usable += values.size > 0
        else:
            usable += values.size == 2
            classes.append((task, values))
    single = [(t, v) for t, v in classes if v.size == 1]
    if not usable:
        shown = ", ".join(f"{t!r} ({'/'.join(f'{v:g}' for v in c) or 'no labels'})"
                          for t, c in classes[:5]) + (" ..." if len(classes) > 5 else "")
        raise ValueError(
            f"the target {target.name!r} has only one class among the labels of every task "
            f"({shown}): {who} needs both classes in at least one task. Check the split or "
            "the labels")
    if single:
        shown = ", ".join(f"{t!r} ({c[0]:g})" for t, c in single[:5]) + (
            " ..." if len(single) > 5 else "")
        warnings.warn(
            f"the target {target.name!r} has {len(single)} classification task(s) with only one "
            f"class among their labels ({shown}); {who} trains on them, but their ROC-AUC is "
            f"undefined, so scores average over the {usable} other usable task(s)",
            UserWarning, stacklevel=stacklevel)
