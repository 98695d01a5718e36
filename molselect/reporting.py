"""Tables and JSON records of results, as the ``molselect`` command line shows them.

:func:`selection_table` is a fitted selector's ranking with each candidate's
scores and fate, :func:`transfer_table` the verdicts of a transfer study,
:func:`format_table` renders either as text, and :func:`selection_result` is
the record ``molselect select --out`` writes (plain JSON types throughout,
see :func:`to_jsonable`; the selection file's format is read and written in
:mod:`molselect._selection_file`, which this module re-exports it from).

Only pandas is imported, and only when a function runs, so that the command
line's ``--help`` stays cheap.
"""

from __future__ import annotations

import math

from ._selection_file import selection_result

__all__ = ["selection_table", "within_noise", "score_note", "selection_result", "transfer_table",
           "effects_table", "format_table", "format_percent", "to_jsonable"]

def selection_table(selector):
    """The ranking of a fitted selector, one row per candidate, best first.

    Parameters
    ----------
    selector : BaseAuxiliarySelector
        A fitted selector.

    Returns
    -------
    pandas.DataFrame
        Indexed by candidate in the order of ``ranking_``.  Columns: ``affinity``;
        ``sd`` and ``95% CI`` when repeats ran (``n_repeats > 1``; subset
        effects: their ``95% CI``); ``task`` and
        ``structure`` when the selector scores those separately (MolGroup); and
        ``status``: ``"selected #i"``, ``"dropped in round r"`` or ``"not selected"``
        (also for a candidate a one-round selection left out), followed by
        ``", within noise"`` for the candidates :func:`within_noise` names;
        ``round``, after
        a selection of several filtering rounds, the round each affinity is from
        (a dropped candidate's is the round that dropped it, and affinities of
        different rounds are not comparable).
    """
    import pandas as pd

    table = pd.DataFrame({"affinity": selector.affinity_})
    interval = _interval(selector)
    if interval is not None:
        # The spread belongs next to the mean it qualifies.
        spread = getattr(selector, "affinity_std_", None)
        if spread is not None:
            table["sd"] = spread
        table["95% CI"] = [f"[{lo:.3f}, {hi:.3f}]" if pd.notna(lo) else "-"
                           for lo, hi in zip(interval["low"], interval["high"])]
    for attr, column in (("task_affinity_", "task"), ("structure_affinity_", "structure")):
        if hasattr(selector, attr):
            table[column] = getattr(selector, attr)
    dropped = getattr(selector, "round_dropped_", None)
    status = []
    for name in table.index:
        if name in selector.selected_:
            status.append(f"selected #{selector.selected_.index(name) + 1}")
        elif (dropped is not None and not pd.isna(dropped.get(name))
              and getattr(selector, "n_rounds", None) != 1):
            # With one round there is no filtering to speak of: the round that drops a
            # candidate is the selection itself.
            status.append(f"dropped in round {int(dropped[name])}")
        else:
            status.append("not selected")
    noisy = within_noise(selector)
    table["status"] = [f"{state}, within noise" if name in noisy else state
                       for name, state in zip(table.index, status)]
    history = getattr(selector, "history_", None)
    if dropped is not None and history is not None and history["round"].nunique() > 1:
        # A dropped candidate's affinity is that of the round that dropped it; affinities of
        # different rounds are not comparable, so the table says which round each is from.
        last = int(history["round"].max())
        table.insert(1, "round", [last if pd.isna(dropped.get(name)) else int(dropped[name])
                                  for name in table.index])
    table = table.loc[selector.ranking_]
    table.index.name = "candidate"
    return table


def _interval(selector):
    """The selector's ``affinity_interval_`` when it has one with numbers, else None."""
    interval = getattr(selector, "affinity_interval_", None)
    if interval is None or not interval["low"].notna().any():
        return None
    return interval


def within_noise(selector):
    """The candidates on either side of the selection's cut whose intervals overlap.

    A selected candidate is within noise when its interval reaches the upper
    bound of a candidate left out; a candidate left out, when its interval
    reaches the lower bound of a selected one.  Their order is then not
    measured: more repeats (or a verification) would decide it.  Only
    candidates scored in the same filtering round are compared (affinities
    of different rounds are not comparable).

    Parameters
    ----------
    selector : BaseAuxiliarySelector
        A fitted selector.

    Returns
    -------
    set of str
        Empty when the selector has no intervals, selected every candidate
        or none, or when the cut is clear.
    """
    import pandas as pd

    interval = _interval(selector)
    if interval is None:
        return set()
    dropped = getattr(selector, "round_dropped_", None)
    history = getattr(selector, "history_", None)
    compared = list(interval.index[interval["low"].notna()])
    if dropped is not None and history is not None and "round" in history:
        # The last round's candidates: the selected and those it dropped.
        last = history["round"].max()
        compared = [n for n in compared if pd.isna(dropped[n]) or dropped[n] == last]
    chosen = [n for n in compared if n in selector.selected_]
    left = [n for n in compared if n not in selector.selected_]
    if not chosen or not left:
        return set()
    top_left = interval.loc[left, "high"].max()
    bottom_chosen = interval.loc[chosen, "low"].min()
    return ({n for n in chosen if interval.loc[n, "low"] <= top_left}
            | {n for n in left if interval.loc[n, "high"] >= bottom_chosen})


