"""The ``molselect`` command line: every command on bundled data, tiny, plus bad arguments."""

import gzip
import io
import json
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from molselect.cli import build_parser, main
from molselect.cli._inputs import auxiliary_specs
from molselect.registry import SELECTORS

from conftest import TINY, TINY_ARGS, bbbp_csv_text, fake_cache_entry

# A MolGroup selection small enough to take seconds on a CPU (MolGroup, not the default
# method: these tests exercise its options).
MOLGROUP_ARGS = ["--max-molecules", "40", "--epochs", "2", *TINY_ARGS, "--preset", "fast",
                 "--method", "molgroup"]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def selection(tmp_path_factory):
    """One tiny MolGroup selection with --out, shared by the tests that read its files."""
    out = tmp_path_factory.mktemp("select") / "result.json"
    code = main(["select", "--target", "bbbp", "--candidates", "bace,esol", "--rounds", "2",
                 "--top-k", "1", "--seed", "0", "--quiet", "--out", str(out), *MOLGROUP_ARGS])
    assert code == 0
    return out


@pytest.fixture
def csv_files(tmp_path):
    """A CSV target (from BBBP) and a CSV candidate (from ESOL) with unusual column names."""
    from molselect.datasets import load_dataset

    bbbp = load_dataset("bbbp").full.to_frame().iloc[:120]
    target = tmp_path / "my_target.csv"
    bbbp.rename(columns={"smiles": "SMILES", bbbp.columns[1]: "permeable"}).assign(
        note="x").to_csv(target, index=False)
    esol = load_dataset("esol").full.to_frame().iloc[:60]
    candidate = tmp_path / "my_solubility.csv"
    esol.rename(columns={"smiles": "SMILES"}).to_csv(candidate, index=False)
    return target, candidate


# -- help and the console script -----------------------------------------------------------
@pytest.mark.probe("CLI-01")
@pytest.mark.parametrize("command", [[], ["datasets"], ["select"], ["evaluate"], ["transfer"],
                                     ["cache"], ["train"], ["predict"], ["demo"]])
