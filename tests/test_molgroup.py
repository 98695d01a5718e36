"""MolGroupSelector: end to end on small real data, filtering, leakage guard, API, bad input,
checkpoints (a killed selection resumes)."""

import json
import os
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import sklearn
import torch
from sklearn.pipeline import Pipeline

from molselect import MolGroupSelector, get_preset
from molselect.selectors.molgroup import centred_affinity, filter_candidates, survival_ranking
from molselect.core import Gate
from molselect.core.prepare import build_table
from molselect.datasets import MoleculeDataset, load_dataset
from molselect.featurize import maccs_fingerprints

from conftest import TINY

TINY_FIT = dict(TINY, epochs=2, n_rounds=2, random_state=0)


def _sample(data, n, seed=0):
    idx = np.random.default_rng(seed).permutation(len(data))[:n]
    return data.subset(np.sort(idx))


@pytest.fixture(scope="module")
def small():
    target = load_dataset("bace")
    pool = {name: _sample(load_dataset(name).train, 60, seed=i)
            for i, name in enumerate(["esol", "clintox", "freesolv", "bbbp"])}
    return _sample(target.train, 80), target.valid, pool


def test_fit_selects_ranks_and_records_history(small):
    target, _, pool = small
    sel = MolGroupSelector(**TINY_FIT).fit(target, pool)
    assert set(sel.selected_) <= set(pool)
    assert len(sel.selected_) <= sel.top_k
    assert list(sel.feature_names_in_) == list(pool)
    assert sel.n_features_in_ == 4
    assert list(sel.affinity_.index) == list(pool)
    assert ((sel.affinity_ > 0) & (sel.affinity_ < 1)).all()
    assert sel.ranking_ == survival_ranking(sel.affinity_, sel.round_dropped_, sel.selected_)
    assert all(sel.affinity_[n] >= sel.threshold for n in sel.selected_)
    assert sel.selected_ == [n for n in sel.ranking_ if n in sel.selected_]
    history = sel.history_
    assert list(history.columns) == ["round", "epoch", "candidate", "affinity", "task_affinity",
                                     "structure_affinity", "target_loss", "affinity_std",
                                     "affinity_low", "affinity_high"]
    # One repeat: no spread to report, and it says so instead of a made-up zero.
    assert history["affinity_std"].isna().all() and sel.affinity_std_.isna().all()
    first = history[history["round"] == 1]
    assert set(first["candidate"]) == set(pool)
    assert sorted(first["epoch"].unique()) == [1, 2]
    # Every candidate not selected was dropped in a recorded round.
    for name in pool:
        assert np.isnan(sel.round_dropped_[name]) == (name in sel.selected_)
    assert sel.get_support().tolist() == [n in sel.selected_ for n in pool]
    assert list(sel.get_support(indices=True)) == [i for i, n in enumerate(pool)
                                                   if n in sel.selected_]
    # Later rounds only train the survivors of earlier ones.
    round2 = set(history[history["round"] == 2]["candidate"])
    assert round2 == {n for n in pool if not sel.round_dropped_[n] == 1}


@pytest.mark.repeats_exactly
def test_same_seed_same_selection(small):
    target, _, pool = small
    a = MolGroupSelector(**TINY_FIT).fit(target, pool)
    b = MolGroupSelector(**TINY_FIT).fit(target, pool)
    pd.testing.assert_series_equal(a.affinity_, b.affinity_)
    assert a.selected_ == b.selected_


@pytest.mark.parametrize("meta_gradient", ["linearized", "exact"])
def test_both_meta_gradients_select_from_finite_affinities(small, meta_gradient):
    target, _, pool = small
    sel = MolGroupSelector(**TINY_FIT, meta_gradient=meta_gradient)
    sel.fit(target, pool)
    assert np.isfinite(sel.affinity_).all() and sel.affinity_.between(0, 1).all()
    assert sel.history_["affinity"].notna().all()
    # The exact and the linearized meta-gradient both move the gate off its start.
    assert not np.allclose(sel.history_["task_affinity"], 0.0)