def score_note(selector):
    """What a selector's scores mean and how sure they are, in words under its table.

    Parameters
    ----------
    selector : BaseAuxiliarySelector
        A fitted selector.

    Returns
    -------
    str
        Two sentences: the meaning of ``affinity`` (the class's
        ``_affinity_meaning``), then whether the scores carry an interval: over
        the repeats (and whether the cut is within noise), from one training
        (with the parameter that would measure its noise), or not needed (a
        selector without training or seed).
    """
    meaning = f"affinity: {selector._affinity_meaning} (higher means more helpful)."
    interval = _interval(selector)
    params = selector.get_params()
    if interval is not None:
        runs = getattr(selector, "affinity_runs_", None)
        over = (f"over {runs.shape[1]} repeated trainings" if runs is not None
                else "from the selector's own fits")
        noisy = within_noise(selector)
        cut = ("the intervals of selected and unselected candidates overlap, so the cut "
               "between them is within noise" if noisy else
               "the cut between selected and unselected candidates is clear of noise")
        return f"{meaning} 95% intervals {over}: {cut}."
    if "n_repeats" in params:
        return (f"{meaning} One training, so no interval: its seed alone can reorder "
                "candidates; n_repeats (--repeats N) measures that.")
    if selector._random_scores:
        return f"{meaning} Random by design: a floor, not a measurement."
    return f"{meaning} No training and no seed: the scores depend on the data alone."


def effects_table(effects, metric):
    """Designed-subset main effects, formatted for reading (one row per candidate).

    Parameters
    ----------
    effects : pandas.DataFrame
        :attr:`molselect.evaluation.SubsetEffects.effects`.
    metric : str
        The target's metric, for the effect column's name.

    Returns
    -------
    pandas.DataFrame
        Indexed by candidate: ``"effect ({metric})"`` (signed so that positive
        helps), ``relative``, ``95% CI low``, ``95% CI high`` (percentages of
        the score predicted for the target alone), ``p (BH)`` and
        ``verdict``.
    """
    import pandas as pd

    shown = pd.DataFrame({
        f"effect ({metric})": effects["effect"].map(lambda v: f"{v:+.4f}"),
        "relative": effects["relative_effect"].map(format_percent),
        "95% CI low": effects["relative_ci_low"].map(format_percent),
        "95% CI high": effects["relative_ci_high"].map(format_percent),
        "p (BH)": effects["p_adjusted"].map(lambda v: f"{v:.3f}"),
        "verdict": effects["verdict"],
    }, index=effects.index)
    return shown


def transfer_table(summary, metric):
    """The verdicts of a transfer study, formatted for reading (one row per candidate).

    Parameters
    ----------
    summary : pandas.DataFrame
        The output of :func:`molselect.evaluation.summarize_gains`.
    metric : str
        The target's metric, for the score column's name.

    Returns
    -------
    pandas.DataFrame
        Indexed by candidate: ``"{metric} with"`` (the mean test score with the
        candidate), ``gain``, ``se``, ``95% CI low``, ``95% CI high`` (relative gains,
        as percentage strings), ``p (BH)`` (the adjusted p-value) and ``verdict``;
        when the summary holds ``relative_gain_vs_control`` and
        ``verdict_vs_control`` (``molselect transfer``'s permuted-label
        control), also ``vs control`` (the relative gain over the control, a
        percentage) and ``verdict vs control``.
    """
    columns = ["score_with", "relative_gain", "relative_gain_se", "relative_ci_low",
               "relative_ci_high", "p_adjusted", "verdict"]
    versus = [c for c in ("relative_gain_vs_control", "verdict_vs_control") if c in summary]
    shown = summary.set_index("candidate")[columns + versus]
    for column in ("relative_gain", "relative_ci_low", "relative_ci_high",
                   "relative_gain_vs_control"):
        if column in shown:
            shown[column] = shown[column].map(format_percent)
    shown["relative_gain_se"] = shown["relative_gain_se"].map(
        lambda v: "-" if v != v else f"{100 * v:.2f}%")
    if "verdict_vs_control" in shown:
        shown["verdict_vs_control"] = shown["verdict_vs_control"].fillna("(control)")
    return shown.rename(columns={
        "score_with": f"{metric} with", "relative_gain": "gain",
        "relative_gain_se": "se", "relative_ci_low": "95% CI low",
        "relative_ci_high": "95% CI high", "p_adjusted": "p (BH)",
        "relative_gain_vs_control": "vs control", "verdict_vs_control": "verdict vs control"})


def format_table(frame):
    """Render a result table as text, numbers with three decimals.

    Parameters
    ----------
    frame : pandas.DataFrame
        E.g. the output of :func:`selection_table`.

    Returns
    -------
    str
        The table; missing values show as ``-``, and numbers below 1e-3 or from 1e4
        up in scientific notation, so that tiny scores (TAG's lookahead
        affinities) keep their digits.
    """
    return frame.to_string(float_format=_number, na_rep="-")


def format_percent(value):
    """A relative change as a signed percentage (``0.0123`` -> ``"+1.23%"``; NaN -> ``"-"``).

    Parameters
    ----------
    value : float
        A relative change (0.01 is one percent).

    Returns
    -------
    str
        The percentage with its sign and two decimals.
    """
    return "-" if value != value else f"{100 * value:+.2f}%"


def to_jsonable(value):
    """A value as JSON types: numbers, strings, None, lists and dicts.

    Parameters
    ----------
    value : object
        Numbers (numpy scalars included), strings, None, and lists, tuples and dicts
        of them.

    Returns
    -------
    object
        The same value with NaN as ``None``, numpy scalars as Python numbers, tuples
        as lists, dict keys as strings, and anything else as its ``repr``.
    """
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if hasattr(value, "item"):
        return to_jsonable(value.item())
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    return repr(value)


def _number(value):
    if value == 0 or 1e-3 <= abs(value) < 1e4:
        return f"{value:.3f}"
    return f"{value:.2e}"