def test_help_of_every_command(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(command + ["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: molselect")
    if command == ["select"]:
        for option in ("--target", "--candidates", "--method", "--preset", "--out",
                       "--smiles-col", "--task-cols", "--max-molecules", "--epochs"):
            assert option in out


def test_console_script_runs_and_fails_cleanly():
    script = Path(sys.executable).with_name("molselect")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "molselect.cli"]
    ok = subprocess.run(command + ["--help"], capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0 and "select" in ok.stdout and "evaluate" in ok.stdout
    bad = subprocess.run(command + ["select", "--target", "nosuchset", "--candidates", "bace"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2
    assert "unknown dataset 'nosuchset'" in bad.stderr and "Traceback" not in bad.stderr


def test_methods_map_to_existing_selectors():
    import molselect
    from molselect.base import BaseAuxiliarySelector

    for method, entry in SELECTORS.items():
        assert issubclass(entry.cls, BaseAuxiliarySelector), method
        assert getattr(molselect, entry.class_name) is entry.cls, method   # public


# -- datasets --------------------------------------------------------------------------------
def test_datasets_lists_the_registry(capsys, tmp_path):
    code, out, _ = run(capsys, "datasets", "--data-home", str(tmp_path))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["name", "molecules", "loads", "tasks", "type", "metric",
                                "split", "available"]
    rows = {line.split()[0]: line.split() for line in lines[1:] if line.strip()}
    assert rows["bbbp"][-1] == "yes" and rows["bbbp"][5] == "roc_auc"
    assert rows["pcba"][-1] == "download"  # not bundled, and the data home is empty
    assert "data home: " + str(tmp_path) in out


def test_datasets_says_which_load_a_sample(capsys, tmp_path):
    """qm9 ships as a 3,000-molecule sample: the table must not pass it off as 130,831."""
    code, out, _ = run(capsys, "datasets", "--data-home", str(tmp_path))
    rows = {line.split()[0]: line.split() for line in out.splitlines()[1:] if line.strip()}
    assert rows["qm9"][1:3] == ["130831", "3000"]
    assert rows["qm9"][-2:] == ["yes", "(sample)"]
    assert rows["bbbp"][1] == rows["bbbp"][2]  # a full copy loads in full
    assert "qm8, qm9 are sampled" in out


def test_datasets_long_has_descriptions(capsys):
    code, out, _ = run(capsys, "datasets", "--long")
    assert code == 0 and "Blood-brain barrier" in out


# -- select ------------------------------------------------------------------------------------
def test_select_writes_json_and_history(selection):
    result = json.loads(selection.read_text())
    assert result["target"] == "bbbp" and result["method"] == "molgroup"
    assert set(result["ranking"]) == {"bace", "esol"}
    assert len(result["selected"]) <= 1
    assert set(result["affinity"]) == {"bace", "esol"}
    assert set(result["task_affinity"]) == {"bace", "esol"}
    params = result["parameters"]
    assert params["hidden_dim"] == TINY["hidden_dim"]
    assert params["epochs"] == 2 and params["n_rounds"] == 2
    assert params["random_state"] == 0 and params["warmup_epochs"] == 1
    assert result["max_molecules"] == 40
    history = pd.read_csv(selection.with_name("result.history.csv"))
    assert list(history.columns) == ["round", "epoch", "candidate", "affinity", "task_affinity",
                                     "structure_affinity", "target_loss", "affinity_std",
                                     "affinity_low", "affinity_high"]
    assert set(history["round"]) <= {1, 2}


def test_select_takes_the_linearized_meta_gradient(capsys, tmp_path):
    out = tmp_path / "lin.json"
    code, _, _ = run(capsys, "select", "--target", "bbbp", "--candidates", "bace", "esol",
                     "--rounds", "1", "--meta-gradient", "linearized", "--out", str(out),
                     *MOLGROUP_ARGS)
    assert code == 0
    assert json.loads(out.read_text())["parameters"]["meta_gradient"] == "linearized"


def test_select_prints_a_ranked_table(capsys):
    code, out, err = run(capsys, "select", "--target", "bbbp", "--candidates", "bace", "esol",
                         "--rounds", "1", "--top-k", "1", *MOLGROUP_ARGS)
    assert code == 0
    assert "target    bbbp: 40 molecules" in out
    table = out[out.index("candidate "):]
    for column in ("affinity", "task", "structure", "status"):
        assert column in table
    assert "selected #1" in table
    # One round: the candidate left out was not selected, not "dropped in round 1".
    assert "not selected" in table and "dropped in round" not in table
    # Not a terminal (a redirected log): no progress bar.
    assert "MolGroup round 1/1" not in err and "it/s" not in err


def test_select_baseline_from_csv_files(capsys, csv_files, tmp_path):
    target, candidate = csv_files
    out_file = tmp_path / "fp.json"
    code, out, _ = run(capsys, "select", "--target", str(target), "--candidates",
                       f"{candidate},bace", "--method", "fingerprint", "--smiles-col", "SMILES",
                       "--task-cols", "permeable", "--max-molecules", "40", "--quiet",
                       "--split", "random",
                       "--out", str(out_file))
    assert code == 0, out
    result = json.loads(out_file.read_text())
    assert result["target"] == "my_target"
    assert set(result["ranking"]) == {"my_solubility", "bace"}
    assert result["sources"]["my_solubility"] == str(candidate)
    assert not out_file.with_name("fp.history.csv").exists()  # no history for this method


def test_select_unknown_dataset_lists_known_names(capsys):
    code, _, err = run(capsys, "select", "--target", "bbpb", "--candidates", "bace")
    assert code == 2
    assert "unknown dataset 'bbpb'" in err and "Did you mean 'bbbp'" in err
    assert "tox21" in err and "qm9" in err


def test_select_unknown_candidate(capsys):
    code, _, err = run(capsys, "select", "--target", "bbbp", "--candidates", "bace,toxcats",
                       "--method", "fingerprint")
    assert code == 2 and "unknown dataset 'toxcats'" in err


def test_select_csv_without_the_named_column(capsys, csv_files):
    target, _ = csv_files
    code, _, err = run(capsys, "select", "--target", str(target), "--candidates", "bace",
                       "--smiles-col", "smi", "--method", "fingerprint")
    assert code == 2 and "smi" in err and "SMILES" in err  # names the column and what exists
    code, _, err = run(capsys, "select", "--target", str(target), "--candidates", "bace",
                       "--smiles-col", "SMILES", "--task-cols", "nope", "--method", "fingerprint")
    assert code == 2 and "nope" in err


def test_select_missing_csv_file(capsys, tmp_path):
    code, _, err = run(capsys, "select", "--target", str(tmp_path / "absent.csv"),
                       "--candidates", "bace")
    assert code == 2 and "absent.csv" in err


@pytest.mark.probe("CLI-16")
def test_candidate_file_with_a_comma_in_its_name(capsys, csv_files, monkeypatch):
    """CLI-16: an existing file is read whole; else the error says the value was split."""
    _, candidate = csv_files
    monkeypatch.chdir(candidate.parent)
    Path("csv").mkdir()
    candidate.rename("csv/assay, batch 2.csv")
    argv = ["select", "--target", "bbbp", "--method", "fingerprint", "--max-molecules", "40",
            "--smiles-col", "SMILES", "--quiet", "--candidates"]
    code, out, err = run(capsys, *argv, "csv/assay, batch 2.csv", "bace")
    assert code == 0, err
    assert "assay, batch 2" in out
    code, _, err = run(capsys, *argv, "csv/assay, batch 3.csv")
    assert code == 2
    assert "was split at its commas into 'csv/assay', 'batch 3.csv'" in err
    assert "No file 'csv/assay' exists" in err and "separate arguments" in err


@pytest.mark.probe("CLI-17")
def test_candidate_smiles_column_differs_from_the_target_s(capsys, csv_files):
    """CLI-17: --candidate-smiles-col names the candidates' SMILES column."""
    target, candidate = csv_files
    frame = pd.read_csv(target).rename(columns={"SMILES": "smiles"})
    frame.to_csv(target, index=False)
    argv = ["select", "--target", str(target), "--candidates", str(candidate), "--method",
            "fingerprint", "--task-cols", "permeable", "--max-molecules", "40", "--quiet",
            "--split", "random"]
    code, _, err = run(capsys, *argv)
    assert code == 2 and "no SMILES column 'smiles'" in err
    code, out, err = run(capsys, *argv, "--candidate-smiles-col", "SMILES")
    assert code == 0, err
    assert "my_solubility" in out


@pytest.mark.probe("CSV-08", "CSV-09")
def test_candidate_files_named_by_their_whole_stem(capsys, csv_files, tmp_path):
    """CSV-08/09: assay.v1.csv and assay.v2.csv are two candidates; '.csv' is not blank."""
    _, candidate = csv_files
    files = [tmp_path / name for name in ("assay.v1.csv", "assay.v2.csv", ".csv")]
    for file in files:
        file.write_text(candidate.read_text())
    code, out, err = run(capsys, "select", "--target", "bbbp", "--candidates",
                         ",".join(map(str, files)), "--method", "fingerprint",
                         "--smiles-col", "SMILES", "--max-molecules", "40")
    assert code == 0, err
    for name in ("assay.v1", "assay.v2", ".csv"):
        assert f"candidate {name}: 40 molecules" in out


@pytest.mark.probe("CLI-19")
def test_max_molecules_parses_only_a_sample_of_a_registry_candidate(capsys, monkeypatch):
    """CLI-19: --max-molecules N loads a seeded sample of 2N, not the whole candidate."""
    import molselect.datasets

    calls, load = [], molselect.datasets.load_dataset

    def recording(name, **kwargs):
        calls.append((name, kwargs.get("max_molecules")))
        return load(name, **kwargs)

    monkeypatch.setattr(molselect.datasets, "load_dataset", recording)
    code, out, err = run(capsys, "select", "--target", "bbbp", "--candidates", "esol,bace",
                         "--method", "fingerprint", "--max-molecules", "40", "--seed", "3")
    assert code == 0, err
    assert ("esol", 80) in calls and ("bace", 80) in calls
    assert "candidate esol: 40 molecules" in out and "candidate bace: 40 molecules" in out


def test_select_target_among_candidates(capsys):
    code, _, err = run(capsys, "select", "--target", "bbbp", "--candidates", "bace,bbbp",
                       "--method", "fingerprint")
    assert code == 2 and "target itself" in err


def test_candidates_all_is_every_other_available_dataset(tmp_path, monkeypatch):
    """One keyword, expanded alike for select, transfer and evaluate --with."""
    from molselect.cli._inputs import expand_all

    monkeypatch.chdir(tmp_path)
    every = expand_all(["all"], "bbbp")
    assert "bbbp" not in every and {"bace", "esol", "tox21"} <= set(every)
    mixed = expand_all(["bace", "all", "mine.csv"], "bbbp")
    assert mixed.count("bace") == 1 and mixed[0] == "bace" and mixed[-1] == "mine.csv"
    assert expand_all(["bace"], "bbbp") == ["bace"]


def test_a_file_named_all_is_never_taken_for_the_keyword(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "select", "--target", "all", "--candidates", "bace", *FP)
    assert code == 2 and "--target all" in err and "keyword of --candidates" in err
    (tmp_path / "all").write_text("smiles,y\nCCO,1\n")
    code, _, err = run(capsys, "select", "--target", "bbbp", "--candidates", "all", *FP)
    assert code == 2 and "--candidates all" in err and "file named all" in err
    assert "./all" in err
    code, _, err = run(capsys, "evaluate", "--target", "bbbp", "--with", "all")
    assert code == 2 and "--with all" in err


@pytest.mark.parametrize("argv", [
    ["select", "--target", "bbbp"],                                      # no candidates
    ["select", "--target", "bbbp", "--candidates", "bace", "--method", "magic"],
    ["select", "--target", "bbbp", "--candidates", "bace", "--preset", "huge"],
    ["select", "--target", "bbbp", "--candidates", "bace", "--epochs", "0"],
    ["select", "--target", "bbbp", "--candidates", "bace", "--max-molecules", "many"],
    ["evaluate", "--target", "bbbp", "--model", "transformer"],
    ["frobnicate"],
    [],
    pytest.param(["transfer", "--target", "bbbp", "--candidates", "bace", "--bogus"],
                 marks=pytest.mark.probe("CLI-02")),
])
def test_bad_arguments_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert "error:" in capsys.readouterr().err


# -- evaluate ----------------------------------------------------------------------------------
def test_evaluate_target_only_and_union(capsys, tmp_path):
    out_file = tmp_path / "eval.json"
    code, out, _ = run(capsys, "evaluate", "--target", "bbbp", "--with", "bace", "--seeds",
                       "0", "1", "--epochs", "1", "--max-molecules", "40", *TINY_ARGS,
                       "--out", str(out_file))
    assert code == 0
    assert "test roc_auc over seeds [0, 1]" in out
    assert "target only" in out and "target + bace" in out
    results = json.loads(out_file.read_text())["results"]
    assert [r["training data"] for r in results] == ["target only", "target + bace"]
    for row in results:
        assert 0.0 <= row["mean"] <= 1.0 and row["std"] >= 0.0
        assert len(row["seeds"].split()) == 2


def test_evaluate_shows_the_baselines_and_warns_of_fits_best_at_their_last_epoch(capsys,
                                                                                 tmp_path):
    out_file = tmp_path / "alone.json"
    code, out, err = run(capsys, "evaluate", "--target", "bbbp", "--seeds", "0", "1",
                         "--quiet", "--epochs", "1", "--max-molecules", "40", *TINY_ARGS,
                         "--out", str(out_file))
    assert code == 0
    block = out.split("context: test roc_auc")[1]
    assert "gin, target alone" in block and "random forest on ECFP4" in block
    assert "ROC-AUC 0.5 by construction" in block
    baselines = json.loads(out_file.read_text())["baselines"]
    assert baselines["mean"] == 0.5 and 0.0 <= baselines["random_forest"] <= 1.0
    assert baselines["target_alone"] == pytest.approx(
        json.loads(out_file.read_text())["results"][0]["mean"])
    # One epoch: every fit's best epoch is its last.
    # --epochs is the converged protocol's limit, which every fit ran into.
    assert "warning: in 2 of 2 fits of the target alone the best validation epoch was the " \
           "last one trained (the limit of 1 epochs, reached while still improving)" in err
    assert "may not have converged" in err and "a larger --epochs" in err
    code, out, err = run(capsys, "evaluate", "--target", "bbbp", "--seeds", "0", "--quiet",
                         "--epochs", "1", "--max-molecules", "40", *TINY_ARGS, "--no-baselines")
    assert code == 0 and "context:" not in out


def test_last_epoch_warning_needs_half_the_fits_at_a_limit_they_ran_into():
    from molselect.cli._context import last_epoch_warning

    # Half the fits best at their last epoch: warned.
    assert "2 of 4 fits" in last_epoch_warning([20, 20, 7, 12], [20, 20, 20, 20], 20, False)
    assert last_epoch_warning([20, 3, 7, 12], [20, 20, 20, 20], 20, False) is None
    # Early stopping: a fit that stopped before its limit was not best at its last epoch;
    # one best at epoch 100 of 100 ran into the limit still improving.
    assert last_epoch_warning([14, 9], [24, 19], 100, True) is None
    message = last_epoch_warning([100, 100, 31], [100, 100, 41], 100, True)
    assert "2 of 3" in message and "limit of 100 epochs" in message
    # Fits cached before n_epochs was recorded: compared with the limit.
    assert last_epoch_warning([100, 50], [None, np.nan], 100, True) is not None
    assert last_epoch_warning([60, 50], [None, None], 100, True) is None


def test_context_block_says_when_the_model_is_worse_than_the_forest():
    from molselect.cli._context import context_block

    scores = {"metric": "rmse", "mean": 0.78, "random_forest": 0.47,
              "mean_baseline": "training mean"}
    block = context_block(scores, "gin", 0.68)
    assert "lower is better" in block and "predicting the training mean" in block
    assert "worse than a random forest on ECFP4 (0.6800 vs 0.4700)" in block
    assert "worse than" not in context_block(scores, "gin", 0.40)
    assert "no better than predicting the mean" in context_block(scores, "gin", 0.80)


def test_evaluate_reads_a_selection_json(capsys, selection):
    code, out, _ = run(capsys, "evaluate", "--target", "bbbp", "--with", str(selection),
                       "--quiet", "--epochs", "1", "--max-molecules", "30", *TINY_ARGS)
    assert code == 0
    selected = json.loads(selection.read_text())["selected"]
    expected = "target + " + ", ".join(selected) if selected else "target only"
    assert expected in out


def test_evaluate_regression_graphormer(capsys):
    code, out, _ = run(capsys, "evaluate", "--target", "freesolv", "--model", "graphormer",
                       "--quiet", "--epochs", "1", "--max-molecules", "30", *TINY_ARGS)
    assert code == 0
    assert "graphormer on 'freesolv': test rmse" in out
    mean = float(out.split("target only")[1].split()[0])
    assert mean > 0  # an RMSE, reported as the metric (not the negated score)


def test_evaluate_missing_selection_file(capsys, tmp_path):
    code, _, err = run(capsys, "evaluate", "--target", "bbbp", "--with",
                       str(tmp_path / "none.json"))
    assert code == 2 and "none.json" in err


def test_demo_parser_keeps_its_defaults():
    args = build_parser().parse_args(["demo"])
    assert args.target == "bbbp" and "tox21" in args.candidates
    assert (args.budget, args.max_k, args.n_jobs) == (24, 2, 2)


@pytest.mark.slow
def test_demo_runs_a_verified_selection(tiny_verifier, capsys):
    # The real model takes minutes; a tiny one exercises the same path.
    code = main(["demo", "--candidates", "esol", "bace", "--budget", "9", "--n-jobs", "1"])
    captured = capsys.readouterr()
    assert code == 0
    assert "rank #1" in captured.out and "verification race" in captured.out
    assert "verdict:" in captured.out and "round 3 (9/9 fits" in captured.err


# -- train and predict ---------------------------------------------------------------------
MODEL = ["--max-molecules", "40", "--epochs", "2", "--hidden-dim", "16", "--num-layers", "2",
         "--quiet"]


@pytest.fixture(scope="module")
def trained_model(tmp_path_factory):
    """A tiny GIN trained on BBBP by `molselect train`, and what the command printed."""
    import contextlib

    path = tmp_path_factory.mktemp("train") / "bbbp.joblib"
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        code = main(["train", "--target", "bbbp", "--out", str(path), *MODEL])
    assert code == 0
    return path, printed.getvalue()


def _molecules(path):
    """Four rows to predict: two valid SMILES, one invalid, one empty; an ID and labels."""
    pd.DataFrame({"ID": ["m1", "m2", "m3", "m4"],
                  "SMILES": ["CCO", "not_a_smiles", None, "c1ccccc1O"],
                  "p_np": [1, 0, 1, 0]}).to_csv(path, index=False)
    return path


def test_train_then_predict_round_trip(trained_model, capsys, tmp_path):
    from molselect.models import load_model

    path, printed = trained_model
    assert "test roc_auc on the target's test split" in printed and "higher is better" in printed
    # The model's score beside what it has to beat.
    assert "gin, this model (the target alone)" in printed
    assert "random forest on ECFP4 fingerprints" in printed
    assert f"wrote {path}" in printed
    out = tmp_path / "predictions.csv"
    code, printed, err = run(capsys, "predict", "--model-file", str(path), "--input",
                             str(_molecules(tmp_path / "new.csv")), "--smiles-col", "SMILES",
                             "--out", str(out))
    assert code == 0, err
    assert "predicted 1 task(s) (probability of class 1) for 2 of 4 molecule(s)" in printed
    # Invalid SMILES keep their rows, with empty predictions, and are reported by row.
    assert "warning: " in err and "rows (0-based, header excluded) 1 ('not_a_smiles'), " \
                                  "2 ('')" in err
    table = pd.read_csv(out)
    assert list(table.columns) == ["ID", "SMILES", "p_np", "p_np (predicted)"]
    assert list(table["ID"]) == ["m1", "m2", "m3", "m4"]
    predicted = table["p_np (predicted)"]
    assert predicted[[1, 2]].isna().all() and predicted[[0, 3]].between(0, 1).all()
    estimator, info = load_model(path)
    assert info["target"] == "bbbp" and info["metric"] == "roc_auc"
    np.testing.assert_allclose(predicted[[0, 3]],
                               estimator.predict_proba(["CCO", "c1ccccc1O"])[:, 1], atol=1e-6)


def test_train_with_an_auxiliary_and_predict_a_regression(capsys, tmp_path):
    model = tmp_path / "esol.joblib"
    code, printed, err = run(capsys, "train", "--target", "esol", "--with", "freesolv",
                             "--out", str(model), *MODEL)
    assert code == 0, err
    assert "40 molecules of esol + 40 molecules of freesolv" in printed
    assert "test rmse" in printed and "lower is better" in printed
    molecules = tmp_path / "new.tsv"
    molecules.write_text("smiles\tname\nCCO\tethanol\nCCCCO\tbutanol\n")
    out = tmp_path / "solubility.csv.gz"
    code, printed, err = run(capsys, "predict", "--model-file", str(model), "--input",
                             str(molecules), "--out", str(out))
    assert code == 0, err
    table = pd.read_csv(out)
    assert list(table["name"]) == ["ethanol", "butanol"] and table.iloc[:, -1].notna().all()


def test_predict_refuses_a_file_that_is_not_a_model(capsys, tmp_path):
    import joblib

    molecules = _molecules(tmp_path / "new.csv")
    joblib.dump({"weights": [1, 2]}, tmp_path / "other.joblib")
    for model in (molecules, tmp_path / "other.joblib"):
        code, _, err = run(capsys, "predict", "--model-file", str(model), "--input",
                           str(molecules), "--out", str(tmp_path / "p.csv"))
        assert code == 2 and "--model-file" in err
        assert "is not a model saved by molselect" in err and "Traceback" not in err
    code, _, err = run(capsys, "predict", "--model-file", str(tmp_path / "none.joblib"),
                       "--input", str(molecules), "--out", str(tmp_path / "p.csv"))
    assert code == 2 and "--model-file" in err and "no such file" in err
    assert not (tmp_path / "p.csv").exists()


def test_train_and_predict_bad_inputs_name_the_option(trained_model, capsys, tmp_path):
    model, _ = trained_model
    molecules = _molecules(tmp_path / "new.csv")

    def predict(*argv):
        return run(capsys, "predict", "--model-file", str(model), *argv)

    code, _, err = predict("--input", str(molecules), "--out", str(tmp_path / "p.csv"))
    assert code == 2 and "--smiles-col" in err and "['ID', 'SMILES', 'p_np']" in err
    code, _, err = predict("--input", str(molecules), "--smiles-col", "ID",
                           "--out", str(tmp_path / "p.csv"))
    assert code == 2 and "--smiles-col" in err and "is it the SMILES column" in err
    code, _, err = predict("--input", str(tmp_path / "none.csv"), "--out",
                           str(tmp_path / "p.csv"))
    assert code == 2 and "--input" in err and "no such file" in err
    code, _, err = predict("--input", str(molecules), "--smiles-col", "SMILES",
                           "--out", str(molecules))
    assert code == 2 and "--out" in err and "input files" in err
    code, _, err = predict("--input", str(molecules), "--smiles-col", "SMILES",
                           "--out", str(model))
    assert code == 2 and "--out" in err and "input files" in err
    code, _, err = run(capsys, "train", "--target", "bbbp", "--out", str(tmp_path), *MODEL)
    assert code == 2 and "--out" in err and "directory" in err
    for argv in (["--seed", "0-2"], []):
        with pytest.raises(SystemExit) as exit_info:
            main(["train", "--target", "bbbp", *argv])
        assert exit_info.value.code == 2
    assert "--out" in capsys.readouterr().err


# -- transfer ----------------------------------------------------------------------------------
def test_transfer_prints_gains_and_writes_the_tidy_table(capsys, tmp_path):
    out_file = tmp_path / "gains.csv"
    argv = ["transfer", "--target", "bbbp", "--candidates", "bace,esol", "--seeds", "0-2",
            "--epochs", "1", "--max-molecules", "40", *TINY_ARGS,
            "--results-dir", str(tmp_path / "cache"), "--out", str(out_file)]
    code, out, _ = run(capsys, *argv)
    assert code == 0
    assert "relative gain in test roc_auc" in out and "verdict" in out
    assert "within the noise of 3 seed(s)" in out
    # The permuted-label control runs by default: a row, and a "vs control" column.
    control = "bbbp (permuted labels)"
    assert control in out and "vs control" in out and "against the control" in out
    tidy = pd.read_csv(out_file)
    assert len(tidy) == 9 and set(tidy["candidate"]) == {"bace", "esol", control}
    assert sorted(tidy["seed"].unique()) == [0, 1, 2]
    summary = pd.read_csv(tmp_path / "gains.summary.csv")
    assert set(summary["candidate"]) == {"bace", "esol", control} and "verdict" in summary
    from molselect.evaluation import summarize_gains
    versus = summarize_gains(tidy, relative_to=control).set_index("candidate")
    mine = summary.set_index("candidate")
    assert mine.loc["bace", "relative_gain_vs_control"] == pytest.approx(
        versus.loc["bace", "relative_gain"])
    assert pd.isna(mine.loc[control, "verdict_vs_control"])
    assert len(list((tmp_path / "cache").glob("*.json"))) == 12   # 3 seeds x (1 + 2 + control)
    # the same call again is read from the cache
    code, again, _ = run(capsys, *argv)
    pd.testing.assert_frame_equal(pd.read_csv(out_file).drop(columns=["seconds_alone",
                                                                       "seconds_with"]),
                                  tidy.drop(columns=["seconds_alone", "seconds_with"]))


def test_evaluate_reports_the_paired_gain(capsys):
    code, out, _ = run(capsys, "evaluate", "--target", "bbbp", "--with", "bace", "--seeds",
                       "0,1", "--quiet", "--epochs", "1", "--max-molecules", "30",
                       *TINY_ARGS)
    assert code == 0
    assert "gain (positive = helps)" in out and "95% CI" in out and "paired t-test" in out


def test_renamed_options_still_work_with_a_warning(capsys, tmp_path):
    """--seed of evaluate / transfer is --data-seed; --cache and --verify-cache --results-dir."""
    def parse(*argv):
        return build_parser().parse_args(list(argv))

    with pytest.warns(FutureWarning, match="--seed is renamed --data-seed"):
        assert parse("evaluate", "--target", "bbbp", "--seed", "3").seed == 3
    assert parse("evaluate", "--target", "bbbp", "--data-seed", "3").seed == 3
    with pytest.warns(FutureWarning, match="--cache is renamed --results-dir"):
        args = parse("transfer", "--target", "bbbp", "--candidates", "bace", "--cache", "d")
    assert args.results_dir == "d"
    with pytest.warns(FutureWarning, match="--verify-cache is renamed --results-dir"):
        args = parse("select", "--target", "bbbp", "--candidates", "bace", "--verify",
                     "--verify-cache", "d")
    assert args.results_dir == "d"
    # What a user sees: warning lines, and the run goes on (here to a missing target).
    code, _, err = run(capsys, "evaluate", "--target", "no-such.csv", "--seed", "1",
                       "--cache", str(tmp_path))
    assert code == 2 and "no such CSV file" in err
    assert "warning: --seed is renamed --data-seed" in err
    assert "warning: --cache is renamed --results-dir" in err
    for command, gone in (("evaluate", "--cache"), ("transfer", "--cache"),
                          ("select", "--verify-cache")):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        text = capsys.readouterr().out
        assert "--results-dir" in text and gone not in text
        if command != "select":
            assert "--data-seed" in text and re.search(r"--seed\b(?!s)", text) is None


@pytest.mark.parametrize("command", [["evaluate", "--target", "bbbp"],
                                     ["select", "--target", "bbbp", "--candidates", "bace"]])
def test_one_seed_options_point_a_list_to_seeds(command, capsys):
    option = "--data-seed" if command[0] == "evaluate" else "--seed"
    with pytest.raises(SystemExit) as exit_info:
        main(command + [option, "0-4"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {option}: expected one integer seed" in err and "--seeds 0-4" in err


@pytest.mark.parametrize("seeds", ["x", pytest.param("3-1", marks=pytest.mark.probe("CLI-03")),
                                   "0-2 1"])
def test_bad_seeds_exit_2(seeds, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["transfer", "--target", "bbbp", "--candidates", "bace", "--seeds",
              *seeds.split()])
    assert exit_info.value.code == 2
    assert "--seeds" in capsys.readouterr().err


@pytest.mark.probe("CLI-07")
def test_a_seed_beyond_64_bits_is_accepted(capsys):
    code, out, err = run(capsys, "select", "--target", "bbbp", "--candidates", "bace,esol",
                         "--method", "random", "--max-molecules", "40", "--quiet",
                         "--seed", str(2 ** 64))
    assert code == 0, err
    assert "random ranking of 2 candidates" in out


def test_select_with_repeats_prints_and_writes_the_spread(tmp_path, capsys):
    out = tmp_path / "r.json"
    code = main(["select", "--target", "bbbp", "--candidates", "bace,esol", "--rounds", "1",
                 "--repeats", "2", "--filter-rule", "relative", "--top-k", "1", "--seed", "0",
                 "--quiet", "--out", str(out), *MOLGROUP_ARGS])
    assert code == 0
    printed = capsys.readouterr().out
    assert "sd" in printed and "95% CI" in printed
    result = json.loads(out.read_text())
    assert result["parameters"]["n_repeats"] == 2
    assert result["parameters"]["filter_rule"] == "relative"
    assert set(result["affinity_std"]) == {"bace", "esol"}
    assert all(v >= 0 for v in result["affinity_std"].values())
    assert len(result["selected"]) == 1


def test_select_defaults_to_task2vec_and_refuses_options_it_does_not_use(capsys, tmp_path,
                                                                         monkeypatch):
    """The default method has no rounds: --rounds would otherwise be dropped without a word."""
    import molselect.cli._inputs as inputs

    monkeypatch.setattr(inputs, "load_target", lambda *a, **k: pytest.fail("data was loaded"))
    code, _, err = run(capsys, "select", "--target", "bbbp", "--candidates", "bace",
                       "--rounds", "2", "--filter-rule", "relative")
    assert code == 2
    assert "--rounds, --filter-rule: not an option of --method task2vec" in err
    assert "--method molgroup" in err
    monkeypatch.undo()
    out = tmp_path / "t.json"
    code, printed, _ = run(capsys, "select", "--target", "bbbp", "--candidates", "bace,esol",
                           "--max-molecules", "40", *TINY_ARGS, "--repeats", "2",
                           "--quiet", "--out", str(out))
    assert code == 0 and "task2vec ranking of 2 candidates" in printed
    # Every trained selector repeats: the table has intervals and says what its scores are.
    assert "95% CI" in printed and "affinity: minus the distance" in printed
    assert "95% intervals over 2 repeated trainings" in printed
    result = json.loads(out.read_text())
    assert result["method"] == "task2vec" and result["parameters"]["n_repeats"] == 2
    assert set(result["affinity_std"]) == {"bace", "esol"}
    assert result["parameters"]["hidden_dim"] == TINY["hidden_dim"]


# -- select --verify ---------------------------------------------------------------------------
@pytest.fixture
def tiny_verifier(monkeypatch):
    """--verify's downstream model, tiny (the default is the fast GIN trained to convergence)."""
    from molselect.evaluation import _verified
    from molselect.models import GINClassifier

    monkeypatch.setattr(_verified, "default_estimator",
                        lambda target: GINClassifier(epochs=2, **TINY))


def test_select_verify_races_and_records_the_verdict(capsys, tmp_path, tiny_verifier):
    out = tmp_path / "verified.json"
    code, text, err = run(capsys, "select", "--target", "bbbp", "--candidates", "bace,esol",
                          "--max-molecules", "60", "--verify", "--max-k", "2", "--budget", "9",
                          "--out", str(out))
    assert code == 0
    assert "rank #1" in text and "selected #" not in text
    assert "verdict:" in text and "round 3 (9/9 fits" in err
    assert "gin, target alone (mean over seeds)" in text     # the context of the verdict
    record = json.loads(out.read_text())
    assert record["method"] == "task-type" and record["n_fits"] == 9
    assert record["verdict"] in ("helps", "none helps", "undecided")
    low, high = record["gain_interval"]
    assert low <= record["gain"] <= high
    assert record["detectable_gain"] is None or record["detectable_gain"] > 0
    assert record["selected"] == ([] if record["verdict"] != "helps"
                                  else record["groups"][record["group"]])


def test_select_without_verify_says_the_ranking_is_not_verified(capsys):
    code, text, _ = run(capsys, "select", "--target", "bbbp", "--candidates", "bace,esol",
                        "--max-molecules", "40", "--method", "fingerprint", "--quiet")
    assert code == 0 and "not verified" in text
    assert "molselect select --target bbbp --candidates bace,esol --verify" in text


@pytest.mark.parametrize("argv,message", [
    (["--budget", "20"], "--budget: an option of --verify"),
    (["--verify", "--budget", "4"], "cannot reach the first look"),
    (["--verify", "--max-k", "3"], "--max-k 3: more than the 2 candidate"),
    (["--verify", "--min-gain", "-1"], "--min-gain"),
    (["--no-baselines"], "--no-baselines: an option of --verify"),
])
def test_select_verify_bad_options(argv, message, capsys, tiny_verifier):
    code, _, err = run(capsys, "select", "--target", "bbbp", "--candidates", "bace,esol",
                       "--max-molecules", "40", "--quiet", *argv)
    assert code != 0 and message in err


# -- the user's own data and outputs that never destroy anything ------------------
def _congeneric(path, sep=","):
    """95 of 100 molecules on one benzene scaffold, labels alternating (probe SPLIT-01)."""
    chains = ["C", "CC", "CCC", "CO", "CCO", "CN", "CCN", "C(=O)O", "C(=O)N", "OC", "Cl", "F",
              "Br", "C(F)(F)F", "N", "O", "CC(C)C", "C#N", "S", "C=O"]
    series = list(dict.fromkeys(f"c1cc({a})ccc1{b}" for a in chains for b in chains[:6]))[:95]
    smiles = series + ["C1CCCCC1C", "c1ccncc1C", "C1CCOC1C", "c1ccc2ccccc2c1C", "C1CC1CC"]
    pd.DataFrame({"smiles": smiles, "active": [i % 2 for i in range(100)]}).to_csv(
        path, index=False, sep=sep)
    return path


FP = ["--method", "fingerprint", "--max-molecules", "40", "--quiet"]


@pytest.mark.parametrize("argv, option", [
    pytest.param(["--seeds", "-1"], "--seeds", marks=pytest.mark.probe("CLI-05")),
    pytest.param(["--seeds", "0-1000000"], "--seeds", marks=pytest.mark.probe("CLI-04")),
    pytest.param(["--seeds", "0-600", "500-900"], "--seeds", marks=pytest.mark.probe("CLI-04")),
    pytest.param(["--n-jobs", "0"], "--n-jobs", marks=pytest.mark.probe("CLI-06")),
    pytest.param(["--n-jobs", "-100000"], "--n-jobs", marks=pytest.mark.probe("CLI-06")),
    pytest.param(["--resample", "1"], "--resample", marks=pytest.mark.probe("CLI-18")),
    pytest.param(["--resample", "9"], "--resample", marks=pytest.mark.probe("CLI-18"))])
def test_seeds_and_n_jobs_are_checked_before_any_data_loads(argv, option, capsys, monkeypatch):
    """CLI-04/05/06: bounded, named, and refused by the parser (no dataset is read)."""
    import molselect.datasets

    monkeypatch.setattr(molselect.datasets, "load_dataset", lambda *a, **k: 1 / 0)
    with pytest.raises(SystemExit) as exit_info:
        main(["transfer", "--target", "bbbp", "--candidates", "bace", *argv])
    assert exit_info.value.code == 2
    assert f"argument {option}:" in capsys.readouterr().err


@pytest.mark.probe("SPLIT-01", "CSV-10")
def test_split_and_sep_for_a_csv_target(capsys, tmp_path):
    """SPLIT-01: the scaffold split's error names the --split that works; --split and --sep."""
    target = _congeneric(tmp_path / "series.csv", sep=";")
    code, _, err = run(capsys, "select", "--target", str(target), "--candidates", "esol",
                       "--sep", ";", *FP)
    assert code == 2 and "benzene" not in err and "--split " in err and "split='" not in err
    assert "share the scaffold" in err
    for split in ("random", "cluster"):
        code, out, err = run(capsys, "select", "--target", str(target), "--candidates",
                             "esol", "--sep", ";", "--split", split, *FP)
        assert code == 0, err
        assert "fingerprint ranking" in out
    code, _, err = run(capsys, "select", "--target", "bbbp", "--candidates", "esol",
                       "--split", "cluster", *FP)
    assert code == 2 and "--split cluster: only for a CSV target" in err


@pytest.mark.probe("CLI-11", "CLI-12")
def test_out_never_overwrites_an_input_or_the_checkpoint(capsys, tmp_path):
    """CLI-11 / CLI-12: refused before anything is loaded; the input is unchanged."""
    target = _congeneric(tmp_path / "series.csv")
    before = target.read_bytes()
    code, _, err = run(capsys, "select", "--target", str(target), "--candidates", "esol",
                       "--split", "random", "--out", str(target), *FP)
    assert code == 2 and "--out" in err and "input" in err
    assert target.read_bytes() == before
    same = tmp_path / "same.json"
    code, _, err = run(capsys, "select", "--target", "bbbp", "--candidates", "bace,esol",
                       "--out", str(same), "--checkpoint", str(same), *MOLGROUP_ARGS)
    assert code == 2 and "--out and --checkpoint name the same file" in err
    assert not same.exists()


@pytest.mark.probe("CLI-13", "CONC-05")
def test_results_dir_is_checked_before_any_work(capsys, tmp_path, monkeypatch):
    """CLI-13: a --results-dir that is a file (or under one) is refused up front, naming it."""
    import molselect.datasets

    monkeypatch.setattr(molselect.datasets, "load_dataset", lambda *a, **k: 1 / 0)
    not_a_folder = tmp_path / "notadir.txt"
    not_a_folder.write_text("hi\n")
    for cache in (not_a_folder, not_a_folder / "sub"):
        code, _, err = run(capsys, "transfer", "--target", "bbbp", "--candidates", "bace",
                           "--seeds", "0", "--results-dir", str(cache))
        assert code == 2 and f"--results-dir {cache}" in err and "ZeroDivision" not in err
    assert not_a_folder.read_text() == "hi\n"


def test_transfer_design_fits_main_effects_from_designed_subsets(capsys, tmp_path):
    out_file = tmp_path / "effects.csv"
    argv = ["transfer", "--target", "bbbp", "--candidates", "bace,esol", "--design", "half",
            "--runs", "6", "--max-molecules", "30", *TINY_ARGS,
            "--no-baselines", "--quiet", "--results-dir", str(tmp_path / "cache"),
            "--out", str(out_file)]
    code, out, _ = run(capsys, *argv)
    assert code == 0
    assert "main effect of each candidate on the test roc_auc" in out
    assert "from 6 runs (half design)" in out and "held-out check" in out
    assert "control (bbbp (permuted labels))" in out   # the control is one more candidate
    runs = pd.read_csv(out_file)
    assert len(runs) == 6 and {"bace", "esol", "bbbp (permuted labels)", "score"} <= set(runs)
    effects = pd.read_csv(tmp_path / "effects.summary.csv")
    assert set(effects["candidate"]) == {"bace", "esol", "bbbp (permuted labels)"}
    assert {"relative_effect", "relative_ci_low", "verdict"} <= set(effects)
    assert len(list((tmp_path / "cache").glob("*.json"))) == 6   # one fit per run


@pytest.mark.parametrize("extra, message", [
    (["--runs", "8"], "--runs: an option of --design half|orthogonal"),
    (["--design", "half", "--resample", "20"], "--resample: not available with --design"),
])
def test_transfer_design_options_are_checked_before_any_data(capsys, extra, message):
    code, _, err = run(capsys, "transfer", "--target", "no-such-file.csv", "--candidates",
                       "bace", *extra)
    assert code == 2 and message in err


@pytest.mark.probe("CLI-10", "CLI-22")
def test_transfer_gz_out_and_no_control(capsys, tmp_path):
    """CLI-10: x.csv.gz is gzip, its summary x.summary.csv.gz; --no-control leaves it out."""
    import gzip

    out = tmp_path / "gz" / "gains.csv.gz"
    code, printed, _ = run(capsys, "transfer", "--target", "bbbp", "--candidates", "bace",
                           "--seeds", "0", "--no-control", "--epochs", "1", "--max-molecules",
                           "30", *TINY_ARGS, "--quiet",
                           "--out", str(out))
    assert code == 0
    assert "permuted" not in printed and "vs control" not in printed
    tidy = pd.read_csv(io.BytesIO(gzip.decompress(out.read_bytes())))
    assert list(tidy["candidate"]) == ["bace"]
    assert (tmp_path / "gz" / "gains.summary.csv.gz").exists()
    assert not (tmp_path / "gz" / "gains.csv.gz.summary.csv").exists()


def test_transfer_writes_the_baselines_into_its_summary_and_keeps_them_in_the_cache(capsys,
                                                                                  tmp_path):
    out = tmp_path / "gains.csv"
    argv = ["transfer", "--target", "bbbp", "--candidates", "bace", "--seeds", "0",
            "--no-control", "--epochs", "1", "--max-molecules", "30", *TINY_ARGS, "--quiet",
            "--results-dir", str(tmp_path / "cache"),
            "--out", str(out)]
    code, printed, _ = run(capsys, *argv)
    assert code == 0 and "context: test roc_auc" in printed
    summary = pd.read_csv(tmp_path / "gains.summary.csv")
    assert summary["baseline_mean"].tolist() == [0.5]
    assert 0.0 <= summary["baseline_random_forest"].iloc[0] <= 1.0
    tidy = pd.read_csv(out)
    assert {"n_epochs_alone", "n_epochs_with"} <= set(tidy.columns)
    assert len(list((tmp_path / "cache").glob("*.json"))) == 2      # the fits only
    assert len(list((tmp_path / "cache" / "baselines").glob("*.json"))) == 1
    (tmp_path / "gains.csv").unlink()
    (tmp_path / "gains.summary.csv").unlink()
    code, again, _ = run(capsys, *argv)
    assert pd.read_csv(tmp_path / "gains.summary.csv")["baseline_random_forest"].iloc[0] == \
        summary["baseline_random_forest"].iloc[0]


def test_companion_files_are_named_after_the_result():
    from molselect.cli._common import companion_path

    assert companion_path("a/gains.csv", "summary") == Path("a/gains.summary.csv")
    assert companion_path("gains.csv.gz", "summary") == Path("gains.summary.csv.gz")
    assert companion_path("r.json", "history") == Path("r.history.csv")
    assert companion_path("gains", "summary") == Path("gains.summary.csv")


@pytest.mark.probe("CLI-14", "CLI-15")
def test_a_registry_name_that_is_also_a_file_is_refused(capsys, tmp_path, monkeypatch):
    """CLI-14 / CLI-15: never read the file silently in place of the registry dataset."""
    monkeypatch.chdir(tmp_path)
    _congeneric(tmp_path / "clintox")
    code, _, err = run(capsys, "select", "--target", "bbbp", "--candidates", "esol,clintox",
                       *FP)
    assert code == 2
    assert "both a registry dataset and a file" in err and "./clintox" in err
    code, out, err = run(capsys, "select", "--target", "bbbp", "--candidates",
                         "esol,./clintox", *FP)
    assert code == 0, err


@pytest.mark.probe("CSV-10", "CSV-11")
@pytest.mark.parametrize("name", ["assay.tsv", "assay.tab", "assay.sdf"])
def test_tsv_tab_and_sdf_names_are_files(name, capsys, tmp_path):
    from molselect.cli._inputs import is_csv

    assert is_csv(str(tmp_path / name))
    code, _, err = run(capsys, "select", "--target", "bbbp", "--candidates",
                       str(tmp_path / name), *FP)
    assert code == 2 and "unknown dataset" not in err


def test_warnings_are_plain_lines(capsys, tmp_path):
    """A dropped invalid SMILES: 'warning: ...', not the library's file and line."""
    candidate = tmp_path / "c.csv"
    frame = pd.read_csv(_congeneric(tmp_path / "series.csv"))
    frame.loc[3, "smiles"] = "not-a-smiles"
    frame.to_csv(candidate, index=False)
    code, _, err = run(capsys, "select", "--target", "bbbp", "--candidates", str(candidate),
                       *FP)
    assert code == 0, err
    lines = [line for line in err.splitlines() if "cannot parse" in line]
    assert lines and all(line.startswith("warning: ") for line in lines)
    assert ".py:" not in err and "UserWarning" not in err


def test_transfer_help_has_no_doubled_percent(capsys):
    with pytest.raises(SystemExit):
        main(["transfer", "--help"])
    assert "%%" not in capsys.readouterr().out


def _no_data(monkeypatch):
    """Make any data loading by the CLI fail the test: checks must come first."""
    import molselect.cli._inputs as inputs

    def forbidden(*args, **kwargs):
        raise AssertionError("data was loaded before the arguments were checked")

    monkeypatch.setattr(inputs, "load_target", forbidden)


# -- --out is checked first and written atomically -----------------------------------------
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


@pytest.mark.probe("CLI-23")
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


# -- errors without tracebacks -------------------------------------------------------------
def test_cli_shows_no_traceback_for_a_truncated_csv(capsys, tmp_path):
    """Probe 115: a truncated .csv.gz target gave a raw Python traceback."""
    path = tmp_path / "t.csv.gz"
    data = gzip.compress(bbbp_csv_text(200).encode())
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


def test_unknown_dataset_that_looks_like_a_path_says_no_file(capsys):
    """Probe 108: `--target ./missing_file` was reported as an unknown dataset only."""
    code, _, err = run(capsys, "select", "--target", "./missing_file", "--candidates", "bace")
    assert code == 2 and "No file './missing_file' exists" in err


# -- selector options checked before any data loads ----------------------------------------
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


def test_cli_checkpoint_needs_molgroup(capsys, monkeypatch):
    """Probe 98: --checkpoint for a method that cannot resume is refused up front."""
    _no_data(monkeypatch)
    code, _, err = run(capsys, "select", "--target", "bbbp", "--candidates", "bace",
                       "--method", "tag", "--checkpoint", "c.json")
    assert code == 2 and "--checkpoint" in err


# -- selection files read by evaluate ------------------------------------------------------
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
    assert auxiliary_specs([str(path)], None) == [str(folder / "esol200.csv"), "bace"]


# -- signals -------------------------------------------------------------------------------
@pytest.mark.probe("CLI-20")
def test_ctrl_c_exits_130_with_one_line(capsys, monkeypatch):
    import molselect.cli._inputs as inputs

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(inputs, "load_target", interrupted)
    code, _, err = run(capsys, "select", "--target", "bbbp", "--candidates", "bace")
    assert code == 130 and err.strip() == "molselect: interrupted"


@pytest.mark.probe("CLI-21")
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


# -- the cache command ---------------------------------------------------------------------
def test_cli_cache_shows_prunes_and_clears(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MOLSELECT_CACHE", str(tmp_path))
    fake_cache_entry(tmp_path, "ogb_graphs", "a", 2048, 1_000)
    fake_cache_entry(tmp_path, "maccs", "b", 2048, 2_000)
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


# -- transfer: one seed, another model, targets too small to measure ------------------------
@pytest.mark.probe("CLI-25")
def test_transfer_with_one_seed_gives_no_interval_and_no_verdict_of_effect(capsys):
    code, out, err = run(capsys, "transfer", "--target", "bbbp", "--candidates", "bace",
                         "--seeds", "0", "--epochs", "1", "--max-molecules", "30", *TINY_ARGS,
                         "--no-control", "--no-baselines", "--quiet")
    assert code == 0, err
    row = next(line for line in out.splitlines() if line.startswith("bace "))
    assert row.split()[3:7] == ["-", "-", "-", "-"] and row.endswith("no clear effect")


@pytest.mark.probe("CLI-24")
def test_transfer_with_graphormer_on_a_regression_target(capsys):
    code, out, err = run(capsys, "transfer", "--target", "esol", "--candidates", "freesolv",
                         "--model", "graphormer", "--seeds", "0-1", "--epochs", "1",
                         "--max-molecules", "30", *TINY_ARGS, "--no-control", "--no-baselines",
                         "--quiet")
    assert code == 0, err
    assert "graphormer on 'esol': relative gain in test rmse" in out
    assert next(line for line in out.splitlines() if line.startswith("freesolv "))


@pytest.mark.probe("SPLIT-03", "SPLIT-04")
@pytest.mark.parametrize("rows", ["20 molecules", "2 positives"])
def test_a_small_or_imbalanced_csv_target_is_refused_before_any_fit(rows, capsys, tmp_path,
                                                                     monkeypatch):
    """Not NaN scores followed by a verdict: the split's single-class parts are named."""
    from molselect.datasets import load_dataset
    from molselect.evaluation import _jobs

    frame = load_dataset("bbbp").full.to_frame()
    if rows == "20 molecules":
        frame = frame.sample(20, random_state=1)
    else:
        frame = pd.concat([frame[frame["p_np"] == 1].head(2), frame[frame["p_np"] == 0].head(98)])
    path = tmp_path / "target.csv"
    frame.to_csv(path, index=False)
    monkeypatch.setattr(_jobs, "run_fit", lambda job: pytest.fail("a model was trained"))
    code, _, err = run(capsys, "transfer", "--target", str(path), "--candidates", "lipo",
                       "--seeds", "0-1", "--quiet")
    assert code == 2
    assert "holds one class only" in err and "ROC-AUC is undefined" in err
