"""MolGroupSelector: end to end on small real data, filtering, leakage guard, API, bad input."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.pipeline import Pipeline

from molselect import MolGroupSelector
from molselect.datasets import MoleculeDataset, load_dataset

TINY = dict(hidden_dim=8, num_layers=2, epochs=2, n_rounds=2, batch_size=32, random_state=0)


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
    sel = MolGroupSelector(**TINY).fit(target, pool)
    assert set(sel.selected_) <= set(pool)
    assert len(sel.selected_) <= sel.top_k
    assert list(sel.feature_names_in_) == list(pool)
    assert sel.n_features_in_ == 4
    assert list(sel.affinity_.index) == list(pool)
    assert ((sel.affinity_ > 0) & (sel.affinity_ < 1)).all()
    assert sel.ranking_ == list(sel.affinity_.sort_values(ascending=False).index)
    assert all(sel.affinity_[n] >= sel.threshold for n in sel.selected_)
    assert sel.selected_ == [n for n in sel.ranking_ if n in sel.selected_]
    history = sel.history_
    assert list(history.columns) == ["round", "epoch", "candidate", "affinity", "task_affinity",
                                     "structure_affinity", "target_loss"]
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


def test_same_seed_same_selection(small):
    target, _, pool = small
    a = MolGroupSelector(**TINY).fit(target, pool)
    b = MolGroupSelector(**TINY).fit(target, pool)
    pd.testing.assert_series_equal(a.affinity_, b.affinity_)
    assert a.selected_ == b.selected_


@pytest.mark.parametrize("meta_gradient", ["linearized", "exact"])
def test_both_meta_gradients_select_from_finite_affinities(small, meta_gradient):
    target, _, pool = small
    sel = MolGroupSelector(**TINY, meta_gradient=meta_gradient)
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
    sel = MolGroupSelector(**{**TINY, "n_rounds": 1, "epochs": 2}).fit(ds, aux)
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
    sel = MolGroupSelector(**{**TINY, "threshold": 0.0})
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
    sel = MolGroupSelector(**{**TINY, "threshold": 0.0, "leakage_guard": False})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        union = sel.fit_transform(target, pool, eval_set=valid)
    assert all(len(union[n]) == len(pool[n]) for n in sel.selected_)


def test_pipeline_with_step_params_and_metadata_routing(small):
    target, _, pool = small
    pipe = Pipeline([("molgroupselector", MolGroupSelector(**{**TINY, "n_rounds": 1}))])
    pipe.fit(target, molgroupselector__auxiliaries=pool)
    assert pipe[-1].selected_ is not None
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = Pipeline([("sel", MolGroupSelector(**{**TINY, "n_rounds": 1}))])
        pipe.fit(target, auxiliaries=pool)
        assert set(pipe[-1].selected_) <= set(pool)


def test_pickle_roundtrip(small):
    target, _, pool = small
    sel = MolGroupSelector(**{**TINY, "n_rounds": 1}).fit(target, pool)
    clone = pickle.loads(pickle.dumps(sel))
    assert clone.selected_ == sel.selected_
    pd.testing.assert_frame_equal(clone.history_, sel.history_)


def test_a_round_that_drops_everyone_selects_nothing(small):
    target, _, pool = small
    # Gate values are sigmoids below 1, so threshold 1.0 (the largest valid one) drops all.
    sel = MolGroupSelector(**{**TINY, "threshold": 1.0}).fit(target, pool)
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
        MolGroupSelector(**TINY).fit(*args)


@pytest.mark.parametrize("params, match", [
    ({"top_k": 0}, "top_k"),
    ({"warmup_epochs": 2, "epochs": 2}, "warmup_epochs"),
    ({"fingerprint": "ecfp"}, "fingerprint"),
    ({"balance": 1.5}, "balance"),
    ({"temperature": 0}, "temperature"),
    ({"epochs": 0}, "epochs"),
    ({"meta_gradient": "hessian"}, "meta_gradient"),
])
def test_bad_parameters(small, params, match):
    target, _, pool = small
    with pytest.raises(ValueError, match=match):
        MolGroupSelector(**{**TINY, **params}).fit(target, pool)
