"""molselect.evaluation: paired transfer gains, their statistics, selector scores, the cache,
and the same study on a Dask cluster."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats

from molselect.core.prepare import build_table
from molselect.datasets import MoleculeDataset, load_dataset, make_union
from molselect.evaluation import (ResultCache, apply_protocol, compare_selections,
                                  evaluate_selection,
                                  permuted_labels, score_selector, summarize_gains,
                                  transfer_gains, variance_components)
from molselect.evaluation import _jobs
from molselect.models import GINClassifier, GINRegressor
from molselect.core import GINEncoder, MultiDatasetNetwork

from conftest import TINY

TINY_FIT = dict(TINY, epochs=1)


def _take(d, n):
    # evenly spaced rows: scaffold splits are ordered, a prefix can hold one class only
    return d.subset(np.linspace(0, len(d) - 1, n).astype(int))


@pytest.fixture(scope="module")
def bace():
    splits = load_dataset("bace")
    return _take(splits.train, 60), _take(splits.valid, 40), _take(splits.test, 40)


@pytest.fixture(scope="module")
def pool():
    return {"esol": _take(load_dataset("esol").train, 40),
            "clintox": _take(load_dataset("clintox").train, 40)}


def _tidy(gains, metric="roc_auc", alone=0.7, target="t"):
    """A hand-made tidy table: candidate -> per-seed gains."""
    rows = []
    for candidate, values in gains.items():
        for seed, g in enumerate(values):
            rows.append({"target": target, "candidate": candidate, "seed": seed,
                         "metric": metric, "score_alone": alone, "score_with": alone + g,
                         "gain": g, "relative_gain": g / alone})
    return pd.DataFrame(rows)


# -- statistics on hand-made gains ------------------------------------------------------
def test_summary_mean_interval_and_paired_test_match_scipy():
    values = [0.02, 0.03, 0.01, 0.04, 0.025]
    summary = summarize_gains(_tidy({"a": values}), correction=None).iloc[0]
    mean, se = np.mean(values), np.std(values, ddof=1) / np.sqrt(5)
    half = stats.t.ppf(0.975, 4) * se
    assert summary["gain"] == pytest.approx(mean)
    assert summary["gain_se"] == pytest.approx(se)
    assert (summary["gain_ci_low"], summary["gain_ci_high"]) == pytest.approx(
        (mean - half, mean + half))
    assert summary["relative_gain"] == pytest.approx(mean / 0.7)
    paired = stats.ttest_rel(0.7 + np.array(values), np.full(5, 0.7)).pvalue
    assert summary["p_value"] == pytest.approx(paired)
    assert summary["verdict"] == "helps"


def test_verdicts_helps_hurts_and_noise():
    rng = np.random.default_rng(0)
    gains = {"good": 0.05 + 0.005 * rng.standard_normal(8),
             "bad": -0.05 + 0.005 * rng.standard_normal(8),
             "noise": 0.05 * rng.standard_normal(8)}
    summary = summarize_gains(_tidy(gains)).set_index("candidate")
    assert summary.loc["good", "verdict"] == "helps"
    assert summary.loc["bad", "verdict"] == "hurts"
    assert summary.loc["noise", "verdict"] == "no clear effect"
    assert list(summary.index) == ["good", "noise", "bad"]  # sorted by relative gain


def test_adjusted_p_values_are_never_smaller():
    rng = np.random.default_rng(1)
    gains = {f"c{i}": 0.01 * i + 0.02 * rng.standard_normal(6) for i in range(6)}
    for correction in ("fdr_bh", "holm"):
        summary = summarize_gains(_tidy(gains), correction=correction)
        assert (summary["p_adjusted"] >= summary["p_value"] - 1e-12).all()
    holm = summarize_gains(_tidy(gains), correction="holm")
    bh = summarize_gains(_tidy(gains), correction="fdr_bh")
    assert (holm.set_index("candidate")["p_adjusted"]
            >= bh.set_index("candidate")["p_adjusted"] - 1e-12).all()


@pytest.mark.probe("EVAL-01", "CLI-25")
def test_one_seed_gives_no_interval_and_no_verdict_of_effect():
    summary = summarize_gains(_tidy({"a": [0.3]})).iloc[0]
    assert np.isnan(summary["gain_se"]) and np.isnan(summary["p_value"])
    assert summary["verdict"] == "no clear effect"


def test_summary_rejects_what_is_not_a_gains_table():
    with pytest.raises(ValueError, match="lacks the column"):
        summarize_gains(pd.DataFrame({"candidate": ["a"]}))
    with pytest.raises(TypeError, match="DataFrame"):
        summarize_gains([1, 2])
    with pytest.raises(ValueError, match="correction"):
        summarize_gains(_tidy({"a": [0.1, 0.2]}), correction="bonferroni")


# -- selector scores against the truth -----------------------------------------------------
def _truth():
    rng = np.random.default_rng(2)
    means = {"a": 0.06, "b": 0.03, "c": 0.0, "d": -0.03, "e": -0.06}
    return _tidy({c: m + 0.002 * rng.standard_normal(6) for c, m in means.items()})


def test_score_selector_perfect_reversed_and_random_baselines():
    perfect = pd.Series({"a": 5, "b": 4, "c": 3, "d": 2, "e": 1})
    table = score_selector({"perfect": perfect, "reversed": -perfect}, _truth(), k=2)
    table = table.set_index("selector")
    assert table.loc["perfect", "spearman"] == pytest.approx(1.0)
    assert table.loc["perfect", "kendall"] == pytest.approx(1.0)
    assert table.loc["reversed", "spearman"] == pytest.approx(-1.0)
    assert table.loc["perfect", "precision_at_k"] == 1.0   # a and b help significantly
    assert table.loc["reversed", "precision_at_k"] == 0.0
    assert table.loc["perfect", "top_k_gain"] == pytest.approx(table.loc["perfect", "best_k_gain"])
    truth = summarize_gains(_truth())
    assert table.loc["perfect", "random_k_gain"] == pytest.approx(truth["relative_gain"].mean())
    assert table.loc["perfect", "n_helps"] == 2


def test_score_selector_runs_agreement_and_fitted_selectors():
    class Fitted:  # what a fitted selector offers
        def __init__(self, scores):
            self.affinity_ = pd.Series(scores)

    runs = [Fitted({"a": 3, "b": 2, "c": 1, "d": 0, "e": -1}),
            Fitted({"a": 3, "b": 2, "c": 1, "d": -1, "e": 0})]
    row = score_selector({"sel": runs}, _truth()).iloc[0]
    assert row["n_runs"] == 2
    assert row["run_agreement"] == pytest.approx(stats.kendalltau([3, 2, 1, 0, -1],
                                                                  [3, 2, 1, -1, 0]).statistic)
    assert row["spearman_std"] >= 0


@pytest.mark.probe("EVAL-06")
def test_score_selector_refuses_non_finite_and_unknown_candidates():
    with pytest.raises(ValueError, match="'sel' gives candidate 'b'.*not finite"):
        score_selector({"sel": pd.Series({"a": 1.0, "b": np.nan})}, _truth())
    with pytest.raises(ValueError, match="do not cover"):
        score_selector({"sel": pd.Series({"a": 1.0, "zz": 0.0})}, _truth())
    two = pd.concat([_truth(), _truth().assign(target="u")])
    with pytest.raises(ValueError, match="2 targets"):
        score_selector({"sel": pd.Series({"a": 1.0})}, two)


@pytest.mark.probe("EVAL-05")
def test_score_selector_shares_tied_places_whatever_the_input_order():
    # a, b, c tie for k=2 places: each counts 2/3, whichever order the input lists them in
    truth = _truth()
    summary = summarize_gains(truth).set_index("candidate")
    scores = {"a": 1.0, "b": 1.0, "c": 1.0, "d": 0.0, "e": 0.0}
    reference = score_selector({"tied": pd.Series(scores)}, truth, k=2).iloc[0]
    assert reference["precision_at_k"] == pytest.approx(2 / 3)      # a and b help, c does not
    assert reference["top_k_gain"] == pytest.approx(
        summary.loc[["a", "b", "c"], "relative_gain"].mean())
    rng = np.random.default_rng(0)
    for _ in range(4):
        order = rng.permutation(list(scores))
        shuffled = truth.sample(frac=1, random_state=int(rng.integers(1000)))
        row = score_selector({"tied": pd.Series({c: scores[c] for c in order})}, shuffled,
                             k=2).iloc[0]
        pd.testing.assert_series_equal(row, reference, check_names=False)


@pytest.mark.probe("EVAL-07")
def test_score_selector_says_how_many_candidates_a_selector_scored():
    perfect = pd.Series({"a": 5, "b": 4, "c": 3, "d": 2, "e": 1})
    table = score_selector({"full": perfect, "part": perfect[["a", "c", "e"]]}, _truth(), k=2)
    table = table.set_index("selector")
    assert list(table["n_candidates"]) == [5, 5]
    assert list(table["n_scored"]) == [5, 3]
    # two runs, one partial: the fewest counts; unmeasured candidates are not counted
    runs = [perfect, pd.Series({"a": 1.0, "b": 0.0, "zz": 2.0})]
    row = score_selector({"sel": runs}, _truth(), unmeasured="ignore").iloc[0]
    assert (row["n_candidates"], row["n_scored"], row["n_runs"]) == (5, 2, 2)


@pytest.mark.probe("EVAL-08", "EVAL-09")
def test_empty_gains_give_empty_summaries_with_their_columns(bace, pool, tmp_path):
    train, valid, test = bace
    # cached_only before any fit has finished: no rows
    empty = transfer_gains(train, pool, GINClassifier(**TINY_FIT), seeds=1, eval_set=valid,
                           test_set=test, results_dir=tmp_path, cached_only=True, verbose=False)
    assert empty.empty
    full = summarize_gains(_truth())
    summary = summarize_gains(empty)
    assert summary.empty and list(summary.columns) == list(full.columns)
    assert list(summarize_gains(empty, relative_to="control").columns) == list(full.columns)
    scores = {"sel": pd.Series({"esol": 1.0, "clintox": 0.0})}
    reference = score_selector({"sel": pd.Series({"a": 1.0, "b": 0.0})}, _truth())
    for gains in (empty, summary):
        table = score_selector(scores, gains)
        assert table.empty and list(table.columns) == list(reference.columns)
    no_scores = pd.DataFrame(columns=["selector", "candidate", "score"])
    assert list(score_selector(no_scores, _truth()).columns) == list(reference.columns)
    components = variance_components(empty)
    assert components.keys() == variance_components(_truth()).keys()
    assert components["n_groups"] == 0 and np.isnan(components["F"])


# -- union and parameter checks --------------------------------------------------------
def test_make_union_removes_held_out_molecules():
    target = MoleculeDataset(["CCO", "CCC"], [[0.0], [1.0]], name="t")
    test = MoleculeDataset(["OCC"], [[1.0]], name="t")   # ethanol, spelled differently
    aux = MoleculeDataset(["CCO", "CCN", "c1ccccc1"], [[1.0], [2.0], [3.0]],
                          task_types="regression", name="a")
    union, leaked = make_union(target, {"a": aux}, held_out=[test], return_leaked=True)
    assert list(union) == ["t", "a"] and leaked == {"a": 1}
    assert list(union["a"].ids) == ["CCN", "c1ccccc1"]


def test_transfer_gains_checks_its_arguments(bace, pool):
    train, valid, test = bace
    est = GINClassifier(**TINY_FIT)
    with pytest.raises(ValueError, match="validation split"):
        transfer_gains(train, pool, est, seeds=1)
    with pytest.raises(TypeError, match="estimator must be"):
        transfer_gains(train, pool, "gin", seeds=1, eval_set=valid, test_set=test)
    for seeds, error in ((0, ValueError), ([], ValueError), ([1, 1], ValueError),
                         (True, TypeError), (["a"], TypeError)):
        with pytest.raises(error, match="seeds"):
            transfer_gains(train, pool, est, seeds=seeds, eval_set=valid, test_set=test)
    with pytest.raises(ValueError, match="eval_set has 2 task"):
        transfer_gains(train, pool, est, seeds=1, eval_set=pool["clintox"], test_set=test)
    with pytest.raises(ValueError, match="resample_to"):
        transfer_gains(train, pool, est, seeds=1, eval_set=valid, test_set=test,
                       resample_to=0)
    with pytest.raises(ValueError, match="target's name"):
        transfer_gains(train, {train.name: pool["esol"]}, est, seeds=1, eval_set=valid,
                       test_set=test)
    with pytest.raises(ValueError, match="empty"):
        evaluate_selection(train, {}, est, seeds=1, eval_set=valid, test_set=test)


@pytest.mark.probe("EVAL-02")
def test_no_candidates_is_refused_before_any_fit(bace):
    train, valid, test = bace
    with pytest.raises(ValueError, match="no candidates given"):
        transfer_gains(train, {}, GINClassifier(**TINY_FIT), seeds=1, eval_set=valid,
                       test_set=test)


@pytest.mark.probe("EVAL-04")
def test_a_candidate_emptied_by_the_leakage_guard_is_skipped(bace, pool):
    train, valid, test = bace
    leaky = MoleculeDataset(test.ids[:10], test.y[:10], name="leaky")   # all in the test split
    kwargs = dict(seeds=1, eval_set=valid, test_set=test, verbose=False, protocol="fixed")
    with pytest.warns(UserWarning, match="candidate 'leaky': the leakage guard removed all 10 "
                                         "of its molecules"):
        gains = transfer_gains(train, {"esol": pool["esol"], "leaky": leaky},
                               GINClassifier(**TINY_FIT), **kwargs)
    assert list(gains["candidate"]) == ["esol"]
    with pytest.warns(UserWarning, match="'leaky'"), \
            pytest.raises(ValueError, match="removed every molecule of every candidate"):
        transfer_gains(train, {"leaky": leaky}, GINClassifier(**TINY_FIT), **kwargs)


@pytest.mark.probe("EVAL-03")
def test_a_copy_of_the_target_is_warned_about(bace, tmp_path):
    train, valid, test = bace
    twin = MoleculeDataset(train.ids, train.y, name="twin")   # the target under another name
    kwargs = dict(seeds=1, eval_set=valid, test_set=test, results_dir=tmp_path, cached_only=True,
                  verbose=False)
    with pytest.warns(UserWarning, match="auxiliary 'twin' is a copy of the target"):
        transfer_gains(train, {"twin": twin}, GINClassifier(**TINY_FIT), **kwargs)
    with pytest.warns(UserWarning, match="'twin' is a copy of the target"):
        evaluate_selection(train, {"twin": twin}, GINClassifier(**TINY_FIT), **kwargs)
    with warnings.catch_warnings():   # the control: same molecules, other labels
        warnings.filterwarnings("error", message=".*copy of the target")
        transfer_gains(train, {"control": permuted_labels(train)}, GINClassifier(**TINY_FIT),
                       **kwargs)


# -- real fits --------------------------------------------------------------------------
def test_tidy_table_pairs_the_alone_fit_of_each_seed(bace, pool, tmp_path):
    train, valid, test = bace
    gains = transfer_gains(train, pool, GINClassifier(**TINY_FIT), seeds=[3, 5], eval_set=valid,
                           test_set=test, results_dir=tmp_path, verbose=False)
    assert len(gains) == 4 and set(gains["seed"]) == {3, 5}
    # one alone fit per seed, shared by every candidate; 2 x (1 + 2) fits in the cache
    assert gains.groupby("seed")["score_alone"].nunique().eq(1).all()
    assert len(ResultCache(tmp_path)) == 6
    np.testing.assert_allclose(gains["gain"], gains["score_with"] - gains["score_alone"])
    np.testing.assert_allclose(gains["relative_gain"], gains["gain"] / gains["score_alone"])
    # Each fit is the estimator under the default protocol (apply_protocol), seeded.
    again = apply_protocol(GINClassifier(**TINY_FIT, random_state=5), "default").fit(
        train, eval_set=valid).score(test)
    assert gains.loc[gains["seed"] == 5, "score_alone"].iloc[0] == pytest.approx(again)


def test_compare_selections_is_evaluate_selection_for_each_in_one_batch(bace, pool, tmp_path):
    train, valid, test = bace
    kwargs = dict(seeds=[0, 1], eval_set=valid, test_set=test, results_dir=tmp_path, verbose=False,
                  protocol="fixed")
    table = compare_selections(train, {"both": pool, "esol only": [pool["esol"]]},
                               GINClassifier(**TINY_FIT), **kwargs)
    assert list(table["candidate"].unique()) == ["both", "esol only"] and len(table) == 4
    assert len(ResultCache(tmp_path)) == 6   # the alone fit of a seed is shared: 2 x (1 + 2)
    for label, selected in (("both", pool), ("esol only", [pool["esol"]])):
        alone = evaluate_selection(train, selected, GINClassifier(**TINY_FIT), label=label,
                                   cached_only=True, **kwargs)  # every fit is in the cache
        got = table[table["candidate"] == label].reset_index(drop=True)
        pd.testing.assert_frame_equal(got, alone)
    for bad, match in (({}, "non-empty mapping"), ([pool["esol"]], "non-empty mapping"),
                       ({"none": []}, "selection 'none' is empty")):
        with pytest.raises(ValueError, match=match):
            compare_selections(train, bad, GINClassifier(**TINY_FIT), **kwargs)


def test_tidy_table_records_the_epochs_each_fit_trained(bace, pool, tmp_path, monkeypatch):
    train, valid, test = bace
    kwargs = dict(seeds=1, eval_set=valid, test_set=test, protocol="fixed", results_dir=tmp_path,
                  verbose=False)
    estimator = GINClassifier(**{**TINY_FIT, "epochs": 2})
    gains = transfer_gains(train, {"esol": pool["esol"]}, estimator, **kwargs)
    assert gains[["n_epochs_alone", "n_epochs_with"]].values.tolist() == [[2, 2]]
    assert (gains["best_epoch_alone"] <= gains["n_epochs_alone"]).all()
    # A fit cached before n_epochs was recorded keeps its key: read, not refitted, and
    # its n_epochs is missing.
    files = sorted(tmp_path.glob("*.json"))
    for file in files:
        entry = json.loads(file.read_text())
        del entry["result"]["n_epochs"]
        file.write_text(json.dumps(entry))
    monkeypatch.setattr(_jobs, "run_fit", lambda job: pytest.fail("refitted a cached fit"))
    old = transfer_gains(train, {"esol": pool["esol"]}, estimator, **kwargs)
    assert old[["n_epochs_alone", "n_epochs_with"]].isna().all().all()
    assert old["score_alone"].tolist() == gains["score_alone"].tolist()
    assert sorted(tmp_path.glob("*.json")) == files


def test_regression_gain_is_positive_when_rmse_falls(tmp_path):
    esol = load_dataset("esol")
    train, valid, test = _take(esol.train, 80), _take(esol.valid, 30), _take(esol.test, 30)
    gains = evaluate_selection(train, {"lipo": _take(load_dataset("lipo").train, 40)},
                               GINRegressor(**TINY_FIT), seeds=2, eval_set=valid, test_set=test,
                               verbose=False)
    assert (gains["metric"] == "rmse").all() and (gains["candidate"] == "lipo").all()
    np.testing.assert_allclose(gains["gain"], gains["score_alone"] - gains["score_with"])


def test_resample_to_sets_every_training_size(bace, pool):
    train, valid, test = bace
    gains = transfer_gains(train, pool, GINClassifier(**TINY_FIT), seeds=1, eval_set=valid,
                           test_set=test, resample_to=50, verbose=False)
    assert (gains["n_candidate"] == 50).all()


@pytest.mark.slow
def test_planted_helpful_and_uninformative_auxiliaries():
    """A copy of the target's training data with its labels helps, and beats permuted labels.

    The permuted copy carries no information, but it is not reliably harmful
    at this size: it doubles an epoch's optimiser steps and is fitted by its
    own head, so over 5 seeds its gain ranged from -0.17 to +0.19 RMSE (mean
    about 0), and over these 3 seeds its mean is +0.007 on one machine.  That
    is why the ground truth tests every candidate against such a control;
    here the copy must help on average and beat the permuted copy in every
    seed, by a clear margin on average.  The estimator's own 40 epochs
    (``protocol="fixed"``): under early stopping both copies gain alike on this
    200-molecule target (measured: copy +0.07..+0.24, permuted +0.11..+0.19 RMSE
    over 3 seeds), which is the control's point.
    """
    esol = load_dataset("esol")
    train = _take(esol.train, 200)
    rng = np.random.default_rng(0)
    copy = MoleculeDataset(train.ids, train.y, task_types="regression", name="copy")
    permuted = MoleculeDataset(train.ids, train.y[rng.permutation(len(train))],
                               task_types="regression", name="permuted")
    est = GINRegressor(hidden_dim=32, num_layers=2, epochs=40, lr=3e-3, batch_size=64,
                       device="cpu")
    with pytest.warns(UserWarning, match="'copy' is a copy of the target"):   # planted
        gains = transfer_gains(train, {"copy": copy, "permuted": permuted}, est, seeds=3,
                               eval_set=esol.valid, test_set=esol.test, verbose=False,
                               torch_threads=1, protocol="fixed")
    by_seed = gains.pivot(index="seed", columns="candidate", values="gain")
    assert by_seed["copy"].mean() > 0, by_seed
    assert (by_seed["copy"] > by_seed["permuted"]).all(), by_seed
    assert (by_seed["copy"] - by_seed["permuted"]).mean() > 0.02, by_seed


@pytest.mark.probe("CONC-02", "CLI-20")
@pytest.mark.repeats_exactly
def test_interrupted_study_resumes_from_the_cache(bace, pool, tmp_path, monkeypatch):
    train, valid, test = bace
    kwargs = dict(seeds=2, eval_set=valid, test_set=test, verbose=False, n_jobs=1)
    reference = transfer_gains(train, pool, GINClassifier(**TINY_FIT), results_dir=tmp_path / "ref",
                               **kwargs)
    real_run_fit, calls = _jobs.run_fit, []

    def interrupted(job):
        if len(calls) == 3:
            raise KeyboardInterrupt
        calls.append(job.key)
        return real_run_fit(job)

    monkeypatch.setattr(_jobs, "run_fit", interrupted)
    with pytest.raises(KeyboardInterrupt):
        transfer_gains(train, pool, GINClassifier(**TINY_FIT), results_dir=tmp_path / "run",
                       **kwargs)
    assert len(ResultCache(tmp_path / "run")) == 3
    partial = transfer_gains(train, pool, GINClassifier(**TINY_FIT), results_dir=tmp_path / "run",
                             cached_only=True, **kwargs)
    assert len(partial) < len(reference)

    resumed = []
    monkeypatch.setattr(_jobs, "run_fit", lambda job: resumed.append(job.key) or
                        real_run_fit(job))
    result = transfer_gains(train, pool, GINClassifier(**TINY_FIT), results_dir=tmp_path / "run",
                            **kwargs)
    assert len(resumed) == 3 and not set(resumed) & set(calls)   # only the missing fits ran
    pd.testing.assert_frame_equal(result.drop(columns=["seconds_alone", "seconds_with"]),
                                  reference.drop(columns=["seconds_alone", "seconds_with"]))
    resumed.clear()
    transfer_gains(train, pool, GINClassifier(**TINY_FIT), results_dir=tmp_path / "run", **kwargs)
    assert resumed == []   # a repeated study costs nothing


def test_cache_key_follows_content_not_device(bace, pool, tmp_path):
    train, valid, test = bace
    kwargs = dict(seeds=1, eval_set=valid, test_set=test, verbose=False, results_dir=tmp_path)
    transfer_gains(train, pool, GINClassifier(**TINY_FIT), **kwargs)
    assert len(ResultCache(tmp_path)) == 3
    transfer_gains(train, pool, GINClassifier(**{**TINY_FIT, "device": "auto"}, verbose=False),
                   **kwargs)
    assert len(ResultCache(tmp_path)) == 3
    transfer_gains(train, pool, GINClassifier(**{**TINY_FIT, "hidden_dim": 4}), **kwargs)
    assert len(ResultCache(tmp_path)) == 6
    entry = json.loads(next(tmp_path.glob("*.json")).read_text())
    assert {"job", "result"} <= set(entry) and "molselect" in entry["job"]


@pytest.mark.slow
@pytest.mark.probe("DASK-01")
def test_same_numbers_on_a_two_worker_dask_cluster(bace, pool):
    distributed = pytest.importorskip("distributed")
    import joblib

    train, valid, test = bace
    kwargs = dict(seeds=2, eval_set=valid, test_set=test, verbose=False, torch_threads=1)
    local = transfer_gains(train, pool, GINClassifier(**TINY_FIT), n_jobs=1, **kwargs)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        with joblib.parallel_config(backend="dask"):
            remote = transfer_gains(train, pool, GINClassifier(**TINY_FIT), **kwargs)
        workers = client.run(lambda: 1)
    assert len(workers) == 2
    columns = ["candidate", "seed", "score_alone", "score_with", "gain", "valid_alone",
               "valid_with", "best_epoch_alone", "best_epoch_with"]
    pd.testing.assert_frame_equal(local[columns], remote[columns])


# -- downstream batch norm --------------------------------------------------------------
def test_downstream_gin_normalises_each_member_with_target_only_running_stats(small_smiles):
    target = MoleculeDataset(small_smiles, np.arange(20.0)[:, None] % 2, name="t")
    aux = MoleculeDataset(small_smiles[::-1], np.arange(20.0)[:, None],
                          task_types="regression", name="a")
    table, _, _ = build_table([target, aux])
    target_table, _, _ = build_table([target])
    torch.manual_seed(0)
    mixed = MultiDatasetNetwork(GINEncoder(8, 2, 0.0), [1, 1]).train()
    alone = MultiDatasetNetwork(GINEncoder(8, 2, 0.0), [1]).train()
    alone.encoder.load_state_dict(mixed.encoder.state_dict())
    alone.heads.heads[0].load_state_dict(mixed.heads.heads[0].state_dict())
    both = table.batch([np.arange(20), np.arange(10)])
    only = target_table.batch([np.arange(20)])
    torch.testing.assert_close(mixed(both)[0], alone(only)[0])
    for (name, a), (_, b) in zip(mixed.encoder.named_buffers(), alone.encoder.named_buffers()):
        torch.testing.assert_close(a, b, msg=name)


def test_an_unreadable_cache_entry_is_recomputed_with_a_warning(bace, pool, tmp_path):
    train, valid, test = bace
    kwargs = dict(seeds=1, eval_set=valid, test_set=test, verbose=False, results_dir=tmp_path)
    first = transfer_gains(train, pool, GINClassifier(**TINY_FIT), **kwargs)
    entry = next(tmp_path.glob("*.json"))
    entry.write_text("{not json")
    with pytest.warns(RuntimeWarning, match="unreadable"):
        again = transfer_gains(train, pool, GINClassifier(**TINY_FIT), **kwargs)
    pd.testing.assert_frame_equal(first.drop(columns=["seconds_alone", "seconds_with"]),
                                  again.drop(columns=["seconds_alone", "seconds_with"]))
    assert json.loads(entry.read_text())["result"]["key"] == entry.stem


def test_permuted_labels_keep_molecules_and_label_counts():
    from molselect.evaluation import permuted_labels

    y = np.array([[0.0, 1.5], [1.0, np.nan], [1.0, -2.0], [0.0, 3.0], [1.0, np.nan]])
    data = MoleculeDataset(["CCO", "CCN", "CCC", "CCCl", "CCBr"], y,
                           task_types=["classification", "regression"], name="t")
    control = permuted_labels(data, random_state=3)
    assert list(control.ids) == list(data.ids) and control.name == "t (permuted labels)"
    assert list(control.task_types) == ["classification", "regression"]
    np.testing.assert_array_equal(np.isnan(control.y), np.isnan(data.y))
    for j in range(2):
        labelled = ~np.isnan(y[:, j])
        assert sorted(control.y[labelled, j]) == sorted(y[labelled, j])


def test_gains_relative_to_a_control_candidate():
    tidy = _tidy({"control": [0.04, 0.05, 0.06, 0.05], "real": [0.10, 0.11, 0.12, 0.10],
                  "same": [0.04, 0.06, 0.05, 0.05]})
    plain = summarize_gains(tidy).set_index("candidate")
    assert plain.loc["same", "verdict"] == "helps"   # beats doing nothing ...
    against = summarize_gains(tidy, relative_to="control").set_index("candidate")
    assert "control" not in against.index
    assert against.loc["real", "gain"] == pytest.approx(0.0575)
    assert against.loc["real", "verdict"] == "helps"
    assert against.loc["same", "verdict"] == "no clear effect"   # ... but not the control
    assert against.loc["real", "score_alone"] == pytest.approx(0.75)   # the control's score
    with pytest.raises(ValueError, match="not a candidate"):
        summarize_gains(tidy, relative_to="nothing")


def test_a_pickled_job_carries_parameters_not_the_estimator(bace):
    import pickle

    from molselect.evaluation import FitJob, run_fit

    train, valid, test = bace
    job = FitJob(GINClassifier(**TINY_FIT), [(train.name, train)], valid, test, seed=4)
    shipped = pickle.loads(pickle.dumps(job))
    assert shipped.estimator is None and shipped.key == job.key
    assert shipped.make_estimator().get_params()["random_state"] == 4
    assert run_fit(shipped)["test_score"] == run_fit(job)["test_score"]


def test_variance_components_recover_a_simulated_spread_and_noise():
    from molselect.evaluation import variance_components

    rng = np.random.default_rng(0)
    groups, blocks = 40, 60
    effects = rng.normal(0, 2.0, groups)
    shifts = rng.normal(0, 5.0, blocks)  # the seed's shared shift is removed, not counted
    values = effects[:, None] + shifts[None, :] + rng.normal(0, 3.0, (groups, blocks))
    table = pd.DataFrame([{"candidate": g, "seed": b, "relative_gain": values[g, b]}
                          for g in range(groups) for b in range(blocks)])
    vc = variance_components(table)
    assert vc["residual_sd"] == pytest.approx(3.0, rel=0.05)
    assert vc["between_sd"] == pytest.approx(effects.std(ddof=1), rel=0.1)
    f = 1 + blocks * vc["between_sd"] ** 2 / vc["residual_sd"] ** 2
    assert vc["F"] == pytest.approx(f, rel=0.01) and vc["reliability"] == pytest.approx(1 - 1 / f)
    assert vc["blocks_for_reliability"] == np.ceil(4 * 9 / vc["between_sd"] ** 2) or \
        abs(vc["blocks_for_reliability"] - 4 * vc["residual_sd"] ** 2 / vc["between_sd"] ** 2) < 1
    # No real spread: reliability 0, no number of seeds is enough.
    flat = table.assign(relative_gain=shifts[table["seed"]] + rng.normal(0, 3.0, len(table)))
    vc = variance_components(flat.assign(candidate=flat["candidate"] % 3))
    assert vc["reliability"] < 0.5

# -- a result cache that never ends a study and never serves a wrong entry -------
class _FakeJob:
    """A job with a description and its key; ``_fake_fit`` "fits" it instantly."""

    def __init__(self, seed):
        self.description = {"estimator": "fake", "seed": seed}
        self.key = _jobs.job_key(self.description)


def _fake_fit(job):
    return {"key": job.key, "test_score": 0.5 + job.description["seed"], "valid_score": None,
            "best_epoch": 1, "metric": "roc_auc", "n_train": {}, "seconds": 0.0, "label": {}}


@pytest.fixture
def fake_fits(monkeypatch):
    ran = []
    monkeypatch.setattr(_jobs, "run_fit", lambda job: ran.append(job.key) or _fake_fit(job))
    return ran


def test_the_results_folder_is_results_dir_and_cache_still_works_with_a_warning(tmp_path,
                                                                               fake_fits):
    """One name per thing: ``cache`` also named the feature cache."""
    from molselect.evaluation import SubsetEffectsSelector, VerifiedSelector
    from molselect.evaluation._jobs import resolve_results_dir

    jobs = [_FakeJob(seed) for seed in range(2)]
    with pytest.warns(FutureWarning, match=r"run_jobs: cache= is renamed results_dir="):
        old = _jobs.run_jobs(jobs, cache=tmp_path, verbose=False)
    assert _jobs.run_jobs(jobs, results_dir=tmp_path, verbose=False) == old
    assert len(fake_fits) == 2                      # the second call read the same folder
    with pytest.raises(TypeError, match="results_dir and cache name the same folder"):
        _jobs.run_jobs(jobs, results_dir=tmp_path, cache=tmp_path, verbose=False)
    for cls in (VerifiedSelector, SubsetEffectsSelector):
        assert cls().get_params()["results_dir"] is None
        given = cls(cache=tmp_path)
        with pytest.warns(FutureWarning, match=f"{cls.__name__}: cache= is renamed"):
            assert resolve_results_dir(given.results_dir, given.cache, cls.__name__) == tmp_path
        assert resolve_results_dir(None, cls().cache, cls.__name__) is None   # not given


@pytest.mark.probe("CLI-13", "CONC-05", "CONC-06")
def test_a_cache_write_error_is_a_warning_not_the_end_of_the_study(tmp_path, fake_fits,
                                                                    monkeypatch):
    jobs = [_FakeJob(seed) for seed in range(3)]
    not_a_folder = tmp_path / "notadir.txt"
    not_a_folder.write_text("hi")
    with pytest.warns(RuntimeWarning, match="notadir.txt: cannot store results there "
                                            r"\(it is not a folder\)") as record:
        results = _jobs.run_jobs(jobs, results_dir=not_a_folder, verbose=False)
    assert len(results) == 3 and len(record) == 1      # one warning, no "unreadable" ones
    cache = ResultCache(tmp_path / "full")

    def disk_full(path, text, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_jobs, "atomic_write_text", disk_full)
    with pytest.warns(RuntimeWarning, match="No space left"):
        results = _jobs.run_jobs(jobs, results_dir=cache, verbose=False)
    assert sorted(r["test_score"] for r in results.values()) == [0.5, 1.5, 2.5]
    assert cache.write_errors == 3


@pytest.mark.probe("EVAL-10", "EVAL-11")
def test_a_copied_or_damaged_cache_entry_is_detected_and_recomputed(tmp_path, fake_fits):
    jobs = [_FakeJob(seed) for seed in range(2)]
    cache = ResultCache(tmp_path)
    _jobs.run_jobs(jobs, results_dir=cache, verbose=False)
    first, second = (tmp_path / f"{job.key}.json" for job in jobs)
    sound = json.loads(second.read_text())

    def damaged(**result):
        return {"job": sound["job"], "result": {**sound["result"], **result}}

    no_score = damaged()
    del no_score["result"]["test_score"]
    cases = {"not the job of this key": json.loads(first.read_text()),   # a copied file
             "no 'test_score'": no_score,
             r"'test_score' is not a number \('0.9'\)": damaged(test_score="0.9"),
             "does not hold a job": {"job": sound["job"], "result": [1, 2]}}
    for why, entry in cases.items():
        second.write_text(json.dumps(entry))
        fake_fits.clear()
        with pytest.warns(RuntimeWarning, match=f"damaged: .*{why}"):
            results = _jobs.run_jobs(jobs, results_dir=cache, verbose=False)
        assert fake_fits == [jobs[1].key] and results[jobs[1].key]["test_score"] == 1.5
    fake_fits.clear()
    _jobs.run_jobs(jobs, results_dir=cache, verbose=False)
    assert fake_fits == []                                 # the recomputed entry is sound


def test_orphaned_cache_temporaries_are_cleaned(tmp_path, fake_fits):
    import os
    import time

    orphan = tmp_path / ".0123.json.x1y2.tmp"
    fresh = tmp_path / ".4567.json.z3w4.tmp"
    for path in (orphan, fresh):
        path.write_text('{"half": ')
    os.utime(orphan, (time.time() - 3600, time.time() - 3600))
    _jobs.run_jobs([_FakeJob(0)], results_dir=tmp_path, verbose=False)
    assert not orphan.exists() and fresh.exists()   # a running write's file is left alone


@pytest.mark.probe("CONC-01")
def test_two_studies_sharing_a_cache_at_once_both_finish(tmp_path, fake_fits):
    """Nothing coordinates them (each may run every fit), but both end with every result
    and the cache holds one sound entry per job, no temporary file."""
    import threading

    jobs = [_FakeJob(seed) for seed in range(9)]
    results = [None, None]

    def study(i):
        results[i] = _jobs.run_jobs(jobs, results_dir=ResultCache(tmp_path), verbose=False)

    threads = [threading.Thread(target=study, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    scores = [{key: r["test_score"] for key, r in run.items()} for run in results]
    assert scores[0] == scores[1] and len(scores[0]) == 9
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{j.key}.json" for j in jobs)
    fake_fits.clear()
    _jobs.run_jobs(jobs, results_dir=ResultCache(tmp_path), verbose=False)
    assert fake_fits == []


@pytest.mark.probe("DASK-02")
def test_the_dask_backend_without_a_client_says_to_create_one(fake_fits):
    pytest.importorskip("distributed")
    import joblib

    with pytest.raises(ValueError, match="create a Dask Client"):
        with joblib.parallel_config(backend="dask"):
            _jobs.run_jobs([_FakeJob(0), _FakeJob(1)], n_jobs=2, verbose=False)
    assert fake_fits == []
