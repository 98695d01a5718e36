"""scikit-learn API conventions for every public estimator and selector.

``ALL_ESTIMATORS`` is the one list of public estimators: add each new
selector or model here (an instance with default parameters) and every
check below runs on it.
"""

import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import (
    check_do_not_raise_errors_in_init_or_set_params,
    check_estimator_cloneable,
    check_estimator_repr,
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
)

import molselect as ms
from molselect.presets import ESTIMATOR_PRESETS, get_estimator_preset, selector_params

ALL_ESTIMATORS = [
    ms.MolGroupSelector(),
    ms.GINClassifier(),
    ms.GINRegressor(),
    ms.GraphormerClassifier(),
    ms.GraphormerRegressor(),
    ms.BeamSearchSelector(),
    ms.BeamSearchSelector(criterion="performance+structure"),
    ms.TAGSelector(),
    ms.Task2VecSelector(),
    ms.MTDNNSelector(),
    ms.AllAuxiliariesSelector(),
    ms.FingerprintSimilaritySelector(),
    ms.RandomSelector(),
]

CHECKS = [
    check_get_params_invariance, check_set_params, check_estimator_cloneable,
    check_estimator_repr, check_parameters_default_constructible,
    check_no_attributes_set_in_init, check_do_not_raise_errors_in_init_or_set_params,
]


def _name(obj):
    return getattr(obj, "__name__", None) or type(obj).__name__


@pytest.mark.parametrize("estimator", ALL_ESTIMATORS, ids=_name)
@pytest.mark.parametrize("check", CHECKS, ids=_name)
def test_sklearn_api_check(estimator, check):
    check(type(estimator).__name__, clone(estimator))


@pytest.mark.parametrize("estimator", ALL_ESTIMATORS, ids=_name)
def test_clone_get_set_params_repr(estimator):
    params = estimator.get_params()
    assert params
    # Deterministic selectors (all auxiliaries, fingerprint similarity) have no seed.
    name, value = ("random_state", 7) if "random_state" in params else ("leakage_guard", False)
    other = clone(estimator).set_params(**{name: value})
    assert other.get_params()[name] == value and params[name] != value
    assert type(estimator).__name__ in repr(other) and f"{name}={value}" in repr(other)


@pytest.mark.parametrize("name", sorted(ms.PRESETS))
def test_every_preset_names_real_selector_parameters(name):
    params = ms.get_preset(name)
    selector = ms.MolGroupSelector(**params)
    assert {k: selector.get_params()[k] for k in params} == params
    params["hidden_dim"] = -1  # a copy: the preset itself is untouched
    assert ms.get_preset(name) != params


def test_unknown_preset_lists_the_known_ones():
    with pytest.raises(ValueError, match="medium"):
        ms.get_preset("turbo")


@pytest.mark.parametrize("name", sorted(ESTIMATOR_PRESETS))
@pytest.mark.parametrize("model, estimator", [("gin", ms.GINClassifier),
                                              ("graphormer", ms.GraphormerRegressor)])
def test_every_estimator_preset_names_real_estimator_parameters(name, model, estimator):
    params = get_estimator_preset(name, model)
    assert {k: estimator(**params).get_params()[k] for k in params} == params


def test_selector_params_give_a_baseline_only_the_backbone():
    fast = ms.get_preset("fast")
    assert selector_params(ms.MolGroupSelector, "fast") == fast
    assert selector_params(ms.TAGSelector, "fast", epochs=None, top_k=2, n_rounds=3) == {
        "hidden_dim": fast["hidden_dim"], "num_layers": fast["num_layers"], "top_k": 2}
    # a short run keeps one epoch that trains the gate
    assert selector_params(ms.MolGroupSelector, "paper", epochs=1)["warmup_epochs"] == 0
