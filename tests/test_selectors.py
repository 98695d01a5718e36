"""Every selector's shared API and bad input; each baseline's defining behaviour.

MolGroup is in the shared table ``SELECTORS`` (bad parameters are generated
from the declarations in ``test_api.py``); its own behaviour is tested in
``test_molgroup.py``.

Models are tiny (``TINY`` of conftest.py, 1-3 epochs) and datasets a few hundred
molecules, so the whole file runs in about a minute on two CPU cores.
"""

import io
import pickle
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, clone
from sklearn.pipeline import make_pipeline

from molselect.datasets import DatasetGroup, MoleculeDataset, load_dataset
from molselect.evaluation import SubsetEffectsSelector
from molselect.models import GINClassifier
from molselect.selectors import (
    AllAuxiliariesSelector,
    BeamSearchSelector,
    FingerprintSimilaritySelector,
    MolGroupSelector,
    MTDNNSelector,
    RandomSelector,
    TAGSelector,
    Task2VecSelector,
    TaskTypeSelector,
    fingerprint_distribution,
    fingerprint_kl,
    survival_ranking,
)

from conftest import TEN_SMILES, TINY

SEEDED = dict(TINY, random_state=0)

SELECTORS = {
    "molgroup": lambda: MolGroupSelector(epochs=2, n_rounds=1, **SEEDED),
    "all": lambda: AllAuxiliariesSelector(),
    "fingerprint": lambda: FingerprintSimilaritySelector(top_k=2),
    "random": lambda: RandomSelector(top_k=2, random_state=0),
    "task-type": lambda: TaskTypeSelector(top_k=2, random_state=0),
    "subset-effects": lambda: SubsetEffectsSelector(
        GINClassifier(epochs=1, **TINY),
        n_runs=6, protocol="fixed", top_k=2),
    "beam_p": lambda: BeamSearchSelector(epochs=1, beam_width=2, depth=2, **SEEDED),
    "beam_ps": lambda: BeamSearchSelector(criterion="performance+structure", epochs=1,
                                          beam_width=2, depth=2, **SEEDED),
    "tag": lambda: TAGSelector(epochs=1, lookahead_every=2, **SEEDED),
    "task2vec": lambda: Task2VecSelector(probe_epochs=1, head_epochs=1, fisher_samples=64,
                                         **SEEDED),
    "mtdnn": lambda: MTDNNSelector(epochs=1, **SEEDED),
}


def test_the_tiny_selectors_cover_the_registry():
    """A registered selector without a tiny configuration above would skip these tests."""
    from molselect.registry import SELECTORS as REGISTERED

    tiny = {(type(s), s.get_params().get("criterion")) for s in (f() for f in SELECTORS.values())}
    for entry in REGISTERED.values():
        assert (entry.cls, entry.params.get("criterion")) in tiny, entry.name

@pytest.fixture(scope="module")
def data():
    bbbp = load_dataset("bbbp")
    target = bbbp.train.subset(np.arange(0, 1600, 8), name="bbbp")    # 200 molecules
    valid = bbbp.valid.subset(np.arange(80))
    pool = {n: load_dataset(n).train.subset(np.arange(100), name=n)
            for n in ("bace", "esol", "clintox")}
    return target, valid, pool


class _Recorder(BaseEstimator):
    """A final pipeline step that records what it was fitted on."""

    def fit(self, X, y=None):
        self.seen_ = X
        return self


