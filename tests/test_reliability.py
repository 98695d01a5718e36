"""The reliability probes of issue 14, one test per defect (probe numbers in the docstrings).

Each of these failed on 84cd185.  Nearly all of them fail fast, before any
training; the few that train use tiny models on a few dozen molecules.
"""

import gzip
import json
import os
import re
import stat
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from molselect._checks import check_device, check_random_state
from molselect.base import BaseAuxiliarySelector, SelectionResult
from molselect.cli import main
from molselect.cli.evaluate import _auxiliaries_from
from molselect.datasets import MoleculeDataset, from_csv, from_frame, load_dataset
from molselect.featurize import _cache
from molselect.models import GINClassifier, GINRegressor
from molselect.selectors import (
    BeamSearchSelector,
    FingerprintSimilaritySelector,
    MolGroupSelector,
    MTDNNSelector,
    TAGSelector,
    Task2VecSelector,
)

SMILES = ["CCO", "CCN", "CCC", "c1ccccc1", "CC(=O)O", "CCCl", "C1CCCCC1", "c1ccncc1",
          "CC(C)O", "OCC(O)CO"]
TINY = dict(hidden_dim=16, num_layers=2, batch_size=16, device="cpu")


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def small():
    """A 40-molecule BBBP target, its validation split, and two 30-molecule candidates."""
    bbbp = load_dataset("bbbp")
    target = bbbp.train.subset(np.arange(0, 400, 10), name="bbbp")
    valid = bbbp.valid.subset(np.arange(40))
    esol = load_dataset("esol")
    pool = {"bace": load_dataset("bace").train.subset(np.arange(30), name="bace"),
            "esol": esol.train.subset(np.arange(30), name="esol")}
    return target, valid, pool, esol.valid.subset(np.arange(40))


class _Stub(BaseAuxiliarySelector):
    """A selector whose scores are given: to test the base class alone."""

    def __init__(self, scores=None, top_k=2, fail=False):
        self.scores = scores
        self.top_k = top_k
        self.fail = fail

    def _score_candidates(self, target, candidates, eval_sets):
        if self.fail:
            raise KeyboardInterrupt
        return SelectionResult(pd.Series(self.scores, index=list(candidates)))


def _no_data(monkeypatch):
    """Make any data loading by the CLI fail the test: checks must come first."""
    import molselect.cli._inputs as inputs

    def forbidden(*args, **kwargs):
        raise AssertionError("data was loaded before the arguments were checked")

    monkeypatch.setattr(inputs, "load_target", forbidden)


# -- 1. non-finite labels ------------------------------------------------------------------
@pytest.mark.parametrize("bad", [np.inf, -np.inf, 1e300])
def test_from_frame_refuses_non_finite_or_float32_overflowing_labels(bad):
    """Probes 33-35: one inf or 1e300 label was accepted (and flipped 0/1 to regression)."""
    frame = pd.DataFrame({"smiles": SMILES, "y": [0, 1] * 4 + [bad, 1]})
    with pytest.raises(ValueError, match=r"column 'y'.*at row 8"):
        from_frame(frame, name="t")


def test_from_csv_names_file_column_and_row_of_an_overflowing_label(tmp_path):
    """Probe 34: a CSV label 1e309 (inf once read) in a candidate poisoned every affinity."""
    path = tmp_path / "esol_big.csv"
    path.write_text("smiles,logS\n" + "".join(f"{s},{i}\n" for i, s in enumerate(SMILES[:5]))
                    + "CCCC,1e309\n")
    with pytest.raises(ValueError, match=r"esol_big.csv: column 'logS'.*at row 5"):
        from_csv(path)


def test_dataset_built_directly_or_duck_typed_refuses_inf():
    """Probe 36: GINRegressor trained to NaN on an inf label of a dataset built by hand."""
    with pytest.raises(ValueError, match=r"dataset 'd': column 'task0'.*row 2"):
        MoleculeDataset(SMILES[:4], [1.0, 2.0, np.inf, 3.0], name="d")

    class Duck:
        ids = np.array(SMILES[:4], dtype=object)
        y = np.array([[1.0], [np.inf], [2.0], [3.0]])

    with pytest.raises(ValueError, match="non-finite"):
        GINRegressor(epochs=1, **TINY).fit(Duck())


def test_selector_refuses_non_finite_affinities_naming_the_candidate(small):
    """Probe 33: all-NaN affinities still gave 'the first top_k in input order'."""
    target, _, pool, _ = small
    with pytest.raises(ValueError, match=r"'esol' \(nan\).*not finite"):
        _Stub(scores=[0.5, np.nan]).fit(target, pool)


# -- 2. --out ------------------------------------------------------------------------------
@pytest.mark.parametrize("where", ["under_a_file", "a_directory"])
def test_select_checks_out_before_loading_any_data(where, capsys, tmp_path, monkeypatch):
    """Probe 119: the selection ran first, then failed on --out with a bare errno."""
    _no_data(monkeypatch)
    (tmp_path / "small.csv").write_text("x\n")
    out = tmp_path / "small.csv" / "r.json" if where == "under_a_file" else tmp_path
    code, _, err = run(capsys, "select", "--target", "bbbp", "--candidates", "bace",
                       "--out", str(out))
    assert code == 2
    assert "--out" in err and str(out) in err and "Traceback" not in err


