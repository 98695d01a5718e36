"""molselect._checks: the seed-list and job-count checks a command line calls, and the
random_state and device checks of every estimator and selector."""

import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from molselect import _checks
from molselect._checks import check_device, check_random_state
from molselect.models import GINClassifier
from molselect.selectors import MolGroupSelector, TAGSelector

from conftest import TINY


@pytest.mark.parametrize("given, seeds", [("3", [3]), ("0-3", [0, 1, 2, 3]),
                                          ("0,2, 5", [0, 2, 5]), (["0-1", "4"], [0, 1, 4]),
                                          (7, [7]),
                                          pytest.param("4294967296", [2 ** 32],
                                                       marks=pytest.mark.probe("CLI-07")),
                                          pytest.param("18446744073709551616", [2 ** 64],
                                                       marks=pytest.mark.probe("CLI-07"))])
def test_seed_lists_parse(given, seeds):
    assert _checks.parse_seeds(given) == seeds


@pytest.mark.parametrize("given, match", [
    pytest.param("-1", r"--seeds: seeds must be integers >= 0, got -1",
                 marks=pytest.mark.probe("CLI-05")),
    pytest.param("5-2", r"--seeds: the range '5-2' ends before it starts; write 2-5",
                 marks=pytest.mark.probe("CLI-03")),
    ("a", r"--seeds: expected a seed, a range"),
    ("", r"--seeds: no seed given"),
    ("0,1,1", r"--seeds: seeds repeat \(1\)"),
    (["0-3", "2"], r"--seeds: seeds repeat \(2\)"),
    pytest.param("0-1000000", r"--seeds: 1,000,001 seeds are more than the 1,000",
                 marks=pytest.mark.probe("CLI-04")),
])
def test_bad_seed_lists_name_the_option(given, match):
    with pytest.raises(ValueError, match=match):
        _checks.parse_seeds(given)


@pytest.mark.probe("CLI-04")
def test_a_huge_range_is_refused_without_being_built():
    start = time.perf_counter()
    with pytest.raises(ValueError, match="--repeats: 1,000,000,000,001 seeds"):
        _checks.parse_seeds("0-1000000000000", option="--repeats")
    assert time.perf_counter() - start < 1.0


@pytest.mark.probe("CLI-06")
def test_n_jobs_is_checked_and_named(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 4)
    assert _checks.parse_n_jobs("2") == 2 and _checks.parse_n_jobs(-1) == -1
    for bad in ("0", 0, "-5", "two", 1.5, True):
        with pytest.raises(ValueError, match="--n-jobs: "):
            _checks.parse_n_jobs(bad)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.text(alphabet="0123456789-, x", max_size=12),
                          st.integers(-3, 10**15)), max_size=4))
def test_seed_lists_fail_only_with_an_error_naming_the_option(values):
    try:
        seeds = _checks.parse_seeds(values, option="--seeds")
    except ValueError as exc:
        assert str(exc).startswith("--seeds: "), str(exc)
        return
    assert 0 < len(seeds) <= _checks.MAX_SEEDS and len(set(seeds)) == len(seeds)
    assert min(seeds) >= 0


# -- random_state and device, checked by every estimator and selector ----------------------
def test_random_state_accepts_random_state_and_generator(bbbp_tiny):
    """Probe 62: RandomState / Generator failed inside numpy in MolGroup and GIN."""
    seed = lambda r: check_random_state(r).entropy  # noqa: E731
    assert seed(7) == 7 and seed(None) != seed(None)
    assert seed(np.random.RandomState(0)) == seed(np.random.RandomState(0))
    assert seed(np.random.default_rng(0)) == seed(np.random.default_rng(0))
    target, _, pool, _ = bbbp_tiny
    sel = MolGroupSelector(n_rounds=1, epochs=2, top_k=1,
                           random_state=np.random.default_rng(0), **TINY)
    assert len(sel.fit(target, {"bace": pool["bace"]}).affinity_) == 1
    GINClassifier(epochs=1, random_state=np.random.RandomState(0), **TINY).fit(target)


@pytest.mark.parametrize("bad", [-1, 1.5, "seed"])
def test_bad_random_state_names_the_parameter(bad, bbbp_tiny):
    """Probe 63: -1 gave numpy's 'expected non-negative integer' without the parameter."""
    target, _, pool, _ = bbbp_tiny
    with pytest.raises(ValueError, match="random_state must be"):
        MolGroupSelector(n_rounds=1, epochs=2, random_state=bad, **TINY).fit(target, pool)
    with pytest.raises(ValueError, match="random_state must be"):
        GINClassifier(epochs=1, random_state=bad, **TINY).fit(target)


@pytest.mark.parametrize("bad", ["nonsense", "meta", 3])
def test_bad_device_names_the_parameter(bad, bbbp_tiny):
    """Probes 60-61: torch's long message (or a crash deep inside torch)."""
    target, _, pool, _ = bbbp_tiny
    with pytest.raises(ValueError, match="device"):
        check_device(bad)
    with pytest.raises(ValueError, match="device"):
        TAGSelector(epochs=1, **{**TINY, "device": bad}).fit(target, pool)
    with pytest.raises(ValueError, match="device"):
        GINClassifier(epochs=1, **{**TINY, "device": bad}).fit(target)
