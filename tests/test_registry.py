"""The registries: every registered selector runs from the command line, and a new one
is one module plus its registration (shown with a tiny selector defined here)."""

import json
import pickle

import pandas as pd
import pytest

from molselect._param_validation import InvalidParameterError
from molselect.base import TOP_K, BaseAuxiliarySelector, SelectionResult
from molselect.cli import build_parser, main
from molselect.registry import ESTIMATORS, SELECTORS

from conftest import TINY


def _choices(command, option):
    sub = next(a for a in build_parser()._actions if a.dest == "command").choices[command]
    return next(a for a in sub._actions if option in a.option_strings).choices


def test_the_command_line_offers_every_registered_selector_and_model():
    assert list(_choices("select", "--method")) == list(SELECTORS)
    assert list(_choices("evaluate", "--model")) == list(ESTIMATORS)
    assert list(_choices("transfer", "--model")) == list(ESTIMATORS)


# subset-effects trains a GIN for each of its designed runs: about a minute.
@pytest.mark.parametrize("method", [pytest.param(m, marks=pytest.mark.slow)
                                    if m == "subset-effects" else m for m in SELECTORS])
def test_every_registered_selector_runs_from_the_command_line(method, capsys, tmp_path):
    accepted = SELECTORS[method].build().get_params()
    tiny = {"--epochs": ("epochs", "1"), "--hidden-dim": ("hidden_dim", str(TINY["hidden_dim"])),
            "--num-layers": ("num_layers", str(TINY["num_layers"])),
            "--rounds": ("n_rounds", "1"), "--device": ("device", TINY["device"])}
    sizes = [x for flag, (param, value) in tiny.items() if param in accepted
             for x in (flag, value)]
    out = tmp_path / "sel.json"
    code = main(["select", "--target", "bbbp", "--candidates", "bace,esol", "--method", method,
                 "--preset", "fast", "--max-molecules", "30", "--quiet", "--out", str(out),
                 *sizes])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert f"{method} ranking of 2 candidates" in printed
    assert json.loads(out.read_text())["method"] == method


@pytest.mark.parametrize("method", list(SELECTORS))
def test_every_preset_builds_every_registered_selector(method):
    from molselect.presets import PRESETS, selector_params

    cls = SELECTORS[method].cls
    for preset in PRESETS:
        cls(**selector_params(cls, preset, **SELECTORS[method].params))._validate_params()


# -- a new selector: one module (this class) plus its registration -------------------------
class LargestFirstSelector(BaseAuxiliarySelector):
    """Rank the candidates by their number of molecules, largest first."""

    _parameter_constraints = {**BaseAuxiliarySelector._parameter_constraints, "top_k": TOP_K}

    def __init__(self, top_k=1, leakage_guard=True):
        self.top_k = top_k
        self.leakage_guard = leakage_guard

    def _score_candidates(self, target, candidates, eval_sets):
        return SelectionResult(pd.Series({n: float(len(d)) for n, d in candidates.items()}))


@pytest.fixture
def largest_first():
    SELECTORS.register("largest-first")(LargestFirstSelector)
    yield SELECTORS["largest-first"]
    SELECTORS.remove("largest-first")


def test_a_registered_selector_is_a_command_line_method(largest_first, capsys, tmp_path):
    assert "largest-first" in _choices("select", "--method")
    out = tmp_path / "largest.json"
    code = main(["select", "--target", "bbbp", "--candidates", "bace,esol", "--method",
                 "largest-first", "--max-molecules", "500", "--quiet", "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0 and "largest-first ranking of 2 candidates" in printed
    result = json.loads(out.read_text())
    assert result["selected"] == ["bace"] and result["ranking"] == ["bace", "esol"]
    # an option it has no parameter for is refused, with the class's name
    code = main(["select", "--target", "bbbp", "--candidates", "bace", "--method",
                 "largest-first", "--epochs", "2"])
    assert code == 2
    assert ("--epochs: not an option of --method largest-first (LargestFirstSelector)"
            in capsys.readouterr().err)


def test_a_name_is_registered_once(largest_first):
    with pytest.raises(ValueError, match="registered already"):
        SELECTORS.register("largest-first")(LargestFirstSelector)
    with pytest.raises(KeyError, match="unknown selector 'nope'; choose one of molgroup"):
        SELECTORS["nope"]


def test_a_renamed_selector_keeps_its_old_name_with_a_warning():
    """'all' (now 'all-candidates') was also the --candidates keyword for every dataset."""
    from molselect.cli.select import method_name

    assert "all-candidates" in SELECTORS and "all" not in SELECTORS
    assert "all" not in list(SELECTORS)   # not listed, not in --help
    with pytest.warns(FutureWarning, match="'all' is renamed 'all-candidates'"):
        assert SELECTORS["all"] is SELECTORS["all-candidates"]
    with pytest.warns(FutureWarning, match="renamed"):
        assert method_name("all") == "all-candidates"
    with pytest.warns(FutureWarning):
        args = build_parser().parse_args(["select", "--target", "bbbp", "--candidates", "bace",
                                          "--method", "all"])
    assert args.method == "all-candidates"
    with pytest.raises(KeyError, match="unknown selector"):
        SELECTORS.rename("old", "no-such-selector")


# -- abstract hooks and typed parameter errors ---------------------------------------------
def test_selector_hooks_are_abstract():
    from molselect.selectors._joint import JointTrainingSelector

    class NoScore(BaseAuxiliarySelector):
        pass

    class NoJointScore(JointTrainingSelector):
        pass

    for cls in (NoScore, NoJointScore):
        with pytest.raises(TypeError, match="abstract"):
            cls()


def test_parameter_errors_carry_the_parameter():
    from molselect import MolGroupSelector
    from molselect._checks import check_device

    for selector, param in [(MolGroupSelector(threshold=2.0), "threshold"),
                            (MolGroupSelector(epochs=2, warmup_epochs=2), "warmup_epochs"),
                            (MolGroupSelector(random_state=-1), "random_state")]:
        with pytest.raises(InvalidParameterError) as err:
            selector._validate_params()
        assert err.value.param == param and str(err.value).startswith(param)
        assert isinstance(err.value, ValueError) and isinstance(err.value, TypeError)
        again = pickle.loads(pickle.dumps(err.value))  # across joblib workers
        assert again.param == param and str(again) == str(err.value)
    with pytest.raises(InvalidParameterError) as err:
        check_device("nonsense", name="device")
    assert err.value.param == "device"


def test_every_select_option_sets_a_parameter_some_selector_has():
    from molselect.cli.select import _selector_options

    params = set().union(*(entry.build().get_params() for entry in SELECTORS.values()))
    for option in _selector_options():
        assert option.param is None or option.param in params, option
