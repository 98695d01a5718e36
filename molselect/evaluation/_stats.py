"""Paired statistics of transfer gains over seeds: one place for the interval and the verdict."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["VERDICTS", "summarize_gains", "variance_components"]

#: The verdict column's values, best first.
VERDICTS = ("helps", "no clear effect", "hurts")
_CORRECTIONS = ("fdr_bh", "holm", None)
# The columns of summarize_gains, also of an empty summary.
_SUMMARY_COLUMNS = ["target", "candidate", "n_seeds", "metric", "score_alone", "score_with",
                   "gain", "gain_se", "gain_ci_low", "gain_ci_high", "relative_gain",
                   "relative_gain_se", "relative_ci_low", "relative_ci_high", "p_value",
                   "p_adjusted", "verdict"]


def _interval(values, confidence):
    """Mean, standard error and two-sided t interval of ``values`` (NaN where undefined)."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    n = len(values)
    mean = values.mean() if n else np.nan
    if n < 2:
        return mean, np.nan, np.nan, np.nan
    se = values.std(ddof=1) / np.sqrt(n)
    half = stats.t.ppf(0.5 + confidence / 2, n - 1) * se
    return mean, se, mean - half, mean + half


def _paired_p(gains):
    gains = np.asarray(gains, dtype=float)
    gains = gains[np.isfinite(gains)]
    if len(gains) < 2 or np.all(gains == gains[0]):
        # No spread: a t statistic is undefined (and with all gains 0, there is no effect).
        return np.nan if len(gains) < 2 or gains[0] != 0 else 1.0
    return float(stats.ttest_1samp(gains, 0.0).pvalue)


def _holm(p):
    order = np.argsort(p)
    m = len(p)
    adjusted = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, (m - rank) * p[i])
        adjusted[i] = min(running, 1.0)
    return adjusted


def _adjust(p, correction):
    p = np.asarray(p, dtype=float)
    out = np.full(len(p), np.nan)
    ok = np.isfinite(p)
    if not ok.any() or correction is None:
        return p.copy()
    if correction == "fdr_bh":
        out[ok] = stats.false_discovery_control(p[ok], method="bh")
    else:
        out[ok] = _holm(p[ok])
    return out


def _relative_to(gains, baseline):
    """Each candidate's per-seed gains minus the baseline candidate's of the same seed."""
    if baseline not in set(gains["candidate"]):
        raise ValueError(f"relative_to={baseline!r} is not a candidate of gains (candidates: "
                         f"{sorted(set(gains['candidate']))[:8]})")
    base = gains[gains["candidate"] == baseline].set_index(["target", "seed"])
    rest = gains[gains["candidate"] != baseline].copy()
    index = pd.MultiIndex.from_frame(rest[["target", "seed"]])
    missing = ~index.isin(base.index)
    if missing.any():
        raise ValueError(f"the baseline {baseline!r} lacks seed(s) "
                         f"{sorted(set(rest.loc[missing, 'seed']))} that other candidates have")
    for column in ("gain", "relative_gain"):
        rest[column] = rest[column].to_numpy() - base[column].reindex(index).to_numpy()
    rest["score_alone"] = base["score_with"].reindex(index).to_numpy()
    return rest


