"""The benchmarks package: it imports as a package, and every study rebuilds its report.

Each study runs as ``python -m benchmarks.studies.<name> --report-only`` in a
subprocess from the repository root, with ``MOLSELECT_BENCH_RESULTS`` pointing
at a copy of ``benchmarks/results/`` in a temporary folder: the report is
rebuilt from the committed records and the checkout is never written.  The
ground-truth and quality reports hash every available dataset into their fits'
keys, so they need the large datasets (``MOLSELECT_DATA``) and take minutes:
they are marked ``slow``.
"""

import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BENCHMARKS = REPO / "benchmarks"
RESULTS = BENCHMARKS / "results"
#: Not copied: the gitignored fit cache of the verified and outcome studies (no report
#: reads it).
UNCOPIED = ("verified_cache",)


@pytest.fixture
def common(monkeypatch):
    """:mod:`benchmarks.studies._common`, imported from this checkout."""
    monkeypatch.syspath_prepend(str(REPO))
    from benchmarks.studies import _common

    return _common


@pytest.fixture
def results(tmp_path):
    """A copy of the committed results folder."""
    copy = tmp_path / "results"
    shutil.copytree(RESULTS, copy, ignore=shutil.ignore_patterns(*UNCOPIED))
    return copy


def run_module(module, *args, results=None, timeout=300):
    """``python -m module *args`` from the repository root; its stdout (fails on an error)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    if results is not None:
        env["MOLSELECT_BENCH_RESULTS"] = str(results)
    out = subprocess.run([sys.executable, "-m", module, *args], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, f"{module} failed:\n{out.stdout[-2000:]}\n{out.stderr[-4000:]}"
    return out.stdout


def rebuild(study, results, reports, *args, timeout=300):
    """Rebuild ``study``'s report in ``results`` and check that each of ``reports`` is back.

    The reports are removed from the copy first, so each must be written anew; a
    Markdown report must start with the committed one's title.
    """
    for name in reports:
        (results / name).unlink(missing_ok=True)
    stdout = run_module(f"benchmarks.studies.{study}", "--report-only", *args,
                        results=results, timeout=timeout)
    for name in reports:
        made = results / name
        assert made.is_file() and made.stat().st_size, f"{study} did not write {name}"
        if name.endswith(".md") and (RESULTS / name).exists():
            title = (RESULTS / name).read_text().splitlines()[0]
            assert made.read_text().splitlines()[0] == title
    return stdout


def test_no_sys_path_edits():
    """The scripts run as modules of the package; none edits the import path."""
    edits = [str(p.relative_to(REPO)) for p in BENCHMARKS.rglob("*.py")
             if "sys.path" in p.read_text().replace("``sys.path``", "")]
    assert not edits


def test_every_module_imports():
    modules = sorted(".".join(p.relative_to(REPO).with_suffix("").parts)
                     for p in BENCHMARKS.rglob("*.py") if p.name != "__init__.py")
    assert "benchmarks.studies.bench_ground_truth" in modules
    code = "import " + ", ".join(modules) + "; print('ok')"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-4000:]


def test_results_folder_override(tmp_path):
    env = {**os.environ, "MOLSELECT_BENCH_RESULTS": str(tmp_path)}
    code = "from benchmarks._harness import RESULTS; print(RESULTS)"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == str(tmp_path)


def test_jsonl_files(tmp_path, common):
    """Plain and gzip JSON lines round-trip; a gzip member cut short is left out."""
    append_jsonl, read_jsonl = common.append_jsonl, common.read_jsonl

    assert read_jsonl(tmp_path / "none.jsonl.gz") == []
    for name in ("runs.jsonl", "runs.jsonl.gz"):
        path = tmp_path / name
        append_jsonl(path, {"a": 1})
        append_jsonl(path, {"b": 2.5})
        assert read_jsonl(path) == [{"a": 1}, {"b": 2.5}]
    path = tmp_path / "runs.jsonl.gz"
    with open(path, "ab") as handle:
        handle.write(gzip.compress(b'{"c": 3}\n')[:-6])  # an interrupted append
    assert read_jsonl(path) == [{"a": 1}, {"b": 2.5}]


def test_shared_fits_archive_round_trip(tmp_path, common, monkeypatch):
    """The shared fit cache is archived whole and restored without touching a fit it has;
    a folder that never held a fit leaves the committed archive alone."""
    fits, archive = tmp_path / "fits", tmp_path / "fits.jsonl.gz"
    monkeypatch.setattr(common, "FITS", fits)
    monkeypatch.setattr(common, "FITS_ARCHIVE", archive)
    common.export_fits_if_any()
    assert not archive.exists()
    fits.mkdir()
    for key, score in (("b", 0.5), ("a", 0.25)):
        entry = {"result": {"key": key, "test_score": score}}
        (fits / f"{key}.json").write_text(json.dumps(entry))
    common.export_fits_if_any()
    assert [row["file"] for row in common.read_jsonl(archive)] == ["a.json", "b.json"]
    (fits / "a.json").unlink()
    (fits / "b.json").write_text("kept")
    common.import_fits()
    assert '"test_score": 0.25' in (fits / "a.json").read_text()
    assert (fits / "b.json").read_text() == "kept"
    (fits / "b.json").write_text('{"result": {"key": "b", "test_score": 0.5}}')
    common.export_fits()
    assert [row["entry"]["result"]["test_score"] for row in common.read_jsonl(archive)] \
        == [0.25, 0.5]


def test_ground_truth_cache_is_sound(common):
    """Every committed ground-truth fit is read back whole and under its own key."""
    path = RESULTS / "ground_truth_cache.jsonl.gz"
    keys = [entry["result"]["key"] for entry in common.read_jsonl(path)]
    cache = common.OneFileCache(path)
    assert len(cache) == len(keys) == len(set(keys)) > 0
    assert all(cache.get(key) is not None for key in keys)


@pytest.mark.slow
def test_protocol_report(results):
    rebuild("bench_protocol", results, ["protocol.md", "protocol.csv"])


def test_verified_report(results):
    rebuild("bench_verified", results, ["verified.md"])


def test_subsets_report(results):
    rebuild("bench_subsets", results, ["subsets.md", "subsets.csv"])


def test_splits_report(results):
    rebuild("bench_splits", results, ["splits.md"])


def test_molgroup_fidelity_report(results):
    rebuild("bench_molgroup_fidelity", results, ["molgroup_fidelity.md"])


def test_outcomes_report(results):
    if not (results / "outcomes_runs.jsonl.gz").exists():
        stdout = rebuild("bench_outcomes", results, [])
        assert "no finished fits yet" in stdout
    else:
        rebuild("bench_outcomes", results, ["outcomes.md", "outcomes.csv", "outcomes.png"])


@pytest.mark.slow
def test_ground_truth_report(results, data_home):
    rebuild("bench_ground_truth", results,
            ["ground_truth.md", "ground_truth.csv", "ground_truth_summary.csv",
             "ground_truth_heatmap.png"], timeout=1200)


@pytest.mark.slow
def test_quality_report(results, data_home):
    rebuild("bench_quality", results, ["quality.md", "quality.csv"],
            "--targets", "sider", "clintox", "bbbp", timeout=1200)
