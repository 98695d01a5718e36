"""What the four downstream estimators share: input checks, fitting, prediction.

An architecture subclass says how to build its encoder, its optimiser and
its batch inputs; a kind mixin (``GraphClassifierMixin``,
``GraphRegressorMixin`` in :mod:`molselect.models._mixins`) says how outputs
become predictions and scores; :mod:`molselect.models._protocol` holds the
training protocol's validation scoring.  Fitting is the core's one training
loop (:func:`molselect.core.train` with :class:`~molselect.core.JointStep` or
the GradNorm step, and callbacks) over a :class:`~molselect.core.GraphTable`
of the union, for a :class:`~molselect.core.MultiDatasetNetwork` of the
subclass's encoder.
Encoder checkpoints and pickled networks are read and written by
:mod:`molselect.models._persistence`.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from functools import partial
from types import SimpleNamespace

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted

from ..core import (BestEpoch, Callback, EarlyStopping, GradNormStep, JointStep,
                    MultiDatasetNetwork, predict, resolve_device, seed_everything, train)
from ..core.gin import FEATURE_SETS
from ..core.prepare import LabelScaler, build_table
from .._param_validation import (BACKBONE, POSITIVE_INT, RUNTIME, ParameterValidationMixin,
                                 StrOptions, _InstancesOf)
from .._checks import check_random_state
from ..datasets._base import CLASSIFICATION, DatasetGroup, MoleculeDataset
from ..datasets._labels import check_target_tasks
from ..datasets._validation import (as_dataset, as_members, check_eval_set,
                                    check_validation_set, is_dataset)
from ..metrics import evaluate, is_better, to_score
from ._inputs import check_labels_beside, eval_datasets, is_smiles, smiles_dataset
from ._persistence import load_encoder, network_from_state, network_state, save_encoder
from ._protocol import MONITORS, ValidationScore, lower_loss

__all__ = ["BaseGraphEstimator"]

LOSS_WEIGHTINGS = ("uniform", "gradnorm")


class BaseGraphEstimator(ParameterValidationMixin, BaseEstimator):
    """Base of the GIN / Graphormer estimators (not for direct use).

    Subclasses define ``_build_encoder()`` (an encoder that
    :class:`~molselect.core.MultiDatasetNetwork` can share: ``hidden_dim`` and
    ``encode(batch, update_running)``), ``_make_optimizer(parameters)``,
    ``_shared_parameter(encoder)`` (the last shared layer's weight, for
    GradNorm), ``_make_encoder_inputs(datasets)`` (encoder-specific batch inputs),
    the class attributes ``_encoder_name`` and ``_shape_params``
    (hyper-parameters that fix the encoder's tensor shapes), and extend
    ``_parameter_constraints`` with their architecture's parameters.
    """

    # With scikit-learn's metadata routing on, a pipeline's eval_set reaches the
    # estimator (best epoch) as well as the selector (leakage guard).
    __metadata_request__fit = {"eval_set": True}
    _kind = None
    _parameter_constraints = {
        **BACKBONE,
        "epochs": [POSITIVE_INT],
        "loss_weighting": [StrOptions(LOSS_WEIGHTINGS)],
        "feature_set": [StrOptions(FEATURE_SETS)],
        "pretrained": ["path", None],
        "early_stopping": [POSITIVE_INT, None],
        "monitor": [StrOptions(MONITORS)],
        "n_checkpoints": [POSITIVE_INT],
        "callbacks": [_InstancesOf((list, tuple), "a list of callbacks"), None],
        **RUNTIME,
    }

    # -- fitting ------------------------------------------------------------------
    def fit(self, X, y=None, eval_set=None):
        """Train on a dataset, a union (target first, then auxiliaries), or SMILES and labels.

        Parameters
        ----------
        X : dataset, DatasetGroup, mapping of str to dataset, list of datasets, or sequence of str
            The target's training data alone, or the union a selector's
            ``fit_transform`` returns.  Each member keeps its own decoder
            head; the loss is the mean of the members' masked losses
            (weighted by ``loss_weighting``); every member is drawn equally
            often and an epoch is ``len(target) x n_members`` molecules.
            A 1-D list, array or Series of SMILES strings (scikit-learn's
            form, for ``cross_val_score`` and ``GridSearchCV``) is the target
            alone, with its labels in ``y``: it becomes a dataset by
            :func:`molselect.datasets.from_smiles`, with tasks ``task0,
            task1, ...`` of this estimator's task type; an invalid SMILES is
            a ValueError naming its row.
        y : array-like of shape (n_samples,) or (n_samples, n_tasks), optional
            The labels of SMILES ``X`` (NaN: missing; classifiers take 0 and
            1).  With a dataset or union ``X``, which carries its labels,
            ``y`` must be None or the target's own labels (as a scikit-learn
            ``Pipeline`` passes them on after a selector built the union from
            SMILES and ``y``); other labels are refused (ValueError).
        eval_set : dataset, (smiles, labels) tuple, or list of them, optional
            The target's validation split (for a list, the first one).  The
            epoch with the best validation metric is kept; without it, the
            last epoch.  A ``(smiles, labels)`` tuple is made a dataset like
            SMILES ``X``; a dataset's tasks must match the target's (by number
            only when either side has the default names ``task0, ...``).

        Returns
        -------
        self
        """
        if is_smiles(X) and (len(X) or y is not None):  # fit([]) stays an empty union
            X, y = smiles_dataset(X, y, self._kind, "fit"), None
        return self._fit(X, eval_datasets(eval_set, self._kind), check_kind=True, y=y)

    def _fit(self, X, eval_set, check_kind, y=None):
        self._validate_params()
        members = as_members(X)
        datasets = list(members.values())
        target = datasets[0]
        check_labels_beside(target, y, "fit")
        valid = check_validation_set(eval_set, target)
        if check_kind:
            self._check_target(target)
        device = resolve_device(self.device)
        rng = seed_everything(check_random_state(self.random_state))
        table, classification, scalers = build_table(
            datasets, encoder_inputs=self._make_encoder_inputs(datasets))
        model = self._build_network([d.n_tasks for d in datasets]).to(device)
        if self.pretrained is not None:
            self._load_encoder(model.encoder, self.pretrained)
        classification = [c.to(device) for c in classification]
        step = self._make_step(model, classification)

        self.members_ = list(members)
        self.tasks_ = list(target.tasks)
        self.n_tasks_ = target.n_tasks
        self.task_types_ = list(target.task_types)
        self.metric_ = target.metric
        self.label_scaler_ = scalers[0]
        self.model_ = model

        callbacks = self._check_callbacks()
        best = None
        if valid is not None:
            valid_table, _, _ = build_table([valid], scalers=[scalers[0]],
                                            encoder_inputs=self._make_encoder_inputs([valid]))
            monitor, improves = self._monitor()
            best = BestEpoch(model, monitor, improves, keep=self.n_checkpoints)
            stopping = ([] if self.early_stopping is None
                        else [EarlyStopping(monitor, self.early_stopping, improves)])
            # The score first: every later callback reads it from the epoch's record.
            callbacks = [ValidationScore(self, valid, valid_table, device), best, *stopping,
                         *callbacks]
        for callback in callbacks:
            if hasattr(callback, "set_estimator"):
                callback.set_estimator(self)

        try:
            logs = train(table, step, self.epochs, self.batch_size, rng, device,
                         callbacks=callbacks, verbose=self.verbose,
                         desc=f"{type(self).__name__} ({len(datasets)} dataset(s))")
        except BaseException:
            # A fit that fails (or is interrupted) midway must not leave the estimator
            # looking fitted: prediction would silently use a half-trained model.
            del self.model_
            raise
        self.n_epochs_ = len(logs)
        if best is not None and best.best_epoch is not None:
            self.best_epoch_ = best.best_epoch + 1  # the core counts epochs from 0
            self.checkpoints_ = [state for _, _, state in best.kept]
        else:
            self.best_epoch_ = self.n_epochs_
            self.checkpoints_ = []
            if valid is not None:
                warnings.warn(
                    f"eval_set gave no valid {self.metric_} in any epoch (its labels are "
                    "missing, or of one class only), so it could not choose the best epoch: "
                    "the last epoch is kept. Pass a validation split with labels of both "
                    "classes", UserWarning, stacklevel=3)
        self.best_score_ = (logs[self.best_epoch_ - 1]["valid_metric"]
                            if best is not None and best.best_epoch is not None else None)
        if best is not None and best.best_epoch is not None and self.epochs > 1 \
                and self.best_epoch_ == self.n_epochs_ == self.epochs:
            # Early stopping never ends a fit at its best epoch: this one ran into its limit.
            warnings.warn(
                f"{type(self).__name__}: the best validation epoch was the last of the "
                f"{self.epochs} (epochs={self.epochs}): the model was still improving and may "
                "not have converged. Raise epochs (early stopping ends a fit that stops "
                "improving)", ConvergenceWarning, stacklevel=3)
        model.eval()
        self.history_ = self._history(logs)
        weights = getattr(step, "weights", None)
        self.loss_weights_ = pd.Series(
            np.ones(len(datasets)) if weights is None else weights.detach().cpu().numpy(),
            index=self.members_, name="loss_weight")
        return self

    def _monitor(self):
        """The validation figure that picks kept epochs and stops early, and its order."""
        if self.monitor == "loss":
            return "valid_loss", lower_loss
        return "valid_metric", partial(is_better, metric=self.metric_)

    def _check_callbacks(self):
        callbacks = list(self.callbacks or ())
        wrong = [type(c).__name__ for c in callbacks if not isinstance(c, Callback)]
        if wrong:
            raise TypeError(f"callbacks must be molselect.core.Callback instances; got {wrong}")
        return callbacks

    def _history(self, logs):
        rows = []
        for record in logs:
            row = {"epoch": record["epoch"] + 1}
            for key, value in record.items():
                if key == "epoch":
                    continue
                if np.ndim(value):
                    row.update({f"weight[{m}]": float(v) for m, v in zip(self.members_, value)})
                else:
                    row[key] = value
            rows.append(row)
        return pd.DataFrame(rows)

    def _build_network(self, n_tasks):
        return MultiDatasetNetwork(self._build_encoder(), n_tasks)

    def _make_step(self, model, classification):
        optimizer = self._make_optimizer(model.parameters())
        if self.loss_weighting == "gradnorm":
            return GradNormStep(model, classification, optimizer,
                                self._shared_parameter(model.encoder))
        return JointStep(model, classification, optimizer)

    def _check_target(self, target):
        kind = self._kind
        wrong = [t for t, k in zip(target.tasks, target.task_types) if k != kind]
        if wrong:
            other = {"classification": "Regressor", "regression": "Classifier"}[kind]
            suggestion = type(self).__name__.replace(
                "Classifier" if kind == CLASSIFICATION else "Regressor", other)
            raise ValueError(
                f"{type(self).__name__} needs {kind} tasks, but the target {target.name!r} has "
                f"{len(wrong)} other task(s) ({wrong[:3]}); use {suggestion}")
        # The selectors' rule: refuse when no task is usable, warn about single-class ones.
        check_target_tasks(target, type(self).__name__)

    # -- prediction ---------------------------------------------------------------
    def _as_predict_dataset(self, X, labelled, y=None):
        check_is_fitted(self, "model_")
        if isinstance(X, (Mapping, DatasetGroup)):
            raise TypeError("predict and score take the target's data (one dataset), not a "
                            "union; pass union.target or the target's test split")
        if is_dataset(X):
            data = as_dataset(X, name="X")
            if labelled:
                check_labels_beside(data, y, "score")
            return data
        if is_smiles(X):
            if labelled:
                if y is None:
                    raise TypeError("score needs a labelled dataset, or SMILES strings and their "
                                    "labels: score(smiles, y)")
                return smiles_dataset(X, y, self._kind, "score")
            smiles = np.asarray(X, dtype=object).reshape(-1)
            return MoleculeDataset(smiles, np.full((len(smiles), self.n_tasks_), np.nan),
                                   task_types=self.task_types_, tasks=self.tasks_)
        what = "score needs a labelled dataset, or SMILES strings and labels" if labelled else (
            "predict needs a dataset or a 1-D sequence of SMILES strings")
        raise TypeError(f"{what}; got {type(X).__name__}")

    def _outputs(self, table, device, ensemble=False):
        """Target-head outputs of every molecule of ``table``: probabilities or label units.

        With ``ensemble`` and several kept checkpoints, the mean of their outputs
        (probabilities are averaged, not logits).
        """
        checkpoints = getattr(self, "checkpoints_", [])
        if ensemble and len(checkpoints) > 1:
            outputs = []
            for state in checkpoints:
                self.model_.load_state_dict(state)
                outputs.append(self._outputs(table, device))
            self.model_.load_state_dict(checkpoints[0])
            return np.mean(outputs, axis=0)
        raw = predict(self.model_, table, 0, self.batch_size, device).numpy().astype(np.float64)
        raw = raw.reshape(table.sizes[0], self.n_tasks_)
        out = self.label_scaler_.inverse_transform(raw)
        clf = np.array([t == CLASSIFICATION for t in self.task_types_])
        out[:, clf] = 1.0 / (1.0 + np.exp(-raw[:, clf]))
        return out

    def _predict_outputs(self, X):
        data = self._as_predict_dataset(X, labelled=False)
        if len(data) == 0:
            return data, np.zeros((0, self.n_tasks_))
        if data.n_tasks != self.n_tasks_:
            raise ValueError(f"X has {data.n_tasks} task(s) but the estimator was fitted on "
                             f"{self.n_tasks_}")
        device = next(self.model_.parameters()).device
        table, _, _ = build_table([data], scalers=[LabelScaler.identity(self.n_tasks_)],
                                  encoder_inputs=self._make_encoder_inputs([data]))
        return data, self._outputs(table, device, ensemble=True)

    def _score(self, X, y=None, sample_weight=None):
        if sample_weight is not None:
            raise TypeError("score does not support sample_weight; the metric weighs every "
                            "labelled molecule equally")
        data = self._as_predict_dataset(X, labelled=True, y=y)
        # fit's check of an eval_set, against the target the estimator was fitted on.
        fitted = SimpleNamespace(name=self.members_[0], tasks=self.tasks_,
                                 task_types=self.task_types_, n_tasks=self.n_tasks_)
        check_eval_set(data, fitted, what="score: X", role="held-out data")
        data, out = self._predict_outputs(data)
        value = evaluate(data.y, out, self.metric_, self.task_types_)
        return to_score(value, self.metric_)

    # -- pre-training ---------------------------------------------------------------
    @classmethod
    def pretrain(cls, datasets, path, *, eval_set=None, **params):
        """Pre-train the encoder on large labelled dataset(s) and save it for ``pretrained=``.

        This is the "Pretrain-Finetune" recipe with the data you have: the
        paper pre-trains on PCQM4Mv2, whose weights were never released and
        are not shipped with molselect.  Pre-training here is supervised
        multi-dataset training with the same loop as :meth:`fit` (one head
        per dataset, balanced sampling), mixing classification and regression
        datasets freely (e.g. hiv, muv, qm9 and chembl, or a target's
        candidate auxiliaries).

        Parameters
        ----------
        datasets : dataset, DatasetGroup, mapping or list of datasets
            The pre-training data; the first one sets the epoch length
            (``len(first) x n_datasets`` molecules).
        path : str or path-like
            Where to save the checkpoint (:meth:`save_encoder`).
        eval_set : dataset, optional
            Validation split of the first dataset (best-epoch selection).
        **params
            Hyper-parameters of the estimator (``hidden_dim``, ``epochs``, ...).
            Fine-tune with the same ``hidden_dim``, ``num_layers`` (and, for
            Graphormer, ``num_heads``, ``max_nodes``, ``max_dist``).

        Returns
        -------
        estimator
            The fitted pre-training estimator (its ``history_`` shows the
            pre-training curve); its prediction methods serve the first dataset.

        Examples
        --------
        >>> pre = GraphormerClassifier.pretrain(pool, "encoder.pt", epochs=5)   # doctest: +SKIP
        >>> clf = GraphormerClassifier(pretrained="encoder.pt").fit(target)     # doctest: +SKIP
        """
        estimator = cls(**params)
        estimator._fit(datasets, eval_set, check_kind=False)
        estimator.save_encoder(path)
        return estimator

    def save_encoder(self, path):
        """Save the fitted encoder (state dict and shape hyper-parameters) to ``path``.

        The file is read back by ``pretrained=path`` in an estimator of the
        same architecture; the decoder heads are not saved (fine-tuning gives
        each member a new head).

        Parameters
        ----------
        path : str or path-like

        Returns
        -------
        pathlib.Path
        """
        check_is_fitted(self, "model_")
        return save_encoder(self, path)

    def _load_encoder(self, encoder, path):
        load_encoder(self, encoder, path)

    # -- pickling -------------------------------------------------------------------
    def __getstate__(self):
        state = dict(super().__getstate__())
        if isinstance(state.get("model_"), torch.nn.Module):
            state["model_"] = network_state(state["model_"])
        return state

    def __setstate__(self, state):
        model = state.get("model_")
        super().__setstate__(state)
        if isinstance(model, dict):
            self.model_ = network_from_state(self, model)
