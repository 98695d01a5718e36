"""Every check and coercion of input data, shared by the datasets, selectors and estimators.

One place for them, so that a dataset that a selector accepts is also one
that an estimator accepts, and the messages say the same thing: what is not
a dataset (:func:`not_a_dataset`), an empty or unlabelled dataset
(:func:`check_labelled`), duplicate names, label values, and held-out data
of another task.

The coercions build :class:`~molselect.datasets.MoleculeDataset` and
:class:`~molselect.datasets.DatasetGroup`, whose constructors use the label
checks here: they import ``_base`` inside the function, so that ``_base``
can import this module at its top.
"""

from __future__ import annotations

import re
import warnings
from collections import OrderedDict
from collections.abc import Mapping, Sequence

import numpy as np

__all__ = ["check_finite_labels", "check_binary_labels", "warn_integer_regression",
           "is_dataset", "not_a_dataset", "duplicate_name", "as_dataset", "as_group", "name_datasets",
           "check_labelled", "check_target_tasks", "validate_target", "validate_auxiliaries",
           "as_members", "check_eval_set", "check_eval_sets", "check_validation_set"]

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


# -- what a dataset is, and the coercions ---------------------------------------------------

def is_dataset(obj):
    """Whether ``obj`` is a dataset: molselect or DeepChem-style (``.ids`` and ``.y``)."""
    return hasattr(obj, "ids") and hasattr(obj, "y") and not isinstance(obj, (str, bytes))


def not_a_dataset(obj, what, union=False):
    """The one error for something that is not a dataset.

    Parameters
    ----------
    obj : object
        What was given.
    what : str
        How to name it (``"X"``, ``"auxiliary 'esol'"``).
    union : bool, default=False
        Whether a union of datasets is accepted there too.

    Returns
    -------
    TypeError
    """
    union = (" or a union of them (a DatasetGroup or mapping name -> dataset, target first)"
             if union else "")
    hint = ("pass one of its datasets (a union's target is its first member)"
            if isinstance(obj, Mapping) else
            "build one with molselect.datasets.from_frame or from_csv")
    return TypeError(
        f"{what} must be a dataset (molselect or DeepChem-style: SMILES in .ids, labels in .y)"
        f"{union}, got {type(obj).__name__}; {hint}")


def as_dataset(data, name=None):
    """Coerce a molselect or DeepChem-style dataset into a :class:`MoleculeDataset`.

    Anything with ``ids`` (SMILES) and ``y`` is accepted; ``w``, ``tasks``
    (or DeepChem's ``get_task_names()``), ``task_types``, ``metric`` and
    ``name`` are used when present.  Task types of a plain DeepChem dataset
    are inferred: binary labels mean classification.

    Parameters
    ----------
    data : MoleculeDataset or DeepChem-like dataset
        The data to wrap.
    name : str, optional
        Name to give the result when the input has none.

    Returns
    -------
    MoleculeDataset
        ``data`` itself when it already is one (and has a name or none was
        given), otherwise a new wrapper.
    """
    from ._base import MoleculeDataset, infer_task_types

    if isinstance(data, MoleculeDataset):
        if name is not None and data.name is None:
            data = data.subset(np.arange(len(data)), name=name)
        return data
    if not is_dataset(data):
        raise not_a_dataset(data, name or "the data")
    ids = np.asarray(data.ids, dtype=object).reshape(-1)
    y = np.asarray(data.y, dtype=np.float64)
    if y.ndim == 1:
        y = y[:, None]
    w = getattr(data, "w", None)
    tasks = getattr(data, "tasks", None)
    if tasks is None and hasattr(data, "get_task_names"):
        tasks = list(data.get_task_names())
        if len(tasks) != y.shape[1]:
            tasks = None
    task_types = getattr(data, "task_types", None)
    if task_types is None:
        weights = None if w is None else np.asarray(w, dtype=float).reshape(y.shape) if np.size(w) == y.size else None
        masked = y.copy()
        if weights is not None:
            masked[weights == 0] = np.nan
        task_types = infer_task_types(masked)
        label = getattr(data, "name", None) or name
        warn_integer_regression(masked, tasks if tasks is not None else
                                [f"task{j}" for j in range(y.shape[1])], task_types,
                                f"dataset {label!r}" if label is not None else "dataset")
    return MoleculeDataset(
        ids, y, w=w, tasks=tasks, task_types=task_types, metric=getattr(data, "metric", None),
        name=getattr(data, "name", None) or name, X=getattr(data, "X", None),
    )


def as_group(data, name=None):
    """Return ``data`` as a :class:`DatasetGroup` (a single dataset becomes a group of one).

    Parameters
    ----------
    data : DatasetGroup, mapping, or dataset
        A group, a mapping name -> dataset (target first), or one dataset.
    name : str, optional
        Name for a single dataset that has none (default ``"target"``).

    Returns
    -------
    DatasetGroup
    """
    from ._base import DatasetGroup

    if isinstance(data, DatasetGroup):
        return data
    if isinstance(data, Mapping):
        return DatasetGroup(data)
    data = as_dataset(data, name=name)
    return DatasetGroup([(data.name or name or "target", data)])


def duplicate_name(name):
    """The one error for two datasets of one name (candidates, union members, groups)."""
    return ValueError(f"duplicate dataset name {name!r}: give each dataset its own name")