def test_list_of_auxiliaries_and_deepchem_input(small):
    dc = pytest.importorskip("deepchem")
    target, _, pool = small
    ds = dc.data.NumpyDataset(X=np.zeros((len(target), 1)), y=target.y, w=np.ones_like(target.y),
                              ids=target.ids)
    aux = [pool["esol"], pool["clintox"]]
    sel = MolGroupSelector(**{**TINY_FIT, "n_rounds": 1, "epochs": 2}).fit(ds, aux)
    assert list(sel.feature_names_in_) == ["esol", "clintox"]


def test_fit_transform_returns_union_with_leakage_guard(small):
    target, valid, pool = small
    # Plant three of the validation molecules in every auxiliary.
    planted = {}
    for name, data in pool.items():
        extra = valid.subset([0, 1, 2])
        y = np.full((3, data.n_tasks), np.nan)
        y[:, 0] = 1.0
        planted[name] = MoleculeDataset(
            np.concatenate([data.ids, extra.ids]), np.vstack([data.y, y]), tasks=data.tasks,
            task_types=data.task_types, metric=data.metric, name=name)
    sel = MolGroupSelector(**{**TINY_FIT, "threshold": 0.0})
    with pytest.warns(UserWarning, match="leakage guard removed"):
        union = sel.fit_transform(target, planted, eval_set=valid)
    assert list(union)[0] == target.name
    assert list(union)[1:] == sel.selected_
    for name in sel.selected_:
        assert sel.n_leaked_[name] == 3
        assert len(union[name]) == len(planted[name]) - 3
        assert not set(union[name].ids) & set(valid.ids[:3])
    # New data passes through unchanged (documented, like TargetEncoder).
    assert sel.transform(valid) is valid


def test_guard_off_keeps_everything(small):
    target, valid, pool = small
    sel = MolGroupSelector(**{**TINY_FIT, "threshold": 0.0, "leakage_guard": False})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        union = sel.fit_transform(target, pool, eval_set=valid)
    assert all(len(union[n]) == len(pool[n]) for n in sel.selected_)


def test_pipeline_with_step_params_and_metadata_routing(small):
    target, _, pool = small
    pipe = Pipeline([("molgroupselector", MolGroupSelector(**{**TINY_FIT, "n_rounds": 1}))])
    pipe.fit(target, molgroupselector__auxiliaries=pool)
    # The step parameter reached fit: every candidate was scored, in the order given.
    assert list(pipe[-1].affinity_.index) == list(pool)
    assert set(pipe[-1].selected_) <= set(pool)
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = Pipeline([("sel", MolGroupSelector(**{**TINY_FIT, "n_rounds": 1}))])
        pipe.fit(target, auxiliaries=pool)
        assert set(pipe[-1].selected_) <= set(pool)


@pytest.mark.probe("SK-01")
def test_pickle_roundtrip(small):
    target, _, pool = small
    sel = MolGroupSelector(**{**TINY_FIT, "n_rounds": 1}).fit(target, pool)
    clone = pickle.loads(pickle.dumps(sel))
    assert clone.selected_ == sel.selected_
    pd.testing.assert_frame_equal(clone.history_, sel.history_)


def test_a_round_that_drops_everyone_selects_nothing(small):
    target, _, pool = small
    # Gate values are sigmoids below 1, so threshold 1.0 (the largest valid one) drops all.
    with pytest.warns(UserWarning, match=r"threshold=1 excludes every candidate \(the best "
                                         r"affinity in round 1 is 0\.\d+, of '\w+'\)"):
        sel = MolGroupSelector(**{**TINY_FIT, "threshold": 1.0}).fit(target, pool)
    assert sel.selected_ == []
    assert (sel.round_dropped_ == 1).all()
    assert set(sel.history_["round"]) == {1}


