"""scikit-learn API conventions for every public estimator and selector.

``ALL_ESTIMATORS`` is read from the registries (:mod:`molselect.registry`):
every registered selector (with the parameters its name fixes) and both
classes of every registered model family, with default parameters, so a new
selector or model is checked here once it is registered.
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
from molselect._param_validation import InvalidParameterError
from molselect.presets import ESTIMATOR_PRESETS, get_estimator_preset, selector_params
from molselect.registry import ESTIMATORS, SELECTORS

ALL_ESTIMATORS = ([entry.build() for entry in SELECTORS.values()]
                  + [cls() for entry in ESTIMATORS.values() for cls in entry.classes]
                  + [ms.VerifiedSelector()])

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
@pytest.mark.parametrize("model, estimator", [(entry.name, cls) for entry in ESTIMATORS.values()
                                              for cls in entry.classes])
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
    # ... and averages the gate over no more epochs than train it
    short = selector_params(ms.MolGroupSelector, "stable", epochs=2)
    assert (short["warmup_epochs"], short["gate_epochs"]) == (1, 1)
    # the baselines take every backbone key a preset holds (today hidden_dim, num_layers)
    from molselect._param_validation import BACKBONE, BACKBONE_KEYS

    assert ms.BaseAuxiliarySelector._preset_keys == BACKBONE_KEYS == tuple(BACKBONE)


@pytest.mark.parametrize("given, param, match", [
    ({"epochs": 1, "warmup_epochs": 1}, "warmup_epochs",
     r"warmup_epochs must be in \[0, epochs\), got 1 with epochs=1"),
    ({"epochs": 2, "gate_epochs": 3}, "gate_epochs",
     r"gate_epochs must be at most epochs - warmup_epochs = 1 .*got 3"),
])
def test_selector_params_keep_given_values_and_the_selector_refuses_them(given, param, match):
    """No clamping of what was given; MolGroup's own check names the parameter."""
    with pytest.raises(InvalidParameterError, match=match) as info:
        selector_params(ms.MolGroupSelector, "stable", **given)
    assert info.value.param == param


def test_selector_params_fit_only_the_presets_epoch_split():
    # a given warmup_epochs is kept, and the preset's gate_epochs follows it
    params = selector_params(ms.MolGroupSelector, "stable", epochs=3, warmup_epochs=2)
    assert (params["epochs"], params["warmup_epochs"], params["gate_epochs"]) == (3, 2, 1)
    # a baseline's values go through its own check too
    with pytest.raises(InvalidParameterError, match="hidden_dim") as info:
        selector_params(ms.TAGSelector, "fast", hidden_dim=0)
    assert info.value.param == "hidden_dim"


def test_the_stable_preset_repeats_the_selectors_that_train_one_network():
    """Their tables then carry intervals; beam search (a network per combination) does not."""
    for cls in (ms.Task2VecSelector, ms.TAGSelector, ms.MTDNNSelector):
        params = selector_params(cls, "stable")
        assert params["n_repeats"] == 4 and params["hidden_dim"] == 64, cls.__name__
        assert selector_params(cls, "stable", n_repeats=1)["n_repeats"] == 1
    assert "n_repeats" not in selector_params(ms.BeamSearchSelector, "stable")
    assert "n_repeats" not in selector_params(ms.TaskTypeSelector, "stable")


def test_cli_select_epochs_1_runs_the_default_preset():
    """The documented quick trial (``--epochs``) keeps working with the "stable" preset."""
    from molselect.cli import build_parser
    from molselect.cli.select import make_selector

    args = build_parser().parse_args(["select", "--target", "bbbp", "--candidates", "bace",
                                      "--method", "molgroup", "--epochs", "1"])
    selector = make_selector(args)
    assert (selector.epochs, selector.warmup_epochs, selector.gate_epochs) == (1, 0, 1)


# -- declared parameters: the bad-parameter table, generated from the declarations ----------

def _invalid_values(constraints):
    """Values just outside a declaration: past each bound, and of other types."""
    from numbers import Integral

    from molselect._param_validation import Interval, make_constraint

    constraints = [make_constraint(c) for c in constraints]
    probes = ["not-an-option", True, float("nan"), -1, 3, 1.5]
    for c in constraints:
        if isinstance(c, Interval):
            step = 1 if c.type is Integral else 0.5
            if c.left is not None:
                probes.append(c.left - step if c.closed in ("left", "both") else c.left)
            if c.right is not None:
                probes.append(c.right + step if c.closed in ("right", "both") else c.right)
            if c.type is Integral:  # an integral float is not an integer
                probes.append(float(c.left if c.left is not None else c.right))

    def refused(value):
        for c in constraints:
            try:
                if c.is_satisfied_by(value):
                    return False
            except ValueError:  # the device check raises its own error
                pass
        return True

    return [v for v in probes if refused(v)]


DECLARED = [(est, name) for est in ALL_ESTIMATORS for name in est._parameter_constraints]


@pytest.fixture(scope="module")
def tiny_data():
    from molselect.datasets import MoleculeDataset

    target = MoleculeDataset(["CCO", "CCN", "CCC", "CO"], [0, 1, 0, 1], name="t")
    return target, {"a": MoleculeDataset(["C", "CC", "CCCl"], [1.0, 2.0, 0.5], name="a")}


@pytest.mark.parametrize("estimator", ALL_ESTIMATORS, ids=_name)
def test_every_parameter_is_declared(estimator):
    assert set(estimator._parameter_constraints) == set(estimator.get_params())


@pytest.mark.parametrize("estimator, name", DECLARED,
                         ids=[f"{_name(e)}-{n}" for e, n in DECLARED])
def test_fit_refuses_values_outside_the_declaration(estimator, name, tiny_data):
    target, pool = tiny_data
    values = _invalid_values(estimator._parameter_constraints[name])
    assert values, f"no invalid value was generated for {name}"
    for value in values:
        bad = clone(estimator).set_params(**{name: value})
        args = (target,) if isinstance(bad, ms.models.BaseGraphEstimator) else (target, pool)
        with pytest.raises(ValueError) as err:
            bad.fit(*args)
        # The one format: the message starts with the parameter's name.
        assert str(err.value).startswith(f"{name} must be"), (value, str(err.value))
        # ... and the error carries it, for the command line to map back to its option.
        assert isinstance(err.value, InvalidParameterError) and err.value.param == name


def test_readme_snippets_compile_and_name_what_exists():
    """The README's Python is what a new user pastes first: it must not name a missing API."""
    import ast
    import importlib
    import re
    from pathlib import Path

    import molselect

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    assert blocks
    for block in blocks:
        tree = ast.parse(block)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                module = importlib.import_module(node.module)
                for alias in node.names:
                    assert hasattr(module, alias.name), f"{node.module}.{alias.name}"
            elif (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                  and node.value.id == "ms"):
                assert hasattr(molselect, node.attr), f"molselect.{node.attr}"