@pytest.mark.probe("SK-01")
@pytest.mark.parametrize("key", list(SELECTORS))
def test_shared_api(key, data):
    target, valid, pool = data
    # The validation split, then a split to score (selectors that measure outcomes need both).
    held_out = [valid, load_dataset("bbbp").test.subset(np.arange(80))]
    pipe = make_pipeline(SELECTORS[key](), _Recorder())
    step = pipe.steps[0][0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)   # leakage-guard reports
        pipe.fit(target, **{f"{step}__auxiliaries": pool, f"{step}__eval_set": held_out})
    sel = pipe[0]
    names = list(pool)
    assert isinstance(sel.affinity_, pd.Series)
    assert list(sel.affinity_.index) == names
    assert np.isfinite(sel.affinity_).all()
    assert sorted(sel.ranking_) == sorted(names)
    if hasattr(sel, "round_dropped_"):  # MolGroup: by the round reached, then by affinity
        assert sel.ranking_ == survival_ranking(sel.affinity_, sel.round_dropped_,
                                                sel.selected_)
    else:
        assert sel.affinity_[sel.ranking_[0]] == sel.affinity_.max()
    assert set(sel.selected_) <= set(names)
    assert list(sel.feature_names_in_) == names
    support = sel.get_support()
    assert support.dtype == bool and support.sum() == len(sel.selected_)
    assert list(np.asarray(names)[sel.get_support(indices=True)]) == [
        n for n in names if n in sel.selected_]
    union = pipe[-1].seen_
    assert isinstance(union, DatasetGroup)
    assert list(union) == ["bbbp"] + list(sel.selected_)
    assert sel.transform(valid) is valid
    # Unfitted clone with identical parameters (scikit-learn conventions; a nested
    # estimator is cloned, so it compares by its parameters).
    def params(s):
        return {k: repr(v) if isinstance(v, BaseEstimator) else v
                for k, v in s.get_params(deep=False).items()}

    assert params(clone(sel)) == params(sel)
    # Fitted, it survives pickle and joblib unchanged; its clone is unfitted.
    buffer = io.BytesIO()
    joblib.dump(sel, buffer)
    buffer.seek(0)
    for copy in (pickle.loads(pickle.dumps(sel)), joblib.load(buffer)):
        assert copy.selected_ == sel.selected_ and copy.ranking_ == sel.ranking_
        pd.testing.assert_series_equal(copy.affinity_, sel.affinity_)
        np.testing.assert_array_equal(copy.get_support(), support)
    assert not hasattr(clone(sel), "selected_")


def _single_class(target):
    y = np.ones_like(target.y)
    return MoleculeDataset(target.ids, y, task_types="classification", name="bbbp")


@pytest.mark.parametrize("key", list(SELECTORS))
def test_bad_input(key, data):
    target, valid, pool = data
    make = SELECTORS[key]
    with pytest.raises(ValueError, match="no auxiliary"):
        make().fit(target)
    with pytest.raises(ValueError, match="empty"):
        make().fit(target, {})
    with pytest.raises(ValueError, match="empty"):
        make().fit(target.subset(np.zeros(0, dtype=int)), pool)
    with pytest.raises(ValueError, match="only one"):
        make().fit(_single_class(target), pool)
    with pytest.raises(ValueError, match="same name as the target"):
        make().fit(target, {"bbbp": pool["bace"]})
    with pytest.raises(TypeError):
        make().fit("not a dataset", pool)
    with pytest.raises(TypeError):
        make().fit(target, pool, pool)
    # Bad parameter values: tests/test_api.py generates them from the declarations.


# --- training-free selectors -------------------------------------------------------------


def test_fingerprint_kl_and_identity(data):
    target, _, pool = data
    p = fingerprint_distribution(target.ids)
    assert p.shape == (167,) and np.isclose(p.sum(), 1) and (p > 0).all()
    assert fingerprint_kl(p, p) == pytest.approx(0.0, abs=1e-12)
    q = fingerprint_distribution(pool["esol"].ids)
    assert fingerprint_kl(p, q) > 0 and fingerprint_kl(p, q) != fingerprint_kl(q, p)
    twin = target.subset(np.arange(len(target)), name="twin")
    sel = FingerprintSimilaritySelector(top_k=1).fit(target, {**pool, "twin": twin})
    assert sel.selected_ == ["twin"] and sel.affinity_["twin"] == pytest.approx(0.0, abs=1e-12)
    assert (sel.divergence_ == -sel.affinity_).all()