@pytest.mark.parametrize("make_args, error, match", [
    (lambda t, p: (t, None), ValueError, "no auxiliary datasets"),
    (lambda t, p: (t, {}), ValueError, "empty"),
    (lambda t, p: (t, [p["esol"], p["esol"]]), ValueError, "duplicate"),
    (lambda t, p: (t.subset([]), p), ValueError, "is empty"),
    (lambda t, p: (MoleculeDataset(t.ids, np.full(len(t), np.nan), name="x",
                                   task_types="classification"), p), ValueError, "no labels"),
    (lambda t, p: (MoleculeDataset(t.ids, np.ones(len(t)), name="x",
                                   task_types="classification"), p), ValueError, "one class"),
    (lambda t, p: ("bace.csv", p), TypeError, "dataset"),
    (lambda t, p: (t, "esol"), TypeError, "auxiliaries"),
    (lambda t, p: (t, {"esol": np.zeros(3)}), TypeError, "dataset"),
    (lambda t, p: (t, {"bace": p["esol"]}), ValueError, "same name as the target"),
    (lambda t, p: (t, {"e": p["esol"].subset([])}), ValueError, "is empty"),
])
def test_bad_input_fails_before_training(small, make_args, error, match):
    target, _, pool = small
    args = make_args(target, pool)
    with pytest.raises(error, match=match):
        MolGroupSelector(**TINY_FIT).fit(*args)


# One parameter's bad values: tests/test_api.py generates them from the declarations.
# Here the checks across parameters.
@pytest.mark.parametrize("params, match", [
    ({"warmup_epochs": 2, "epochs": 2}, "warmup_epochs"),
    ({"gate_epochs": 2}, "gate_epochs"),  # TINY_FIT trains the gate in 1 epoch only
])
def test_bad_parameters(small, params, match):
    target, _, pool = small
    with pytest.raises(ValueError, match=match):
        MolGroupSelector(**{**TINY_FIT, **params}).fit(target, pool)


# -- the reference code's behaviour, selectable ----------------------------------

@pytest.fixture(scope="module")
def freesolv_fingerprints():
    """MACCS keys of freesolv (the target) and three bundled candidates, training splits."""
    names = ["freesolv", "esol", "bace", "bbbp"]
    return [torch.as_tensor(maccs_fingerprints(np.asarray(load_dataset(n).train.ids,
                                                          dtype=object)).astype(np.float32))
            for n in names]


def initial_affinity(fingerprints, direction, structure="shared", balance=0.9, n_inits=5,
                     n_batches=5, per_dataset=18):
    """Each candidate's affinity from the gate at initialisation (before any gate training).

    Mean over ``n_inits`` initialisations and ``n_batches`` batches of ``per_dataset``
    molecules of every dataset (what a step of 128 draws over 7 datasets holds).
    """
    values = []
    for seed in range(n_inits):
        torch.manual_seed(seed)
        gate = Gate(len(fingerprints) - 1, balance=balance, direction=direction,
                    structure=structure)
        rng = np.random.default_rng(seed)
        ids = torch.repeat_interleave(torch.arange(len(fingerprints)), per_dataset)
        with torch.no_grad():
            for _ in range(n_batches):
                rows = [f[rng.choice(len(f), per_dataset, replace=False)] for f in fingerprints]
                a, _, _ = gate(torch.cat(rows), ids, [per_dataset] * len(fingerprints))
                values.append(a.numpy())
    return np.mean(values, axis=0)


@pytest.mark.parametrize("structure", ["shared", "per_dataset"])
def test_initial_affinity_is_below_the_threshold_only_under_the_reference_direction(
        freesolv_fingerprints, structure):
    # The paper's round 1 removes most candidates (BBBP keeps 6 of 14, qm8 and qm9 none):
    # under the released code's direction a candidate starts below the 0.6 threshold
    # and must earn its way up; under eq. 2 as printed it starts above 0.5 (measured:
    # reference 0.30-0.37, paper 0.63-0.70 with freesolv against esol, bace, bbbp).
    paper = initial_affinity(freesolv_fingerprints, "paper", structure)
    reference = initial_affinity(freesolv_fingerprints, "reference", structure)
    assert (reference < 0.6).all() and (reference < 0.45).all(), reference
    assert (paper > 0.5).all(), paper
    np.testing.assert_allclose(reference, 1 - paper, atol=1e-6)


