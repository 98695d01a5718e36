"""How well a selector's scores predict the measured transfer gains."""

from __future__ import annotations

import itertools
from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import stats

from ._stats import summarize_gains

__all__ = ["score_selector"]

_COLUMNS = ["selector", "target", "n_candidates", "n_scored", "n_runs", "spearman",
            "spearman_std", "kendall", "precision_at_k", "top_k_gain", "best_k_gain",
            "random_k_gain", "n_helps", "run_agreement"]


def _as_series(scores, where):
    if hasattr(scores, "affinity_") and not isinstance(scores, (pd.Series, Mapping)):
        scores = scores.affinity_
    if isinstance(scores, Mapping):
        scores = pd.Series(scores, dtype=float)
    if not isinstance(scores, pd.Series):
        raise TypeError(f"{where}: expected a fitted selector (its affinity_), a Series or a "
                        f"mapping candidate -> score, got {type(scores).__name__}")
    return scores.astype(float)


def _long_scores(selector_scores, targets):
    """Any accepted form -> a frame with columns selector, target, run, candidate, score."""
    if isinstance(selector_scores, pd.DataFrame):
        missing = [c for c in ("selector", "candidate", "score")
                   if c not in selector_scores.columns]
        if missing:
            raise ValueError(f"selector_scores lacks the column(s) {missing}; a long table has "
                             "selector, candidate, score and optionally target and run")
        frame = selector_scores.copy()
    else:
        if not isinstance(selector_scores, Mapping) or not selector_scores:
            raise TypeError("selector_scores must be a non-empty mapping selector name -> "
                            "scores (a fitted selector, a Series, or a list of them for "
                            "several runs), or a long DataFrame")
        frames = []
        for name, value in selector_scores.items():
            runs = value if isinstance(value, (list, tuple)) else [value]
            for run, scores in enumerate(runs):
                series = _as_series(scores, f"selector_scores[{name!r}][{run}]")
                frames.append(pd.DataFrame({"selector": str(name), "run": run,
                                            "candidate": series.index.astype(str),
                                            "score": series.to_numpy()}))
        frame = pd.concat(frames, ignore_index=True)
    if "run" not in frame.columns:
        frame["run"] = 0
    if "target" not in frame.columns:
        if len(targets) != 1:
            raise ValueError(f"gains cover {len(targets)} targets ({targets}); give "
                             "selector_scores a 'target' column to say which scores are whose")
        frame["target"] = targets[0]
    bad = frame[~np.isfinite(frame["score"].astype(float))]
    if len(bad):
        row = bad.iloc[0]
        raise ValueError(f"selector {row['selector']!r} gives candidate {row['candidate']!r} "
                         f"(target {row['target']!r}) a score that is not finite "
                         f"({row['score']}); a selection cannot be judged from it")
    return frame


def _top_k_shares(scores, k):
    """Each candidate's share of the top ``k``, best score first.

    1 above the cut, 0 below it, and the candidates tied at the cut share the
    places left (each gets ``places / ties``): the expected share when ties
    are broken at random, which no order of the input can change.  Equal
    scores are listed by name, so that even the sums' rounding does not
    depend on the input's order.
    """
    scores = scores[sorted(scores.index, key=lambda c: (-scores[c], str(c)))]
    values = scores.to_numpy(float)
    above = (values[None, :] > values[:, None]).sum(axis=1)
    tied = (values[None, :] == values[:, None]).sum(axis=1)
    return pd.Series(np.clip(k - above, 0, tied) / tied, index=scores.index)


def _mean_pairwise_tau(runs):
    taus = []
    for a, b in itertools.combinations(runs, 2):
        common = a.index.intersection(b.index)
        if len(common) >= 2:
            taus.append(stats.kendalltau(a[common], b[common]).statistic)
    return float(np.nanmean(taus)) if taus else np.nan


