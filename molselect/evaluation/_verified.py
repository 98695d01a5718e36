"""A selection whose gain is measured on the target, or the honest answer that none helps."""

from __future__ import annotations

import sys
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.base import clone

from .._param_validation import POSITIVE_INT, Interval, _InstancesOf
from ..base import BaseAuxiliarySelector, SelectionResult
from ..datasets._leakage import make_union
from ..metrics import greater_is_better
from ._gains import warn_emptied
from ._jobs import FitJob, resolve_results_dir, run_jobs
from ._measure import (CACHE_DEPRECATED_DOC, MEASUREMENT_CONSTRAINTS, default_estimator,
                       scoring_splits)
from ._protocol import apply_protocol
from ._race import GainRace, detectable_gain

__all__ = ["VerifiedSelector"]


class VerifiedSelector(BaseAuxiliarySelector):
    __doc__ = """Race the groups a selector suggests against the target alone; keep one only if it helps.

    A meta-selector, as scikit-learn's ``SelectFromModel`` wraps an estimator:
    the wrapped ``selector`` ranks the candidates (cheaply), and the nested
    unions of its top 1 .. ``max_k`` (optionally every candidate, and groups
    of the user's) race against the target alone.  Each round fits the
    downstream ``estimator`` on the target alone and on the target plus every
    group still in the race, with one new seed, and scores the target's
    held-out split; the relative gain of a group is its per-seed gain over
    the alone fit.  From round ``min_seeds`` on, a group leaves when its upper
    bound falls below ``min_gain`` or below the best group's lower bound.
    The race ends with

    * ``"helps"``: a group's lower bound is above 0; it is ``selected_``;
    * ``"none helps"``: every group has left: every gain of ``min_gain`` or
      more is excluded, and ``selected_`` is empty;
    * ``"undecided"``: the ``budget`` (fits) or ``max_seeds`` is spent first;
      ``selected_`` is empty and ``detectable_gain_`` says what the budget
      could have seen.

    The bounds stay valid under the repeated looks: a Pocock group-sequential
    boundary spends ``alpha`` over the planned looks, and Bonferroni's
    inequality over the groups (:class:`~molselect.evaluation.GainRace`), so the
    probability that any reported interval misses its true gain is at most
    ``alpha``, the winner's included.

    Parameters
    ----------
    selector : selector, optional
        An unfitted molselect selector whose ``ranking_`` orders the
        candidates.  Default: :class:`~molselect.selectors.TaskTypeSelector`
        (the cheapest ranking, and no trained selector has been measured to
        rank better).
    estimator : estimator, optional
        The downstream model whose outcome is verified (its ``random_state``
        is replaced by each round's seed).  Default: the fast GIN of the
        target's kind (:func:`default_estimator`).
    protocol : str, default="default"
        The fit protocol applied to the estimator (see
        :data:`~molselect.evaluation.PROTOCOLS`; "fixed" leaves it as given).
    max_k : int, default=3
        The largest nested union of the ranking that races.
    include_all : bool, default=False
        Race the union of every candidate too.
    groups : dict of str to list of str, optional
        Further groups to race (e.g. the top of
        :func:`~molselect.evaluation.subset_effects`), by name; "alone", "all"
        and "top 1" .. "top max_k" are the race's own names.
    alpha : float, default=0.05
        Probability that any reported interval misses.
    min_gain : float, default=0.01
        The smallest relative gain worth having (0.01: 1% of the alone score).
    min_seeds : int, default=3
        Rounds before the first look.
    max_seeds : int, optional
        Rounds at most (the last planned look).  Default: 10, or as many
        rounds as ``budget`` buys for every group when that is more.
    budget : int, optional
        Fits at most; default ``max_seeds x (1 + number of groups)``.
    results_dir : str, path-like or ResultCache, optional
        Finished fits (shared with :func:`transfer_gains`; the command
        line's ``--results-dir``): an interrupted verification resumes where
        it stopped.
    n_jobs : int, optional
        Parallel fits within a round (joblib; a Dask cluster under
        ``joblib.parallel_config(backend="dask")``).
    torch_threads : int, optional
        Threads per fit.
    random_state : int, default=0
        Round ``r`` uses seed ``random_state + r``; also seeds the wrapped
        selector when it has no seed of its own.
    verbose : bool, default=False
        Print the race round by round (to stderr).
    leakage_guard : bool or "skeleton", default=True
        Remove candidate molecules found in the target's held-out splits, in
        the race's unions and in ``fit_transform``'s.
""" + CACHE_DEPRECATED_DOC + """
    Attributes
    ----------
    selected_ : list of str
        The verified group (empty unless the verdict is "helps").
    verdict_ : {"helps", "none helps", "undecided"}
    group_ : str or None
        The winning group's name.
    gain_ : float
        Relative gain of the winning group, else of the group with the best
        mean gain (positive means helps, also for RMSE).
    gain_interval_ : tuple of float
        Its interval (valid under the repeated looks).
    n_fits_ : int
        Fits the race ran (cached ones included).
    detectable_gain_ : float
        The relative gain that this race, with the measured noise, finds
        with 80% probability.
    groups_ : dict of str to list of str
        The racing groups.
    summary_ : pandas.DataFrame
        Per group: rounds raced, gain, low, high, status.
    trace_ : pandas.DataFrame
        Tidy: ``round``, ``group`` ("alone" for the target alone), ``seed``,
        ``score`` (the test metric) and ``seconds`` (the fit's time when it ran;
        a cached fit keeps the time it took then).
    ranking_selector_ : selector
        The fitted wrapped selector; ``affinity_`` and ``ranking_`` are its.

    Examples
    --------
    >>> from molselect.datasets import load_dataset
    >>> bbbp = load_dataset("bbbp")
    >>> pool = {n: load_dataset(n).train for n in ["bace", "clintox", "tox21"]}
    >>> sel = VerifiedSelector(max_k=2, n_jobs=2).fit(
    ...     bbbp.train, pool, eval_set=[bbbp.valid, bbbp.test])       # doctest: +SKIP
    >>> sel.verdict_, sel.selected_, sel.gain_interval_                  # doctest: +SKIP
    """

    _parameter_constraints = {
        **BaseAuxiliarySelector._parameter_constraints,
        **MEASUREMENT_CONSTRAINTS,
        "selector": [_InstancesOf(BaseAuxiliarySelector, "a molselect selector"), None],
        "max_k": [POSITIVE_INT],
        "include_all": ["boolean"],
        "groups": [_InstancesOf(dict, "a dict of name -> candidates"), None],
        "alpha": [Interval(Real, 0, 1, closed="neither")],
        "min_gain": [Interval(Real, 0, None, closed="left")],
        "min_seeds": [Interval(Integral, 2, None, closed="left")],
        "max_seeds": [Interval(Integral, 2, None, closed="left"), None],
        "budget": [POSITIVE_INT, None],
    }

    def __init__(self, selector=None, estimator=None, *, protocol="default", max_k=3,
                 include_all=False, groups=None, alpha=0.05, min_gain=0.01, min_seeds=3,
                 max_seeds=None, budget=None, results_dir=None,
                 n_jobs=None, torch_threads=None, random_state=0, verbose=False,
                 leakage_guard=True, cache="deprecated"):
        self.selector = selector
        self.estimator = estimator
        self.protocol = protocol
        self.max_k = max_k
        self.include_all = include_all
        self.groups = groups
        self.alpha = alpha
        self.min_gain = min_gain
        self.min_seeds = min_seeds
        self.max_seeds = max_seeds
        self.budget = budget
        self.results_dir = results_dir
        self.n_jobs = n_jobs
        self.torch_threads = torch_threads
        self.random_state = random_state
        self.verbose = verbose
        self.leakage_guard = leakage_guard
        self.cache = cache

    # -- checks, all before any training ----------------------------------------------------
    def _checked_setup(self, target, candidates, eval_sets):
        scoring_splits(eval_sets, "VerifiedSelector")
        n_groups = self.max_k + bool(self.include_all) + len(self.groups or {})
        max_seeds = self.max_seeds
        if max_seeds is None:
            max_seeds = max(10, (self.budget or 0) // (1 + n_groups))
        if self.min_seeds > max_seeds:
            raise ValueError(f"min_seeds ({self.min_seeds}) is more than max_seeds "
                             f"({max_seeds})")
        if self.max_k > len(candidates):
            raise ValueError(f"max_k={self.max_k} is more than the {len(candidates)} "
                             "candidate(s): lower max_k or give more candidates")
        estimator = (default_estimator(target) if self.estimator is None
                     else self.estimator)
        estimator = apply_protocol(estimator, self.protocol)
        kind = getattr(estimator, "_kind", None)
        if kind is not None and any(t != kind for t in target.task_types):
            raise ValueError(f"estimator {type(estimator).__name__} fits {kind} tasks, but the "
                             f"target {target.name!r} has {sorted(set(target.task_types))} "
                             "tasks")
        if "random_state" not in estimator.get_params(deep=False):
            raise TypeError(f"estimator {type(estimator).__name__} has no random_state: each "
                            "round seeds its fits")
        builtin = {"alone", "all", *(f"top {k}" for k in range(1, self.max_k + 1))}
        for name, members in (self.groups or {}).items():
            if name in builtin:
                # The race keys its fits and its trace by group name: a clash would
                # silently replace a built-in group (or the target alone) with this one.
                raise ValueError(f"groups[{name!r}]: the name is taken by a group the race "
                                 f"builds itself ({', '.join(sorted(builtin))}); rename it")
            unknown = [m for m in members if m not in candidates]
            if unknown or not members:
                raise ValueError(f"groups[{name!r}] names {unknown or 'no'} candidate(s); the "
                                 f"candidates are {list(candidates)}")
        budget = self.budget or max_seeds * (1 + n_groups)
        if budget < (1 + n_groups) * self.min_seeds:
            raise ValueError(
                f"budget={budget} fits cannot reach the first look: {self.min_seeds} rounds "
                f"of {1 + n_groups} fits (the target alone and {n_groups} group(s)) need "
                f"{(1 + n_groups) * self.min_seeds}")
        return estimator, budget, max_seeds

    # -- the race ---------------------------------------------------------------------------
    def _score_candidates(self, target, candidates, eval_sets):
        estimator, budget, max_seeds = self._checked_setup(target, candidates, eval_sets)
        results_dir = resolve_results_dir(self.results_dir, self.cache, "VerifiedSelector",
                                          stacklevel=5)
        ranker = clone(self.selector) if self.selector is not None else None
        if ranker is not None and ranker.get_params().get("random_state", 0) is None:
            # An unseeded ranking would race other groups on a rerun (and miss the cache).
            ranker.set_params(random_state=self.random_state)
        if ranker is None:
            from ..selectors import TaskTypeSelector

            ranker = TaskTypeSelector(top_k=None, random_state=self.random_state)
        ranker.fit(target, candidates, eval_set=eval_sets[0])
        ranking = list(ranker.ranking_)
        groups = {f"top {k}": ranking[:k] for k in range(1, self.max_k + 1)}
        if self.include_all and self.max_k < len(ranking):
            groups["all"] = list(ranking)
        groups.update({name: list(m) for name, m in (self.groups or {}).items()})

        valid, test = scoring_splits(eval_sets, "VerifiedSelector")
        held_out = list(eval_sets) if self.leakage_guard else None
        guarded = make_union(target, dict(candidates), held_out=held_out)
        emptied = [n for n in candidates if len(guarded[n]) == 0]
        warn_emptied(emptied, "they are left out of every group")
        members, seen = {"alone": [(target.name, target)]}, set()
        for name, group in list(groups.items()):
            kept = tuple(n for n in group if n not in emptied)
            if not kept or kept in seen:
                # Nothing left to add, or the same union as an earlier group: racing it
                # again would spend fits (and alpha) on a copy.
                del groups[name]
                continue
            seen.add(kept)
            groups[name] = list(kept)
            members[name] = [(target.name, target), *((n, guarded[n]) for n in kept)]
        if not groups:
            raise ValueError("the leakage guard removed every molecule of every candidate in "
                             "the groups: they are all in the target's validation or test "
                             "split, so there is nothing to race against the target alone")

        race = GainRace(list(groups), greater_is_better=greater_is_better(target.metric),
                        alpha=self.alpha, min_gain=self.min_gain, min_seeds=self.min_seeds,
                        max_seeds=max_seeds)
        trace, fits, verdict, winner = [], 0, "undecided", None
        while race.has_room(fits, budget):
            seed = self.random_state + len(race.alone)
            racing = ["alone", *race.alive]
            jobs = {name: FitJob(estimator, members[name], valid, test, seed,
                                 label={"target": target.name, "group": name, "seed": seed},
                                 torch_threads=self.torch_threads) for name in racing}
            results = run_jobs(list(jobs.values()), results_dir=results_dir, n_jobs=self.n_jobs,
                               verbose=False, desc=f"verification round {len(race.alone) + 1}")
            scores = {name: results[job.key]["test_score"] for name, job in jobs.items()}
            fits += len(jobs)
            trace += [{"round": len(race.alone) + 1, "group": name, "seed": seed,
                       "score": scores[name], "seconds": results[job.key]["seconds"]}
                      for name, job in jobs.items()]
            race.add_round(scores["alone"], {g: scores[g] for g in race.alive})
            look = race.look()
            self._report(look, race, fits, budget)
            if look.verdict is not None:
                verdict, winner = look.verdict, look.winner
                break

        summary = self._summary(race, groups)
        best = winner or summary.sort_values("gain", ascending=False).index[0]
        sd_fit = race.pooled_sd / np.sqrt(2)
        attributes = {
            "verdict_": verdict, "group_": winner, "gain_": float(summary.loc[best, "gain"]),
            "gain_interval_": (float(summary.loc[best, "low"]), float(summary.loc[best, "high"])),
            "n_fits_": fits,
            "detectable_gain_": detectable_gain(
                sd_fit, len(groups), alpha=self.alpha, min_gain=self.min_gain,
                min_seeds=self.min_seeds, max_seeds=max_seeds, budget=budget),
            "groups_": groups, "summary_": summary, "trace_": pd.DataFrame(trace),
            "ranking_selector_": ranker,
        }
        selected = groups[winner] if winner is not None else []
        return SelectionResult(ranker.affinity_, selected=selected, ranking=ranking,
                               attributes=attributes)

    @staticmethod
    def _summary(race, groups):
        rows = {}
        for name in groups:
            # A group's last look is the one it was in the race at.
            look = next(lk for lk in reversed(race.looks) if name in lk.gain)
            status = ("left" if name not in race.alive else "racing")
            rows[name] = {"rounds": len(race.scores[name]), "gain": look.gain[name],
                          "low": look.low[name], "high": look.high[name], "status": status}
        return pd.DataFrame.from_dict(rows, orient="index")

    def _report(self, look, race, fits, budget):
        if not self.verbose:
            return
        if look.round >= self.min_seeds:
            parts = [f"{g} {look.gain[g]:+.1%} [{look.low[g]:+.1%}, {look.high[g]:+.1%}]"
                     for g in look.gain]
        else:
            parts = [f"{g} {look.gain[g]:+.1%}" for g in look.gain]
            parts[-1] += f" (first bounds after round {self.min_seeds})"
        left = f"; left: {', '.join(look.left)}" if look.left else ""
        print(f"round {look.round} ({fits}/{budget} fits, {len(race.alive)} group(s) racing): "
              + "; ".join(parts) + left, file=sys.stderr, flush=True)
