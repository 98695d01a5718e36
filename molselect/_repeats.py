"""Repeats of a selector's scoring: independent trainings from their own seeds, combined.

One training's affinities are mostly seed noise (the user guide's presets
page has the figures), so every selector that trains takes ``n_repeats``:
:meth:`molselect.base.BaseAuxiliarySelector.fit` scores the candidates that
many times, each repeat from its own seed (:func:`molselect._checks.repeat_seeds`),
and :func:`combine_repeats` makes one result of them: the mean affinity, its
spread and 95% interval, and the repeats' own fitted attributes averaged.
MolGroup repeats inside each filtering round instead (a round's filter reads
the mean), with the same statistics (:func:`spread`).
"""

from __future__ import annotations

import numbers
from collections import Counter

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["spread", "combine_repeats", "interval_attributes"]


def spread(values):
    """Standard deviation and 95% t interval of each row's mean (NaN for one column).

    Parameters
    ----------
    values : ndarray of shape (n_rows, n_repeats)

    Returns
    -------
    dict
        ``std``, ``low`` and ``high``, arrays of length ``n_rows``.
    """
    n = values.shape[1]
    mean = values.mean(axis=1)
    if n < 2:
        nan = np.full(values.shape[0], np.nan)
        return {"std": nan, "low": nan, "high": nan}
    std = values.std(axis=1, ddof=1)
    half = stats.t.ppf(0.975, n - 1) * std / np.sqrt(n)
    return {"std": std, "low": mean - half, "high": mean + half}


def interval_attributes(runs):
    """The fitted attributes of a repeated affinity: its spread, interval and runs.

    Parameters
    ----------
    runs : pandas.DataFrame
        Candidates x repeats: each repeat's affinity (NaN where a candidate
        took no part).

    Returns
    -------
    dict
        ``affinity_std_`` (Series), ``affinity_interval_`` (DataFrame with
        ``low`` and ``high``) and ``affinity_runs_`` (``runs``).
    """
    values = spread(runs.to_numpy(dtype=float))
    return {
        "affinity_std_": pd.Series(values["std"], index=runs.index, name="affinity_std"),
        "affinity_interval_": pd.DataFrame({"low": values["low"], "high": values["high"]},
                                           index=runs.index),
        "affinity_runs_": runs,
    }


def combine_repeats(results, names):
    """One :class:`~molselect.base.SelectionResult` from the results of several repeats.

    Parameters
    ----------
    results : list of SelectionResult
        One per repeat, in repeat order.
    names : list of str
        The candidates, in the order given.

    Returns
    -------
    SelectionResult
        ``affinity``: the mean over the repeats; ``history``: the repeats'
        histories stacked, with a first column ``repeat`` (0-based);
        ``attributes``: those of :func:`interval_attributes`, then the
        repeats' own attributes combined by :func:`mean_of` (numbers and
        numeric arrays averaged, flags true when true in every repeat);
        ``selected``, when the method decides its selection itself (beam
        search): the group the most repeats chose (ties: the one chosen
        first), every repeat's choice kept as ``repeat_selections_``.
    """
    from .base import SelectionResult

    runs = pd.DataFrame({f"repeat {k}": pd.Series(r.affinity, dtype=float).reindex(names)
                         for k, r in enumerate(results)})
    runs.index = list(names)
    attributes = interval_attributes(runs)
    for key in results[0].attributes:
        attributes[key] = mean_of([r.attributes[key] for r in results], key)
    histories = [r.history for r in results]
    history = None
    if all(h is not None for h in histories):
        history = pd.concat([h.assign(repeat=k) for k, h in enumerate(histories)],
                            ignore_index=True)
        history = history[["repeat"] + [c for c in history.columns if c != "repeat"]]
    selected = None
    if results[0].selected is not None:
        choices = [list(r.selected) for r in results]
        counts = Counter(frozenset(c) for c in choices)
        most = max(counts.values())
        selected = next(c for c in choices if counts[frozenset(c)] == most)
        attributes["repeat_selections_"] = choices
    return SelectionResult(runs.mean(axis=1), selected=selected, history=history,
                           attributes=attributes)


def mean_of(values, name):
    """The repeats' values of one fitted attribute, combined.

    Numbers, numeric arrays, Series and DataFrames: their mean; flags (bool
    values, arrays and Series): true where true in every repeat; strings:
    the one value they share; dicts: key by key.

    Parameters
    ----------
    values : list
        One value per repeat.
    name : str
        The attribute's name, for the error.

    Returns
    -------
    object

    Raises
    ------
    TypeError
        For a value of any other kind, or strings that differ: the selector
        must say how its attribute combines (a bug, not a user error).
    """
    first = values[0]
    if isinstance(first, (bool, np.bool_)):
        return bool(all(values))
    if isinstance(first, numbers.Real):
        return float(np.mean(values))
    if isinstance(first, str) and all(v == first for v in values):
        return first
    if isinstance(first, dict):
        return {key: mean_of([v[key] for v in values], f"{name}[{key!r}]") for key in first}
    if isinstance(first, (pd.Series, pd.DataFrame, np.ndarray)):
        if np.asarray(first).dtype == bool:
            stacked = np.all([np.asarray(v) for v in values], axis=0)
        else:
            stacked = np.mean([np.asarray(v, dtype=float) for v in values], axis=0)
        if isinstance(first, pd.Series):
            return pd.Series(stacked, index=first.index, name=first.name)
        if isinstance(first, pd.DataFrame):
            return pd.DataFrame(stacked, index=first.index, columns=first.columns)
        return stacked
    raise TypeError(f"no rule combines the repeats' values of {name} "
                    f"({type(first).__name__}): a bug in the selector")