def test_evaluate_checks_out_before_training(capsys, tmp_path, monkeypatch):
    """Probe 120: evaluate trained every model, then lost the results on a bad --out."""
    _no_data(monkeypatch)
    (tmp_path / "f").write_text("x\n")
    code, _, err = run(capsys, "evaluate", "--target", "bbbp", "--out",
                       str(tmp_path / "f" / "e.json"))
    assert code == 2 and "--out" in err


def test_results_are_written_atomically(capsys, tmp_path, monkeypatch):
    """Probe 119: a failed write must leave the old file whole, no temporary file, and say so."""
    path = tmp_path / "r.json"
    path.write_text("old\n")

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the feature cache cannot write either
        code, _, err = run(capsys, "select", "--target", "bbbp", "--candidates", "bace,esol",
                           "--method", "fingerprint", "--max-molecules", "30", "--quiet",
                           "--out", str(path))
    assert code == 2 and "--out" in err and "No space left" in err
    assert path.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]


# -- 3. eval_set of another task -----------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda: BeamSearchSelector(epochs=1, random_state=0, **TINY),
    lambda: MolGroupSelector(epochs=2, n_rounds=1, random_state=0, **TINY),
    lambda: FingerprintSimilaritySelector(),
])
def test_selectors_refuse_an_eval_set_of_another_task(make, small):
    """Probe 64: ESOL's validation split was scored by beam search as BBBP's."""
    target, _, pool, esol_valid = small
    with pytest.raises(ValueError, match=r"eval_set\[0\]'s task"):
        make().fit(target, pool, eval_set=[esol_valid])


def test_unlabelled_eval_set_message_names_the_real_cause(small):
    """Probe 137: 'tasks ['p_np'] (1) do not match ... ['p_np'] (1)' contradicted itself."""
    target, valid, _, _ = small
    empty = MoleculeDataset(valid.ids, np.full(len(valid), np.nan), tasks=["p_np"])
    with pytest.raises(ValueError, match="task types.*no labels at all"):
        GINClassifier(epochs=1, **TINY).fit(target, eval_set=empty)


# -- 4. damaged data files -----------------------------------------------------------------
def _bbbp_text(n=None):
    frame = load_dataset("bbbp").full.to_frame()
    return frame.iloc[:n].to_csv(index=False) if n else frame.to_csv(index=False)


def test_truncated_gz_names_the_file(tmp_path):
    """Probe 26: EOFError without the file name (and a traceback in the CLI)."""
    path = tmp_path / "t.csv.gz"
    data = gzip.compress(_bbbp_text(200).encode())
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"t\.csv\.gz: the compressed file is truncated"):
        from_csv(path)


