"""Designed-subset effects: every candidate's main effect from fits on subsets of the candidates.

A pairwise study fits the target with one candidate at a time, so each fit informs one
candidate.  Here each fit trains on a designed subset of the candidates (a random half,
or a row of a two-level orthogonal design with its fold-over), and every fit informs
every candidate: the main effect of candidate ``j`` is the difference between the mean
score of the runs that include it and of those that leave it out, estimated for all
candidates at once by (ridge) least squares.  This is the Maximum-Sample-Reuse estimator
of the Banzhaf value (Wang & Jia, "Data Banzhaf", AISTATS 2023), the semivalue most
robust to training noise, and the factorial main effect of Box, Hunter & Hunter
(*Statistics for Experimenters*): with ``N`` runs, an effect's variance is ``4 sigma^2 /
N`` against ``2 sigma^2 / r`` for a pairwise gain over ``r`` seeds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
import pandas as pd
from scipy import linalg, stats
from sklearn.base import clone

from .._param_validation import POSITIVE_INT, Interval, StrOptions
from ..base import LEAKAGE_GUARD_DOC, TOP_K, BaseAuxiliarySelector, SelectionResult
from ..datasets._leakage import make_union
from ..datasets._validation import name_datasets
from ..metrics import greater_is_better
from ._gains import _check_estimator, _resolve_splits, warn_emptied
from ._jobs import FitJob, resolve_results_dir, run_jobs
from ._measure import (CACHE_DEPRECATED_DOC, MEASUREMENT_CONSTRAINTS, default_estimator,
                       scoring_splits)
from ._protocol import apply_protocol
from ._stats import _adjust

__all__ = ["SubsetEffects", "SubsetEffectsSelector", "design_matrix", "main_effects",
           "subset_effects"]

DESIGNS = ("half", "orthogonal")


def design_matrix(n_candidates, n_runs, design="half", random_state=0):
    """Which candidates each run trains with: a 0/1 matrix of shape (n_runs, n_candidates).

    Parameters
    ----------
    n_candidates : int
    n_runs : int
    design : {"half", "orthogonal"}, default="half"
        "half": every candidate in each run with probability 1/2 (independent
        draws, seeded).  "orthogonal": the columns 1..m of a Sylvester-Hadamard
        matrix of the smallest order ``N`` above ``m`` (a two-level orthogonal
        design, as Plackett-Burman's), with its fold-over (the same rows with
        every level swapped), so main effects are not aliased with two-factor
        interactions; ``n_runs`` is then a multiple of ``2N``, the design
        repeated with new seeds.
    random_state : int, default=0

    Returns
    -------
    ndarray of int, shape (n_runs, n_candidates)
    """
    if design not in DESIGNS:
        raise ValueError(f"design must be one of {DESIGNS}, got {design!r}")
    if design == "half":
        return np.random.default_rng(random_state).integers(0, 2, (n_runs, n_candidates))
    order = 1 << int(np.ceil(np.log2(n_candidates + 1)))
    block = (linalg.hadamard(order)[:, 1:n_candidates + 1] > 0).astype(int)
    block = np.vstack([block, 1 - block])
    if n_runs % len(block):
        raise ValueError(f"the orthogonal design for {n_candidates} candidates has "
                         f"{len(block)} runs (a {order}-run two-level design and its "
                         f"fold-over): n_runs must be a multiple of {len(block)}, got {n_runs}")
    return np.tile(block, (n_runs // len(block), 1))


def _ridge_fit(X, y, ridge):
    """Intercept, coefficients, their covariance and residual dof of a ridge fit on 0/1 X."""
    n, m = X.shape
    mean_x = X.mean(axis=0)
    Xc = X - mean_x
    gram = Xc.T @ Xc
    inverse = np.linalg.pinv(gram + ridge * np.eye(m))
    coef = inverse @ Xc.T @ (y - y.mean())
    intercept = y.mean() - mean_x @ coef
    residuals = y - intercept - X @ coef
    hat_trace = 1 + np.trace(inverse @ gram)
    dof = n - hat_trace
    sigma2 = float(residuals @ residuals / dof) if dof > 0 else np.nan
    cov = sigma2 * inverse @ gram @ inverse
    return intercept, coef, cov, dof


def main_effects(X, y, names, *, ridge=0.0, confidence=0.95, greater_is_better=True,
                 correction="fdr_bh"):
    """Each candidate's main effect on the score, with its standard error and interval.

    Parameters
    ----------
    X : array-like of shape (n_runs, n_candidates)
        1 where the run trained with the candidate.
    y : array-like of shape (n_runs,)
        The runs' test scores (the metric in its own units).
    names : list of str
    ridge : float, default=0.0
        Penalty on the effects (0: least squares; needed when there are fewer
        runs than candidates + 2).
    confidence : float, default=0.95
    greater_is_better : bool, default=True
        Whether a larger score is better; effects are signed so that positive
        means the candidate helps (also for RMSE).
    correction : {"fdr_bh", "holm", None}, default="fdr_bh"
        Adjustment of the p-values over the candidates.

    Returns
    -------
    effects : pandas.DataFrame
        Indexed by candidate: ``effect``, ``se``, ``ci_low``, ``ci_high``
        (metric units, signed), ``relative_effect``, ``relative_ci_low``,
        ``relative_ci_high`` (divided by the intercept, the score predicted
        with no candidate), ``p_value``, ``p_adjusted``, ``verdict`` ("helps",
        "hurts" or "no clear effect" at the adjusted level).
    intercept : float
        The score predicted for the target alone.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    if X.ndim != 2 or len(X) != len(y) or X.shape[1] != len(names):
        raise ValueError(f"X must be (n_runs, n_candidates) = ({len(y)}, {len(names)}), got "
                         f"{X.shape}")
    intercept, coef, cov, dof = _ridge_fit(X, y, ridge)
    if not dof > 0:
        raise ValueError(f"{len(y)} runs cannot estimate {len(names)} effects and their noise "
                         "by least squares: give more runs, or a ridge penalty")
    sign = 1.0 if greater_is_better else -1.0
    effect = sign * coef
    se = np.sqrt(np.clip(np.diag(cov), 0, None))
    half = stats.t.ppf(0.5 + confidence / 2, dof) * se
    with np.errstate(divide="ignore", invalid="ignore"):
        p = 2 * stats.t.sf(np.abs(effect / se), dof)
    scale = abs(intercept)
    table = pd.DataFrame({
        "effect": effect, "se": se, "ci_low": effect - half, "ci_high": effect + half,
        "relative_effect": effect / scale, "relative_ci_low": (effect - half) / scale,
        "relative_ci_high": (effect + half) / scale, "p_value": p,
    }, index=pd.Index(list(names), name="candidate"))
    table["p_adjusted"] = _adjust(table["p_value"].to_numpy(), correction)
    significant = table["p_adjusted"] < 1 - confidence
    table["verdict"] = np.where(significant & (table["effect"] > 0), "helps",
                                np.where(significant & (table["effect"] < 0), "hurts",
                                         "no clear effect"))
    return table, float(intercept)


