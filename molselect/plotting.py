"""Plots of a MolGroup selection: affinity learning curves per filtering round.

:func:`plot_affinity` draws what the paper's figure 8 shows: for each
filtering round, the affinity of every surviving candidate after each epoch,
with the threshold below which candidates are dropped.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["plot_affinity"]

_COLUMNS = ("affinity", "task_affinity", "structure_affinity")
_LABELS = {
    "affinity": "affinity (gate $a_m$)",
    "task_affinity": "task affinity (cosine)",
    "structure_affinity": "structure affinity (cosine)",
}


def _as_history(history):
    # A fitted selector is accepted too: it is what users have at hand.
    if hasattr(history, "history_") and not isinstance(history, pd.DataFrame):
        history = history.history_
    if not isinstance(history, pd.DataFrame):
        raise TypeError(
            f"history must be a DataFrame (a selector's history_) or a fitted selector, got "
            f"{type(history).__name__}")
    missing = [c for c in ("epoch", "candidate") if c not in history.columns]
    if missing:
        raise ValueError(f"history lacks the column(s) {missing}; expected MolGroupSelector's "
                         "history_ (round, epoch, candidate, affinity, ...)")
    if history.empty:
        raise ValueError("history is empty: nothing to plot")
    if "round" not in history.columns:
        history = history.assign(round=1)
    return history


def plot_affinity(history, threshold=0.6, ax=None, column="affinity"):
    """Plot affinity learning curves per filtering round (the paper's figure 8).

    One panel per round; in each, one line per candidate that took part in the
    round, with the affinity (mean gate value) after every epoch.  A candidate
    keeps its colour across rounds; its curve is dashed in the round after
    which it was dropped.  A red dashed line marks ``threshold``.

    Parameters
    ----------
    history : pandas.DataFrame or fitted selector
        ``MolGroupSelector.history_`` (columns ``round``, ``epoch``,
        ``candidate`` and ``column``), or the fitted selector itself.
    threshold : float or None, default=0.6
        Drawn as a horizontal line when ``column`` is ``"affinity"``; None
        draws no line.
    ax : matplotlib Axes or sequence of Axes, optional
        Where to draw: one Axes per round, or a single Axes for all rounds
        side by side on a shared epoch axis (rounds separated by vertical
        lines).  By default a new figure with one panel per round is made.
    column : {"affinity", "task_affinity", "structure_affinity"}, default="affinity"
        Which curve to draw: the fused gate, or one of the two cosines the
        gate fuses (paper eq. 5).

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on; its ``axes`` are the panels.

    Raises
    ------
    TypeError
        If ``history`` is neither a DataFrame nor a fitted selector.
    ValueError
        If it is empty or lacks the needed columns, or ``ax`` has too few Axes.

    Examples
    --------
    >>> from molselect.plotting import plot_affinity
    >>> fig = plot_affinity(selector.history_, threshold=0.6)   # doctest: +SKIP
    """
    history = _as_history(history)
    if column not in history.columns:
        raise ValueError(f"history has no column {column!r}; choose one of "
                         f"{[c for c in _COLUMNS if c in history.columns]}")
    rounds = sorted(history["round"].unique())
    candidates = list(dict.fromkeys(history["candidate"]))
    cmap = _colormap(len(candidates))
    colours = {name: cmap(i) for i, name in enumerate(candidates)}
    # The candidates present in round r + 1 are the survivors of round r.
    present = {r: set(history.loc[history["round"] == r, "candidate"]) for r in rounds}

    single = ax is not None and not isinstance(ax, (list, tuple, np.ndarray))
    if ax is None:
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, len(rounds), figsize=(3.6 * len(rounds) + 1.6, 3.4),
                                 sharey=True, squeeze=False, constrained_layout=True)
        axes = list(axes[0])
    elif single:
        fig, axes = ax.figure, [ax] * len(rounds)
    else:
        axes = list(np.ravel(ax))
        if len(axes) < len(rounds):
            raise ValueError(f"history has {len(rounds)} rounds but {len(axes)} Axes were given")
        fig = axes[0].figure

    from matplotlib.ticker import MaxNLocator

    offset = 0
    for i, (r, axis) in enumerate(zip(rounds, axes)):
        frame = history[history["round"] == r]
        next_round = present.get(rounds[i + 1]) if i + 1 < len(rounds) else None
        for name in dict.fromkeys(frame["candidate"]):
            curve = frame[frame["candidate"] == name].sort_values("epoch")
            dropped = next_round is not None and name not in next_round
            axis.plot(curve["epoch"] + offset, curve[column], color=colours[name],
                      linestyle="--" if dropped else "-", marker="o", markersize=3)
        n_epochs = int(frame["epoch"].max())
        if single:
            if i:
                axis.axvline(offset + 0.5, color="0.6", linewidth=0.8)
            axis.text(offset + 0.5 + n_epochs / 2, 1.0, f"round {r}", ha="center", va="bottom",
                      transform=axis.get_xaxis_transform())
            offset += n_epochs
        else:
            axis.set_title(f"round {r} ({frame['candidate'].nunique()} candidates)")
        axis.set_xlabel("epoch (rounds one after another)" if single else "epoch")
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        axis.grid(alpha=0.3)
    for axis in dict.fromkeys(axes[:len(rounds)]):
        if threshold is not None and column == "affinity":
            axis.axhline(threshold, color="red", linestyle="--", linewidth=1.2)
    axes[0].set_ylabel(_LABELS.get(column, column))
    from matplotlib.lines import Line2D

    # Built by hand so each candidate appears once, solid, whatever round dropped it.
    handles = [Line2D([], [], color=colours[n], marker="o", markersize=3) for n in candidates]
    labels = list(candidates)
    if len(rounds) > 1:
        handles.append(Line2D([], [], color="0.4", linestyle="--"))
        labels.append("dropped after the round")
    if threshold is not None and column == "affinity":
        handles.append(Line2D([], [], color="red", linestyle="--", linewidth=1.2))
        labels.append(f"threshold {threshold:g}")
    axes[len(rounds) - 1].legend(handles, labels, loc="center left", bbox_to_anchor=(1.02, 0.5),
                                 fontsize="small", frameon=False)
    return fig


def _colormap(n):
    import matplotlib

    name = "tab10" if n <= 10 else "tab20"
    return matplotlib.colormaps[name]