def test_non_gzip_and_latin1_files_name_the_file(tmp_path):
    """Probes 24-25: BadGzipFile / UnicodeDecodeError without the file name."""
    fake = tmp_path / "fake.csv.gz"
    fake.write_text("not gzip at all\n")
    with pytest.raises(ValueError, match=r"fake\.csv\.gz: the file is not valid gzip"):
        from_csv(fake)
    latin = tmp_path / "latin.csv"
    latin.write_bytes("smiles,y\nCCO,1\nCC\xe9,0\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"latin\.csv: the file is not UTF-8.*encoding="):
        from_csv(latin)


@pytest.mark.parametrize("damage", ["truncated", "empty", "not_gzip"])
def test_damaged_data_home_file_says_to_delete_it(damage, tmp_path, monkeypatch):
    """Probes 93-94: a damaged data-home file raised an error without the file or a fix."""
    monkeypatch.delenv("MOLSELECT_DATA", raising=False)
    path = tmp_path / "bbbp.csv.gz"
    data = gzip.compress(_bbbp_text().encode())
    path.write_bytes({"truncated": data[: len(data) // 2], "empty": b"",
                      "not_gzip": b"no gzip here"}[damage])
    with pytest.raises(ValueError, match=r"bbbp\.csv\.gz.*Delete .*bundled copy"):
        load_dataset("bbbp", data_home=tmp_path)


def test_data_home_file_with_fewer_rows_than_the_registry_warns(tmp_path, monkeypatch):
    """Probe 95: hiv.csv.gz cut to 49 rows loaded silently."""
    monkeypatch.delenv("MOLSELECT_DATA", raising=False)
    path = tmp_path / "bbbp.csv.gz"
    path.write_bytes(gzip.compress(_bbbp_text(49).encode()))
    with pytest.warns(UserWarning, match=r"has 49 rows but the registry's .* has 2039"):
        load_dataset("bbbp", data_home=tmp_path)


def test_cli_shows_no_traceback_for_a_truncated_csv(capsys, tmp_path):
    """Probe 115: a truncated .csv.gz target gave a raw Python traceback."""
    path = tmp_path / "t.csv.gz"
    data = gzip.compress(_bbbp_text(200).encode())
    path.write_bytes(data[: len(data) // 2])
    code, _, err = run(capsys, "select", "--target", str(path), "--candidates", "bace")
    assert code == 2 and "truncated" in err and "Traceback" not in err


def test_cli_reports_an_unexpected_exception_without_a_traceback(capsys, monkeypatch):
    """Probe 115: exceptions outside main()'s list escaped as tracebacks."""
    import molselect.cli._inputs as inputs

    def boom(args):
        raise EOFError("unexpected")

    monkeypatch.setattr(inputs, "load_target", lambda *a, **k: boom(a))
    code, _, err = run(capsys, "select", "--target", "bbbp", "--candidates", "bace")
    assert code == 1 and "EOFError: unexpected" in err and "--debug" in err


# -- 5. labels -----------------------------------------------------------------------------
@pytest.mark.parametrize("labels", [[0, 1, 2] * 3 + [1], [0, 0.5] * 5])
def test_forced_classification_on_non_binary_labels_is_refused(labels):
    """Probe 32: from_frame accepted task_types='classification' on 0/1/2 or 0.5."""
    frame = pd.DataFrame({"smiles": SMILES, "y": labels})
    with pytest.raises(ValueError, match="'y' is classification but has labels other"):
        from_frame(frame, task_types="classification")


def test_selectors_refuse_non_binary_classification_labels(small):
    """Probe 32: MolGroupSelector trained BCE on a label 2 of a duck-typed dataset."""
    target, _, pool, _ = small

    class Duck:
        ids = np.array(SMILES, dtype=object)
        y = np.array([0, 1, 2, 1, 0, 1, 0, 1, 0, 1], dtype=float)
        task_types = ["classification"]

    with pytest.raises(ValueError, match="labels other than 0 and 1"):
        MolGroupSelector(n_rounds=1, epochs=2, **TINY).fit(target, {"duck": Duck(), **pool})


def test_integer_labels_inferred_as_regression_warn():
    """Probe 31: 0/1/2 labels silently became a regression task."""
    frame = pd.DataFrame({"smiles": SMILES, "y": [0, 1, 2] * 3 + [1]})
    with pytest.warns(UserWarning, match="'y' has only the integer labels 0, 1, 2"):
        data = from_frame(frame)
    assert data.task_types == ["regression"]


def test_empty_string_labels_are_missing_with_the_str_dtype():
    """Probe 45: pandas 3's 'str' dtype made '' a 'non-numeric label'."""
    frame = pd.DataFrame({"smiles": SMILES[:3], "y": pd.Series(["0", "1", ""], dtype="str")})
    data = from_frame(frame)
    assert np.isnan(data.y[2, 0]) and data.y[:2, 0].tolist() == [0.0, 1.0]


def test_gin_classifier_refuses_a_single_class_target():
    """Probe 30: a single-class target trained silently in GINClassifier."""
    data = MoleculeDataset(SMILES, np.zeros(10), task_types="classification", name="t")
    with pytest.raises(ValueError, match="only one class"):
        GINClassifier(epochs=1, **TINY).fit(data)


# -- 6. parameters -------------------------------------------------------------------------
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
def test_threshold_is_validated(key, bad, small):
    """Probes 54-55: 1.5 selected nothing, NaN disabled the threshold, '0.5' crashed numpy."""
    target, _, pool, _ = small
    with pytest.raises(ValueError, match="threshold must be"):
        _QUICK[key](threshold=bad).fit(target, pool)


def test_random_state_accepts_random_state_and_generator(small):
    """Probe 62: RandomState / Generator failed inside numpy in MolGroup and GIN."""
    seed = lambda r: check_random_state(r).entropy  # noqa: E731
    assert seed(7) == 7 and seed(None) != seed(None)
    assert seed(np.random.RandomState(0)) == seed(np.random.RandomState(0))
    assert seed(np.random.default_rng(0)) == seed(np.random.default_rng(0))
    target, _, pool, _ = small
    sel = MolGroupSelector(n_rounds=1, epochs=2, top_k=1,
                           random_state=np.random.default_rng(0), **TINY)
    assert len(sel.fit(target, {"bace": pool["bace"]}).affinity_) == 1
    GINClassifier(epochs=1, random_state=np.random.RandomState(0), **TINY).fit(target)


@pytest.mark.parametrize("bad", [-1, 1.5, "seed"])
def test_bad_random_state_names_the_parameter(bad, small):
    """Probe 63: -1 gave numpy's 'expected non-negative integer' without the parameter."""
    target, _, pool, _ = small
    with pytest.raises(ValueError, match="random_state must be"):
        MolGroupSelector(n_rounds=1, epochs=2, random_state=bad, **TINY).fit(target, pool)
    with pytest.raises(ValueError, match="random_state must be"):
        GINClassifier(epochs=1, random_state=bad, **TINY).fit(target)


@pytest.mark.parametrize("bad", ["nonsense", "meta", 3])
def test_bad_device_names_the_parameter(bad, small):
    """Probes 60-61: torch's long message (or a crash deep inside torch)."""
    target, _, pool, _ = small
    with pytest.raises(ValueError, match="device"):
        check_device(bad)
    with pytest.raises(ValueError, match="device"):
        TAGSelector(epochs=1, hidden_dim=16, num_layers=2, device=bad).fit(target, pool)
    with pytest.raises(ValueError, match="device"):
        GINClassifier(epochs=1, hidden_dim=16, num_layers=2, device=bad).fit(target)


@pytest.mark.parametrize("argv, option", [
    (["--threshold", "2"], "--threshold"), (["--threshold", "nan"], "--threshold"),
    (["--seed", "-1"], "--seed"), (["--device", "nonsense"], "--device"),
])
def test_cli_refuses_bad_selector_options_before_loading_data(argv, option, capsys,
                                                                 monkeypatch):
    """Probes 112-114: accepted (rc 0), or refused after the data loaded without the option."""
    _no_data(monkeypatch)
    code, _, err = run(capsys, "select", "--target", "bbbp", "--candidates", "bace",
                       "--method", "molgroup", *argv)
    assert code == 2 and option in err


# -- 7. the rest of the table --------------------------------------------------------------
def test_cache_files_follow_the_umask(tmp_path, monkeypatch):
    """Probe 91: cache files were 0600, so a shared cache was 'corrupted' for the others."""
    monkeypatch.setenv("MOLSELECT_CACHE", str(tmp_path))
    previous = os.umask(0o022)
    try:
        _cache.load_or_build("probe", ["CCO"], lambda: {"a": np.arange(3)})
    finally:
        os.umask(previous)
    (path,) = (tmp_path / "probe").glob("*.npz")
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_crafted_cache_metadata_is_rebuilt_not_a_crash(tmp_path, monkeypatch):
    """Probe 84: metadata holding a JSON list raised AttributeError."""
    monkeypatch.setenv("MOLSELECT_CACHE", str(tmp_path))
    build = lambda: {"a": np.arange(3)}  # noqa: E731
    _cache.load_or_build("probe", ["CCO"], build)
    (path,) = (tmp_path / "probe").glob("*.npz")
    np.savez(path, a=np.arange(3),
             __molselect_meta__=np.frombuffer(b'["a list"]', dtype=np.uint8))
    with pytest.warns(RuntimeWarning, match="corrupted"):
        out = _cache.load_or_build("probe", ["CCO"], build)
    np.testing.assert_array_equal(out["a"], np.arange(3))


def test_unreadable_cache_file_is_not_called_corrupted(tmp_path, monkeypatch):
    """Probe 91: 'is corrupted ([Errno 13] Permission denied)' was the wrong diagnosis."""
    monkeypatch.setenv("MOLSELECT_CACHE", str(tmp_path))
    build = lambda: {"a": np.arange(3)}  # noqa: E731
    _cache.load_or_build("probe", ["CCO"], build)

    def denied(*args):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(_cache, "_read", denied)
    with pytest.warns(RuntimeWarning, match="cannot be read") as record:
        _cache.load_or_build("probe", ["CCO"], build)
    assert not any("corrupted" in str(w.message) for w in record)


def test_malformed_with_json_is_named(capsys, tmp_path):
    """Probe 121: 'Expecting value: line 1 column 22' without the file name."""
    path = tmp_path / "sel.json"
    path.write_text('{"selected": ["bace",}')
    code, _, err = run(capsys, "evaluate", "--target", "bbbp", "--with", str(path))
    assert code == 2 and "sel.json" in err and "not a valid JSON" in err


def test_selected_as_a_string_is_refused_with_a_hint(capsys, tmp_path):
    """Probe 123: "selected": "bace" was iterated into "unknown dataset 'b'"."""
    path = tmp_path / "sel.json"
    path.write_text(json.dumps({"selected": "bace"}))
    code, _, err = run(capsys, "evaluate", "--target", "bbbp", "--with", str(path))
    assert code == 2 and "must be a list of dataset names" in err


def test_relative_csv_in_a_selection_file_is_resolved_against_its_folder(tmp_path,
                                                                          monkeypatch):
    """Probe 127: relative CSV paths broke `evaluate` run from another folder."""
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "esol200.csv").write_text("smiles,y\nCCO,1\n")
    path = folder / "r.json"
    path.write_text(json.dumps({"selected": ["esol200", "bace"],
                                "sources": {"esol200": "esol200.csv", "bace": "bace"}}))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert _auxiliaries_from([str(path)]) == [str(folder / "esol200.csv"), "bace"]


def test_select_records_csv_sources_relative_to_the_json(tmp_path, monkeypatch):
    """Probe 127: the recorded path must not depend on the folder `select` ran in."""
    from molselect._selection_file import source_for as _source_for

    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "c.csv").write_text("smiles,y\nCCO,1\n")
    assert _source_for("data/c.csv", tmp_path / "out" / "r.json") == "../data/c.csv"
    assert _source_for("bace", tmp_path / "out" / "r.json") == "bace"


def test_auxiliary_identical_to_the_target_is_warned_about(small):
    """Probe 48: a copy of the target was ranked #1 and selected without comment."""
    target, _, pool, _ = small
    with pytest.warns(UserWarning, match="'copy' is a copy of the target"):
        FingerprintSimilaritySelector(top_k=1).fit(target, {"copy": target, **pool})


def test_lone_surrogate_smiles_is_an_invalid_smiles_with_its_row():
    """Probe 16: UnicodeEncodeError without a row, and on_invalid='drop' did not drop it."""
    frame = pd.DataFrame({"smiles": ["CCO", "C\udcffC", "CCN"], "y": [0, 1, 0]})
    with pytest.raises(ValueError, match="rows .*1 "):
        from_frame(frame)
    with pytest.warns(UserWarning, match="dropped 1"):
        data = from_frame(frame, on_invalid="drop")
    assert data.dropped_rows.tolist() == [1] and len(data) == 2


def test_non_string_smiles_are_not_called_empty():
    """Probe 7: integer or bytes SMILES were reported as 'empty SMILES'."""
    frame = pd.DataFrame({"smiles": ["CCO", 42, b"CCN"], "y": [0, 1, 0]})
    with pytest.raises(ValueError, match=r"2 value\(s\).*are not strings.*42 \(int\)"):
        from_frame(frame)


def test_failed_refit_leaves_no_stale_selection(small):
    """Probe 104: an interrupted refit left the previous selected_ looking valid."""
    target, _, pool, _ = small
    sel = _Stub(scores=[0.5, 0.2]).fit(target, pool)
    assert sel.selected_ == ["bace", "esol"]
    sel.set_params(fail=True)
    with pytest.raises(KeyboardInterrupt):
        sel.fit(target, pool)
    assert not hasattr(sel, "selected_") and not hasattr(sel, "affinity_")


def test_weights_with_the_wrong_row_count_are_a_value_error():
    """Probe 41: w with n-1 rows raised an internal IndexError."""
    with pytest.raises(ValueError, match=r"w has shape \(3, 1\).*one weight row per molecule"):
        MoleculeDataset(SMILES[:4], np.ones(4), w=np.ones((3, 1)), name="d")


def test_complex_and_datetime_labels_are_refused():
    """Probe 46: complex and datetime labels were cast silently."""
    with pytest.raises(ValueError, match="complex"):
        from_frame(pd.DataFrame({"smiles": SMILES[:2], "y": [1 + 2j, 3]}))
    with pytest.raises(ValueError, match="dates or times"):
        from_frame(pd.DataFrame({"smiles": SMILES[:2],
                                 "y": pd.to_datetime(["2020-01-01", "2021-01-01"])}))


# -- property-based: every failure of from_frame / from_csv is documented --------------------
_TOKENS = st.sampled_from(["C", "c", "N", "O", "(", ")", "=", "1", "[", "]", "+", "Cl", "@",
                           "\udcff", "☃", " ", "", "\x00"])
_SMILES = st.one_of(
    st.lists(_TOKENS, max_size=8).map("".join),
    st.text(max_size=8),
    st.sampled_from(SMILES),
    st.none(), st.integers(), st.just(float("nan")),
)
_LABEL = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True), st.integers(-5, 5),
    st.sampled_from(["", " ", "0", "1", "a", "1e309", "nan", "-inf"]), st.none(),
)