def test_a_threshold_that_excludes_every_candidate_is_warned_about(data):
    target, _, pool = data
    with pytest.warns(UserWarning, match=r"threshold=0 excludes every candidate \(the best "
                                         r"affinity is -[0-9.]+, of '\w+'\)"):
        sel = FingerprintSimilaritySelector(threshold=0.0).fit(target, pool)
    assert sel.selected_ == []
    best = sel.affinity_.idxmax()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # A threshold that admits one: no warning.
        FingerprintSimilaritySelector(threshold=sel.affinity_[best]).fit(target, pool)


def test_selection_result_takes_attributes_and_the_deprecated_extra():
    from molselect.base import SelectionResult

    affinity = pd.Series({"a": 1.0})
    assert SelectionResult(affinity, attributes={"n_": 1}).attributes == {"n_": 1}
    with pytest.warns(FutureWarning, match=r"extra=\.\.\.\) is renamed attributes="):
        assert SelectionResult(affinity, extra={"n_": 1}).attributes == {"n_": 1}


def test_all_and_random(data):
    target, _, pool = data
    assert AllAuxiliariesSelector().fit(target, pool).selected_ == list(pool)
    a = RandomSelector(top_k=2, random_state=3).fit(target, pool)
    b = RandomSelector(top_k=2, random_state=3).fit(target, pool)
    assert a.selected_ == b.selected_ and len(a.selected_) == 2
    picks = {tuple(RandomSelector(top_k=1, random_state=s).fit(target, pool).selected_)
             for s in range(10)}
    assert len(picks) > 1


# --- beam search -------------------------------------------------------------------------


def _expected_counts(history, names, width):
    """Rebuild how many combinations each depth must evaluate from the recorded beams."""
    expected = {0: 1, 1: len(names)}
    for depth in range(2, history["depth"].max() + 1):
        beam = history[(history["depth"] == depth - 1) & history["in_beam"]]["combination"]
        assert len(beam) == min(width, (history["depth"] == depth - 1).sum())
        expected[depth] = len({frozenset(c + (n,)) for c in beam for n in names if n not in c})
    return expected


@pytest.mark.parametrize("criterion", ["performance", "performance+structure"])
def test_beam_search_explores_width_by_depth(criterion, data):
    target, valid, pool = data
    # Smaller data here: this test trains up to 14 combinations.
    target = target.subset(np.arange(60))
    pool = {n: d.subset(np.arange(30)) for n, d in pool.items()}
    pool["sider"] = load_dataset("sider").train.subset(np.arange(30), name="sider")
    sel = BeamSearchSelector(criterion=criterion, beam_width=2, depth=3, epochs=1, **SEEDED)
    sel.fit(target, pool, eval_set=valid)
    h = sel.history_
    counts = h.groupby("depth").size().to_dict()
    assert counts == _expected_counts(h, list(pool), 2)
    assert counts[2] <= 2 * 3 and counts[3] <= 2 * 2   # beams x remaining candidates
    assert h["combination"].map(frozenset).is_unique
    best = h.loc[h["score"].idxmax(), "combination"]
    assert sel.selected_ == list(best)
    for name in pool:
        assert sel.affinity_[name] == h[h["combination"].map(lambda c: name in c)]["score"].max()
    if criterion == "performance":
        assert (h["score"] == -h["val_loss"]).all()
    else:
        assert h.loc[0, "score"] == pytest.approx(-(0.5 + 0.5 * np.nanmean(
            h[h["depth"] == 1]["structure_divergence"])
            / h[h["depth"] == 1]["structure_divergence"].max()))
    assert sel.validation_source_ == "eval_set"


