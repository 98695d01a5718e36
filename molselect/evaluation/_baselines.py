"""What a downstream model has to beat: predicting the mean, and a random forest on ECFP4.

A GIN's test score means little on its own: an RMSE of 0.68 is good when
predicting the training mean scores 0.78 and a random forest on ECFP4
fingerprints 0.47 only if the forest is worse.  :func:`baseline_scores`
trains both on the target's training split and scores them on its test split
with the target's metric, so that the command line can print them beside the
GIN's score.
"""

from __future__ import annotations

import numpy as np

from ..datasets._validation import as_dataset
from ..metrics import evaluate

__all__ = ["baseline_scores", "ecfp4"]

#: What "predicting the mean" is for each kind of target, as the results name it.
MEAN_BASELINES = {"classification": "constant prior (each task's training frequency)",
                  "regression": "training mean"}


def ecfp4(data):
    """ECFP4 fingerprints: Morgan radius 2, 2,048 bits, as a 0/1 matrix.

    The fingerprints of the cluster split
    (:func:`~molselect.datasets.butina_clusters`), as an array.

    Parameters
    ----------
    data : dataset or sequence of str
        The molecules (a dataset's ``ids`` are its SMILES).

    Returns
    -------
    numpy.ndarray of shape (n, 2048), dtype uint8

    Raises
    ------
    ValueError
        When some SMILES cannot be parsed.
    """
    from rdkit import DataStructs

    from ..datasets._split import _morgan_fingerprints

    fps = _morgan_fingerprints(data)
    out = np.zeros((len(fps), 2048), dtype=np.uint8)
    for row, fp in zip(out, fps):
        DataStructs.ConvertToNumpyArray(fp, row)
    return out


def _nan_mean_std(y):
    """Each column's mean and standard deviation over its labels (NaN for an unlabelled one)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a column without labels: NaN
        return np.nanmean(y, axis=0), np.nanstd(y, axis=0)


def _forest(classification, n_estimators, random_state):
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    if classification:
        return RandomForestClassifier(n_estimators=n_estimators, n_jobs=1,
                                      random_state=random_state)
    # A third of the bits per split (Breiman's rule for regression): on esol, freesolv and
    # lipo the same test RMSE as all 2,048 within 1%, in 40% of the time.
    return RandomForestRegressor(n_estimators=n_estimators, max_features=0.33, n_jobs=1,
                                 random_state=random_state)


def _positive_probability(forest, proba):
    """The probability of class 1 from one output of ``predict_proba`` (a constant if unseen)."""
    classes = list(forest)
    if 1.0 in classes:
        return proba[:, classes.index(1.0)]
    return np.zeros(len(proba))


def _forest_predictions(x_train, y, x_test, classification, n_estimators, random_state):
    """Test predictions of one forest over all tasks, or one per task where labels are missing.

    scikit-learn's forests take several outputs at once but no missing label,
    so a target with NaN labels gets one forest per task on that task's
    labelled rows, as the metrics score each task on its labelled rows.
    Regression labels are standardised per task, so that no task's units
    dominate a shared forest's splits.
    """
    n_tasks = y.shape[1]
    pred = np.zeros((len(x_test), n_tasks))
    if not classification:
        centre, scale = _nan_mean_std(y)
        centre, scale = np.nan_to_num(centre), np.where(scale > 0, scale, 1.0)
        y = (y - centre) / scale
    groups = [list(range(n_tasks))] if not np.isnan(y).any() else [[j] for j in range(n_tasks)]
    for tasks in groups:
        rows = ~np.isnan(y[:, tasks]).any(axis=1)
        if not rows.any():
            continue  # an unlabelled task is not scored
        target = y[rows][:, tasks]
        forest = _forest(classification, n_estimators, random_state)
        forest.fit(x_train[rows], target[:, 0] if len(tasks) == 1 else target)
        if classification:
            proba = forest.predict_proba(x_test)
            if len(tasks) == 1:
                proba, classes = [proba], [forest.classes_]
            else:
                classes = forest.classes_
            for j, p, c in zip(tasks, proba, classes):
                pred[:, j] = _positive_probability(c, p)
        else:
            pred[:, tasks] = forest.predict(x_test).reshape(len(x_test), len(tasks))
    if not classification:
        pred = pred * scale + centre
    return pred


def baseline_scores(train, test, *, n_estimators=200, random_state=0):
    """Test scores of predicting the mean and of a random forest on ECFP4, for context.

    Both baselines are trained on ``train`` only and scored on ``test`` with
    the target's metric, task by task over the labelled rows and averaged as
    :func:`~molselect.metrics.evaluate` does for the downstream models.

    * **mean**: regression predicts each task's training mean; classification
      predicts a constant, each task's training frequency of the positive
      class (a constant prior): its ROC-AUC is 0.5 by construction, its
      average precision the test set's positive rate.
    * **random_forest**: scikit-learn's random forest (``n_estimators``
      trees, one job, ``random_state``; a third of the bits tried per split
      for regression, the square root for classification) on ECFP4 (Morgan
      radius 2, 2,048 bits).  One multi-output forest predicts every task when every label
      is present; with missing labels, one forest per task on its labelled
      rows.  Regression labels are standardised per task for the fit.

    Parameters
    ----------
    train : dataset
        The target's training split.
    test : dataset
        Its test split (the same tasks).
    n_estimators : int, default=200
        Trees of the forest.
    random_state : int, default=0
        Seed of the forest.

    Returns
    -------
    dict
        ``metric`` (the target's), ``mean`` and ``random_forest`` (test
        scores in the metric's own units: an RMSE is an RMSE) and
        ``mean_baseline`` (what "mean" predicts, in words).

    Raises
    ------
    ValueError
        When the splits' tasks differ, or a SMILES cannot be parsed.

    Examples
    --------
    >>> from molselect.datasets import load_dataset
    >>> train, valid, test = load_dataset("esol")                 # doctest: +SKIP
    >>> baseline_scores(train, test)                               # doctest: +SKIP
    {'metric': 'rmse', 'mean': 2.0..., 'random_forest': 1.1..., 'mean_baseline': 'training mean'}
    """
    train = as_dataset(train, name="train")
    test = as_dataset(test, name="test")
    if train.n_tasks != test.n_tasks or list(train.task_types) != list(test.task_types):
        raise ValueError(f"train has {train.n_tasks} task(s) and test {test.n_tasks}, of types "
                         f"{sorted(set(train.task_types))} and {sorted(set(test.task_types))}: "
                         "test must be a split of the same target")
    metric, types = test.metric, list(test.task_types)
    classification = bool(train.is_classification)
    y = np.asarray(train.y, dtype=np.float64)
    prior = np.nan_to_num(_nan_mean_std(y)[0], nan=0.0)
    mean_pred = np.tile(prior, (len(test), 1))
    forest_pred = _forest_predictions(ecfp4(train), y, ecfp4(test), classification,
                                      n_estimators, random_state)
    return {
        "metric": metric,
        "mean": evaluate(test.y, mean_pred, metric, types),
        "random_forest": evaluate(test.y, forest_pred, metric, types),
        "mean_baseline": MEAN_BASELINES["classification" if classification else "regression"],
    }
