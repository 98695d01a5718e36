"""molselect.evaluation's verification race: its statistics on simulated scores, then
VerifiedSelector on a small model (a planted helpful candidate, permuted labels, resuming)
and its refusals before any training."""

import numpy as np
import pytest

from molselect.datasets import load_dataset
from molselect.evaluation import (GainRace, VerifiedSelector, _jobs, detectable_gain,
                                  permuted_labels, simulate_races)
from molselect.models import GINClassifier, GINRegressor
from molselect.selectors import RandomSelector, TaskTypeSelector

from conftest import TINY

RACES = 1000


def _binomial_upper(p, n, z=3.0):
    """An upper limit for the share of ``n`` races at rate ``p`` (z standard errors above)."""
    return p + z * np.sqrt(p * (1 - p) / n)


# -- the statistics, no training -------------------------------------------------------------
@pytest.mark.parametrize("noise,sd", [("normal", 0.022), ("normal", 0.064), ("normal", 0.107),
                                      ("t3", 0.064)])
def test_with_no_true_gain_helps_is_returned_at_most_alpha_of_the_time(noise, sd):
    """Noise levels of the measured fits (sider 2.2%, clintox 6.4%, freesolv 10.7%)."""
    sims = simulate_races({"top 1": 0.0, "top 2": 0.0, "top 3": 0.0}, sd, n_races=RACES,
                          noise=noise, random_state=1)
    false_helps = float((sims["verdict"] == "helps").mean())
    assert false_helps <= 0.05
    assert set(sims["verdict"]) <= {"helps", "none helps", "undecided"}


def test_a_planted_gain_is_found_at_the_stated_power():
    sd = 0.03
    gain = detectable_gain(sd, 3)
    assert 0.02 < gain < 0.2
    sims = simulate_races({"top 1": gain, "top 2": 0.0, "top 3": 0.0}, sd, n_races=RACES,
                          random_state=11)   # other random numbers than the calibration's
    found = float(((sims["verdict"] == "helps") & (sims["winner"] == "top 1")).mean())
    assert abs(found - 0.8) < 3 * np.sqrt(0.8 * 0.2 / RACES) + 0.03


def test_a_clearly_harmful_group_leaves_and_none_helps():
    sims = simulate_races({"top 1": -0.2, "top 2": -0.25}, 0.02, n_races=200, random_state=2)
    assert (sims["verdict"] == "none helps").all()
    assert (sims["fits"] < 10 * 3).all()   # it stopped before the budget


def test_race_bounds_are_paired_t_intervals_at_the_spent_level():
    race = GainRace(["g"], greater_is_better=False, alpha=0.05, min_gain=0.0, min_seeds=2,
                    max_seeds=2)
    race.add_round(2.0, {"g": 1.8})
    race.add_round(2.2, {"g": 2.1})
    mean, low, high = race.bounds("g")
    gains = np.array([0.2, 0.1]) / 2.1          # RMSE: lower is better, relative to alone's mean
    assert mean == pytest.approx(gains.mean())
    assert race.alpha_per_bound == pytest.approx(0.05)   # one look, one group: no spending
    half = 12.706204736 * gains.std(ddof=1) / np.sqrt(2)
    assert (low, high) == pytest.approx((gains.mean() - half, gains.mean() + half))
    with pytest.raises(ValueError, match="not finite"):
        race.add_round(float("nan"), {"g": 1.0})


# -- on a small model -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def planted():
    """A 60-molecule esol target; the rest of esol's training split as a candidate, and the
    same molecules with permuted labels."""
    esol = load_dataset("esol")
    rows = np.random.default_rng(0).permutation(len(esol.train))
    target = esol.train.subset(np.sort(rows[:60]), name="target")
    rest = esol.train.subset(np.sort(rows[60:]), name="rest")
    pool = {"permuted": permuted_labels(rest, name="permuted"), "rest": rest}
    return target, pool, [esol.valid, esol.test]


# TINY at 32 units: the width these planted-effect tests were calibrated with.
SMALL = GINRegressor(**{**TINY, "hidden_dim": 32})


def _verifier(**kw):
    # The permuted copy ranks first, so it races as "top 1" against the true labels.
    return VerifiedSelector(TaskTypeSelector(tie_break="given"), SMALL, max_k=1,
                            groups={"rest": ["rest"]}, max_seeds=6, torch_threads=1, **kw)