def test_beam_search_holdout_and_reproducible(data):
    target, _, pool = data
    target = target.subset(np.arange(80))
    pool = {n: d.subset(np.arange(30)) for n, d in list(pool.items())[:2]}
    kw = dict(beam_width=1, depth=1, epochs=1, **SEEDED)
    with pytest.warns(UserWarning, match="scaffold"):
        a = BeamSearchSelector(**kw).fit(target, pool)
    assert a.validation_source_ == "scaffold holdout"
    with pytest.warns(UserWarning, match="scaffold"):
        b = BeamSearchSelector(**kw, n_jobs=2).fit(target, pool)   # loky worker processes
    # Same search in worker processes; only float round-off may differ (workers
    # run torch on fewer threads, so reductions can be ordered differently).
    assert list(a.history_["combination"]) == list(b.history_["combination"])
    np.testing.assert_allclose(a.history_["val_loss"], b.history_["val_loss"], rtol=1e-2)


# --- TAG -----------------------------------------------------------------------------------


def test_tag_affinity_follows_planted_helpful_and_harmful(data):
    target, _, _ = data
    rng = np.random.default_rng(0)
    copy = target.subset(np.arange(len(target)), name="copy")
    noise = MoleculeDataset(target.ids, rng.integers(0, 2, size=target.y.shape).astype(float),
                            task_types="classification", name="noise")
    # A copy's own head must first align with the target's for its encoder
    # gradient to help, hence a larger learning rate for this short training.
    sel = TAGSelector(epochs=3, lookahead_every=2, top_k=None, **{**SEEDED, "lr": 1e-2})
    sel.fit(target, {"noise": noise, "copy": copy})
    assert sel.affinity_["copy"] > 0
    assert sel.affinity_["copy"] > sel.affinity_["noise"]
    assert sel.selected_[0] == "copy"
    assert all(sel.affinity_[n] > 0 for n in sel.selected_)
    assert set(sel.history_.columns) == {"epoch", "candidate", "affinity", "target_loss"}
    assert len(sel.history_) == 3 * 2
    assert abs(sel.affinity_["noise"]) < sel.affinity_["copy"]
    assert sel.measured_.all()


def test_tag_threshold_keeps_an_affinity_equal_to_it(data):
    """TAG's threshold is the selectors' one rule: an affinity of at least it passes."""
    target, _, pool = data
    pool = {"esol": pool["esol"], "bace": pool["bace"]}
    params = dict(epochs=1, lookahead_every=2, top_k=None, **SEEDED)
    affinity = TAGSelector(**params, threshold=None).fit(target, pool).affinity_
    best = affinity.idxmax()
    assert best in TAGSelector(**params, threshold=affinity[best]).fit(target, pool).selected_


def test_tag_leaves_out_a_candidate_it_never_measured(data, monkeypatch):
    """An unmeasured candidate's affinity of 0 is a placeholder: not selected, with a warning."""
    from molselect.core.lookahead import LookaheadStep

    target, _, pool = data
    pool = {"esol": pool["esol"], "bace": pool["bace"]}
    lookahead = LookaheadStep.lookahead

    def bace_unmeasured(self, batch):
        z, measured = lookahead(self, batch)
        z[1], measured[1] = 0.0, 0.0
        return z, measured

    monkeypatch.setattr(LookaheadStep, "lookahead", bace_unmeasured)
    for threshold in (-0.5, None):
        with pytest.warns(UserWarning, match="no lookahead step measured the affinity of 'bace'"):
            sel = TAGSelector(epochs=1, lookahead_every=2, top_k=None, threshold=threshold,
                              **TINY).fit(target, pool)
        assert sel.affinity_["bace"] == 0.0 and not sel.measured_["bace"]
        assert "bace" not in sel.selected_ and sel.measured_["esol"]


# --- Task2vec ------------------------------------------------------------------------------