@pytest.mark.parametrize("structure", ["shared", "per_dataset"])
def test_lower_balance_lowers_initial_affinity_only_under_the_reference_direction(
        freesolv_fingerprints, structure):
    # Appendix E.1: "decreasing lambda led to lower affinity scores".  With the task cosine
    # at 0 the score is (1 - lambda) * struct / 0.1, and the structure cosine is positive:
    # lower lambda pushes the reference's 1 - sigmoid(score) down (measured 0.30-0.37 at
    # lambda 0.9, 0.003-0.04 at 0.3) and eq. 2's sigmoid(score) up (0.63-0.70 -> 0.96-0.997).
    high = initial_affinity(freesolv_fingerprints, "reference", structure, balance=0.9)
    low = initial_affinity(freesolv_fingerprints, "reference", structure, balance=0.3)
    assert (low < high).all() and (low < 0.1).all(), (low, high)
    paper_high = initial_affinity(freesolv_fingerprints, "paper", structure, balance=0.9)
    paper_low = initial_affinity(freesolv_fingerprints, "paper", structure, balance=0.3)
    assert (paper_low > paper_high).all()


def test_reference_direction_reports_one_minus_the_papers_gate(small):
    target, _, pool = small
    # The first epoch is the warm-up: the gate is not trained yet, so both runs see the
    # same gate parameters, batches and structure cosines.
    one = dict(TINY_FIT, n_rounds=1)
    paper = MolGroupSelector(**one).fit(target, pool).history_
    reference = MolGroupSelector(**one, gate_direction="reference").fit(target, pool).history_
    first = lambda h: h[h["epoch"] == 1].set_index("candidate")  # noqa: E731
    np.testing.assert_allclose(first(reference)["affinity"], 1 - first(paper)["affinity"],
                               atol=1e-6)
    np.testing.assert_allclose(first(reference)["structure_affinity"],
                               first(paper)["structure_affinity"], atol=1e-6)
    assert (first(paper)["affinity"] > 0.5).all()


def test_reference_preset_drops_every_candidate_in_round_one_at_tiny_size(small):
    target, _, pool = small
    params = {**get_preset("reference"), **TINY_FIT}
    sel = MolGroupSelector(**params).fit(target, pool)
    assert sel.gate_direction == "reference" and sel.feature_set == "simple"
    # Two tiny epochs barely move the gate from its start below 0.6: nothing survives.
    assert (sel.affinity_ < sel.threshold).all(), sel.affinity_
    assert sel.selected_ == [] and (sel.round_dropped_ == 1).all()
    assert np.isfinite(sel.history_[["affinity", "task_affinity", "structure_affinity",
                                     "target_loss"]]).all().all()


def test_reference_preset_is_the_papers_configuration_with_the_codes_four_choices():
    assert get_preset("reference") == {"gate_direction": "reference", "feature_set": "simple",
                                       "structure": "per_dataset", "standardize_labels": False}
    defaults = MolGroupSelector().get_params()
    assert {k: defaults[k] for k in get_preset("reference")} == {
        "gate_direction": "paper", "feature_set": "full", "structure": "shared",
        "standardize_labels": True}