@pytest.mark.slow
def test_the_rest_of_the_dataset_is_verified_and_permuted_labels_are_not(planted, tmp_path):
    target, pool, eval_set = planted
    sel = _verifier(results_dir=tmp_path).fit(target, pool, eval_set=eval_set)
    assert sel.verdict_ == "helps" and sel.group_ == "rest" and sel.selected_ == ["rest"]
    low, high = sel.gain_interval_
    assert 0 < low < sel.gain_ < high
    assert sel.n_fits_ == len(sel.trace_) and sel.n_fits_ <= 18
    assert set(sel.trace_.columns) == {"round", "group", "seed", "score", "seconds"}
    assert set(sel.trace_["group"]) == {"alone", "top 1", "rest"}
    assert sel.detectable_gain_ > 0 and np.isfinite(sel.detectable_gain_)
    assert sel.summary_.loc["rest", "low"] == pytest.approx(low)
    union = sel.fit_transform(target, pool, eval_set=eval_set)
    assert list(union) == ["target", "rest"]

    # Interrupted after four fits, it resumes from the cache to the same verdict.
    real_run_fit, calls = _jobs.run_fit, []

    def interrupted(job):
        if len(calls) == 4:
            raise KeyboardInterrupt
        calls.append(job.key)
        return real_run_fit(job)

    again = tmp_path / "again"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_jobs, "run_fit", interrupted)
        with pytest.raises(KeyboardInterrupt):
            _verifier(results_dir=again).fit(target, pool, eval_set=eval_set)
    resumed = _verifier(results_dir=again).fit(target, pool, eval_set=eval_set)
    assert resumed.verdict_ == sel.verdict_ and resumed.gain_ == pytest.approx(sel.gain_)
    assert resumed.trace_.drop(columns="seconds").equals(sel.trace_.drop(columns="seconds"))


def test_bad_input_is_refused_before_any_training(planted, monkeypatch):
    target, pool, eval_set = planted

    def no_training(job):
        raise AssertionError("trained before refusing")

    monkeypatch.setattr(_jobs, "run_fit", no_training)
    with pytest.raises(ValueError, match="cannot reach the first look"):
        _verifier(budget=5).fit(target, pool, eval_set=eval_set)
    with pytest.raises(ValueError, match="max_k=3 is more than the 2"):
        VerifiedSelector(estimator=SMALL, max_k=3).fit(target, pool, eval_set=eval_set)
    with pytest.raises(ValueError, match="selector"):
        VerifiedSelector(selector=GINRegressor()).fit(target, pool, eval_set=eval_set)
    with pytest.raises(ValueError, match="fits classification tasks"):
        VerifiedSelector(estimator=GINClassifier(), max_k=1).fit(target, pool,
                                                                 eval_set=eval_set)
    with pytest.raises(ValueError, match="eval_set=\\[valid, test\\]"):
        _verifier().fit(target, pool, eval_set=eval_set[0])
    with pytest.raises(ValueError, match="names \\['nope'\\]"):
        VerifiedSelector(RandomSelector(), SMALL, max_k=1, groups={"x": ["nope"]}).fit(
            target, pool, eval_set=eval_set)
    for taken in ("alone", "top 1", "all"):
        with pytest.raises(ValueError, match=f"groups\\['{taken}'\\]: the name is taken"):
            VerifiedSelector(RandomSelector(), SMALL, max_k=1,
                             groups={taken: ["rest"]}).fit(target, pool, eval_set=eval_set)
    with pytest.raises(ValueError, match="min_gain"):
        _verifier(min_gain=-0.1).fit(target, pool, eval_set=eval_set)


def test_a_candidate_the_leakage_guard_empties_leaves_its_groups(planted, tmp_path):
    """A candidate made of the target's test molecules ranks first: its group would be the
    target alone again, so it is dropped with a warning and the next group races alone."""
    target, pool, eval_set = planted
    test_copy = eval_set[1].subset(np.arange(len(eval_set[1])), name="test copy")
    candidates = {"test copy": test_copy, "rest": pool["rest"].subset(np.arange(60),
                                                                      name="rest")}
    tiny = GINRegressor(hidden_dim=16, num_layers=2, batch_size=32, device="cpu", epochs=1)
    verifier = VerifiedSelector(TaskTypeSelector(tie_break="given"), tiny, max_k=2,
                                min_seeds=2, max_seeds=2, protocol="fixed", torch_threads=1,
                                results_dir=tmp_path)
    with pytest.warns(UserWarning, match="'test copy'.*left out of every group"):
        verifier.fit(target, candidates, eval_set=eval_set)
    assert verifier.groups_ == {"top 2": ["rest"]}
    assert set(verifier.trace_["group"]) == {"alone", "top 2"}
    with pytest.raises(ValueError, match="nothing to race"):
        VerifiedSelector(TaskTypeSelector(), tiny, max_k=1, min_seeds=2, max_seeds=2).fit(
            target, {"test copy": test_copy}, eval_set=eval_set)