def score_selector(selector_scores, gains, *, k=3, value="relative_gain", unmeasured="raise",
                   **summary_options):
    """Score selectors against measured transfer gains: one table for many selectors.

    For every selector, target and run it compares the selector's scores of
    the candidates with their measured mean gains:

    * ``spearman`` and ``kendall``: rank correlation of scores and gains;
    * ``precision_at_k``: the share of the top ``k`` candidates whose gain is
      significantly positive (verdict "helps"); NaN when no candidate helps
      significantly, since then no selector can be right;
    * ``top_k_gain``: the mean measured gain of the top ``k`` candidates, next
      to ``best_k_gain`` (the ``k`` candidates with the largest gains) and
      ``random_k_gain`` (the expected value for a random ``k``-subset, which
      is the mean over all candidates).  These average the *pairwise* gains
      of the chosen candidates; the gain of training on all ``k`` at once is
      measured by :func:`evaluate_selection`.

    The top ``k`` are the ``k`` highest scores.  Candidates with equal scores
    at the cut share the places left: with ``m`` places for ``t`` tied
    candidates each counts ``m / t`` in ``precision_at_k`` and
    ``top_k_gain``, the expected value when ties are broken at random (as
    the rank correlations give ties their average rank).  The result thus
    does not depend on the order in which the scores or the gains are given.
    Rows are then averaged over runs (a selector's seeds); ``run_agreement``
    is the mean Kendall tau between the runs' scores (NaN for one run).

    Parameters
    ----------
    selector_scores : mapping or pandas.DataFrame
        Selector name -> a fitted selector (its ``affinity_``), a Series or
        mapping candidate -> score (higher = more helpful), or a list of those
        for several runs; or a long DataFrame with columns ``selector``,
        ``candidate``, ``score`` and optionally ``target`` and ``run``.
    gains : pandas.DataFrame
        The tidy table of :func:`transfer_gains` or its
        :func:`summarize_gains` summary.
    k : int, default=3
        Size of the selection judged (the paper selects the top 3).
    value : {"relative_gain", "gain"}, default="relative_gain"
        Which mean gain the scores are compared with.
    unmeasured : {"raise", "ignore"}, default="raise"
        What to do with scored candidates that the gains do not cover:
        refuse, or judge the selector on the measured candidates only (for a
        ground truth that is still being computed; ``n_scored`` says on how
        many).
    **summary_options
        Passed to :func:`summarize_gains` when ``gains`` is the tidy table.

    Returns
    -------
    pandas.DataFrame
        One row per (selector, target): ``n_candidates`` (measured),
        ``n_scored`` (of those, how many the selector scored, the fewest over
        its runs: less than ``n_candidates`` flags a selector judged on part
        of the candidates, whose ``top_k_gain`` and correlations are then not
        comparable with the others'), ``n_runs``, ``spearman``,
        ``spearman_std`` (over runs), ``kendall``, ``precision_at_k``,
        ``top_k_gain``, ``best_k_gain`` (over all measured candidates),
        ``random_k_gain``, ``n_helps`` and ``run_agreement``.  Empty gains
        (no pair finished yet) or empty scores give an empty frame with
        these columns.
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    if value not in ("relative_gain", "gain"):
        raise ValueError(f"value must be 'relative_gain' or 'gain', got {value!r}")
    if unmeasured not in ("raise", "ignore"):
        raise ValueError(f"unmeasured must be 'raise' or 'ignore', got {unmeasured!r}")
    if not isinstance(gains, pd.DataFrame):
        raise TypeError(f"gains must be the DataFrame of transfer_gains or summarize_gains, got "
                        f"{type(gains).__name__}")
    summary = gains if "verdict" in gains.columns else summarize_gains(gains, **summary_options)
    targets = list(dict.fromkeys(summary["target"]))
    frame = _long_scores(selector_scores, targets or [None])  # checked even without gains
    if summary.empty:  # nothing measured yet: nothing to judge
        return pd.DataFrame(columns=_COLUMNS)

    rows = []
    for (selector, target), group in frame.groupby(["selector", "target"], sort=False):
        truth = summary[summary["target"] == target].set_index("candidate")
        if truth.empty:
            raise ValueError(f"selector {selector!r} scores target {target!r}, which the gains "
                             f"do not cover (they cover {targets})")
        true_gain = truth[value].astype(float)
        helps = set(truth.index[truth["verdict"] == "helps"])
        n_top = min(k, len(true_gain))
        best = true_gain.sort_values(ascending=False).iloc[:n_top].mean()
        per_run, run_scores, n_scored = [], [], []
        for _, run in group.groupby("run", sort=True):
            scores = run.set_index("candidate")["score"]
            common = scores.index.intersection(true_gain.index)
            unknown = scores.index.difference(true_gain.index)
            if len(unknown) and unmeasured == "raise":
                raise ValueError(f"selector {selector!r} scores candidate(s) "
                                 f"{list(unknown)[:5]} of target {target!r} that the gains "
                                 "do not cover (unmeasured='ignore' judges on the measured "
                                 "ones only)")
            scores, truth_run = scores[common], true_gain[common]
            run_scores.append(scores)
            n_scored.append(len(common))
            share = _top_k_shares(scores, n_top)
            per_run.append({
                "spearman": stats.spearmanr(scores, truth_run).statistic
                if len(common) > 2 else np.nan,
                "kendall": stats.kendalltau(scores, truth_run).statistic
                if len(common) > 1 else np.nan,
                "precision_at_k": share[share.index.isin(helps)].sum() / n_top
                if helps else np.nan,
                "top_k_gain": (share * truth_run[share.index]).sum() / share.sum()
                if len(share) else np.nan,
            })
        per_run = pd.DataFrame(per_run)
        rows.append({
            "selector": selector, "target": target, "n_candidates": len(true_gain),
            "n_scored": min(n_scored), "n_runs": len(per_run),
            "spearman": per_run["spearman"].mean(),
            "spearman_std": per_run["spearman"].std(ddof=1) if len(per_run) > 1 else np.nan,
            "kendall": per_run["kendall"].mean(),
            "precision_at_k": per_run["precision_at_k"].mean(),
            "top_k_gain": per_run["top_k_gain"].mean(),
            "best_k_gain": best, "random_k_gain": true_gain.mean(),
            "n_helps": len(helps), "run_agreement": _mean_pairwise_tau(run_scores),
        })
    return pd.DataFrame(rows, columns=_COLUMNS)
