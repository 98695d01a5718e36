"""Every check and coercion of input data, shared by the datasets, selectors and estimators.

One place for them, so that a dataset that a selector accepts is also one
that an estimator accepts, and the messages say the same thing: what is not
a dataset (:func:`not_a_dataset`), an empty or unlabelled dataset
(:func:`check_labelled`), duplicate names, and held-out data of another
task.  The rules on label values, the target's included, are in
:mod:`._labels`.

The coercions build :class:`~molselect.datasets.MoleculeDataset` and
:class:`~molselect.datasets.DatasetGroup`, whose constructors use the label
checks: they import ``_base`` inside the function, so that ``_base`` can
import this module at its top.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Mapping, Sequence

import numpy as np

from ._labels import check_target_tasks, warn_integer_regression

__all__ = ["is_dataset", "not_a_dataset", "duplicate_name", "as_dataset", "as_group",
           "name_datasets", "check_labelled", "validate_target", "validate_auxiliaries",
           "as_members", "check_eval_set", "check_eval_sets", "check_validation_set"]

_DEFAULT_TASK = re.compile(r"(task)?\d+")


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
    if all(hasattr(obj, part) for part in ("train", "valid", "test")):
        # load_dataset's result: the usual slip is passing it whole.
        hint = ("it holds a split dataset: pass its .train (and its .valid / .test as "
                "eval_set, or as the data to score)")
    elif isinstance(obj, Mapping):
        hint = "pass one of its datasets (a union's target is its first member)"
    else:
        hint = "build one with molselect.datasets.from_frame or from_csv"
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

def check_eval_set(eval_set, target, what="eval_set", role="validation split"):
    """Check that one held-out dataset belongs to the target: same tasks and task types.

    Parameters
    ----------
    eval_set : dataset
        The target's validation (or test) split.
    target : MoleculeDataset
        The target's training data (or anything with its ``name``, ``tasks``,
        ``task_types`` and ``n_tasks``, as a fitted estimator records them).
    what : str
        How to name ``eval_set`` in messages.
    role : str
        What ``eval_set`` must be, in messages ("the target's <role>").

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
        raise TypeError(f"{what} must be one dataset (the target's {role}), got "
                        f"{type(eval_set).__name__}")
    valid = as_dataset(eval_set, name="eval_set")
    named = all(not _DEFAULT_TASK.fullmatch(t) for t in valid.tasks + target.tasks)
    if valid.n_tasks != target.n_tasks or (named and list(valid.tasks) != list(target.tasks)):
        raise ValueError(
            f"{what}'s tasks {valid.tasks[:5]} ({valid.n_tasks}) do not match the target "
            f"{target.name!r}'s tasks {target.tasks[:5]} ({target.n_tasks}): {what} must be "
            f"the target's {role} (is the union's first member the target?)")
    if list(valid.task_types) != list(target.task_types):
        hint = ""
        if np.isnan(valid.y).all():
            hint = (" It has no labels at all, so its task types were inferred as regression; "
                    "give it labels, or build it with the target's task_types.")
        raise ValueError(
            f"{what}'s task types {valid.task_types[:5]} do not match the target "
            f"{target.name!r}'s {target.task_types[:5]}: {what} must be the target's "
            f"{role}, not another dataset's.{hint}")
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