def test_task2vec_self_distance_is_smallest(data):
    target, _, pool = data
    twin = target.subset(np.arange(len(target)), name="twin")
    sel = Task2VecSelector(distance="cosine", probe_epochs=1, head_epochs=2, top_k=1, **SEEDED)
    sel.fit(target, {**pool, "twin": twin})
    assert sel.distance_.idxmin() == "twin"
    assert sel.selected_ == ["twin"]
    assert (sel.distance_ >= 0).all() and (sel.distance_ <= 1).all()
    assert list(sel.embeddings_.index) == ["bbbp", *pool, "twin"]
    assert (sel.embeddings_.to_numpy() >= 0).all()
    asym = Task2VecSelector(probe_epochs=1, head_epochs=2, **SEEDED).fit(target, pool)
    assert np.allclose(asym.affinity_, -asym.distance_)


# --- MTDNN ---------------------------------------------------------------------------------


def test_mtdnn_keeps_a_planted_copy_of_the_target_and_less_of_an_unrelated_set(data):
    target, _, pool = data
    rng = np.random.default_rng(0)
    # The target's own molecules under another task: a discriminator cannot tell
    # them from the target's, so they must look target-like.
    copy = MoleculeDataset(target.ids, rng.normal(size=(len(target), 1)),
                           task_types="regression", name="copy")
    sel = MTDNNSelector(epochs=3, **SEEDED)
    sel.fit(target, {"unrelated": pool["bace"], "copy": copy})
    share = sel.n_kept_ / pd.Series({"unrelated": len(pool["bace"]), "copy": len(copy)})
    # With two candidates a copy's calibrated probability is at most 2/3 (density
    # ratio 2 to the average auxiliary), so a weak tiny encoder keeps about a third.
    assert share["copy"] > 0.25
    assert share["unrelated"] < share["copy"] / 3
    assert sel.affinity_["copy"] > sel.affinity_["unrelated"]
    assert sel.selected_[0] == "copy"
    assert sel.history_["discriminator_loss"].isna().all()   # fitted after the training
    # The earlier joint (M+1)-way softmax: a copy scores at most about 0.5, nothing passes 0.6.
    joint = MTDNNSelector(epochs=3, discriminator="joint", **SEEDED).fit(
        target, {"unrelated": pool["bace"], "copy": copy})
    assert joint.n_kept_["copy"] < sel.n_kept_["copy"]


@pytest.mark.repeats_exactly
def test_mtdnn_warns_when_no_molecule_passes_the_threshold(data):
    target, _, pool = data
    pool = {"esol": pool["esol"]}
    top = max(p.max() for p in MTDNNSelector(epochs=1, **SEEDED).fit(
        target, pool).probabilities_.values())
    threshold = (top + 1.0) / 2
    with pytest.warns(UserWarning, match=f"molecule_threshold={threshold:g} excludes every "
                                         rf"candidate \(the best molecule probability of "
                                         rf"'target' is {top:.4g}, of 'esol'\)"):
        sel = MTDNNSelector(epochs=1, molecule_threshold=threshold, **SEEDED).fit(target, pool)
    assert sel.selected_ == []


def test_mtdnn_threshold_is_the_deprecated_name_of_molecule_threshold(data):
    target, _, pool = data
    pool = {"esol": pool["esol"]}
    new = MTDNNSelector(epochs=1, molecule_threshold=0.45, **SEEDED).fit(target, pool)
    with pytest.warns(FutureWarning, match="threshold is renamed molecule_threshold"):
        old = MTDNNSelector(epochs=1, threshold=0.45, **SEEDED).fit(target, pool)
    np.testing.assert_array_equal(old.kept_["esol"], new.kept_["esol"])
    assert old.selected_ == new.selected_
    with pytest.raises(ValueError, match=r"threshold must be a number in \[0, 1\), got 1.5"):
        MTDNNSelector(epochs=1, threshold=1.5, **TINY).fit(target, pool)


