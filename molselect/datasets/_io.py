"""User data in: ``from_frame`` / ``from_csv``, and how a table's invalid SMILES are reported."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np

from ..featurize._smiles import (
    blank_smiles,
    describe_smiles,
    parse_smiles,
    smiles_array,
    smiles_too_long,
    too_long_phrase,
    too_long_reason,
)
from ._base import MoleculeDataset, infer_task_types
from ._formats import (dataset_name, encoding_advice, file_format, read_sdf, separator_hint,
                       table_separator)
from ._table_checks import index_columns, warn_conflicting_duplicates
from ._labels import check_binary_labels, check_finite_labels, warn_integer_regression

__all__ = ["from_csv", "from_frame", "read_frame", "read_table"]

_SHOWN = 10


class MissingColumnError(KeyError, ValueError):
    """A requested column is not in the table (a KeyError and a ValueError)."""

    def __str__(self):
        # KeyError's str() is the repr of its argument, which quotes the message.
        return str(self.args[0]) if self.args else ""


def _describe_rows(rows, smiles=None):
    rows = list(rows)
    parts = []
    for r in rows[:_SHOWN]:
        parts.append(f"{r} ({describe_smiles(smiles[r])})" if smiles is not None else str(r))
    more = f" and {len(rows) - _SHOWN} more" if len(rows) > _SHOWN else ""
    return ", ".join(parts) + more


def _handle_invalid(smiles, invalid, on_invalid, source):
    """Raise or warn about invalid SMILES; return the dropped row numbers.

    SMILES longer than ``MAX_SMILES_LENGTH`` were never given to RDKit, so they
    are reported apart from those RDKit could not parse, with the limit and
    the reason for it.
    """
    rows = np.flatnonzero(invalid)
    if rows.size == 0:
        return rows
    long = np.fromiter((smiles_too_long(smiles[r]) for r in rows), dtype=bool,
                       count=rows.size)
    long_rows, bad_rows = rows[long], rows[~long]
    if on_invalid == "raise":
        problems = []
        if long_rows.size:
            problems.append(
                f"{long_rows.size} SMILES too long, at rows (0-based, header excluded) "
                f"{_describe_rows(long_rows, smiles)}: {too_long_reason()}")
        if bad_rows.size:
            problems.append(
                f"{bad_rows.size} SMILES could not be parsed (RDKit cannot read them, or they "
                f"are not printable ASCII text, which SMILES are), at rows (0-based, header "
                f"excluded) {_describe_rows(bad_rows, smiles)}")
        raise ValueError(f"{source}: {'; '.join(problems)}. Fix them, or drop them with "
                         "on_invalid='drop' (from_frame, from_csv, from_smiles).")
    dropped = []
    if long_rows.size:
        dropped.append(f"{long_rows.size} SMILES {too_long_phrase()} (rows "
                       f"{_describe_rows(long_rows)})")
    if bad_rows.size:
        dropped.append(f"{bad_rows.size} SMILES that RDKit cannot parse (rows "
                       f"{_describe_rows(bad_rows)})")
    warnings.warn(
        f"{source}: dropped {' and '.join(dropped)}; their row numbers are in .dropped_rows",
        UserWarning, stacklevel=4,
    )
    return rows


def _is_missing(value):
    import pandas as pd

    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # list-like cells: not a missing value
        return False


def _numeric_labels(frame, task_cols, source):
    import pandas as pd

    columns = []
    for col in task_cols:
        raw = frame[col]
        if raw.dtype == bool:
            columns.append(raw.to_numpy(dtype=float))
            continue
        if pd.api.types.is_datetime64_any_dtype(raw.dtype) or \
                pd.api.types.is_timedelta64_dtype(raw.dtype):
            raise ValueError(f"{source}: column {col!r} holds dates or times ({raw.dtype}); "
                             "labels must be numbers")
        values = pd.to_numeric(raw, errors="coerce")
        present = raw.notna().to_numpy(copy=True)
        # pandas 3 gives text columns the "str" dtype (neither object nor "string"):
        # is_string_dtype covers all three, so that '' counts as missing in each.
        if raw.dtype == object or pd.api.types.is_string_dtype(raw.dtype):
            present &= (raw.astype("string").str.strip() != "").fillna(False).to_numpy(bool)
        bad = np.flatnonzero(values.isna().to_numpy() & present)
        if bad.size:
            row = int(bad[0])
            raise ValueError(
                f"{source}: column {col!r} has a non-numeric label {raw.iloc[row]!r} at row "
                f"{row} ({bad.size} such value(s)); labels must be numbers, empty = missing"
            )
        if np.iscomplexobj(values.to_numpy()):
            raise ValueError(f"{source}: column {col!r} holds complex numbers; labels must be "
                             "real numbers")
        columns.append(values.to_numpy(dtype=float))
    return np.column_stack(columns) if columns else np.zeros((len(frame), 0))


def read_table(path, remedy=None, **read_csv_kwargs):
    """Read a CSV file (optionally compressed) with errors that name the file.

    Parameters
    ----------
    path : pathlib.Path
        The file.
    remedy : str, optional
        What the user should do about a damaged file (appended to the message);
        by default, advice for a user's own file.
    **read_csv_kwargs
        Passed to :func:`pandas.read_csv`.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    ValueError
        For an empty, truncated, non-gzip, undecodable or unparsable file; the
        message names the file, says what is wrong and what to do.
    """
    import gzip
    import zlib

    import pandas as pd

    def fail(problem, exc):
        fix = remedy or "Re-create or re-export the file"
        return ValueError(f"{path}: {problem} ({type(exc).__name__}: {exc}). {fix}")

    try:
        return pd.read_csv(path, **read_csv_kwargs)
    except pd.errors.EmptyDataError as exc:
        raise ValueError(f"{path}: the file is empty (no header, no rows)"
                         + (f". {remedy}" if remedy else "")) from exc
    except pd.errors.ParserError as exc:
        raise ValueError(f"{path}: could not parse the CSV: {exc}"
                         + (f". {remedy}" if remedy else "")) from exc
    except EOFError as exc:
        raise fail("the compressed file is truncated (it ends before the end of the data)",
                   exc) from exc
    except (gzip.BadGzipFile, zlib.error) as exc:
        raise fail("the file is not valid gzip data although its name ends in .gz", exc) from exc
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"{path}: the file is not UTF-8 text (byte {exc.object[exc.start:exc.start + 1]!r} "
            f"at position {exc.start}). "
            + (remedy or encoding_advice(bytes(exc.object[:4])))) from exc


def from_frame(df, smiles_col="smiles", task_cols=None, task_types=None, name=None,
               metric=None, on_invalid="raise", source=None, split=None,
               fracs=(0.8, 0.1, 0.1), random_state=0):
    """Build a :class:`MoleculeDataset` from a pandas DataFrame.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per molecule.
    smiles_col : str, default "smiles"
        The column holding SMILES.
    task_cols : str or sequence of str, optional
        Label columns; ``None`` takes every column but ``smiles_col`` and a
        saved row index (an unnamed column of unique integers, as
        ``df.to_csv(path)`` writes and pandas reads back as ``Unnamed: 0``),
        which is left out with a warning.
    task_types : str or sequence of str, optional
        ``"classification"`` / ``"regression"``; inferred (binary labels mean
        classification) when omitted.
    name : str, optional
        Dataset name.
    metric : str, optional
        Metric; defaults to ROC-AUC for classification, RMSE otherwise.
    on_invalid : {"raise", "drop"}, default "raise"
        What to do with SMILES RDKit cannot parse, empty SMILES and SMILES
        longer than ``molselect.datasets.MAX_SMILES_LENGTH`` (5,000
        characters): raise a ValueError naming the rows, or drop them with a
        warning and record their row numbers in ``dropped_rows``.
    source : str, optional
        How to name the data in error messages (``from_csv`` passes the file
        name).
    split : {None, "scaffold", "random", "cluster"}, default None
        ``None`` returns one dataset.  Otherwise split it: by Bemis-Murcko
        scaffold (deterministic), at random, or by Butina clusters of Morgan
        fingerprints (whole clusters to one part, the split for a congeneric
        series; see :func:`~molselect.datasets.cluster_split`), and check
        every part: at least two molecules and, for classification, both
        classes in some task.
    fracs : tuple of three floats, default (0.8, 0.1, 0.1)
        Train / valid / test fractions of the split.
    random_state : int, default 0
        Seed of the random and cluster splits.

    Returns
    -------
    MoleculeDataset or DatasetSplits
        With ``split``, a :class:`~molselect.datasets.DatasetSplits` (``info``
        is None, ``source`` is ``"user"``) that unpacks as train, valid, test.

    Raises
    ------
    KeyError
        A requested column is missing (the message lists the available
        ones); the exception is also a ValueError.
    ValueError
        No task column, no rows, a non-numeric label, or invalid SMILES with
        ``on_invalid="raise"``.
    molselect.datasets.DegenerateSplitError
        A part of the split is too small or holds one class only (a
        ValueError); the message says why and names a split that works.

    Warns
    -----
    UserWarning
        When a saved row index is left out, when invalid SMILES are dropped,
        and when one molecule has conflicting labels in several rows.
    """
    import pandas as pd

    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"from_frame expects a pandas DataFrame, got {type(df).__name__}")
    if on_invalid not in ("raise", "drop"):
        raise ValueError(f"on_invalid must be 'raise' or 'drop', got {on_invalid!r}")
    if split is not None:
        from ._user_split import SPLITS

        if split not in SPLITS:
            raise ValueError(f"split must be None, 'scaffold', 'random' or 'cluster', got "
                             f"{split!r}")
    source = source or (f"dataset {name!r}" if name else "DataFrame")
    if not df.index.equals(pd.RangeIndex(len(df))):
        # Row numbers in messages and dropped_rows are positions; with another index they
        # would be read as index labels.
        source += " (row numbers are 0-based positions, not index labels)"
    available = [str(c) for c in df.columns]
    if smiles_col not in df.columns:
        raise MissingColumnError(
            f"{source}: no SMILES column {smiles_col!r}; available columns: {available}"
        )
    if task_cols is None:
        index = index_columns(df, smiles_col, source)
        task_cols = [c for c in df.columns if c != smiles_col and c not in index]
    elif isinstance(task_cols, str):
        task_cols = [task_cols]
    else:
        task_cols = list(task_cols)
    missing = [c for c in task_cols if c not in df.columns]
    if missing:
        raise MissingColumnError(
            f"{source}: task column(s) {missing} not found; available columns: {available}"
        )
    if smiles_col in task_cols:
        raise ValueError(f"{source}: the SMILES column {smiles_col!r} cannot also be a task")
    if not task_cols:
        raise ValueError(
            f"{source}: no task columns (only {smiles_col!r} is present); a dataset needs at "
            "least one label column"
        )
    if len(df) == 0:
        raise ValueError(f"{source}: the table has no rows")
    tasks = [str(c) for c in task_cols]
    y = _numeric_labels(df, task_cols, source)
    check_finite_labels(y, tasks, source)
    if task_types is not None:
        types = [task_types] * len(tasks) if isinstance(task_types, str) else list(task_types)
        if len(types) == len(tasks):
            check_binary_labels(y, tasks, types, source)
    raw = df[smiles_col].astype(object)
    # Numbers or bytes in the SMILES column are not "empty": say what they are.
    wrong = np.flatnonzero([not isinstance(s, str) and not _is_missing(s) for s in raw])
    if wrong.size and on_invalid == "raise":
        first = raw.iloc[int(wrong[0])]
        raise ValueError(
            f"{source}: {wrong.size} value(s) in the SMILES column {smiles_col!r} are not "
            f"strings, e.g. {first!r} ({type(first).__name__}) at rows (0-based) "
            f"{_describe_rows(wrong)}; SMILES must be text (decode bytes, check the column)"
        )
    smiles = smiles_array(raw)
    empty = blank_smiles(smiles)
    if empty.size and on_invalid == "raise":
        raise ValueError(
            f"{source}: {empty.size} empty SMILES in column {smiles_col!r} at rows (0-based) "
            f"{_describe_rows(empty)}; fill or remove them, or pass on_invalid='drop'"
        )
    mols, invalid = parse_smiles(smiles)
    dropped = _handle_invalid(smiles, invalid, on_invalid, source)
    keep = ~invalid
    mols = [m for m in mols if m is not None]
    warn_conflicting_duplicates(mols, y[keep], tasks, np.flatnonzero(keep), source)
    if task_types is None:
        task_types = infer_task_types(y[keep])
        warn_integer_regression(y[keep], tasks, task_types, source)
    data = MoleculeDataset(
        smiles[keep], y[keep], tasks=tasks, task_types=task_types, metric=metric, name=name,
    )
    data.dropped_rows = dropped.astype(np.int64)
    if split is None:
        return data
    return _split(data, split, fracs, random_state, mols, np.flatnonzero(keep), source)


def _split(full, split, fracs, random_state, mols, rows, source):
    from ._loaders import DatasetSplits
    from ._user_split import split_dataset

    parts = split_dataset(full, split, fracs, random_state, mols=mols, source=source)
    train, valid, test = (full.subset(p) for p in parts)
    for part in (train, valid, test):
        part.dropped_rows = full.dropped_rows
    indices = dict(zip(("train", "valid", "test"), parts))
    return DatasetSplits(train, valid, test, full, None, indices, rows.astype(np.int64), split,
                         "user", source)


def read_frame(path, smiles_col="smiles", task_cols=None, on_invalid="raise", sep=None,
               **read_csv_kwargs):
    """The table of a CSV, TSV or SDF file, as :func:`from_csv` reads it, before any check.

    Parameters
    ----------
    path : str or path-like
        The file (see :func:`from_csv`).
    smiles_col : str, default "smiles"
        The SMILES column (an SDF record's structure goes there).
    task_cols : sequence of str, optional
        An SDF file's label properties (see :func:`read_sdf`); ``()`` keeps
        every property and warns about none.
    on_invalid : {"raise", "drop"}, default "raise"
        SDF records RDKit cannot read.
    sep : str, optional
        As in :func:`from_csv`.
    **read_csv_kwargs
        Passed to :func:`pandas.read_csv`.

    Returns
    -------
    pandas.DataFrame
        One row per row (or readable SDF record) of the file.

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    ValueError
        An unreadable or refused file; a one-column header that looks
        separated by another character than ``sep`` and holds no
        ``smiles_col`` (the message names the ``sep`` to pass).
    """
    path = Path(os.fspath(path))
    if not path.is_file():
        raise FileNotFoundError(f"no such CSV file: {path}")
    if file_format(path) == "sdf":
        return read_sdf(path, smiles_col, task_cols, on_invalid)
    sep = table_separator(path, sep)
    frame = read_table(path, sep=sep, **read_csv_kwargs)
    if smiles_col not in frame.columns and separator_hint(frame, sep):
        raise MissingColumnError(f"{path}: no SMILES column {smiles_col!r}"
                                 f"{separator_hint(frame, sep)}")
    return frame


def from_csv(path, smiles_col="smiles", task_cols=None, task_types=None, name=None,
             metric=None, on_invalid="raise", sep=None, split=None, fracs=(0.8, 0.1, 0.1),
             random_state=0, **read_csv_kwargs):
    """Build a :class:`MoleculeDataset` from a CSV, TSV or SDF file (optionally compressed).

    Parameters
    ----------
    path : str or path-like
        The file; compression is inferred from the suffix (``.gz``...).  A
        ``.sdf`` / ``.sd`` / ``.mol`` file (or ``.sdf.gz``) is read with RDKit:
        each record's structure becomes its SMILES (in the column
        ``smiles_col``) and its numeric properties the labels.  Spreadsheet
        workbooks, binary tables and header-less SMILES lists are refused by
        name.
    smiles_col, task_cols, task_types, metric, on_invalid, split, fracs, random_state
        As in :func:`from_frame`.
    name : str, optional
        Dataset name; defaults to the file name without its type and compression
        suffixes (``assay.v1.csv.gz`` -> ``assay.v1``; a file named ``.csv``
        keeps its whole name).
    sep : str, optional
        Field separator; by default a tab for ``.tsv`` / ``.tab`` files and a
        comma otherwise.  A header that holds a tab or a semicolon but no
        SMILES column gets an error that names the ``sep`` to pass.
    **read_csv_kwargs
        Passed to :func:`pandas.read_csv` (e.g. ``encoding="utf-16"``).

    Returns
    -------
    MoleculeDataset or DatasetSplits
        A :class:`~molselect.datasets.DatasetSplits` when ``split`` is given.

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    ValueError
        The file is empty, damaged (a truncated or non-gzip ``.gz``), not
        UTF-8 text (pass ``encoding=``), or any error listed in
        :func:`from_frame`; every message names the file.
    """
    path = Path(os.fspath(path))
    frame = read_frame(path, smiles_col, task_cols, on_invalid, sep, **read_csv_kwargs)
    if name is None:
        name = dataset_name(path)
    return from_frame(frame, smiles_col=smiles_col, task_cols=task_cols,
                      task_types=task_types, name=name, metric=metric,
                      on_invalid=on_invalid, source=str(path), split=split, fracs=fracs,
                      random_state=random_state)