def name_datasets(datasets):
    """Name a mapping or sequence of datasets: mapping keys, else ``.name``, else position.

    Parameters
    ----------
    datasets : mapping of str to dataset, or sequence of datasets
        The candidates.

    Returns
    -------
    OrderedDict of str to MoleculeDataset

    Raises
    ------
    TypeError
        If ``datasets`` is a single dataset or not a collection, or one of
        its members is not a dataset.
    ValueError
        If two datasets end up with the same name.
    """
    if isinstance(datasets, Mapping):
        items = [(str(k), v) for k, v in datasets.items()]
    elif isinstance(datasets, Sequence) and not isinstance(datasets, (str, bytes)):
        items = []
        for i, d in enumerate(datasets):
            items.append((getattr(d, "name", None) or f"aux{i}", d))
    else:
        raise TypeError(
            "auxiliaries must be a mapping name -> dataset or a list of datasets, got "
            f"{type(datasets).__name__}"
        )
    out = OrderedDict()
    for name, d in items:
        if name in out:
            raise duplicate_name(name)
        if not is_dataset(d):
            raise not_a_dataset(d, f"auxiliary {name!r}")
        out[name] = as_dataset(d, name=name)
    return out


# -- the roles: target, auxiliaries, union ----------------------------------------------------

def check_labelled(data, role):
    """Refuse an empty dataset and one without any label.

    Parameters
    ----------
    data : MoleculeDataset
    role : str
        How to name it: ``"the target dataset"``, ``"auxiliary dataset"``.

    Raises
    ------
    ValueError
    """
    if len(data) == 0:
        raise ValueError(f"{role} {data.name!r} is empty")
    if np.isnan(data.y).all():
        raise ValueError(f"{role} {data.name!r} has no labels (all missing)")


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


def validate_target(target, who="the selector"):
    """Check a selector's target before any training; return it as a MoleculeDataset.

    Parameters
    ----------
    target : dataset
        The target's training data.
    who : str, default "the selector"
        What needs the target, for the messages.

    Raises
    ------
    TypeError
        If ``target`` is not one dataset.
    ValueError
        If it is empty, has no labels at all, or has no usable task (see
        :func:`check_target_tasks`, which also warns about single-class tasks).
    """
    from ._base import DatasetGroup

    if isinstance(target, (Mapping, DatasetGroup)):
        raise not_a_dataset(target, "the target")
    target = as_dataset(target, name="target")
    check_labelled(target, "the target dataset")
    check_target_tasks(target, who)
    return target


def validate_auxiliaries(auxiliaries, target_name=None):
    """Name and check the candidate auxiliaries; return an ordered dict name -> dataset.

    Raises
    ------
    TypeError
        If ``auxiliaries`` is not a mapping or list of datasets.
    ValueError
        If there are none, two share a name, one is named like the target,
        or one is empty or entirely unlabelled.
    """
    if auxiliaries is None:
        raise ValueError(
            "no auxiliary datasets were given: pass them as fit(target, auxiliaries) or "
            "fit(target, auxiliaries=...) (a mapping name -> dataset or a list)"
        )
    if is_dataset(auxiliaries):
        auxiliaries = [auxiliaries]
    candidates = name_datasets(auxiliaries)
    if not candidates:
        raise ValueError("no auxiliary datasets were given (the collection is empty)")
    for name, data in candidates.items():
        if target_name is not None and name == target_name:
            raise ValueError(
                f"auxiliary {name!r} has the same name as the target; rename one of them"
            )
        check_labelled(data, "auxiliary dataset")
    return candidates


def as_members(X, what="X"):
    """An estimator's union as an ordered dict name -> MoleculeDataset, target first.

    Parameters
    ----------
    X : dataset, DatasetGroup, mapping of str to dataset, or list of datasets
        One dataset, or a union whose first member is the target.
    what : str
        Name of the argument, for error messages.

    Returns
    -------
    dict of str to MoleculeDataset

    Raises
    ------
    TypeError
        For strings, arrays, data frames and unions whose first member is not
        a dataset.
    ValueError
        For an empty union, an empty member or one without any label.
    """
    import pandas as pd

    if isinstance(X, (str, bytes, np.ndarray, pd.DataFrame)):
        raise not_a_dataset(X, what, union=True)
    if isinstance(X, Mapping):
        items = [(str(k), v) for k, v in X.items()]
    elif isinstance(X, Sequence):
        items = [(getattr(d, "name", None) or f"dataset{i}", d) for i, d in enumerate(X)]
    elif is_dataset(X):
        items = [(getattr(X, "name", None) or "target", X)]
    else:
        raise not_a_dataset(X, what, union=True)
    if not items:
        raise ValueError(f"{what} is an empty union: it needs at least the target dataset")
    members = {}
    for i, (name, data) in enumerate(items):
        if not is_dataset(data):
            # A union lists the target first, then its auxiliaries.
            raise not_a_dataset(data, f"the first member of the union ({name!r}), the target,"
                                if i == 0 else f"member {name!r} of the union")
        if name in members:
            raise duplicate_name(name)
        data = as_dataset(data, name=name)
        check_labelled(data, "the target dataset" if i == 0 else "auxiliary dataset")
        members[name] = data
    return members


# -- held-out data ----------------------------------------------------------------------------

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
    from ._base import DatasetGroup

    if isinstance(eval_set, (Mapping, DatasetGroup)) or not is_dataset(eval_set):
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


def check_validation_set(eval_set, target):
    """An estimator's validation split: the first held-out dataset of ``eval_set``, checked.

    Returns
    -------
    MoleculeDataset or None
        None for ``None`` or an empty list.
    """
    if isinstance(eval_set, (list, tuple)):
        if not eval_set:
            return None
        eval_set = eval_set[0]  # like the selectors: the first held-out set is the validation set
    return None if eval_set is None else check_eval_set(eval_set, target)