def test_raw_labels_reach_the_loss(monkeypatch):
    import molselect.selectors.molgroup as module

    freesolv = _sample(load_dataset("freesolv").train, 60)
    pool = {"esol": _sample(load_dataset("esol").train, 40, seed=1),
            "bace": _sample(load_dataset("bace").train, 40, seed=2)}
    tables = []

    def spy(*args, **kwargs):
        out = build_table(*args, **kwargs)
        tables.append(out[0])
        return out

    monkeypatch.setattr(module, "build_table", spy)
    one = dict(TINY_FIT, n_rounds=1)
    raw = MolGroupSelector(**one, standardize_labels=False).fit(freesolv, pool)
    np.testing.assert_allclose(tables[-1].labels[0].numpy(), freesolv.y, rtol=1e-6)
    np.testing.assert_allclose(tables[-1].labels[1].numpy(), pool["esol"].y, rtol=1e-6)
    scaled = MolGroupSelector(**one).fit(freesolv, pool)
    assert abs(float(np.nanmean(tables[-1].labels[0].numpy()))) < 1e-5
    # freesolv's hydration energies (mean about -3.8, sd 3.8) give a mean squared error
    # of about 20-30 before training; standardised, about 1.
    first = lambda s: s.history_.loc[s.history_["epoch"] == 1, "target_loss"].mean()  # noqa: E731
    assert first(raw) > 8 and first(scaled) < 3, (first(raw), first(scaled))


# -- repeats, gate averaging and the relative filter (stability) ------------------

ONE_ROUND = dict(TINY_FIT, n_rounds=1, top_k=None, threshold=0.0)


@pytest.mark.repeats_exactly
def test_repeats_average_runs_whose_first_is_the_single_run(small):
    target, _, pool = small
    single = MolGroupSelector(**ONE_ROUND).fit(target, pool)
    three = MolGroupSelector(**ONE_ROUND, n_repeats=3).fit(target, pool)
    runs = three.affinity_runs_
    assert list(runs.columns) == ["repeat 0", "repeat 1", "repeat 2"]
    # Repeat 0 is the round's own seed: n_repeats=1 is exactly the paper's single training.
    np.testing.assert_allclose(runs["repeat 0"], single.affinity_, rtol=0, atol=0)
    # The other repeats are other trainings, not copies.
    assert not np.allclose(runs["repeat 1"], runs["repeat 0"])
    np.testing.assert_allclose(three.affinity_, runs.mean(axis=1))
    np.testing.assert_allclose(three.affinity_std_, runs.std(axis=1, ddof=1))
    assert (three.affinity_interval_["low"] < three.affinity_).all()
    assert (three.affinity_interval_["high"] > three.affinity_).all()
    last = three.history_[three.history_["epoch"] == TINY_FIT["epochs"]].set_index("candidate")
    np.testing.assert_allclose(last["affinity"].reindex(list(pool)), three.affinity_)
    np.testing.assert_allclose(last["affinity_std"].reindex(list(pool)), three.affinity_std_)


@pytest.mark.repeats_exactly
def test_repeats_in_worker_processes_give_the_same_numbers(small):
    target, _, pool = small
    # The thread count changes a training's last digits, and joblib's workers start with
    # fewer threads than this process: torch_threads fixes it wherever the repeats run.
    here = MolGroupSelector(**ONE_ROUND, n_repeats=2, torch_threads=1).fit(target, pool)
    there = MolGroupSelector(**ONE_ROUND, n_repeats=2, n_jobs=2, torch_threads=1).fit(
        target, pool)
    pd.testing.assert_frame_equal(here.affinity_runs_, there.affinity_runs_)


@pytest.mark.repeats_exactly
def test_gate_epochs_averages_the_last_epochs_of_a_run(small):
    target, _, pool = small
    params = dict(ONE_ROUND, epochs=3, warmup_epochs=1)
    one = MolGroupSelector(**params).fit(target, pool)
    two = MolGroupSelector(**params, gate_epochs=2).fit(target, pool)
    per_epoch = one.history_.pivot(index="candidate", columns="epoch", values="affinity")
    np.testing.assert_allclose(one.affinity_, per_epoch[3].reindex(list(pool)))
    np.testing.assert_allclose(two.affinity_, per_epoch[[2, 3]].mean(axis=1).reindex(list(pool)))