def _held_out(X, y, ridge, n_folds, random_state):
    """R^2 and Spearman of the effects model on runs left out (k-fold over the runs)."""
    n = len(y)
    if n_folds < 2 or n < 2 * n_folds:
        return np.nan, np.nan
    folds = np.random.default_rng(random_state).permutation(n) % n_folds
    predicted = np.empty(n)
    for k in range(n_folds):
        train = folds != k
        intercept, coef, _, dof = _ridge_fit(X[train], y[train], ridge)
        if not dof > 0:
            return np.nan, np.nan
        predicted[~train] = intercept + X[~train] @ coef
    ss_total = float(((y - y.mean()) ** 2).sum())
    r2 = 1 - float(((y - predicted) ** 2).sum()) / ss_total if ss_total > 0 else np.nan
    return r2, float(stats.spearmanr(predicted, y).statistic)


@dataclass
class SubsetEffects:
    """What :func:`~molselect.evaluation.subset_effects` measured.

    Attributes
    ----------
    effects : pandas.DataFrame
        One row per candidate, best first (see :func:`main_effects`).
    runs : pandas.DataFrame
        One row per run: ``run``, ``seed``, a 0/1 column per candidate,
        ``score`` and ``seconds``.
    intercept : float
        The score the model predicts for the target alone.
    holdout_r2, holdout_spearman : float
        How well the model predicts runs left out of its fit (k-fold over
        the runs): R^2 and the rank correlation of predicted and measured
        scores.
    """

    effects: pd.DataFrame
    runs: pd.DataFrame
    intercept: float
    holdout_r2: float
    holdout_spearman: float