def test_mtdnn_keeps_only_instances_above_threshold(data):
    target, _, pool = data
    pool = {"esol": pool["esol"], "bace": pool["bace"]}
    sel = MTDNNSelector(epochs=3, molecule_threshold=0.4, **{**SEEDED, "lr": 1e-2})
    union = sel.fit_transform(target, pool)
    kept_any = False
    probs = np.concatenate(list(sel.probabilities_.values()))
    assert 0 < (probs > 0.4).sum() < len(probs)   # the threshold really splits
    for name in pool:
        p = sel.probabilities_[name]
        assert p.shape == (len(pool[name]),) and ((p >= 0) & (p <= 1)).all()
        np.testing.assert_array_equal(sel.kept_[name], p > 0.4)
        assert sel.n_kept_[name] == sel.kept_[name].sum()
        assert sel.affinity_[name] == pytest.approx(p.mean())
        if name in sel.selected_:
            kept_any = True
            assert len(union[name]) == sel.kept_[name].sum()
            assert list(union[name].ids) == list(pool[name].ids[sel.kept_[name]])
        else:
            assert sel.n_kept_[name] == 0
    assert kept_any
    assert len(union["bbbp"]) == len(target)
    assert list(sel.history_.columns) == ["epoch", "loss", "target_loss", "discriminator_loss"]


def test_task_type_selector_ranks_the_targets_task_type_first(data):
    from molselect.selectors import TaskTypeSelector

    target, valid, pool = data
    sel = TaskTypeSelector(top_k=1, tie_break="given").fit(target, pool, eval_set=valid)
    assert sel.target_task_type_ == "classification"
    assert sel.affinity_.to_dict() == {"bace": 1.0, "esol": 0.0, "clintox": 1.0}
    assert sel.ranking_ == ["bace", "clintox", "esol"] and sel.selected_ == ["bace"]
    # The random tie-break orders within a share only, and repeats with its seed.
    rankings = {tuple(TaskTypeSelector(top_k=None, random_state=s).fit(target, pool).ranking_)
                for s in range(12)}
    assert rankings == {("bace", "clintox", "esol"), ("clintox", "bace", "esol")}
    again = TaskTypeSelector(random_state=5).fit(target, pool).ranking_
    assert again == TaskTypeSelector(random_state=5).fit(target, pool).ranking_
    with pytest.raises(ValueError, match="tie_break"):
        TaskTypeSelector(tie_break="size").fit(target, pool)


def test_a_target_given_as_smiles_and_labels(data):
    target, valid, pool = data
    given = FingerprintSimilaritySelector(top_k=2).fit(target, pool)
    sel = FingerprintSimilaritySelector(top_k=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)   # leakage-guard reports
        union = sel.fit_transform(list(target.ids), target.y.ravel(), auxiliaries=pool,
                                  eval_set=valid)
    pd.testing.assert_series_equal(sel.affinity_, given.affinity_)
    assert sel.selected_ == given.selected_ and list(union) == ["target"] + sel.selected_
    np.testing.assert_array_equal(union.target.y, target.y)
    assert union.target.task_types == ["classification"]
    with pytest.raises(TypeError, match="labels must be given as y and the candidates as "
                                        "auxiliaries="):
        FingerprintSimilaritySelector().fit(list(target.ids), auxiliaries=pool)
    with pytest.raises(TypeError, match="labels y must be an array-like"):
        FingerprintSimilaritySelector().fit(list(target.ids), pool)


# -- input checks shared by every selector -------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda: BeamSearchSelector(epochs=1, random_state=0, **TINY),
    lambda: MolGroupSelector(epochs=2, n_rounds=1, random_state=0, **TINY),
    lambda: FingerprintSimilaritySelector(),
])
def test_selectors_refuse_an_eval_set_of_another_task(make, bbbp_tiny):
    """Probe 64: ESOL's validation split was scored by beam search as BBBP's."""
    target, _, pool, esol_valid = bbbp_tiny
    with pytest.raises(ValueError, match=r"eval_set\[0\]'s task"):
        make().fit(target, pool, eval_set=[esol_valid])


