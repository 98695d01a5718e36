"""molselect.evaluation.baseline_scores: the mean and a random forest on ECFP4, for context."""

import numpy as np
import pytest

from molselect.datasets import MoleculeDataset
from molselect.evaluation import baseline_scores
from molselect.evaluation._baselines import ecfp4

CORES = ["c1ccccc1", "c1ccncc1", "c1ccc2ccccc2c1", "C1CCCCC1", "CCCC", "CC(C)C"]
GROUPS = ["", "O", "N", "Cl", "C(=O)O", "C", "F", "Br"]


def _series():
    """48 molecules, half aromatic: a signal that ECFP4 bits carry and a mean does not."""
    smiles = [core + group for core in CORES for group in GROUPS]
    aromatic = np.array([float(s[0] == "c") for s in smiles])
    oxygen = np.array([float("O" in s) for s in smiles])
    return smiles, aromatic, oxygen


def _split(smiles, y, **kwargs):
    rows = np.arange(len(smiles))
    test = rows % 3 == 0
    make = lambda mask, name: MoleculeDataset(  # noqa: E731
        [smiles[i] for i in rows[mask]], y[mask], name=name, **kwargs)
    return make(~test, "t"), make(test, "t")


def test_forest_beats_the_mean_on_a_learnable_regression_signal():
    smiles, aromatic, oxygen = _series()
    noise = np.random.default_rng(0).normal(0, 0.1, len(smiles))
    train, test = _split(smiles, 2.0 * aromatic + oxygen + noise, task_types="regression")
    scores = baseline_scores(train, test, n_estimators=50)
    assert scores["metric"] == "rmse" and scores["mean_baseline"] == "training mean"
    by_hand = np.sqrt(np.mean((test.y[:, 0] - train.y[:, 0].mean()) ** 2))
    assert scores["mean"] == pytest.approx(by_hand)
    assert scores["random_forest"] < 0.5 * scores["mean"]
    assert baseline_scores(train, test, n_estimators=50) == scores      # seeded


def test_classification_prior_scores_half_and_missing_labels_are_per_task():
    smiles, aromatic, oxygen = _series()
    y = np.column_stack([aromatic, oxygen])
    y[::5, 1] = np.nan                          # missing labels: one forest per task
    train, test = _split(smiles, y, task_types="classification")
    scores = baseline_scores(train, test, n_estimators=50)
    assert scores["metric"] == "roc_auc" and scores["mean"] == 0.5
    assert "constant prior" in scores["mean_baseline"]
    assert scores["random_forest"] > 0.9
    # Fully labelled: one multi-output forest, the same kind of answer.
    full = _split(smiles, np.column_stack([aromatic, oxygen]), task_types="classification")
    assert baseline_scores(*full, n_estimators=50)["random_forest"] > 0.8


def test_ecfp4_bits_and_mismatched_splits():
    fp = ecfp4(["CCO", "c1ccccc1"])
    assert fp.shape == (2, 2048) and fp.dtype == np.uint8 and set(np.unique(fp)) == {0, 1}
    smiles, aromatic, oxygen = _series()
    train, _ = _split(smiles, aromatic, task_types="classification")
    _, other = _split(smiles, np.column_stack([aromatic, oxygen]), task_types="classification")
    with pytest.raises(ValueError, match="split of the same target"):
        baseline_scores(train, other)