def subset_effects(target, candidates, estimator, *, design="half", n_runs=32, seeds=None,
                   eval_set=None, test_set=None, protocol="default", ridge=0.0,
                   confidence=0.95, n_folds=4, leakage_guard=True, results_dir=None,
                   n_jobs=None, torch_threads=None, random_state=0, verbose=True, cache=None):
    """Every candidate's main effect on the target, from fits on designed subsets.

    Run ``i`` fits the estimator on the target plus the candidates row ``i``
    of the design includes (leakage-guarded), with seed ``seeds[i]``, and
    scores the target's test split.  A least-squares model of the scores on
    the design gives each candidate's main effect (see the module notes).

    Each run is a cached, content-keyed joblib job like those of
    :func:`transfer_gains` (shared cache; a Dask cluster takes them under
    ``joblib.parallel_config(backend="dask")``; an interrupted study resumes).

    Parameters
    ----------
    target : dataset or DatasetSplits
        As :func:`transfer_gains`.
    candidates : mapping of str to dataset, or list of datasets
    estimator : estimator
        Unfitted, of the target's kind.
    design : {"half", "orthogonal"}, default="half"
        See :func:`design_matrix`.
    n_runs : int, default=32
    seeds : list of int, optional
        One per run; default ``random_state + range(n_runs)``.
    eval_set, test_set : dataset, optional
        As :func:`transfer_gains`.
    protocol : str, default="default"
        The fit protocol (:data:`~molselect.evaluation.PROTOCOLS`).
    ridge : float, default=0.0
    confidence : float, default=0.95
    n_folds : int, default=4
        Folds of the held-out check.
    leakage_guard, results_dir, n_jobs, torch_threads, verbose, cache
        As :func:`transfer_gains`.
    random_state : int, default=0
        Seed of the design and of the default seeds.

    Returns
    -------
    SubsetEffects

    Examples
    --------
    >>> from molselect.datasets import load_dataset
    >>> from molselect.models import GINClassifier
    >>> pool = {n: load_dataset(n).train for n in ["bace", "tox21", "esol", "sider"]}
    >>> result = subset_effects(load_dataset("bbbp"), pool, GINClassifier(), n_runs=32,
    ...                         results_dir="effects")                    # doctest: +SKIP
    >>> result.effects[["relative_effect", "relative_ci_low", "relative_ci_high",
    ...                 "verdict"]]                                        # doctest: +SKIP
    """
    if candidates is None or (isinstance(candidates, (Mapping, list, tuple)) and not candidates):
        raise ValueError("no candidates given: pass a mapping name -> dataset or a list")
    estimator = apply_protocol(_check_estimator(estimator), protocol)
    if isinstance(n_runs, bool) or not isinstance(n_runs, (int, np.integer)) or n_runs < 2:
        raise ValueError(f"n_runs must be an integer of at least 2, got {n_runs!r}")
    pool = name_datasets(candidates)
    names = list(pool)
    if seeds is None:
        seeds = [int(random_state) + i for i in range(n_runs)]
    seeds = [int(s) for s in seeds]
    if len(seeds) != n_runs:
        raise ValueError(f"seeds has {len(seeds)} values for {n_runs} runs: give one per run")
    train, valid, test = _resolve_splits(target, eval_set, test_set)
    held_out = [valid, test] if leakage_guard else None
    guarded = make_union(train, pool, held_out=held_out)   # guard each candidate once
    emptied = [n for n in names if len(guarded[n]) == 0]
    warn_emptied(emptied, "they are left out of the design and get no effect")
    names = [n for n in names if n not in emptied]
    if not names:
        raise ValueError("the leakage guard removed every molecule of every candidate: they "
                         f"are all in the validation or test split of the target {train.name!r}")
    X = design_matrix(len(names), n_runs, design, random_state)
    if len(X) - len(names) - 1 < 1 and ridge == 0:
        raise ValueError(f"{n_runs} runs cannot estimate {len(names)} effects and their noise "
                         f"by least squares: give at least {len(names) + 2} runs, or ridge > 0")
    jobs = []
    for i, row in enumerate(X):
        members = [(train.name, train)] + [(n, guarded[n]) for n, x in zip(names, row) if x]
        jobs.append(FitJob(estimator, members, valid, test, seeds[i],
                           label={"target": train.name, "run": i, "seed": seeds[i]},
                           torch_threads=torch_threads))
    results = run_jobs(jobs, results_dir=resolve_results_dir(results_dir, cache,
                                                             "subset_effects"),
                       n_jobs=n_jobs, verbose=verbose, desc=f"designed subsets for {train.name}")
    y = np.array([results[job.key]["test_score"] for job in jobs], dtype=float)
    if not np.isfinite(y).all():
        raise ValueError("a run's test score is not finite (the metric could not be computed "
                         "on the test split): no effects are estimated from it")
    greater = greater_is_better(train.metric)
    effects, intercept = main_effects(X, y, names, ridge=ridge, confidence=confidence,
                                      greater_is_better=greater)
    r2, rho = _held_out(X.astype(float), y, ridge, n_folds, random_state)
    runs = pd.DataFrame(X, columns=names)
    runs.insert(0, "seed", seeds)
    runs.insert(0, "run", range(n_runs))
    runs["score"] = y
    runs["seconds"] = [results[job.key]["seconds"] for job in jobs]
    effects = effects.sort_values("effect", ascending=False, kind="stable")
    return SubsetEffects(effects, runs, intercept, r2, rho)