def test_survival_ranking_puts_a_later_round_above_a_higher_earlier_affinity():
    # Round 2's affinities come from another training: a candidate that passed round 1
    # ranks above every one dropped in it, even with a lower affinity (as measured on bbbp:
    # chembl passed round 1 and fell to 0.18 in round 2, under toxcast's 0.59 of round 1).
    affinity = pd.Series({"toxcast": 0.59, "chembl": 0.18, "tox21": 0.25, "sider": 0.34,
                          "qm9": 0.40, "esol": 0.70})
    dropped = pd.Series({"toxcast": 1, "chembl": 2, "tox21": 2, "sider": 1, "qm9": 3,
                         "esol": np.nan})
    assert survival_ranking(affinity, dropped, ["esol"]) == \
        ["esol", "qm9", "tox21", "chembl", "toxcast", "sider"]
    # Nothing selected, nothing dropped (one round, no cut): the affinity order.
    nobody = pd.Series(np.nan, index=affinity.index)
    assert survival_ranking(affinity, nobody) == \
        list(affinity.sort_values(ascending=False).index)


def test_centred_affinity_removes_the_shift_each_run_shares():
    runs = pd.DataFrame({"r0": [0.9, 0.8, 0.7], "r1": [0.5, 0.4, 0.3]}, index=["a", "b", "c"])
    np.testing.assert_allclose(centred_affinity(runs), [0.1, 0.0, -0.1], atol=1e-12)
    shifted = runs + np.array([0.2, -0.3])
    pd.testing.assert_series_equal(centred_affinity(shifted), centred_affinity(runs))


@pytest.mark.parametrize("scores, final, top_k, survivors", [
    # Below the common level (centred < 0) leaves, at or above it stays.
    ({"a": 0.1, "b": 0.0, "c": -0.05, "d": -0.05}, False, 1, ["a", "b"]),
    # Never fewer than top_k before the last round.
    ({"a": 0.1, "b": -0.02, "c": -0.03, "d": -0.05}, False, 3, ["a", "b", "c"]),
    # The last round selects the top_k best whatever their level.
    ({"a": -0.01, "b": 0.03, "c": -0.02}, True, 2, ["b", "a"]),
])
def test_relative_filter_rule(scores, final, top_k, survivors):
    kept, dropped = filter_candidates(pd.Series(scores), 0.6, final, top_k, rule="relative")
    assert kept == survivors
    assert sorted(dropped) == sorted(set(scores) - set(survivors))


def test_relative_rule_ignores_the_threshold_scale(small):
    target, _, pool = small
    # threshold=1.0 drops everyone under the paper's rule; the relative rule keeps a selection.
    sel = MolGroupSelector(**{**TINY_FIT, "threshold": 1.0, "top_k": 2},
                           filter_rule="relative").fit(target, pool)
    assert len(sel.selected_) == 2
    assert sel.selected_ == [n for n in sel.ranking_ if n in sel.selected_]


def test_paper_size_on_a_cpu_is_announced_before_it_trains(small, monkeypatch):
    """The paper's size takes about an hour on 2 cores: say so (and what takes minutes) first."""
    target, _, pool = small

    def stop(*args, **kwargs):
        raise RuntimeError("stopped before training")

    monkeypatch.setattr(MolGroupSelector, "_run_round", stop)
    paper = MolGroupSelector(random_state=0, device="cpu")   # the class defaults: the paper
    with pytest.warns(UserWarning, match="paper's size .* on a CPU.*get_preset\\('stable'\\)") \
            as caught, pytest.raises(RuntimeError, match="stopped before training"):
        paper.fit(target, pool)
    [warning] = [w for w in caught if "paper's size" in str(w.message)]
    assert warning.filename == __file__   # it points at the user's fit call
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*paper's size")
        with pytest.raises(RuntimeError, match="stopped before training"):
            MolGroupSelector(**TINY_FIT).fit(target, pool)


def test_a_checkpoint_of_an_earlier_format_is_refused(tmp_path):
    """An earlier molselect's checkpoint is not read (its keys differ): delete it, says the error."""
    import json

    from molselect.selectors._filtering import _read_checkpoint

    path = tmp_path / "old.ckpt.json"
    path.write_text(json.dumps({"format": "molselect-molgroup-checkpoint-v1", "fingerprint": "f"}))
    with pytest.raises(ValueError, match=r"written by an earlier molselect \(molselect-molgroup-"
                                         r"checkpoint-v1\); delete it"):
        _read_checkpoint(path, "f")
    path.write_text(json.dumps({"format": "something else"}))
    with pytest.raises(ValueError, match="is not a MolGroupSelector checkpoint"):
        _read_checkpoint(path, "f")