def summarize_gains(gains, *, confidence=0.95, correction="fdr_bh", relative_to=None):
    """Per target and candidate: mean gain, its standard error, interval, paired test, verdict.

    Each seed pairs a fit on the target alone with a fit on the target plus
    the candidate (same seed, hence the same initialisation of the shared
    encoder and of the target's head).  The test is a two-sided one-sample t
    test of the per-seed gains against zero, i.e. the paired t test of the two
    scores.  With many candidates some pass a 5% test by chance, so the
    verdict uses p-values adjusted over the candidates of each target.

    Parameters
    ----------
    gains : pandas.DataFrame
        The tidy table of :func:`transfer_gains` or :func:`evaluate_selection`
        (columns ``target``, ``candidate``, ``seed``, ``metric``,
        ``score_alone``, ``score_with``, ``gain``, ``relative_gain``).
    confidence : float, default=0.95
        Level of the t intervals.
    correction : {"fdr_bh", "holm", None}, default="fdr_bh"
        Multiple-testing adjustment over each target's candidates:
        Benjamini-Hochberg's false discovery rate, Holm's family-wise error
        rate, or none.
    relative_to : str, optional
        A control candidate (e.g. :func:`permuted_labels` of the target): each
        other candidate's per-seed gain is then measured against the
        control's of the same seed, so a verdict says whether the candidate
        beats an auxiliary that carries no information (``score_alone`` then
        holds the control's score).  The control's own row is left out.

    Returns
    -------
    pandas.DataFrame
        One row per (target, candidate), sorted by target and mean relative
        gain: ``n_seeds``, ``metric``, ``score_alone``, ``score_with``
        (means), ``gain``, ``gain_se``, ``gain_ci_low``, ``gain_ci_high``,
        ``relative_gain``, ``relative_gain_se``, ``relative_ci_low``,
        ``relative_ci_high``, ``p_value``, ``p_adjusted`` and ``verdict``
        ("helps" / "hurts" when the adjusted p-value is below
        ``1 - confidence``, else "no clear effect").  Gains are signed so that
        positive means the candidate helps, also for RMSE and MAE.  Empty
        gains (e.g. ``transfer_gains(..., cached_only=True)`` before any
        pair has finished) give an empty frame with the same columns; then
        ``relative_to`` is not checked, as there is nothing to compare.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    if correction not in _CORRECTIONS:
        raise ValueError(f"correction must be one of {_CORRECTIONS}, got {correction!r}")
    required = ["target", "candidate", "seed", "metric", "score_alone", "score_with", "gain",
                "relative_gain"]
    if not isinstance(gains, pd.DataFrame):
        raise TypeError(f"gains must be the DataFrame of transfer_gains, got "
                        f"{type(gains).__name__}")
    missing = [c for c in required if c not in gains.columns]
    if missing:
        raise ValueError(f"gains lacks the column(s) {missing}; pass the tidy table that "
                         "transfer_gains or evaluate_selection returns")
    if gains.empty:
        return pd.DataFrame(columns=_SUMMARY_COLUMNS)
    if relative_to is not None:
        gains = _relative_to(gains, relative_to)
    rows = []
    for (target, candidate), group in gains.groupby(["target", "candidate"], sort=False):
        gain, gain_se, gain_lo, gain_hi = _interval(group["gain"], confidence)
        rel, rel_se, rel_lo, rel_hi = _interval(group["relative_gain"], confidence)
        rows.append({
            "target": target, "candidate": candidate, "n_seeds": int(group["seed"].nunique()),
            "metric": group["metric"].iloc[0],
            "score_alone": group["score_alone"].mean(), "score_with": group["score_with"].mean(),
            "gain": gain, "gain_se": gain_se, "gain_ci_low": gain_lo, "gain_ci_high": gain_hi,
            "relative_gain": rel, "relative_gain_se": rel_se, "relative_ci_low": rel_lo,
            "relative_ci_high": rel_hi, "p_value": _paired_p(group["gain"]),
        })
    summary = pd.DataFrame(rows)
    if summary.empty:  # only the control's rows (relative_to)
        return pd.DataFrame(columns=_SUMMARY_COLUMNS)
    summary["p_adjusted"] = np.nan
    for _, index in summary.groupby("target", sort=False).groups.items():
        summary.loc[index, "p_adjusted"] = _adjust(summary.loc[index, "p_value"], correction)
    alpha = 1 - confidence
    significant = summary["p_adjusted"] < alpha
    summary["verdict"] = np.where(significant & (summary["gain"] > 0), "helps",
                                  np.where(significant & (summary["gain"] < 0), "hurts",
                                           "no clear effect"))
    summary = summary.sort_values(["target", "relative_gain"], ascending=[True, False],
                                  kind="stable")
    return summary.reset_index(drop=True)


def variance_components(data, *, group="candidate", block="seed", value="relative_gain",
                        reliability=0.8):
    """How much of a table of scores is real difference and how much is the noise of one fit.

    A two-way analysis of variance without replication (groups x blocks, e.g.
    candidates x seeds): the block's shared shift (a seed that is good for
    every fit) is removed, and what is left splits into the real spread
    between groups and the residual noise of one fit (the group x block
    interaction).  Only complete blocks (every group present) are used.

    Parameters
    ----------
    data : pandas.DataFrame
        Tidy table with the ``group``, ``block`` and ``value`` columns.
    group, block, value : str
        Column names.
    reliability : float, default=0.8
        The reliability for which ``blocks_for_reliability`` is computed.

    Returns
    -------
    dict
        ``n_groups``, ``n_blocks``; ``between_sd`` (the real spread of the
        group means, sd), ``residual_sd`` (the noise of one value), ``F``
        (the mean-square ratio), ``reliability`` (of the group means over
        ``n_blocks`` blocks, ``1 - 1/F``, at least 0) and
        ``blocks_for_reliability`` (blocks needed for ``reliability``, by the
        Spearman-Brown formula; inf when the groups do not differ).

    Notes
    -----
    With mean squares ``MS_g`` (groups, ``G - 1`` degrees of freedom) and
    ``MS_e`` (interaction, ``(G - 1)(B - 1)``), ``residual_sd = sqrt(MS_e)``
    and ``between_sd = sqrt(max(0, (MS_g - MS_e) / B))``.
    """
    wide = data.pivot_table(index=group, columns=block, values=value, aggfunc="mean")
    wide = wide.dropna(axis=1)
    n_groups, n_blocks = wide.shape
    out = {"n_groups": n_groups, "n_blocks": n_blocks, "between_sd": np.nan,
           "residual_sd": np.nan, "F": np.nan, "reliability": np.nan,
           "blocks_for_reliability": np.nan}
    if n_groups < 2 or n_blocks < 2:
        return out
    v = wide.to_numpy(float)
    grand = v.mean()
    rows = v.mean(axis=1, keepdims=True)
    cols = v.mean(axis=0, keepdims=True)
    ms_groups = n_blocks * ((rows - grand) ** 2).sum() / (n_groups - 1)
    ms_error = ((v - rows - cols + grand) ** 2).sum() / ((n_groups - 1) * (n_blocks - 1))
    between = max(0.0, (ms_groups - ms_error) / n_blocks)
    f = ms_groups / ms_error if ms_error > 0 else np.inf
    needed = (np.ceil(reliability / (1 - reliability) * ms_error / between)
              if between > 0 else np.inf)
    out.update(between_sd=float(np.sqrt(between)), residual_sd=float(np.sqrt(ms_error)),
               F=float(f), reliability=float(max(0.0, 1 - 1 / f)) if f > 0 else 0.0,
               blocks_for_reliability=float(needed))
    return out
