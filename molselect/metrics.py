"""The metrics molselect judges a target by, NaN-masked and averaged over tasks.

Every dataset carries one metric name (``MoleculeDataset.metric``):
``"roc_auc"`` and ``"average_precision"`` (classification, higher is better),
``"rmse"`` and ``"mae"`` (regression, lower is better).  The functions here
compute them with scikit-learn's metric functions, task by task over the
labelled entries only (NaN = missing), and average over the tasks that can
be scored, as MoleculeNet and the MolGroup paper do.

:func:`evaluate` returns the metric in its own units (an RMSE is positive);
:func:`to_score` turns it into scikit-learn's greater-is-better convention
(an RMSE becomes its negative, like ``neg_root_mean_squared_error``), which
is what the estimators' ``score`` returns.
"""

from __future__ import annotations

from importlib import import_module
from typing import NamedTuple

import numpy as np

__all__ = ["METRICS", "Metric", "evaluate", "greater_is_better", "is_better", "per_task_scores",
           "to_score"]


class Metric(NamedTuple):
    """How one metric is computed and read.

    Attributes
    ----------
    function : str
        Name of the scikit-learn function in :mod:`sklearn.metrics` that
        computes it on one task's labelled rows.
    greater_is_better : bool
        Whether a larger value is better.
    kind : {"classification", "regression"}
        The task type it scores.
    """

    function: str
    greater_is_better: bool
    kind: str


#: The one table of the metrics molselect knows: name -> :class:`Metric`.
#: Datasets check their metric name against it, the estimators and the
#: evaluation read its direction.
METRICS = {
    "roc_auc": Metric("roc_auc_score", True, "classification"),
    "average_precision": Metric("average_precision_score", True, "classification"),
    "rmse": Metric("root_mean_squared_error", False, "regression"),
    "mae": Metric("mean_absolute_error", False, "regression"),
}


def _check_metric(metric):
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; use one of {sorted(METRICS)}")
    return METRICS[metric]


def _score_function(metric):
    # scikit-learn (with SciPy and pandas) is imported on first use only, so that
    # molselect.datasets can check metric names against METRICS and stay cheap to import.
    return getattr(import_module("sklearn.metrics"), metric.function)


def greater_is_better(metric):
    """Whether a larger value of ``metric`` is better.

    Parameters
    ----------
    metric : {"roc_auc", "average_precision", "rmse", "mae"}

    Returns
    -------
    bool
    """
    return _check_metric(metric).greater_is_better


def to_score(value, metric):
    """Convert a metric value to scikit-learn's greater-is-better convention.

    Parameters
    ----------
    value : float
        The metric as :func:`evaluate` returns it.
    metric : str

    Returns
    -------
    float
        ``value`` for ROC-AUC / AP, ``-value`` for RMSE / MAE.
    """
    return float(value) if greater_is_better(metric) else -float(value)


def is_better(new, old, metric):
    """Whether metric value ``new`` improves on ``old`` (NaN never improves; anything beats NaN).

    Parameters
    ----------
    new, old : float or None
        Metric values; ``old=None`` means nothing to beat yet.
    metric : str

    Returns
    -------
    bool
    """
    if new is None or np.isnan(new):
        return False
    if old is None or np.isnan(old):
        return True
    return new > old if greater_is_better(metric) else new < old


def _as_2d(a, name):
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2:
        raise ValueError(f"{name} must be 1-D or 2-D, got shape {a.shape}")
    return a


def per_task_scores(y_true, y_pred, metric, task_types=None):
    """The metric of every task over its labelled rows.

    Parameters
    ----------
    y_true : array-like of shape (n_samples, n_tasks) or (n_samples,)
        Labels, NaN where missing.
    y_pred : array-like of the same shape
        Probabilities or decision values (classification metrics) or
        predicted values (regression metrics).
    metric : {"roc_auc", "average_precision", "rmse", "mae"}
    task_types : sequence of str, optional
        Task type per column; tasks of the other kind than the metric's are
        not scored.

    Returns
    -------
    ndarray of shape (n_tasks,)
        NaN for a task that cannot be scored: no labelled row, (for ROC-AUC /
        AP) labels of one class only, or a task of the other kind.
    """
    spec = _check_metric(metric)
    func, kind = _score_function(spec), spec.kind
    y_true, y_pred = _as_2d(y_true, "y_true"), _as_2d(y_pred, "y_pred")
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has shape {y_true.shape} but y_pred has shape {y_pred.shape}")
    if np.isnan(y_pred[~np.isnan(y_true)]).any():
        raise ValueError("y_pred has NaN where labels are present")
    if task_types is not None and len(task_types) != y_true.shape[1]:
        raise ValueError(f"{len(task_types)} task types for {y_true.shape[1]} tasks")
    scores = np.full(y_true.shape[1], np.nan)
    for j in range(y_true.shape[1]):
        if task_types is not None and task_types[j] != kind:
            continue
        labelled = ~np.isnan(y_true[:, j])
        t, p = y_true[labelled, j], y_pred[labelled, j]
        if t.size == 0:
            continue
        if kind == "classification" and np.unique(t).size < 2:
            continue
        scores[j] = func(t, p)
    return scores


def evaluate(y_true, y_pred, metric, task_types=None):
    """A dataset's metric, NaN-masked per task and averaged over the scorable tasks.

    Parameters
    ----------
    y_true : array-like of shape (n_samples, n_tasks) or (n_samples,)
        Labels, NaN where missing.
    y_pred : array-like of the same shape
        Predicted probabilities of the positive class (``roc_auc``,
        ``average_precision``) or predicted values (``rmse``, ``mae``), in
        label units.
    metric : {"roc_auc", "average_precision", "rmse", "mae"}
        The dataset's metric.
    task_types : sequence of str, optional
        Task type per column; when given, only the tasks of the metric's kind
        are scored (a classification metric skips regression columns and
        vice versa), which matters for mixed-type datasets.

    Returns
    -------
    float
        The mean over tasks of the per-task metric, in the metric's own units
        (an RMSE is positive; see :func:`to_score`).  NaN when no task can be
        scored (e.g. every classification task has one class only).

    Examples
    --------
    >>> import numpy as np
    >>> evaluate([[1, np.nan], [0, 1], [1, 0]], [[0.9, 0.1], [0.2, 0.8], [0.7, 0.3]], "roc_auc")
    1.0
    >>> evaluate([1.0, 2.0, np.nan], [1.5, 2.5, 7.0], "rmse")
    0.5
    """
    scores = per_task_scores(y_true, y_pred, metric, task_types)
    scores = scores[~np.isnan(scores)]
    return float(scores.mean()) if scores.size else float("nan")