class SubsetEffectsSelector(BaseAuxiliarySelector):
    __doc__ = """Rank candidates by their designed-subset main effect on the target.

    The selector of :func:`~molselect.evaluation.subset_effects`: trains the
    downstream model on ``n_runs`` designed subsets of the candidates and
    ranks them by their estimated main effect on the target's test score:
    every fit informs every candidate, so for the same number of fits its
    effects are less noisy than pairwise gains.

    Parameters
    ----------
    estimator : estimator, optional
        The downstream model; default the fast GIN of the target's kind
        (:func:`~molselect.evaluation.default_estimator`).
    hidden_dim, num_layers : int, optional
        Override the default estimator's size (the command line's size options).
    design : {"half", "orthogonal"}, default="half"
    n_runs : int, default=32
    protocol : str, default="default"
    top_k : int or None, default=3
    ridge : float, default=0.0
    results_dir, n_jobs, torch_threads
        As :func:`subset_effects`.
    random_state : int, default=0
    verbose : bool, default=False
""" + LEAKAGE_GUARD_DOC + CACHE_DEPRECATED_DOC + """
    Attributes
    ----------
    selected_ : list of str
    affinity_ : pandas.Series
        Each candidate's relative main effect (a fraction of the score
        predicted for the target alone; higher means more helpful, also for
        RMSE).  ``effects_`` has its interval.
    affinity_interval_ : pandas.DataFrame
        ``low`` and ``high``: the 95% interval of each relative effect.
    effects_ : pandas.DataFrame
        :func:`main_effects`' table.
    subset_effects_ : SubsetEffects
    ranking_ : list of str
    feature_names_in_ : ndarray of str
    n_leaked_ : dict
    """

    _affinity_meaning = ("the candidate's main effect on the target's test score, relative to "
                         "the target alone")

    _parameter_constraints = {
        **BaseAuxiliarySelector._parameter_constraints,
        **MEASUREMENT_CONSTRAINTS,
        "hidden_dim": [POSITIVE_INT, None],
        "num_layers": [POSITIVE_INT, None],
        "design": [StrOptions(DESIGNS)],
        "n_runs": [Interval(Integral, 2, None, closed="left")],
        "top_k": TOP_K,
        "ridge": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(self, estimator=None, *, hidden_dim=None, num_layers=None, design="half",
                 n_runs=32, protocol="default", top_k=3, ridge=0.0, results_dir=None,
                 n_jobs=None, torch_threads=None, random_state=0, verbose=False,
                 leakage_guard=True, cache="deprecated"):
        self.estimator = estimator
        self.hidden_dim = hidden_dim
        self.num_layers = num_layers
        self.design = design
        self.n_runs = n_runs
        self.protocol = protocol
        self.top_k = top_k
        self.ridge = ridge
        self.results_dir = results_dir
        self.n_jobs = n_jobs
        self.torch_threads = torch_threads
        self.random_state = random_state
        self.verbose = verbose
        self.leakage_guard = leakage_guard
        self.cache = cache

    def _score_candidates(self, target, candidates, eval_sets):
        valid, test = scoring_splits(eval_sets, "SubsetEffectsSelector")
        estimator = self.estimator if self.estimator is not None else default_estimator(target)
        sizes = {k: v for k, v in (("hidden_dim", self.hidden_dim),
                                   ("num_layers", self.num_layers)) if v is not None}
        estimator = clone(estimator).set_params(**sizes)
        result = subset_effects(
            target, candidates, estimator, design=self.design, n_runs=self.n_runs,
            eval_set=valid, test_set=test, protocol=self.protocol,
            ridge=self.ridge, leakage_guard=bool(self.leakage_guard),
            results_dir=resolve_results_dir(self.results_dir, self.cache,
                                            "SubsetEffectsSelector", stacklevel=5),
            n_jobs=self.n_jobs, torch_threads=self.torch_threads,
            random_state=self.random_state, verbose=bool(self.verbose))
        affinity = result.effects["relative_effect"].rename("affinity")
        interval = result.effects[["relative_ci_low", "relative_ci_high"]].set_axis(
            ["low", "high"], axis=1)
        return SelectionResult(affinity, attributes={"effects_": result.effects,
                                                "subset_effects_": result,
                                                "affinity_interval_": interval})