def _documented(exc):
    assert isinstance(exc, (ValueError, TypeError)), repr(exc)
    message = str(exc)
    assert "row" in message or "column" in message, message


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(st.tuples(_SMILES, _LABEL), min_size=1, max_size=8),
       task_types=st.sampled_from([None, "classification", "regression"]),
       on_invalid=st.sampled_from(["raise", "drop"]))
def test_from_frame_fails_only_with_documented_errors(rows, task_types, on_invalid):
    frame = pd.DataFrame({"smiles": [r[0] for r in rows],
                          "y": pd.Series([r[1] for r in rows], dtype=object)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            data = from_frame(frame, task_types=task_types, on_invalid=on_invalid)
        except Exception as exc:  # noqa: BLE001 - the property is about every exception
            _documented(exc)
            return
    assert np.all(np.isnan(data.y) | (np.abs(data.y) < 3.5e38))


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(body=st.lists(st.tuples(_SMILES, _LABEL), min_size=0, max_size=6),
       compress=st.booleans(), damage=st.sampled_from([None, "truncate", "latin-1"]))
def test_from_csv_fails_only_with_documented_errors(body, compress, damage, tmp_path):
    text = "smiles,y\n" + "".join(f"{s},{y}\n" for s, y in body) + "CCO,1\nCCN,0\n"
    path = tmp_path / ("f.csv.gz" if compress else "f.csv")
    if damage == "latin-1":
        data = (text + "CC\xe9,1\n").encode("latin-1", "replace")
    else:
        data = text.encode("utf-8", "surrogatepass")
    if compress:
        data = gzip.compress(data)
        if damage == "truncate":
            data = data[: len(data) // 2]
    path.write_bytes(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            from_csv(path, on_invalid="drop")
        except Exception as exc:  # noqa: BLE001 - the property is about every exception
            assert isinstance(exc, (ValueError, TypeError)), repr(exc)
            assert "f.csv" in str(exc), str(exc)


# -- 8. interruption: per-round checkpoints and resume (item 3 of the issue) -----------------
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


def test_checkpoint_of_other_parameters_or_data_is_refused(small, tmp_path):
    """Probe 98: a checkpoint must never be resumed by another selection."""
    target, _, pool, _ = small
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


def test_cli_checkpoint_needs_molgroup(capsys, monkeypatch):
    """Probe 98: --checkpoint for a method that cannot resume is refused up front."""
    _no_data(monkeypatch)
    code, _, err = run(capsys, "select", "--target", "bbbp", "--candidates", "bace",
                       "--method", "tag", "--checkpoint", "c.json")
    assert code == 2 and "--checkpoint" in err


def test_sigterm_exits_as_cleanly_as_ctrl_c(capsys, monkeypatch):
    """Probe 99: SIGTERM printed nothing (and left joblib workers behind)."""
    import signal
    import time

    import molselect.cli._inputs as inputs

    def terminated(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)
        raise AssertionError("SIGTERM was not handled")

    before = signal.getsignal(signal.SIGTERM)
    monkeypatch.setattr(inputs, "load_target", terminated)
    code, _, err = run(capsys, "select", "--target", "bbbp", "--candidates", "bace")
    assert code == 143 and "terminated" in err
    assert signal.getsignal(signal.SIGTERM) == before


# -- more of the table ---------------------------------------------------------------------
def test_eval_set_that_cannot_score_is_warned_about(small):
    """Probe 136: an all-NaN eval_set was ignored silently (best epoch = the last)."""
    target, valid, _, _ = small
    blank = MoleculeDataset(valid.ids, np.full(len(valid), np.nan),
                            task_types="classification", tasks=["p_np"])
    with pytest.warns(UserWarning, match="could not choose the best epoch"):
        GINClassifier(epochs=1, random_state=0, **TINY).fit(target, eval_set=blank)


def test_scoring_a_classifier_on_regression_labels_says_so(small):
    """Probe 131: sklearn's 'continuous format is not supported' from its internals."""
    target, _, _, esol_valid = small
    est = GINClassifier(epochs=1, random_state=0, **TINY).fit(target)
    renamed = MoleculeDataset(esol_valid.ids, esol_valid.y, tasks=target.tasks,
                              task_types="regression")
    with pytest.raises(ValueError, match=r"score: X.s task types \[.regression.\] do not match"):
        est.score(renamed)


def test_invalid_smiles_in_featurization_name_the_dataset(small):
    """Probe 42: '1 invalid SMILES (position: SMILES) 119: 'xx'' named no dataset."""
    target, _, pool, _ = small
    bad = MoleculeDataset(["CCO", "xx", "CCN"], [1.0, 2.0, 3.0], name="mine")
    with pytest.raises(ValueError, match="auxiliary dataset 'mine': 1 invalid SMILES"):
        TAGSelector(epochs=1, random_state=0, **TINY).fit(target, {"mine": bad})


def test_cache_file_without_a_required_array_is_rebuilt(tmp_path, monkeypatch):
    """Probe 85: a cache file with a valid key and checksum but no edge_attr: KeyError."""
    from molselect.featurize import featurize

    monkeypatch.setenv("MOLSELECT_CACHE", str(tmp_path))
    smiles = ["CCO", "c1ccccc1"]
    expected = featurize(smiles)
    (path,) = (tmp_path / "ogb_graphs").glob("*.npz")
    with np.load(path) as npz:
        arrays = {k: npz[k] for k in npz.files if k not in ("edge_attr", "__molselect_meta__")}
    key = path.stem
    _cache._write(path, key, arrays)
    with pytest.warns(RuntimeWarning, match="missing array"):
        again = featurize(smiles)
    np.testing.assert_array_equal(again.edge_attr, expected.edge_attr)


def test_unknown_dataset_that_looks_like_a_path_says_no_file(capsys):
    """Probe 108: `--target ./missing_file` was reported as an unknown dataset only."""
    code, _, err = run(capsys, "select", "--target", "./missing_file", "--candidates", "bace")
    assert code == 2 and "No file './missing_file' exists" in err


def test_skeleton_leakage_guard_removes_stereo_and_salt_forms(small):
    """Probes 76-77: stereo variants and salt forms of test molecules passed the guard."""
    from molselect.datasets import find_overlap
    from molselect.selectors import AllAuxiliariesSelector

    held_out = ["C[C@H](N)C(=O)O", "C/C=C/C", "CCN"]
    variants = ["C[C@@H](N)C(=O)O", "CC(N)C(=O)O", "C/C=C\\C", "CCN.Cl", "CCN.O",
                "CC(=O)[O-]", "c1ccccc1"]
    assert not find_overlap(held_out, variants).any()
    assert find_overlap(held_out, variants, match="skeleton").tolist() == [
        True, True, True, True, True, False, False]
    target, _, _, _ = small
    test = MoleculeDataset(held_out, [0.0, 1.0, 0.0], task_types="classification",
                           tasks=target.tasks)
    aux = MoleculeDataset(variants, np.arange(7.0), name="aux")
    with pytest.warns(UserWarning, match="leakage guard removed 5"):
        union = AllAuxiliariesSelector(leakage_guard="skeleton").fit_transform(
            target, {"aux": aux}, eval_set=test)
    assert list(union["aux"].ids) == ["CC(=O)[O-]", "c1ccccc1"]
    with pytest.raises(ValueError, match="leakage_guard must be"):
        AllAuxiliariesSelector(leakage_guard="loose").fit(target, {"aux": aux})


def test_non_ascii_and_empty_smiles_are_invalid_everywhere():
    """Probes 15 and 43: '☃CC' was read as ethane, '' trained and predicted as 0 atoms."""
    from molselect.featurize import featurize

    frame = pd.DataFrame({"smiles": ["CCO", "☃CC", "\x00C", "CCN"], "y": [0, 1, 0, 1]})
    with pytest.raises(ValueError, match=r"2 SMILES could not be parsed.*rows .*1 .*2 "):
        from_frame(frame)
    with pytest.raises(ValueError, match="invalid SMILES"):
        featurize(["CCO", "☃CC"])
    with pytest.raises(ValueError, match="target dataset 'd': 1 empty SMILES at positions 1"):
        GINClassifier(epochs=1, **TINY).fit(
            MoleculeDataset(["CCO", "", "CCN", "CCC"], [0, 1, 0, 1], name="d"))
    est = GINClassifier(epochs=1, **TINY).fit(
        MoleculeDataset(["CCO", "CCC", "CCN", "CCCC"], [0, 1, 0, 1], name="d"))
    with pytest.raises(ValueError, match="empty SMILES"):
        est.predict(["", "CCO"])


def test_row_numbers_of_a_frame_with_its_own_index_say_they_are_positions():
    """Probe 19: with index 100..103 the message said row 2 for the label 102."""
    frame = pd.DataFrame({"smiles": ["CCO", "CCN", "xx", "CCC"], "y": [0, 1, 0, 1]},
                         index=[100, 101, 102, 103])
    with pytest.raises(ValueError, match="positions, not index labels.*rows.* 2 "):
        from_frame(frame)


_FEATURIZE_MANY = r'''
import sys
import numpy as np
from molselect.featurize import featurize
smiles = np.array(["CC(=O)Oc1ccccc1C(=O)O", "CN1C=NC2=C1C(=O)N(C(=O)N2C)C", "c1ccc2ccccc2c1",
                   "CCN(CC)CC"] * 50000, dtype=object)
print("start", flush=True)
featurize(smiles, n_jobs=2, cache=False)
print("finished", flush=True)
'''


def _descendants(pid):
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs /proc to find the workers")
def test_sigterm_during_parallel_featurization_leaves_no_workers(tmp_path):
    """Probe 100: SIGTERM left 2 loky workers and 2 resource trackers behind."""
    import signal
    import subprocess
    import sys
    import time

    proc = subprocess.Popen([sys.executable, "-c", _FEATURIZE_MANY], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "MOLSELECT_CACHE": str(tmp_path)})
    try:
        assert proc.stdout.readline().strip() == "start"
        deadline = time.monotonic() + 120
        workers = []
        while time.monotonic() < deadline and len(workers) < 2 and proc.poll() is None:
            time.sleep(0.2)
            workers = _descendants(proc.pid)
        assert len(workers) >= 2, "the workers never started"
        time.sleep(1.0)
        workers = _descendants(proc.pid)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGTERM
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(_alive(p) for p in workers):
        time.sleep(0.2)
    assert not [p for p in workers if _alive(p)], "worker processes were left behind"


# -- probe 10: a molecule too large to featurize in reasonable time ---------------------------
def _refused_quickly(call, seconds=5.0):
    import time

    start = time.perf_counter()
    with pytest.raises(ValueError) as caught:
        call()
    assert time.perf_counter() - start < seconds
    return str(caught.value)


def test_huge_smiles_is_refused_before_parsing_naming_row_size_and_limit(tmp_path):
    """Probe 10: 'C' * 100000 ran for minutes (quadratic featurization and keys), no message."""
    from molselect.datasets import MAX_SMILES_LENGTH

    huge = "C" * 100_000
    frame = pd.DataFrame({"smiles": ["CCO", "CCN", huge, "CCC"], "y": [0, 1, 0, 1]})
    message = _refused_quickly(lambda: from_frame(frame, name="big"))
    assert message.startswith("dataset 'big': 1 SMILES too long")
    assert "rows (0-based, header excluded) 2 (" in message
    assert "(100,000 characters)" in message and len(message) < 1000  # not the whole SMILES
    assert f"MAX_SMILES_LENGTH = {MAX_SMILES_LENGTH:,} characters" in message
    assert "square or the cube of its size" in message  # why
    assert "could not be parsed by RDKit" not in message  # it was never parsed
    path = tmp_path / "big.csv"
    frame.to_csv(path, index=False)
    assert "big.csv: 1 SMILES too long" in _refused_quickly(lambda: from_csv(path))


def test_huge_smiles_is_dropped_with_a_warning_like_other_invalid_rows():
    """Probe 10: with on_invalid='drop' the huge molecule is dropped and counted."""
    frame = pd.DataFrame({"smiles": ["CCO", "C" * 100_000, "xx", "CCC"], "y": [0, 1, 0, 1]})
    with pytest.warns(UserWarning, match=r"dropped 1 SMILES longer than MAX_SMILES_LENGTH "
                                         r"= 5,000 characters \(rows 1\) and 1 SMILES that "
                                         r"RDKit cannot parse \(rows 2\)"):
        data = from_frame(frame, on_invalid="drop")
    assert data.dropped_rows.tolist() == [1, 2] and list(data.ids) == ["CCO", "CCC"]


def test_huge_smiles_in_featurize_keys_overlap_and_split_is_invalid_not_a_hang():
    """Probe 10: featurize and canonical_keys called directly on a huge SMILES hung."""
    from molselect.datasets import (
        MAX_SMILES_LENGTH, canonical_keys, find_overlap, scaffold_split, skeleton_keys)
    from molselect.featurize import featurize, maccs_fingerprints

    huge = "C" * 100_000
    for call in (lambda: featurize(["CCO", huge], cache=False),
                 lambda: maccs_fingerprints(["CCO", huge], cache=False),
                 lambda: scaffold_split(["CCO", huge, "c1ccccc1"])):
        message = _refused_quickly(call)
        assert re.search(r"\b1\W{1,3}'C{30}'\.\.\. \(100,000 characters\)", message)
        assert f"MAX_SMILES_LENGTH = {MAX_SMILES_LENGTH:,}" in message
    # As for an unparsable SMILES: no key, and never a match (not even with itself).
    assert canonical_keys(["CCO", huge, "xx"]).tolist()[1:] == [None, None]
    assert skeleton_keys([huge]).tolist() == [None]
    assert find_overlap(["CCO", huge], [huge, "OCC"]).tolist() == [False, True]
    # A molecule at the limit itself is accepted everywhere.
    at_limit = "C" * MAX_SMILES_LENGTH
    frame = pd.DataFrame({"smiles": ["CCO", at_limit], "y": [0.5, 1.0]})
    assert len(from_frame(frame)) == 2
    assert featurize([at_limit], cache=False).num_nodes.tolist() == [MAX_SMILES_LENGTH]
    assert canonical_keys([at_limit])[0] is not None


def test_largest_real_molecule_passes_with_a_wide_margin():
    """Probe 10: the limit must not touch real data (sider's 1,340-character SMILES)."""
    from molselect.datasets import MAX_SMILES_LENGTH, canonical_keys
    from molselect.featurize import featurize

    longest = max(load_dataset("sider").full.ids, key=len)
    assert len(longest) == 1340
    assert MAX_SMILES_LENGTH >= 3 * len(longest)
    frame = pd.DataFrame({"smiles": [longest, "CCO"], "y": [0, 1]})
    assert len(from_frame(frame)) == 2
    assert featurize([longest], cache=False).num_nodes.tolist() == [476]
    assert canonical_keys([longest])[0] is not None


def test_scaffold_of_a_long_acyclic_molecule_is_immediate():
    """Probe 10: RDKit's Murcko decomposition is cubic: a 2,000-atom chain took 40 s."""
    import time

    from rdkit import Chem
    from rdkit.Chem.Scaffolds import MurckoScaffold

    from molselect.datasets import MAX_SMILES_LENGTH
    from molselect.datasets._split import murcko_scaffolds

    start = time.perf_counter()
    scaffolds = murcko_scaffolds(["C" * MAX_SMILES_LENGTH, "CC(C)(C)" * 600, "c1ccccc1CC"])
    assert time.perf_counter() - start < 5.0
    assert scaffolds == ["", "", "c1ccccc1"]
    # The shortcut gives what RDKit gives for every acyclic molecule.
    for name in ("esol", "freesolv"):
        for smiles in load_dataset(name).full.ids:
            mol = Chem.MolFromSmiles(smiles)
            if mol.GetRingInfo().NumRings() == 0:
                assert MurckoScaffold.MurckoScaffoldSmiles(mol=mol, includeChirality=True) == ""


# -- probe 92: the feature cache can be inspected, pruned and cleared ----------------------
def _fake_entry(folder, kind, name, size, age):
    path = folder / kind / f"{name}.npz"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    os.utime(path, (age, age))
    return path


def test_cache_info_and_pruning_delete_the_least_recently_used_first(tmp_path):
    old = _fake_entry(tmp_path, "ogb_graphs", "a", 100, 1_000)
    mid = _fake_entry(tmp_path, "maccs", "b", 100, 2_000)
    new = _fake_entry(tmp_path, "ogb_graphs", "c", 100, 3_000)
    mine = tmp_path / "notes.txt"  # not molselect's: never counted nor deleted
    mine.write_text("keep")
    info = _cache.cache_info(tmp_path)
    assert (info["files"], info["bytes"]) == (3, 300)
    assert info["kinds"]["ogb_graphs"] == {"files": 2, "bytes": 200}
    assert _cache.clear_cache(max_bytes=150, folder=tmp_path) == {"files": 2, "bytes": 200}
    assert not old.exists() and not mid.exists() and new.exists()
    assert _cache.clear_cache(folder=tmp_path) == {"files": 1, "bytes": 100}
    assert _cache.cache_info(tmp_path)["files"] == 0 and mine.exists()
    with pytest.raises(ValueError, match="max_bytes"):
        _cache.clear_cache(max_bytes=-1, folder=tmp_path)


def test_cli_cache_shows_prunes_and_clears(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MOLSELECT_CACHE", str(tmp_path))
    _fake_entry(tmp_path, "ogb_graphs", "a", 2048, 1_000)
    _fake_entry(tmp_path, "maccs", "b", 2048, 2_000)
    assert main(["cache"]) == 0
    out = capsys.readouterr().out
    assert str(tmp_path) in out and "2 file(s)" in out and "MOLSELECT_CACHE" in out
    assert main(["cache", "--prune", "3K"]) == 0
    assert "deleted 1 cached file(s)" in capsys.readouterr().out
    assert main(["cache", "--clear"]) == 0
    assert "deleted 1 cached file(s)" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["cache", "--prune", "lots"])
    assert "500M" in capsys.readouterr().err


# -- the two message warts the probe re-run found (probes 15 and 43) ------------------------
def test_non_ascii_smiles_message_does_not_blame_rdkit_alone():
    frame = pd.DataFrame({"smiles": ["CC", "\u2603CC"], "y": [0.0, 1.0]})
    with pytest.raises(ValueError, match=r"not printable ASCII.*rows .*1 ") as info:
        from_frame(frame, smiles_col="smiles", task_cols=["y"], name="d")
    assert "could not be parsed by RDKit" not in str(info.value)


def test_predicting_an_empty_smiles_names_the_molecules_not_a_dataset_none():
    data = load_dataset("bbbp").train.subset(np.arange(40))
    model = GINClassifier(hidden_dim=8, num_layers=1, epochs=1, random_state=0).fit(data)
    with pytest.raises(ValueError, match="the molecules given: 1 empty SMILES at positions 0"):
        model.predict(["", "CC"])