def test_selectors_refuse_non_binary_classification_labels(bbbp_tiny):
    """Probe 32: MolGroupSelector trained BCE on a label 2 of a duck-typed dataset."""
    target, _, pool, _ = bbbp_tiny

    class Duck:
        ids = np.array(TEN_SMILES, dtype=object)
        y = np.array([0, 1, 2, 1, 0, 1, 0, 1, 0, 1], dtype=float)
        task_types = ["classification"]

    with pytest.raises(ValueError, match="labels other than 0 and 1"):
        MolGroupSelector(n_rounds=1, epochs=2, **TINY).fit(target, {"duck": Duck(), **pool})


_QUICK = {
    "molgroup": lambda **kw: MolGroupSelector(n_rounds=1, epochs=2, **TINY, **kw),
    "tag": lambda **kw: TAGSelector(epochs=1, **TINY, **kw),
    "fingerprint": lambda **kw: FingerprintSimilaritySelector(**kw),
    "task2vec": lambda **kw: Task2VecSelector(probe_epochs=0, head_epochs=1, **TINY, **kw),
    "mtdnn": lambda **kw: MTDNNSelector(epochs=1, **TINY, **kw),
}


@pytest.mark.parametrize("key, bad", [
    ("molgroup", 1.5), ("molgroup", -0.5), ("molgroup", float("nan")), ("molgroup", "0.5"),
    ("tag", 5.0), ("tag", float("nan")), ("fingerprint", float("nan")), ("fingerprint", 0.5),
    ("task2vec", "x"),
])
def test_threshold_is_validated(key, bad, bbbp_tiny):
    """Probes 54-55: 1.5 selected nothing, NaN disabled the threshold, '0.5' crashed numpy."""
    target, _, pool, _ = bbbp_tiny
    with pytest.raises(ValueError, match="threshold must be"):
        _QUICK[key](threshold=bad).fit(target, pool)


def test_auxiliary_identical_to_the_target_is_warned_about(bbbp_tiny):
    """Probe 48: a copy of the target was ranked #1 and selected without comment."""
    target, _, pool, _ = bbbp_tiny
    with pytest.warns(UserWarning, match="'copy' is a copy of the target"):
        FingerprintSimilaritySelector(top_k=1).fit(target, {"copy": target, **pool})


@pytest.mark.probe("CHEM-06")
def test_auxiliary_holding_the_whole_target_is_warned_about(bbbp_tiny):
    """A candidate that is the target plus more molecules (the whole dataset the target was
    split from) is named; the same molecules with other labels are another task."""
    target, _, pool, _ = bbbp_tiny
    extra = pool["esol"]
    whole = MoleculeDataset(np.concatenate([extra.ids[:5], target.ids]),
                            np.concatenate([np.ones((5, 1)), target.y]), name="whole")
    with pytest.warns(UserWarning, match=rf"'whole' holds the target 'bbbp': all of its "
                                         rf"{len(target)} molecules with the same labels, "
                                         rf"among its {len(target) + 5}"):
        FingerprintSimilaritySelector(top_k=1).fit(target, {"whole": whole, **pool})
    relabelled = MoleculeDataset(whole.ids, 1 - whole.y, name="relabelled")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        FingerprintSimilaritySelector(top_k=1).fit(target, {"relabelled": relabelled})


def test_invalid_smiles_in_featurization_name_the_dataset(bbbp_tiny):
    """Probe 42: '1 invalid SMILES (position: SMILES) 119: 'xx'' named no dataset."""
    target, _, pool, _ = bbbp_tiny
    bad = MoleculeDataset(["CCO", "xx", "CCN"], [1.0, 2.0, 3.0], name="mine")
    with pytest.raises(ValueError, match="auxiliary dataset 'mine': 1 invalid SMILES"):
        TAGSelector(epochs=1, random_state=0, **TINY).fit(target, {"mine": bad})


