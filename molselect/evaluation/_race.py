"""The statistics of a verification race: groups against the target alone, one seed a round.

Everything here works on scores alone (no training), so the race's error rates
are tested by simulation.  :class:`GainRace` keeps the scores of the target
alone and of every group, seed by seed, and after each round decides which
groups leave the race and whether it is over.

Its bounds stay valid under the repeated looks by a group-sequential design
with a Pocock boundary (Pocock, "Group sequential methods in the design and
analysis of clinical trials", Biometrika 64, 1977; Jennison & Turnbull,
*Group Sequential Methods with Applications to Clinical Trials*, 2000, ch. 2):
every planned look (after each round from ``min_seeds`` to ``max_seeds``)
uses the same nominal level, chosen so that the probability that a group's
t interval misses its true gain at *any* look is ``alpha / n_groups``.  The
level is calibrated once by simulating the sequence of paired t statistics
under normal noise (seeded, so it is the same on every machine); Bonferroni's
inequality over the groups then bounds the probability that any bound of any
group at any look misses by ``alpha``, so the interval reported for the group
that wins is valid although the group was chosen by the same data.  Heavy-
tailed noise (Student t with 3 degrees of freedom) keeps the error rate
within ``alpha`` in the tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from scipy import stats

__all__ = ["GainRace", "RaceLook", "detectable_gain", "simulate_races"]

@lru_cache(maxsize=64)
def pocock_level(alpha, min_seeds, max_seeds, n_sim=200_000, random_state=0):
    """The nominal two-sided level of each look that spends ``alpha`` over all of them.

    Simulates ``n_sim`` sequences of paired differences under normal noise and
    returns the ``alpha`` quantile of their smallest t-test p-value over the
    looks ``min_seeds .. max_seeds`` (Pocock's constant-level boundary for the
    t statistic, by Monte Carlo).

    Parameters
    ----------
    alpha : float
        Probability of any crossing over the looks.
    min_seeds, max_seeds : int
        The first and last look (seeds).
    n_sim : int, default=200000
    random_state : int, default=0

    Returns
    -------
    float
        The level of each look (``alpha`` itself with a single look).
    """
    if max_seeds == min_seeds:
        return float(alpha)
    rng = np.random.default_rng(random_state)
    x = rng.standard_normal((n_sim, max_seeds))
    n = np.arange(1, max_seeds + 1)
    mean = np.cumsum(x, axis=1) / n
    square = np.cumsum(x ** 2, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = np.sqrt((square - n * mean ** 2) / (n - 1))
        t = np.abs(mean) * np.sqrt(n) / sd
    looks = slice(min_seeds - 1, max_seeds)
    p = 2 * stats.t.sf(t[:, looks], n[looks] - 1)
    return float(np.quantile(p.min(axis=1), alpha))


@lru_cache(maxsize=256)
def _critical_values(level, max_seeds):
    """Seeds -> the two-sided t quantile at ``level`` (2 .. ``max_seeds`` seeds)."""
    n = np.arange(2, max_seeds + 1)
    return dict(zip(n.tolist(), stats.t.ppf(1 - level / 2, n - 1).tolist()))


@dataclass
class RaceLook:
    """What one look at the race found.

    Attributes
    ----------
    round : int
        Seeds so far (1-based).
    gain, low, high : dict of str to float
        Per group still in the race: mean relative gain and its bounds.
    left : list of str
        Groups that left at this look.
    verdict : str or None
        "helps", "none helps" or None (the race goes on, or the budget ends it).
    winner : str or None
        The group verified as helping.
    """

    round: int
    gain: dict = field(default_factory=dict)
    low: dict = field(default_factory=dict)
    high: dict = field(default_factory=dict)
    left: list = field(default_factory=list)
    verdict: str | None = None
    winner: str | None = None


class GainRace:
    """Race groups of auxiliaries against the target alone, one seed per round.

    Parameters
    ----------
    groups : list of str
        The groups' names.
    greater_is_better : bool
        Whether a larger score is better (ROC-AUC) or worse (RMSE).
    alpha : float
        Probability that any reported bound misses (over every group and look).
    min_gain : float
        The smallest relative gain worth having: a group whose upper bound
        falls below it leaves the race.
    min_seeds : int
        Seeds before the first look.
    max_seeds : int
        Seeds at most (the last planned look).

    Attributes
    ----------
    alive : list of str
        Groups still in the race.
    looks : list of RaceLook
    """

    def __init__(self, groups, *, greater_is_better, alpha, min_gain, min_seeds, max_seeds):
        self.groups = list(groups)
        self.sign = 1.0 if greater_is_better else -1.0
        self.alpha = float(alpha)
        self.min_gain = float(min_gain)
        self.min_seeds = int(min_seeds)
        self.max_seeds = int(max_seeds)
        self.alone = []
        self.scores = {g: [] for g in self.groups}
        self.alive = list(self.groups)
        self.looks = []
        self._critical = _critical_values(self.alpha_per_bound, self.max_seeds)

    @property
    def n_looks(self):
        """Planned looks: one after every round from ``min_seeds`` to ``max_seeds``."""
        return self.max_seeds - self.min_seeds + 1

    @property
    def alpha_per_bound(self):
        """The nominal level of one group's two-sided interval at one look (Pocock)."""
        return pocock_level(self.alpha / len(self.groups), self.min_seeds, self.max_seeds)

    def critical_value(self, n):
        """The t quantile of a look with ``n`` seeds."""
        return self._critical[n]

    def relative_gains(self, group):
        """Per seed, the group's gain over the alone fit of that seed, relative to the alone mean."""
        n = len(self.scores[group])
        alone = np.asarray(self.alone[:n], dtype=float)
        scale = abs(np.mean(self.alone))
        return self.sign * (np.asarray(self.scores[group], dtype=float) - alone) / scale

    def bounds(self, group):
        """Mean relative gain and its two-sided bounds at the current look."""
        gains = self.relative_gains(group)
        n = len(gains)
        mean = float(np.mean(gains))
        if n < 2:
            return mean, -np.inf, np.inf
        half = self.critical_value(n) * float(np.std(gains, ddof=1)) / np.sqrt(n)
        return mean, mean - half, mean + half

    def has_room(self, fits, budget):
        """Whether another round fits: under ``max_seeds`` rounds and within ``budget`` fits.

        Parameters
        ----------
        fits : int
            Fits spent so far.
        budget : int

        Returns
        -------
        bool
        """
        return len(self.alone) < self.max_seeds and fits + 1 + len(self.alive) <= budget

    def add_round(self, alone_score, group_scores):
        """Add one seed: the alone score and the score of every group still in the race."""
        missing = [g for g in self.alive if g not in group_scores]
        if missing:
            raise ValueError(f"no score for the group(s) {missing} still in the race")
        if not np.isfinite(alone_score) or not all(np.isfinite(group_scores[g])
                                                   for g in self.alive):
            raise ValueError("a score is not finite (NaN): the metric could not be computed "
                             "on the target's test split, so the race cannot go on")
        self.alone.append(float(alone_score))
        for g in self.alive:
            self.scores[g].append(float(group_scores[g]))

    def look(self):
        """Decide who leaves and whether the race is over; returns the ``RaceLook``."""
        n = len(self.alone)
        look = RaceLook(round=n)
        for g in self.alive:
            look.gain[g], look.low[g], look.high[g] = self.bounds(g)
        if n >= self.min_seeds:
            helping = [g for g in self.alive if look.low[g] > 0]
            if helping:
                look.verdict = "helps"
                look.winner = max(helping, key=lambda g: (look.low[g], look.gain[g]))
            else:
                best_low = max(look.low[g] for g in self.alive)
                look.left = [g for g in self.alive
                             if look.high[g] < self.min_gain or look.high[g] < best_low]
                self.alive = [g for g in self.alive if g not in look.left]
                if not self.alive:
                    look.verdict = "none helps"
        self.looks.append(look)
        return look

    @property
    def pooled_sd(self):
        """Pooled sd of one seed's relative gain over the groups' seeds (NaN before 2 seeds)."""
        squares, dof = 0.0, 0
        for g in self.groups:
            gains = self.relative_gains(g) if self.scores[g] else np.zeros(0)
            if len(gains) > 1:
                squares += float(np.sum((gains - gains.mean()) ** 2))
                dof += len(gains) - 1
        return float(np.sqrt(squares / dof)) if dof else float("nan")


