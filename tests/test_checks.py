"""molselect._checks: the seed-list and job-count checks a command line calls."""

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from molselect import _checks


@pytest.mark.parametrize("given, seeds", [("3", [3]), ("0-3", [0, 1, 2, 3]),
                                          ("0,2, 5", [0, 2, 5]), (["0-1", "4"], [0, 1, 4]),
                                          (7, [7]), ("4294967296", [4294967296])])
def test_seed_lists_parse(given, seeds):
    assert _checks.parse_seeds(given) == seeds


@pytest.mark.parametrize("given, match", [
    ("-1", r"--seeds: seeds must be integers >= 0, got -1"),
    ("5-2", r"--seeds: the range '5-2' ends before it starts; write 2-5"),
    ("a", r"--seeds: expected a seed, a range"),
    ("", r"--seeds: no seed given"),
    ("0,1,1", r"--seeds: seeds repeat \(1\)"),
    (["0-3", "2"], r"--seeds: seeds repeat \(2\)"),
    ("0-1000000", r"--seeds: 1,000,001 seeds are more than the 1,000"),
])
def test_bad_seed_lists_name_the_option(given, match):
    with pytest.raises(ValueError, match=match):
        _checks.parse_seeds(given)


def test_a_huge_range_is_refused_without_being_built():
    start = time.perf_counter()
    with pytest.raises(ValueError, match="--repeats: 1,000,000,000,001 seeds"):
        _checks.parse_seeds("0-1000000000000", option="--repeats")
    assert time.perf_counter() - start < 1.0


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
