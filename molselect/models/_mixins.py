"""What a classifier and a regressor add to the base estimator: predictions and scores."""

from __future__ import annotations

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from ..datasets._base import CLASSIFICATION, REGRESSION

__all__ = ["GraphClassifierMixin", "GraphRegressorMixin"]


class GraphClassifierMixin(ClassifierMixin):
    """Predictions and score of the classifiers (every task binary).

    Output shapes follow scikit-learn for a single task and stay
    two-dimensional for several: ``predict_proba`` gives (n, 2) columns
    ``[P(0), P(1)]`` for one task and (n, n_tasks) positive-class
    probabilities for several; ``predict`` gives (n,) labels for one task and
    (n, n_tasks) for several.
    """

    _kind = CLASSIFICATION

    @property
    def classes_(self):
        """ndarray: the class labels of every task, ``[0, 1]``."""
        check_is_fitted(self, "model_")
        return np.array([0, 1])

    def predict_proba(self, X):
        """Class probabilities.

        Parameters
        ----------
        X : dataset or sequence of str
            The target's data, or SMILES strings (a 1-D list, array or Series).

        Returns
        -------
        ndarray of shape (n_samples, 2) for one task, (n_samples, n_tasks) for several
            For one task, ``[P(0), P(1)]``; for several, ``P(1)`` per task.
        """
        _, proba = self._predict_outputs(X)
        if self.n_tasks_ == 1:
            return np.column_stack([1.0 - proba[:, 0], proba[:, 0]])
        return proba

    def predict(self, X):
        """Class labels (probability of class 1 at least 0.5).

        Parameters
        ----------
        X : dataset or sequence of str

        Returns
        -------
        ndarray of int, shape (n_samples,) for one task, (n_samples, n_tasks) for several
        """
        _, proba = self._predict_outputs(X)
        labels = (proba >= 0.5).astype(np.int64)
        return labels[:, 0] if self.n_tasks_ == 1 else labels

    def score(self, X, y=None, sample_weight=None):
        """The target's metric on labelled data (greater is better).

        ``sample_weight`` is not supported (a ``TypeError`` if given).

        ROC-AUC (or average precision, when that is the target's metric)
        per task over its labelled rows, averaged over the tasks that have
        both classes; see :func:`molselect.metrics.evaluate`.

        Parameters
        ----------
        X : dataset or sequence of str
            Target-only labelled data (e.g. the test split), or SMILES
            strings (a 1-D list, array or Series) with their labels in ``y``.
            Its tasks must be those the estimator was fitted on (the check of
            ``fit``'s ``eval_set``), else a ValueError.
        y : array-like of shape (n_samples,) or (n_samples, n_tasks), optional
            The 0/1 labels of SMILES ``X`` (NaN: missing).  Beside a dataset,
            which carries its labels, None or those same labels (as a
            ``Pipeline`` passes them); other labels are refused (ValueError).
        sample_weight : None
            Not supported.

        Returns
        -------
        float
            NaN when no task has both classes.
        """
        return self._score(X, y, sample_weight)


class GraphRegressorMixin(RegressorMixin):
    """Predictions and score of the regressors."""

    _kind = REGRESSION

    def predict(self, X):
        """Predicted values in label units.

        Parameters
        ----------
        X : dataset or sequence of str

        Returns
        -------
        ndarray of shape (n_samples,) for one task, (n_samples, n_tasks) for several
        """
        _, out = self._predict_outputs(X)
        return out[:, 0] if self.n_tasks_ == 1 else out

    def score(self, X, y=None, sample_weight=None):
        """Negative RMSE or MAE (the target's metric) on labelled data: greater is better.

        Like scikit-learn's ``neg_root_mean_squared_error`` /
        ``neg_mean_absolute_error`` scorers, computed per task over the
        labelled rows and averaged over tasks; this is *not* R^2, unlike
        scikit-learn's ``RegressorMixin.score``.

        Parameters
        ----------
        X : dataset or sequence of str
            Target-only labelled data, or SMILES strings (a 1-D list, array
            or Series) with their labels in ``y``.  Its tasks must be those
            the estimator was fitted on (the check of ``fit``'s ``eval_set``),
            else a ValueError.
        y : array-like of shape (n_samples,) or (n_samples, n_tasks), optional
            The labels of SMILES ``X`` (NaN: missing).  Beside a dataset,
            which carries its labels, None or those same labels (as a
            ``Pipeline`` passes them); other labels are refused (ValueError).
        sample_weight : None
            Not supported (a ``TypeError`` if given).

        Returns
        -------
        float
        """
        return self._score(X, y, sample_weight)
