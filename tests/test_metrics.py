"""molselect.metrics: NaN-masked, task-averaged scikit-learn metrics."""

import numpy as np
import pytest
from sklearn.metrics import (average_precision_score, mean_absolute_error, roc_auc_score,
                             root_mean_squared_error)

from molselect.metrics import evaluate, greater_is_better, is_better, per_task_scores, to_score

NAN = np.nan


def test_roc_auc_masks_missing_and_averages_tasks():
    y = np.array([[1, 0], [0, NAN], [1, 1], [0, 0], [NAN, 1]], dtype=float)
    p = np.array([[0.9, 0.2], [0.1, 0.5], [0.4, 0.7], [0.6, 0.1], [0.5, 0.3]])
    expected = [roc_auc_score([1, 0, 1, 0], [0.9, 0.1, 0.4, 0.6]),
                roc_auc_score([0, 1, 0, 1], [0.2, 0.7, 0.1, 0.3])]
    np.testing.assert_allclose(per_task_scores(y, p, "roc_auc"), expected)
    assert evaluate(y, p, "roc_auc") == pytest.approx(np.mean(expected))


def test_single_class_and_unlabelled_tasks_are_skipped():
    y = np.array([[1, 1, NAN], [0, 1, NAN], [1, 1, NAN]])
    p = np.array([[0.8, 0.1, 0.5], [0.3, 0.2, 0.5], [0.6, 0.9, 0.5]])
    scores = per_task_scores(y, p, "average_precision")
    assert scores[0] == pytest.approx(average_precision_score([1, 0, 1], [0.8, 0.3, 0.6]))
    assert np.isnan(scores[1:]).all()
    assert evaluate(y, p, "average_precision") == pytest.approx(scores[0])
    assert np.isnan(evaluate(y[:, 1:], p[:, 1:], "roc_auc"))


def test_regression_metrics_and_sign():
    y = np.array([1.0, 2.0, NAN, 4.0])
    p = np.array([1.5, 2.0, 100.0, 3.0])
    rmse = root_mean_squared_error([1, 2, 4], [1.5, 2, 3])
    assert evaluate(y, p, "rmse") == pytest.approx(rmse)
    assert evaluate(y, p, "mae") == pytest.approx(mean_absolute_error([1, 2, 4], [1.5, 2, 3]))
    assert to_score(rmse, "rmse") == pytest.approx(-rmse)
    assert to_score(0.8, "roc_auc") == 0.8
    assert greater_is_better("roc_auc") and not greater_is_better("mae")


def test_task_types_restrict_to_the_metric_kind():
    y = np.array([[1, 3.0], [0, 4.0], [1, 5.0]])
    p = np.array([[0.9, 0.0], [0.1, 0.0], [0.8, 0.0]])
    assert evaluate(y, p, "roc_auc", ["classification", "regression"]) == 1.0
    with pytest.raises(ValueError, match="task types"):
        evaluate(y, p, "roc_auc", ["classification"])


def test_is_better_handles_direction_and_nan():
    assert is_better(0.8, 0.7, "roc_auc") and not is_better(0.8, 0.7, "rmse")
    assert is_better(0.5, None, "mae") and is_better(0.5, NAN, "mae")
    assert not is_better(NAN, 0.1, "roc_auc")


def test_bad_input():
    with pytest.raises(ValueError, match="unknown metric"):
        evaluate([1, 0], [0.5, 0.5], "accuracy")
    with pytest.raises(ValueError, match="shape"):
        evaluate([[1, 0]], [[0.5]], "roc_auc")
    with pytest.raises(ValueError, match="NaN"):
        evaluate([1.0, 0.0], [NAN, 0.5], "roc_auc")