def _run(race, draw_alone, draw_group, budget):
    """Run ``race`` with scores from the two draw functions until a verdict or the budget."""
    fits = 0
    while race.has_room(fits, budget):
        fits += 1 + len(race.alive)
        race.add_round(draw_alone(), {g: draw_group(g) for g in race.alive})
        look = race.look()
        if look.verdict is not None:
            return look.verdict, look.winner, fits
    return "undecided", None, fits


def simulate_races(gains, sd, *, n_races=1000, alpha=0.05, min_gain=0.01, min_seeds=3,
                   max_seeds=10, budget=None, noise="normal", random_state=0):
    """Race simulated groups with known relative gains: the race's error rates, no training.

    Each fit's score is ``1 + gain + noise`` (the target alone: ``1 + noise``),
    so relative gains are the given ones.

    Parameters
    ----------
    gains : dict of str to float
        True relative gain of every group.
    sd : float
        Noise of one fit's score, relative to the alone score.
    n_races : int, default=1000
    alpha, min_gain, min_seeds, max_seeds
        As :class:`GainRace`.
    budget : int, optional
        Fits at most (default: every group every round).
    noise : {"normal", "t3"}, default="normal"
        "t3": Student t with 3 degrees of freedom scaled to ``sd`` (heavy tails).
    random_state : int, default=0

    Returns
    -------
    pandas.DataFrame
        One row per race: ``verdict``, ``winner``, ``fits``.
    """
    import pandas as pd

    rng = np.random.default_rng(random_state)
    budget = budget or max_seeds * (1 + len(gains))

    def draw():
        if noise == "t3":
            return sd * rng.standard_t(3) / np.sqrt(3.0)
        return sd * rng.standard_normal()

    rows = []
    for _ in range(n_races):
        race = GainRace(list(gains), greater_is_better=True, alpha=alpha, min_gain=min_gain,
                        min_seeds=min_seeds, max_seeds=max_seeds)
        verdict, winner, fits = _run(race, lambda: 1.0 + draw(),
                                     lambda g: 1.0 + gains[g] + draw(), budget)
        rows.append({"verdict": verdict, "winner": winner, "fits": fits})
    return pd.DataFrame(rows)


