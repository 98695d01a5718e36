"""Checks of a user's table that warn rather than refuse: a saved row index, conflicting
duplicates."""

from __future__ import annotations

import re
import warnings

import numpy as np

__all__ = ["index_columns", "warn_conflicting_duplicates"]

_UNNAMED = re.compile(r"^Unnamed: \d+(_level_\d+)?$")
_EXAMPLES = 3


def _is_index_like(column):
    import pandas as pd

    if column.isna().any() or len(column) == 0:
        return False
    if pd.api.types.is_bool_dtype(column.dtype):
        return False
    values = pd.to_numeric(column, errors="coerce")
    if values.isna().any():
        return False
    numbers = values.to_numpy(dtype=float)
    return bool(np.all(numbers == np.round(numbers)) and np.unique(numbers).size == len(numbers))


def index_columns(frame, smiles_col, source, stacklevel=4):
    """Unnamed columns of unique integers (a row index that ``DataFrame.to_csv`` saved).

    A file written by ``df.to_csv(path)`` (``index=True`` is pandas' default)
    starts with such a column, which pandas reads back as ``Unnamed: 0``;
    taken as a label it would become a regression task.  Each one found is
    named in a warning.

    Parameters
    ----------
    frame : pandas.DataFrame
    smiles_col : str
    source : str
        How to name the data in the warning.
    stacklevel : int
        Passed to :func:`warnings.warn`.

    Returns
    -------
    list
        The columns to leave out of the tasks.
    """
    found = [c for c in frame.columns
             if c != smiles_col and (str(c) == "" or _UNNAMED.match(str(c)))
             and _is_index_like(frame[c])]
    if found:
        warnings.warn(
            f"{source}: column(s) {[str(c) for c in found]} look like a saved row index (no "
            "header name, unique integers), not labels: left out of the tasks. Save the file "
            "with index=False, or name the column in task_cols to keep it as a task",
            UserWarning, stacklevel=stacklevel)
    return found


def warn_conflicting_duplicates(mols, y, tasks, rows, source, stacklevel=4):
    """Warn when one molecule (same canonical SMILES) has different labels in two rows.

    Parameters
    ----------
    mols : sequence of rdkit.Chem.Mol
        The parsed molecules.
    y : ndarray of shape (n, n_tasks)
        Their labels (NaN = missing; missing labels never conflict).
    tasks : list of str
    rows : ndarray of int
        Row number of each molecule in the input, for the message.
    source : str
        How to name the data.
    stacklevel : int
        Passed to :func:`warnings.warn`.

    Returns
    -------
    int
        The number of molecules with conflicting labels.
    """
    from rdkit import Chem

    keys = np.array([Chem.MolToSmiles(m) for m in mols], dtype=object)
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    ends = np.r_[starts[1:], len(keys)]
    n_duplicated, conflicts = 0, []
    for start, end in zip(starts, ends):
        if end - start < 2:
            continue
        n_duplicated += 1
        members = order[start:end]
        for j, task in enumerate(tasks):
            values = y[members, j]
            values = values[~np.isnan(values)]
            if np.unique(values).size > 1:
                conflicts.append((sorted_keys[start], rows[members], task, values))
                break
    if conflicts:
        shown = "; ".join(
            f"{key!r} at rows {', '.join(map(str, r))} ({task}: "
            f"{' / '.join(f'{v:g}' for v in values)})"
            for key, r, task, values in conflicts[:_EXAMPLES])
        more = f" and {len(conflicts) - _EXAMPLES} more" if len(conflicts) > _EXAMPLES else ""
        warnings.warn(
            f"{source}: {len(conflicts)} molecule(s) occur in several rows with conflicting "
            f"labels (of {n_duplicated} molecule(s) given more than once, compared by "
            f"canonical SMILES), e.g. {shown}{more}. All rows are kept as given; average or "
            "remove the duplicates if they are not meant as replicates",
            UserWarning, stacklevel=stacklevel)
    return len(conflicts)
