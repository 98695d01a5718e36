"""``molselect predict``: apply a model saved by ``molselect train`` to new molecules."""

from __future__ import annotations

from pathlib import Path

from . import _inputs
from ._common import CLIError, write_out
from ._options import Option, csv_options

__all__ = ["NAME", "HELP", "DESCRIPTION", "options", "run", "predictions"]

NAME = "predict"
HELP = "predict the tasks of new molecules with a model saved by `molselect train`"
DESCRIPTION = ("Read the molecules of a CSV, TSV or SDF file, predict every task of a model "
               "that `molselect train --out` saved, and write a CSV: the input's columns, then "
               "one column per task (classification: the probability of class 1; regression: "
               "the value in the labels' units; named '<task> (predicted)' where the input has "
               "a column of the task's name). Rows stay in the input's order; a SMILES that "
               "cannot be read keeps its row, with empty predictions, and is reported by row.")
EPILOG = ("example: molselect predict --model-file series.joblib --input new.csv "
          "--out predictions.csv")


def options():
    """The options of ``predict``, in ``--help`` order (``param``: what an option sets)."""
    sep = next(option for option in csv_options() if option.flag == "--sep")
    return [
        Option("--model-file", required=True, metavar="FILE",
               help="a model written by `molselect train --out` (a pickle: load only files "
                    "you trust)"),
        Option("--input", required=True, metavar="CSV|TSV|SDF",
               help="the molecules to predict: a table with a SMILES column, or an SDF file"),
        Option("--smiles-col", metavar="COL",
               help="SMILES column of --input (default: the column the model was trained "
                    "from, else 'smiles')"),
        sep,
        Option("--out", required=True, metavar="FILE.csv",
               help="the predictions: a CSV (gzip-compressed for FILE.csv.gz)"),
    ]


def _load(path):
    """The estimator and its information, from ``--model-file``."""
    from ..models import load_model

    try:
        return load_model(path)
    except FileNotFoundError:
        raise CLIError(f"--model-file {path}: no such file") from None
    except ValueError as exc:
        raise CLIError(f"--model-file: {exc}") from None


def _read_input(path, args, info):
    """The input table and its SMILES column."""
    from ..datasets._io import read_frame

    trained_from = info.get("smiles_col") or "smiles"
    column = args.smiles_col or trained_from
    try:
        frame = read_frame(path, column, task_cols=(), on_invalid="drop", sep=args.sep)
    except FileNotFoundError:
        raise CLIError(f"--input {path}: no such file") from None
    except ValueError as exc:
        raise CLIError(f"--input: {exc}") from None
    if column not in frame.columns and args.smiles_col is None and "smiles" in frame.columns:
        column = "smiles"  # the model's training column is not in this file; the usual one is
    if column not in frame.columns:
        raise CLIError(f"--smiles-col: {path} has no column {column!r}; its columns: "
                       f"{[str(c) for c in frame.columns]}")
    if len(frame) == 0:
        raise CLIError(f"--input {path}: the table has no rows")
    return frame, column


def predictions(estimator, smiles):
    """One column per task for the valid SMILES ``smiles``: probabilities or values.

    Parameters
    ----------
    estimator : BaseGraphEstimator
        Fitted.
    smiles : sequence of str
        Valid SMILES.

    Returns
    -------
    ndarray of shape (len(smiles), n_tasks)
        For a classifier the probability of class 1 of every task, for a
        regressor the predicted values in the labels' units.
    """
    import numpy as np
    from sklearn.base import is_classifier

    if is_classifier(estimator):
        out = estimator.predict_proba(list(smiles))
        if estimator.n_tasks_ == 1:
            out = out[:, 1:]
    else:
        out = estimator.predict(list(smiles))
    return np.asarray(out, dtype=float).reshape(len(smiles), estimator.n_tasks_)


def run(args):
    """Run ``molselect predict`` on the parsed ``args``; return the exit code."""
    import warnings

    import numpy as np
    import pandas as pd

    from .. import __version__
    from ..datasets._io import _describe_rows
    from ..featurize._smiles import parse_smiles

    estimator, info = _load(args.model_file)
    if info.get("molselect") != __version__:
        warnings.warn(f"{args.model_file} was saved by molselect {info.get('molselect')}; this "
                      f"is {__version__}: if its predictions look wrong, train it again",
                      UserWarning, stacklevel=2)
    frame, column = _read_input(args.input, args, info)
    smiles = np.array([s.strip() if isinstance(s, str) else "" for s in frame[column]],
                      dtype=object)
    _, invalid = parse_smiles(smiles)
    if invalid.all():
        raise CLIError(f"--smiles-col: no value of column {column!r} of {args.input} is a "
                       "SMILES RDKit can read; is it the SMILES column?")
    values = np.full((len(frame), estimator.n_tasks_), np.nan)
    values[~invalid] = predictions(estimator, smiles[~invalid])
    tasks = [str(task) for task in estimator.tasks_]
    # The input's columns stay (a compound's identifier, its measured labels): a prediction
    # never replaces one of them.
    taken = {str(c) for c in frame.columns}
    names = [f"{task} (predicted)" if task in taken else task for task in tasks]
    table = pd.concat([frame.reset_index(drop=True), pd.DataFrame(values, columns=names)],
                      axis=1)
    if invalid.any():
        rows = np.flatnonzero(invalid)
        warnings.warn(f"{args.input}: {rows.size} SMILES could not be read, at rows (0-based, "
                      f"header excluded) {_describe_rows(rows, smiles)}; their rows are kept "
                      "with empty predictions", UserWarning, stacklevel=2)
    out = Path(args.out)
    write_out(out, table.to_csv(index=False), inputs=_inputs.input_files(args))
    kind = "probability of class 1" if estimator.task_types_[0] == "classification" else "value"
    print(f"{info.get('model', type(estimator).__name__)} trained on "
          f"{' + '.join(info.get('n_train', {})) or info.get('target', '?')}: predicted "
          f"{len(tasks)} task(s) ({kind}) for {int((~invalid).sum())} of {len(frame)} "
          f"molecule(s); wrote {out}")
    return 0