def detectable_gain(sd, n_groups, *, power=0.8, n_races=300, alpha=0.05, min_gain=0.01,
                    min_seeds=3, max_seeds=10, budget=None, random_state=0):
    """The relative gain that a race finds with probability ``power``.

    One group has the gain, the others none, every fit's noise is ``sd``
    (normal); the gain is found by bisection on simulated races
    (:func:`simulate_races`), with the same random numbers at every step.

    Parameters
    ----------
    sd : float
        Noise of one fit's score relative to the alone score (e.g. the pooled
        sd of the measured per-seed gains divided by sqrt(2)).
    n_groups : int
    power : float, default=0.8
    n_races : int, default=300
    alpha, min_gain, min_seeds, max_seeds, budget
        As the race's.
    random_state : int, default=0

    Returns
    -------
    float
        The detectable relative gain (inf when even a gain of 1, doubling the
        score, is not found with that power).
    """
    if not np.isfinite(sd) or sd <= 0:
        return float("nan")
    names = [f"g{i}" for i in range(n_groups)]

    def found(gain):
        sims = simulate_races({n: (gain if i == 0 else 0.0) for i, n in enumerate(names)}, sd,
                              n_races=n_races, alpha=alpha, min_gain=min_gain,
                              min_seeds=min_seeds, max_seeds=max_seeds, budget=budget,
                              random_state=random_state)
        return float(((sims["verdict"] == "helps") & (sims["winner"] == names[0])).mean())

    low, high = 0.0, 1.0
    if found(high) < power:
        return float("inf")
    for _ in range(10):
        middle = (low + high) / 2
        low, high = (low, middle) if found(middle) >= power else (middle, high)
    return high
