"""Selector + estimator as one scikit-learn pipeline, end to end on small data."""

import pickle

import numpy as np
import pytest
import sklearn
from sklearn.pipeline import make_pipeline

from molselect import GINClassifier, MolGroupSelector
from molselect.datasets import load_dataset

from conftest import TINY


def spaced(d, n):
    return d.subset(np.linspace(0, len(d) - 1, n).astype(int))


@pytest.fixture(scope="module")
def data():
    bace = load_dataset("bace")
    pool = {"esol": spaced(load_dataset("esol").train, 80),
            "clintox": spaced(load_dataset("clintox").train, 80)}
    return spaced(bace.train, 200), spaced(bace.valid, 60), spaced(bace.test, 60), pool


def make():
    selector = MolGroupSelector(n_rounds=1, epochs=2, warmup_epochs=1, top_k=1, random_state=0,
                                **TINY)
    model = GINClassifier(epochs=2, random_state=0, **TINY)
    return make_pipeline(selector, model)


def check_fitted(pipe, test):
    selector, model = pipe.steps[0][1], pipe.steps[-1][1]
    assert len(selector.selected_) == 1
    assert model.members_ == ["bace"] + selector.selected_
    proba = pipe.predict_proba(test)
    assert proba.shape == (len(test), 2)
    assert pipe.predict(test).shape == (len(test),)
    assert 0.0 <= pipe.score(test) <= 1.0
    return proba


@pytest.mark.probe("SK-04", "SK-06")
@pytest.mark.repeats_exactly
def test_pipeline_with_step_parameters(data):
    target, valid, test, pool = data
    pipe = make().fit(target, molgroupselector__auxiliaries=pool,
                      ginclassifier__eval_set=valid)
    proba = check_fitted(pipe, test)
    again = pickle.loads(pickle.dumps(pipe))
    np.testing.assert_array_equal(again.predict_proba(test), proba)
    assert pipe.steps[-1][1].best_score_ is not None


@pytest.mark.probe("SK-05")
def test_pipeline_with_metadata_routing(data):
    target, valid, test, pool = data
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = make().fit(target, auxiliaries=pool)
        check_fitted(pipe, test)
        assert pipe.steps[-1][1].best_score_ is None
        # eval_set reaches both steps: the leakage guard and the best epoch
        routed = make().fit(target, auxiliaries=pool, eval_set=valid)
        assert routed.steps[-1][1].best_score_ is not None
        assert routed.steps[0][1].n_leaked_ is not None


@pytest.mark.probe("SK-02")
def test_grid_search_over_the_pipeline_on_smiles_and_labels(data):
    """scikit-learn's model selection splits SMILES X and labels y; the union is the selector's."""
    from sklearn.model_selection import GridSearchCV

    target, _, test, pool = data
    small = {n: spaced(d, 30) for n, d in pool.items()}
    X, y = list(spaced(target, 48).ids), spaced(target, 48).y.ravel()
    search = GridSearchCV(make(), {"ginclassifier__hidden_dim": [8, 16]}, cv=2)
    search.fit(X, y, molgroupselector__auxiliaries=small)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    best = search.best_estimator_
    assert best[-1].members_ == ["target"] + best[0].selected_
    assert best[-1].hidden_dim == search.best_params_["ginclassifier__hidden_dim"]
    assert search.predict_proba(list(test.ids)).shape == (len(test), 2)
    assert 0.0 <= search.score(list(test.ids), test.y.ravel()) <= 1.0
