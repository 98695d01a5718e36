"""molselect.evaluation.subset_effects: designed subsets, main effects by least squares
(checked on synthetic scores with known effects), a planted helpful candidate on a small
model, and the same numbers on a two-worker Dask cluster."""

import numpy as np
import pandas as pd
import pytest

from molselect.datasets import load_dataset
from molselect.evaluation import (design_matrix, main_effects, permuted_labels,
                                  subset_effects)
from molselect.models import GINRegressor

from conftest import TINY

NAMES = [f"c{i}" for i in range(10)]


def test_half_design_includes_each_candidate_about_half_the_time():
    X = design_matrix(10, 400, "half", random_state=0)
    assert X.shape == (400, 10) and set(np.unique(X)) == {0, 1}
    assert np.all(np.abs(X.mean(axis=0) - 0.5) < 0.1)
    assert np.array_equal(X, design_matrix(10, 400, "half", random_state=0))


def test_orthogonal_design_is_balanced_orthogonal_and_folded_over():
    X = design_matrix(13, 32, "orthogonal")
    assert X.shape == (32, 13)
    signs = 2 * X - 1
    assert np.all(signs.sum(axis=0) == 0)                         # balanced
    assert np.allclose(signs.T @ signs, 32 * np.eye(13))          # orthogonal columns
    assert np.array_equal(X[16:], 1 - X[:16])                     # the fold-over
    with pytest.raises(ValueError, match="multiple of 32"):
        design_matrix(13, 40, "orthogonal")
    with pytest.raises(ValueError, match="design must be"):
        design_matrix(3, 8, "latin")


@pytest.mark.parametrize("design,n_runs", [("half", 32), ("orthogonal", 32)])
def test_known_effects_are_inside_their_intervals_at_the_nominal_rate(design, n_runs):
    rng = np.random.default_rng(0)
    truth = rng.normal(0, 0.02, len(NAMES))
    covered, sims = 0, 300
    for sim in range(sims):
        X = design_matrix(len(NAMES), n_runs, design, random_state=sim)
        y = 0.7 + X @ truth + rng.normal(0, 0.03, n_runs)
        effects, intercept = main_effects(X, y, NAMES)
        inside = (effects["ci_low"] <= truth) & (truth <= effects["ci_high"])
        covered += int(inside.sum())
    rate = covered / (sims * len(NAMES))
    # 3000 intervals (correlated within a simulation): 95% within a few points.
    assert 0.93 <= rate <= 0.97


def test_effects_are_signed_so_that_positive_helps_for_rmse():
    X = design_matrix(3, 16, "orthogonal")
    rmse = 1.0 - 0.1 * X[:, 0] + 0.05 * X[:, 2] + np.random.default_rng(1).normal(0, 1e-3, 16)
    effects, intercept = main_effects(X, rmse, ["a", "b", "c"], greater_is_better=False)
    assert effects.loc["a", "effect"] == pytest.approx(0.1, abs=0.01)
    assert effects.loc["c", "effect"] == pytest.approx(-0.05, abs=0.01)
    assert effects.loc["a", "relative_effect"] == pytest.approx(0.1 / intercept, rel=0.05)
    assert list(effects["verdict"]) == ["helps", "no clear effect", "hurts"]
    with pytest.raises(ValueError, match="cannot estimate"):
        main_effects(X[:4], rmse[:4], ["a", "b", "c"])


# -- on a small model -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def planted():
    esol = load_dataset("esol")
    rows = np.random.default_rng(0).permutation(len(esol.train))
    target = esol.train.subset(np.sort(rows[:60]), name="target")
    rest = esol.train.subset(np.sort(rows[60:]), name="rest")
    clintox = load_dataset("clintox").train.subset(np.arange(0, 400, 4), name="clintox")
    pool = {"rest": rest, "permuted": permuted_labels(rest, name="permuted"),
            "clintox": clintox}
    return esol, target, pool