# -- repeats: every selector that trains says how sure it is --------------------------------
TRAINING = ["beam_p", "tag", "task2vec", "mtdnn"]


@pytest.mark.parametrize("key", TRAINING)
@pytest.mark.repeats_exactly
def test_a_training_selector_repeats_and_gives_intervals(key, data):
    """n_repeats on the base class: the mean of independent trainings, with its interval."""
    target, valid, pool = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        once = SELECTORS[key]().fit(target, pool, eval_set=[valid])
        twice = SELECTORS[key]().set_params(n_repeats=2).fit(target, pool, eval_set=[valid])
    runs = twice.affinity_runs_
    assert list(runs.columns) == ["repeat 0", "repeat 1"] and list(runs.index) == list(pool)
    # Repeat 0 is the unrepeated fit; the second is another training.
    np.testing.assert_allclose(runs["repeat 0"], once.affinity_, rtol=1e-6)
    assert not np.allclose(runs["repeat 1"], runs["repeat 0"])
    np.testing.assert_allclose(twice.affinity_, runs.mean(axis=1))
    np.testing.assert_allclose(twice.affinity_std_, runs.std(axis=1, ddof=1))
    interval = twice.affinity_interval_
    assert (interval["low"] < twice.affinity_).all() and (twice.affinity_ < interval["high"]).all()
    assert not hasattr(once, "affinity_interval_")
    if hasattr(twice, "history_"):
        assert sorted(twice.history_["repeat"].unique()) == [0, 1]
        assert twice.history_.columns[0] == "repeat"


@pytest.mark.parametrize("key", ["all", "fingerprint", "random", "task-type"])
def test_a_selector_that_does_not_train_has_no_repeats(key):
    """Repeating a deterministic score would only multiply its cost."""
    assert "n_repeats" not in SELECTORS[key]().get_params()


def test_mtdnn_repeats_keep_molecules_by_their_mean_probability(data):
    target, valid, pool = data
    sel = MTDNNSelector(epochs=1, n_repeats=2, **SEEDED).fit(target, pool)
    for name, probs in sel.probabilities_.items():
        np.testing.assert_array_equal(sel.kept_[name], probs > sel.molecule_threshold)
        assert sel.n_kept_[name] == int((probs > sel.molecule_threshold).sum())
    assert sel.n_kept_.dtype == int


def test_repeated_searches_select_the_group_most_of_them_found():
    from molselect._repeats import combine_repeats
    from molselect.base import SelectionResult

    results = [SelectionResult(pd.Series({"a": s, "b": 0.0, "c": 0.0}), selected=chosen,
                               attributes={"baseline_loss_": s, "validation_source_": "eval_set"})
               for s, chosen in ((0.1, ["a"]), (0.3, ["b", "c"]), (0.5, ["c", "b"]))]
    combined = combine_repeats(results, ["a", "b", "c"])
    assert combined.selected == ["b", "c"]           # two searches of three, the first's order
    assert combined.attributes["repeat_selections_"] == [["a"], ["b", "c"], ["c", "b"]]
    assert combined.attributes["baseline_loss_"] == pytest.approx(0.3)
    assert combined.attributes["validation_source_"] == "eval_set"
    assert combined.affinity["a"] == pytest.approx(0.3)


def test_repeats_combine_flags_by_all_and_refuse_what_has_no_rule():
    from molselect._repeats import mean_of

    flags = [pd.Series([True, True], index=["a", "b"]), pd.Series([True, False], index=["a", "b"])]
    assert mean_of(flags, "measured_").tolist() == [True, False]
    assert mean_of([{"a": np.array([1.0, 3.0])}, {"a": np.array([3.0, 5.0])}], "p_")["a"].tolist() \
        == [2.0, 4.0]
    with pytest.raises(TypeError, match="no rule combines the repeats' values of source_"):
        mean_of(["eval_set", "scaffold holdout"], "source_")
