"""The estimators' training protocol: validation scoring, early stopping's order, shared docs."""

from __future__ import annotations

import numpy as np

from ..core import Callback
from ..datasets._base import CLASSIFICATION
from ..metrics import evaluate

__all__ = ["MONITORS", "PROTOCOL_PARAMS_DOC", "ValidationScore", "lower_loss", "validation_loss"]

MONITORS = ("metric", "loss")

#: The numpydoc entries of the training-protocol parameters every estimator shares.
PROTOCOL_PARAMS_DOC = """    early_stopping : int, optional
        Patience: stop when the monitored validation figure has not improved
        for this many epochs (``epochs`` is then the most).  Needs ``eval_set``.
        None (default) trains every epoch.
    monitor : {"metric", "loss"}, default="metric"
        The validation figure that picks the kept epoch(s) and stops early:
        the target's metric, or its loss (cross-entropy / standardised MSE,
        smoother on a small validation split).
    n_checkpoints : int, default=1
        Predict with the mean of the ``n_checkpoints`` best validation epochs'
        networks (a checkpoint ensemble: probabilities or values averaged)
        instead of the best one alone.
    callbacks : list of molselect.core.Callback, optional
        Your own training hooks (skorch's convention), e.g. a logger or
        another stopping rule.  Their ``on_epoch_end(epoch, logs)`` is called
        after every epoch, in order, after the estimator's own callbacks
        (validation scoring, best-epoch keeping, early stopping), so ``logs``
        holds ``loss``, ``target_loss`` and, with ``eval_set``,
        ``valid_metric`` and ``valid_loss``; a figure it returns is added to
        ``history_``.  ``on_train_end(history)`` is called once at the end;
        a callback with a ``set_estimator`` method receives the estimator
        before training starts.  A callback that sets ``stop_training`` ends
        the fit after that epoch.
"""


def validation_loss(y, outputs, task_types, scale):
    """Mean masked loss of predictions: cross-entropy for classification, standardised MSE.

    The figure the training minimises, on held-out data: smoother than a
    ranking metric on a small validation split, so a better guide for early
    stopping and for choosing checkpoints.

    Parameters
    ----------
    y : ndarray of shape (n, n_tasks)
        Labels, NaN where missing.
    outputs : ndarray of shape (n, n_tasks)
        Probabilities (classification tasks) or values in label units.
    task_types : list of str
    scale : ndarray of shape (n_tasks,)
        The label scaler's per-task scale (1 for classification tasks).

    Returns
    -------
    float
        Mean over tasks with labels of each task's mean loss; NaN without labels.
    """
    y = np.asarray(y, dtype=np.float64).reshape(len(outputs), -1)
    clf = np.array([t == CLASSIFICATION for t in task_types])
    p = np.clip(outputs, 1e-7, 1 - 1e-7)
    with np.errstate(invalid="ignore", divide="ignore"):
        loss = np.where(clf, -(y * np.log(p) + (1 - y) * np.log(1 - p)),
                        ((outputs - y) / np.asarray(scale)) ** 2)
    labelled = ~np.isnan(y)
    counts = labelled.sum(axis=0)
    if not counts.any():
        return float("nan")
    per_task = np.where(labelled, loss, 0.0).sum(axis=0)[counts > 0] / counts[counts > 0]
    return float(per_task.mean())


def lower_loss(new, best):
    """Whether loss ``new`` improves on ``best`` (None: nothing yet; NaN never improves)."""
    return bool(np.isfinite(new)) and (best is None or new < best)


class ValidationScore(Callback):
    """Score the target's validation split after every epoch.

    Adds ``valid_metric`` (the target's metric) and ``valid_loss``
    (:func:`validation_loss`) to the epoch's record.  A fit lists it first
    among its callbacks, so that the best-epoch keeper, early stopping and the
    user's callbacks all read the figures of the current weights.

    Parameters
    ----------
    estimator : BaseGraphEstimator
        Being fitted: its target-head outputs, metric, task types and label
        scale are the ones the figures use.
    valid : MoleculeDataset
        The target's validation split.
    table : molselect.core.GraphTable
        ``valid`` as a table, labels scaled with the target's scaler.
    device : torch.device
    """

    def __init__(self, estimator, valid, table, device):
        self.estimator = estimator
        self.valid = valid
        self.table = table
        self.device = device

    def on_epoch_end(self, epoch, logs):
        """The validation metric and loss of the model as it is after ``epoch``."""
        est = self.estimator
        out = est._outputs(self.table, self.device)
        return {"valid_metric": evaluate(self.valid.y, out, est.metric_, est.task_types_),
                "valid_loss": validation_loss(self.valid.y, out, est.task_types_,
                                              est.label_scaler_.scale)}
