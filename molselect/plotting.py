"""Plots of a selection and of the transfer gains it is judged by.

:func:`plot_affinity` draws what the paper's figure 8 shows: for each
filtering round, the affinity of every surviving candidate after each epoch,
with the threshold below which candidates are dropped.
:func:`plot_transfer_heatmap` draws the paper's figure 1 from measured gains
(targets x candidates, relative improvement, effects within the noise marked)
and :func:`plot_transfer_gains` one target's gains with their intervals.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["plot_affinity", "plot_transfer_gains", "plot_transfer_heatmap"]

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


_VERDICT_COLOURS = {"helps": "tab:green", "hurts": "tab:red", "no clear effect": "0.6"}


def _as_summary(gains):
    """A summarize_gains table, from it or from the tidy table of transfer_gains."""
    from .evaluation import summarize_gains

    if not isinstance(gains, pd.DataFrame):
        raise TypeError(f"gains must be the DataFrame of transfer_gains or summarize_gains, "
                        f"got {type(gains).__name__}")
    summary = gains if "verdict" in gains.columns else summarize_gains(gains)
    if summary.empty:
        raise ValueError("gains is empty: nothing to plot")
    return summary


def plot_transfer_heatmap(gains, ax=None, value="relative_gain", targets=None, candidates=None):
    """Heatmap of measured gains, targets x candidates (the paper's figure 1).

    Each cell is the mean relative improvement ``(perf(a, b) - perf(a)) /
    perf(a)``, signed so that green means the candidate helps the target,
    also for RMSE.  Cells whose effect is not significant (verdict "no clear
    effect") are hatched and their number is grey: the measured effect is
    within the noise of the seeds.

    Parameters
    ----------
    gains : pandas.DataFrame
        The tidy table of :func:`~molselect.evaluation.transfer_gains` (for
        one or several targets) or its :func:`~molselect.evaluation.summarize_gains`.
    ax : matplotlib Axes, optional
        Where to draw (default: a new figure).
    value : {"relative_gain", "gain"}, default="relative_gain"
    targets, candidates : list of str, optional
        Row and column order (default: as they appear, candidates sorted).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from molselect.plotting import plot_transfer_heatmap
    >>> fig = plot_transfer_heatmap(gains)   # doctest: +SKIP
    """
    summary = _as_summary(gains)
    if value not in ("relative_gain", "gain"):
        raise ValueError(f"value must be 'relative_gain' or 'gain', got {value!r}")
    targets = list(targets or dict.fromkeys(summary["target"]))
    candidates = list(candidates or sorted(set(summary["candidate"])))
    grid = summary.pivot(index="target", columns="candidate", values=value)
    grid = grid.reindex(index=targets, columns=candidates)
    verdict = summary.pivot(index="target", columns="candidate", values="verdict")
    verdict = verdict.reindex(index=targets, columns=candidates)
    if ax is None:
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(0.62 * len(candidates) + 2.6,
                                        0.5 * len(targets) + 1.8), constrained_layout=True)
    fig = ax.figure
    values = grid.to_numpy(dtype=float)
    scale = np.nanmax(np.abs(values)) if np.isfinite(values).any() else 1.0
    scale = scale if scale > 0 else 1.0
    image = ax.imshow(np.ma.masked_invalid(values), cmap="RdYlGn", vmin=-scale, vmax=scale,
                      aspect="auto")
    percent = value == "relative_gain"
    for i in range(len(targets)):
        for j in range(len(candidates)):
            v = values[i, j]
            if not np.isfinite(v):
                continue
            significant = verdict.iat[i, j] in ("helps", "hurts")
            if not significant:
                ax.add_patch(_hatch(j, i))
            text = f"{100 * v:+.1f}" if percent else f"{v:+.3f}"
            ax.text(j, i, text, ha="center", va="center", fontsize="x-small",
                    color="black" if significant else "0.35",
                    fontweight="bold" if significant else "normal")
    ax.set_xticks(range(len(candidates)), candidates, rotation=60, ha="right")
    ax.set_yticks(range(len(targets)), targets)
    ax.set_xlabel("auxiliary (candidate)")
    ax.set_ylabel("target")
    label = "relative gain (%)" if percent else "gain (metric units)"
    bar = fig.colorbar(image, ax=ax, shrink=0.9)
    bar.set_label(label)
    ax.set_title("bold: significant; hatched: no clear effect (within the noise)",
                 fontsize="small")
    if percent:
        bar.ax.yaxis.set_major_formatter(lambda x, _: f"{100 * x:+.0f}")
    return fig


def _hatch(x, y):
    from matplotlib.patches import Rectangle

    return Rectangle((x - 0.5, y - 0.5), 1, 1, fill=False, hatch="////", edgecolor="0.55",
                     linewidth=0)


def plot_transfer_gains(gains, target=None, ax=None, value="relative_gain"):
    """One target's gain per candidate with its confidence interval, best first.

    Bars are green for a significant help, red for a significant harm and
    grey for no clear effect; the whiskers are the intervals of
    :func:`~molselect.evaluation.summarize_gains` (95% by default).

    Parameters
    ----------
    gains : pandas.DataFrame
        The tidy table of :func:`~molselect.evaluation.transfer_gains` or its summary.
    target : str, optional
        Which target (needed when ``gains`` covers several).
    ax : matplotlib Axes, optional
    value : {"relative_gain", "gain"}, default="relative_gain"

    Returns
    -------
    matplotlib.figure.Figure
    """
    summary = _as_summary(gains)
    if value not in ("relative_gain", "gain"):
        raise ValueError(f"value must be 'relative_gain' or 'gain', got {value!r}")
    targets = list(dict.fromkeys(summary["target"]))
    if target is None:
        if len(targets) > 1:
            raise ValueError(f"gains cover {len(targets)} targets ({targets}); say which with "
                             "target=")
        target = targets[0]
    if target not in targets:
        raise ValueError(f"gains do not cover the target {target!r}; they cover {targets}")
    rows = summary[summary["target"] == target].sort_values(value, ascending=True)
    low, high = (("relative_ci_low", "relative_ci_high") if value == "relative_gain"
                 else ("gain_ci_low", "gain_ci_high"))
    scale = 100.0 if value == "relative_gain" else 1.0
    mean = rows[value].to_numpy(dtype=float) * scale
    err = np.vstack([mean - rows[low].to_numpy(dtype=float) * scale,
                     rows[high].to_numpy(dtype=float) * scale - mean])
    err = np.where(np.isfinite(err), err, 0.0)
    if ax is None:
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(5.6, 0.32 * len(rows) + 1.4), constrained_layout=True)
    fig = ax.figure
    positions = np.arange(len(rows))
    colours = [_VERDICT_COLOURS.get(v, "0.6") for v in rows["verdict"]]
    ax.barh(positions, mean, xerr=err, color=colours, capsize=2, error_kw={"linewidth": 0.8})
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks(positions, rows["candidate"])
    metric = rows["metric"].iloc[0]
    ax.set_xlabel(f"relative gain in test {metric} (%)" if value == "relative_gain"
                  else f"gain in test {metric}")
    n = int(rows["n_seeds"].max())
    ax.set_title(f"{target}: {n} seed(s), 95% intervals", fontsize="medium")
    from matplotlib.patches import Patch

    ax.legend([Patch(color=c) for c in _VERDICT_COLOURS.values()], list(_VERDICT_COLOURS),
              fontsize="small", frameon=False, loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    return fig