@pytest.mark.slow
def test_the_rest_of_a_dataset_helps_more_than_its_permuted_copy(planted, tmp_path):
    """The rest of esol (true labels) has a clearly positive effect on a 60-molecule esol
    target, larger than the same molecules with permuted labels.  The permuted copy's own
    effect is not 0 at this size (measured +7%, interval +1% to +13%, under the default
    protocol): an uninformative auxiliary still changes how a tiny target trains, which is
    why the transfer study's control exists."""
    esol, target, pool = planted
    # TINY at 32 units: the width this planted-effect test was calibrated with.
    model = GINRegressor(**{**TINY, "hidden_dim": 32})
    kwargs = dict(n_runs=16, design="half", eval_set=esol.valid, test_set=esol.test,
                  results_dir=tmp_path, torch_threads=1, verbose=False)
    result = subset_effects(target, pool, model, **kwargs)
    effects = result.effects
    assert effects.index[0] == "rest" and effects.loc["rest", "relative_ci_low"] > 0
    assert effects.loc["rest", "effect"] > effects.loc["permuted", "effect"]
    assert len(result.runs) == 16 and set(pool) <= set(result.runs.columns)
    assert result.holdout_r2 > 0 and result.holdout_spearman > 0
    again = subset_effects(target, pool, model, **kwargs)
    pd.testing.assert_frame_equal(again.effects, effects)   # from the cache


@pytest.mark.slow
@pytest.mark.probe("DASK-01")
def test_same_numbers_on_a_two_worker_dask_cluster(planted):
    distributed = pytest.importorskip("distributed")
    import joblib

    esol, target, pool = planted
    kwargs = dict(n_runs=6, eval_set=esol.valid, test_set=esol.test, verbose=False,
                  torch_threads=1, protocol="fixed")
    small = {"rest": pool["rest"].subset(np.arange(80), name="rest"),
             "clintox": pool["clintox"]}
    estimator = GINRegressor(**TINY, epochs=1)
    local = subset_effects(target, small, estimator, n_jobs=1, **kwargs)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster):
        with joblib.parallel_config(backend="dask"):
            remote = subset_effects(target, small, estimator, **kwargs)
    pd.testing.assert_frame_equal(local.effects, remote.effects)
    pd.testing.assert_series_equal(local.runs["score"], remote.runs["score"])


def test_subset_effects_checks_its_arguments(planted):
    esol, target, pool = planted
    kwargs = dict(eval_set=esol.valid, test_set=esol.test, verbose=False)
    with pytest.raises(ValueError, match="no candidates"):
        subset_effects(target, {}, GINRegressor(**TINY), **kwargs)
    with pytest.raises(ValueError, match="n_runs"):
        subset_effects(target, pool, GINRegressor(**TINY), n_runs=1, **kwargs)
    with pytest.raises(ValueError, match="at least 5 runs"):
        subset_effects(target, pool, GINRegressor(**TINY), n_runs=4, **kwargs)
    with pytest.raises(ValueError, match="one per run"):
        subset_effects(target, pool, GINRegressor(**TINY), n_runs=8, seeds=[1, 2], **kwargs)
    with pytest.raises(ValueError, match="protocol"):
        subset_effects(target, pool, GINRegressor(**TINY), protocol="long", **kwargs)


def test_a_candidate_the_leakage_guard_empties_is_left_out_with_a_warning(planted):
    """A candidate made of the target's own test molecules has nothing left to train on: it
    is named in a warning and left out of the design, and the others still get effects."""
    esol, target, pool = planted
    small = {"rest": pool["rest"].subset(np.arange(80), name="rest"),
             "test copy": esol.test.subset(np.arange(len(esol.test)), name="test copy"),
             "clintox": pool["clintox"]}
    with pytest.warns(UserWarning, match="'test copy'.*removed all of their molecules"):
        result = subset_effects(target, small, GINRegressor(**TINY, epochs=1), n_runs=6,
                                eval_set=esol.valid, test_set=esol.test, protocol="fixed",
                                torch_threads=1, verbose=False)
    assert sorted(result.effects.index) == ["clintox", "rest"]
    assert "test copy" not in result.runs.columns
    with pytest.raises(ValueError, match="removed every molecule"):
        subset_effects(target, {"test copy": small["test copy"]}, GINRegressor(**TINY),
                       eval_set=esol.valid, test_set=esol.test, verbose=False)
