"""The data model: a labelled molecule dataset and an ordered group of them.

A :class:`MoleculeDataset` quacks like a DeepChem dataset (``X``, ``y``, ``w``,
``ids``) and adds what DeepChem does not carry: a name, one task type per task
and the metric the dataset is judged by.  A :class:`DatasetGroup` is the union
that a selector hands to an estimator: the target first, then the auxiliaries,
each keeping its own tasks.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping

import numpy as np

from ..metrics import METRICS
from ._labels import check_binary_labels, check_finite_labels, warn_integer_regression
from ._validation import as_dataset, duplicate_name

CLASSIFICATION = "classification"
REGRESSION = "regression"
TASK_TYPES = (CLASSIFICATION, REGRESSION)

__all__ = [
    "CLASSIFICATION",
    "REGRESSION",
    "MoleculeDataset",
    "DatasetGroup",
    "infer_task_types",
]


def infer_task_types(y, w=None):
    """Infer a task type per column: binary labels mean classification.

    Parameters
    ----------
    y : array-like of shape (n_samples, n_tasks)
        Labels, NaN where missing.
    w : array-like of shape (n_samples, n_tasks), optional
        DeepChem weights; a zero weight marks a missing label.

    Returns
    -------
    list of str
        ``"classification"`` for columns whose labelled values are all 0 or 1,
        ``"regression"`` otherwise.
    """
    y = np.asarray(y, dtype=float)
    if y.ndim == 1:
        y = y[:, None]
    mask = ~np.isnan(y)
    if w is not None:
        mask &= np.asarray(w, dtype=float).reshape(y.shape) != 0
    types = []
    for j in range(y.shape[1]):
        values = y[mask[:, j], j]
        binary = values.size > 0 and np.isin(values, (0.0, 1.0)).all()
        types.append(CLASSIFICATION if binary else REGRESSION)
    return types


def _default_metric(task_types):
    return "roc_auc" if all(t == CLASSIFICATION for t in task_types) else "rmse"


class MoleculeDataset:
    """A labelled set of molecules, DeepChem-compatible by duck typing.

    Parameters
    ----------
    ids : array-like of str, shape (n_samples,)
        SMILES strings (DeepChem keeps them in ``ids``).
    y : array-like of shape (n_samples, n_tasks) or (n_samples,)
        Labels; NaN marks a missing label.
    w : array-like of shape (n_samples, n_tasks), optional
        Weights; 0 marks a missing label.  Defaults to 1 where ``y`` is
        labelled and 0 where it is NaN.  Labels whose weight is 0 are set to
        NaN so that one mask (``np.isnan(y)``) serves every loss and metric.
    tasks : sequence of str, optional
        Task names; defaults to ``task0, task1, ...``.
    task_types : sequence of str or str, optional
        ``"classification"`` or ``"regression"`` per task (a single string
        applies to all); inferred from the labels when omitted.
    metric : str, optional
        One of ``"roc_auc"``, ``"average_precision"``, ``"rmse"``, ``"mae"``;
        defaults to ROC-AUC for classification and RMSE otherwise.
    name : str, optional
        Name used in reports and as the key in a :class:`DatasetGroup`.
    X : array-like, optional
        Kept for DeepChem compatibility; molselect featurizes from SMILES and
        never reads it.

    Attributes
    ----------
    dropped_rows : ndarray of int
        Row numbers of the source data that were dropped before this dataset
        was built (invalid SMILES), empty when none were.
    """

    def __init__(self, ids, y, w=None, tasks=None, task_types=None, metric=None,
                 name=None, X=None):
        ids = np.asarray(ids, dtype=object).reshape(-1)
        y = np.array(y, dtype=np.float64)
        if y.ndim == 1:
            y = y[:, None]
        if y.ndim != 2 or y.shape[0] != ids.shape[0]:
            raise ValueError(
                f"dataset {name!r}: y has shape {y.shape} but there are {ids.shape[0]} "
                "SMILES; expected (n_samples, n_tasks)"
            )
        if w is None:
            w = (~np.isnan(y)).astype(np.float64)
        else:
            w = np.array(w, dtype=np.float64)
            if w.ndim == 1:
                w = w[:, None]
            if w.ndim != 2 or w.shape[0] != y.shape[0]:
                raise ValueError(
                    f"dataset {name!r}: w has shape {w.shape} but y has shape {y.shape}; "
                    "expected one weight row per molecule"
                )
            if w.shape != y.shape:
                if w.shape[1] == 1:
                    w = np.repeat(w, y.shape[1], axis=1)
                else:
                    raise ValueError(
                        f"dataset {name!r}: w has shape {w.shape}, y has shape {y.shape}"
                    )
            y[w == 0] = np.nan
        n_tasks = y.shape[1]
        if tasks is None:
            tasks = [f"task{j}" for j in range(n_tasks)]
        tasks = [str(t) for t in tasks]
        if len(tasks) != n_tasks:
            raise ValueError(
                f"dataset {name!r}: {len(tasks)} task names for {n_tasks} label columns"
            )
        source = f"dataset {name!r}" if name is not None else "dataset"
        check_finite_labels(y, tasks, source)
        inferred = task_types is None
        if inferred:
            task_types = infer_task_types(y)
        elif isinstance(task_types, str):
            task_types = [task_types] * n_tasks
        task_types = list(task_types)
        if len(task_types) != n_tasks:
            raise ValueError(
                f"dataset {name!r}: {len(task_types)} task types for {n_tasks} tasks"
            )
        bad = sorted({t for t in task_types if t not in TASK_TYPES})
        if bad:
            raise ValueError(
                f"dataset {name!r}: unknown task type(s) {bad}; use one of {TASK_TYPES}"
            )
        if inferred:
            warn_integer_regression(y, tasks, task_types, source)
        else:
            check_binary_labels(y, tasks, task_types, source)
        metric = metric or _default_metric(task_types)
        if metric not in METRICS:
            raise ValueError(
                f"dataset {name!r}: unknown metric {metric!r}; use one of {sorted(METRICS)}"
            )
        self.ids = ids
        self.y = y
        self.w = w
        self.X = X if X is not None else np.zeros((len(ids), 0))
        self.tasks = tasks
        self.task_types = task_types
        self.metric = metric
        self.name = name
        self.dropped_rows = np.zeros(0, dtype=np.int64)

    # DeepChem-style conveniences -------------------------------------------------
    @property
    def smiles(self):
        """ndarray of str: the SMILES strings (an alias of ``ids``)."""
        return self.ids

    @property
    def n_tasks(self):
        """int: the number of label columns."""
        return self.y.shape[1]

    @property
    def is_classification(self):
        """bool: whether every task is a classification task."""
        return all(t == CLASSIFICATION for t in self.task_types)

    def __len__(self):
        return len(self.ids)

    def __repr__(self):
        kind = "/".join(sorted(set(self.task_types)))
        return (
            f"MoleculeDataset(name={self.name!r}, n={len(self)}, tasks={self.n_tasks}, "
            f"{kind}, metric={self.metric!r})"
        )

    def subset(self, indices, name=None):
        """Return the rows ``indices`` as a new dataset with the same metadata.

        Parameters
        ----------
        indices : array-like of int or bool mask
            Rows to keep.
        name : str, optional
            Name of the new dataset (defaults to this dataset's name).

        Returns
        -------
        MoleculeDataset
        """
        indices = np.asarray(indices)
        if indices.dtype == bool:
            indices = np.flatnonzero(indices)
        elif indices.size == 0:
            indices = indices.astype(np.int64)
        X = self.X[indices] if len(self.X) == len(self) else self.X
        return MoleculeDataset(
            self.ids[indices], self.y[indices], self.w[indices], tasks=self.tasks,
            task_types=self.task_types, metric=self.metric,
            name=self.name if name is None else name, X=X,
        )

    def sample(self, n, random_state=0):
        """At most ``n`` rows drawn at random without replacement, in their original order.

        Parameters
        ----------
        n : int
            Number of rows; the whole dataset when it has ``n`` rows or fewer.
        random_state : int, numpy.random.Generator or None, default=0
            Seed or generator of the draw.

        Returns
        -------
        MoleculeDataset
        """
        rng = np.random.default_rng(random_state)
        size = min(int(n), len(self))
        return self.subset(np.sort(rng.choice(len(self), size=size, replace=False)))

    def summary(self):
        """A one-line, human-readable description: size, tasks, label coverage."""
        labelled = (~np.isnan(self.y)).mean() if self.y.size else 0.0
        kind = "/".join(sorted(set(self.task_types)))
        return (
            f"{self.name or 'dataset'}: {len(self)} molecules, {self.n_tasks} task(s), "
            f"{kind}, metric {self.metric}, {labelled:.0%} of labels present"
        )

    def to_frame(self):
        """Return a pandas DataFrame with a ``smiles`` column and one column per task."""
        import pandas as pd

        frame = pd.DataFrame(self.y, columns=self.tasks)
        frame.insert(0, "smiles", self.ids)
        return frame

    def to_deepchem(self):
        """Return a ``deepchem.data.NumpyDataset`` (needs the deepchem extra)."""
        try:
            import deepchem as dc
        except ImportError as exc:  # pragma: no cover - depends on the extra
            raise ImportError(
                "to_deepchem() needs DeepChem: pip install 'molselect[deepchem]'"
            ) from exc
        return dc.data.NumpyDataset(
            X=self.X, y=np.nan_to_num(self.y), w=self.w, ids=self.ids, n_tasks=self.n_tasks
        )


class DatasetGroup(Mapping):
    """An ordered group of datasets: the target first, then its auxiliaries.

    It is what a selector's ``fit_transform`` returns and what the estimators
    accept: each member keeps its own tasks and decoder head.

    Parameters
    ----------
    members : mapping of str to dataset, or sequence of (name, dataset)
        The datasets, target first.  DeepChem-style datasets are wrapped.

    Attributes
    ----------
    target_name : str
        The name of the first member.
    """

    def __init__(self, members):
        items = list(members.items()) if isinstance(members, Mapping) else list(members)
        if not items:
            raise ValueError("a DatasetGroup needs at least the target dataset")
        self._members = OrderedDict()
        for name, data in items:
            name = str(name)
            if name in self._members:
                raise duplicate_name(name)
            self._members[name] = as_dataset(data, name=name)
        self.target_name = next(iter(self._members))

    def __getitem__(self, name):
        return self._members[name]

    def __iter__(self):
        return iter(self._members)

    def __len__(self):
        return len(self._members)

    def __repr__(self):
        parts = ", ".join(f"{k}: {len(v)}" for k, v in self._members.items())
        return f"DatasetGroup(target={self.target_name!r}; {parts})"

    @property
    def target(self):
        """MoleculeDataset: the first member."""
        return self._members[self.target_name]

    @property
    def auxiliaries(self):
        """dict of str to MoleculeDataset: every member but the target."""
        return OrderedDict(list(self._members.items())[1:])

    def to_deepchem(self):
        """Merge the group into one block-sparse multitask DeepChem dataset.

        Tasks are prefixed with their member's name; a molecule has labels
        (weight 1) only in its own member's block.

        Returns
        -------
        deepchem.data.NumpyDataset
        """
        frames = []
        for name, data in self._members.items():
            frame = data.to_frame()
            frame.columns = ["smiles"] + [f"{name}/{t}" for t in data.tasks]
            frames.append(frame)
        import pandas as pd

        merged = pd.concat(frames, ignore_index=True)
        tasks = list(merged.columns[1:])
        merged_types = [t for d in self._members.values() for t in d.task_types]
        return MoleculeDataset(
            merged["smiles"].to_numpy(), merged[tasks].to_numpy(float), tasks=tasks,
            task_types=merged_types, name="+".join(self._members),
        ).to_deepchem()