# -- checkpoints: a killed selection resumes -----------------------------------------------
_RESUMABLE = r'''
import json, os, signal, sys
import numpy as np
from molselect.datasets import load_dataset
from molselect.selectors import MolGroupSelector
from molselect.selectors import _molgroup_training as training

checkpoint, kill_at = (sys.argv[1] or None), int(sys.argv[2])
calls = []
original = training.train

def train(*args, **kwargs):
    calls.append(1)
    if len(calls) == kill_at:  # killed at the start of this round, as by `kill -9`
        os.kill(os.getpid(), signal.SIGKILL)
    return original(*args, **kwargs)

training.train = train
target = load_dataset("bbbp").train.subset(np.arange(0, 400, 10), name="bbbp")
pool = {n: load_dataset(n).train.subset(np.arange(30), name=n)
        for n in ("bace", "esol", "clintox")}
sel = MolGroupSelector(n_rounds=3, epochs=2, top_k=1, threshold=0.0, hidden_dim=16,
                       num_layers=2, batch_size=16, device="cpu", random_state=0,
                       checkpoint=checkpoint).fit(target, pool)
print(json.dumps({"selected": sel.selected_, "affinity": sel.affinity_.tolist(),
                  "history": sel.history_.to_numpy().tolist(), "rounds_run": len(calls),
                  "dropped": sel.round_dropped_.fillna(-1).tolist()}))
'''


def _run_selection(checkpoint, kill_at):
    import subprocess
    import sys

    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-c", _RESUMABLE, str(checkpoint or ""),
                           str(kill_at)], capture_output=True, text=True, env=env,
                          timeout=600)


@pytest.mark.slow
def test_killed_selection_resumes_from_its_checkpoint_with_the_same_result(tmp_path):
    """Probe 98: an interrupt in round R threw away rounds 1..R-1."""
    reference = _run_selection(None, 0)
    assert reference.returncode == 0, reference.stderr
    expected = json.loads(reference.stdout)
    assert expected["rounds_run"] == 3

    checkpoint = tmp_path / "molgroup.ckpt.json"
    killed = _run_selection(checkpoint, 2)  # killed when round 2 starts
    assert killed.returncode == -9
    assert json.loads(checkpoint.read_text())["rounds_done"] == 1

    resumed = _run_selection(checkpoint, 0)
    assert resumed.returncode == 0, resumed.stderr
    result = json.loads(resumed.stdout)
    assert result.pop("rounds_run") == 2  # rounds 2 and 3 only
    expected.pop("rounds_run")
    assert result == expected

    again = json.loads(_run_selection(checkpoint, 0).stdout)  # finished: nothing to train
    assert again.pop("rounds_run") == 0 and again == expected


def test_checkpoint_of_other_parameters_or_data_is_refused(bbbp_tiny, tmp_path):
    """Probe 98: a checkpoint must never be resumed by another selection."""
    target, _, pool, _ = bbbp_tiny
    path = tmp_path / "c.json"
    params = dict(n_rounds=1, epochs=2, top_k=1, random_state=0, checkpoint=path, **TINY)
    MolGroupSelector(**params).fit(target, pool)
    with pytest.raises(ValueError, match="written for other data or parameters"):
        MolGroupSelector(**{**params, "threshold": 0.5}).fit(target, pool)
    with pytest.raises(ValueError, match="written for other data or parameters"):
        MolGroupSelector(**params).fit(target.subset(np.arange(30)), pool)
    path.write_text("{broken")
    with pytest.raises(ValueError, match="cannot be read.*delete it"):
        MolGroupSelector(**params).fit(target, pool)
