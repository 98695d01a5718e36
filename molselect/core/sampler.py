"""Balanced multi-dataset sampling (paper section 4.3, "Complexity")."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["BalancedSampler"]


class BalancedSampler:
    """Draw mixed batches in which every dataset is equally likely.

    Each draw picks a dataset uniformly at random, then that dataset's next
    molecule from a reshuffled pass over it, so small datasets are cycled and
    large ones are sub-sampled.  An epoch is ``n_draws`` draws (by default the
    target's size times the number of datasets, N x (M + 1); the paper's
    algorithm 1 writes N x M, with M the auxiliaries).

    Parameters
    ----------
    sizes : list of int
        Number of molecules per dataset, target first.
    batch_size : int
        Draws per step.
    rng : numpy.random.Generator
        Source of randomness (the caller seeds it).
    n_draws : int, optional
        Draws per epoch.
    weights : list of float, optional
        Probability of each dataset (uniform by default).
    """

    def __init__(self, sizes, batch_size, rng, n_draws=None, weights=None):
        if any(s <= 0 for s in sizes):
            raise ValueError(f"every dataset needs at least one molecule, got sizes {sizes}")
        self.sizes = list(sizes)
        self.batch_size = int(batch_size)
        self.rng = rng
        self.n_draws = int(n_draws if n_draws is not None else sizes[0] * len(sizes))
        p = np.full(len(sizes), 1.0 / len(sizes)) if weights is None else np.asarray(weights, float)
        self.p = p / p.sum()
        self._order = [rng.permutation(s) for s in self.sizes]
        self._cursor = [0] * len(self.sizes)

    def __len__(self):
        return math.ceil(self.n_draws / self.batch_size)

    def _take(self, d, k):
        out = []
        while k > 0:
            if self._cursor[d] == self.sizes[d]:
                self._order[d] = self.rng.permutation(self.sizes[d])
                self._cursor[d] = 0
            chunk = self._order[d][self._cursor[d]:self._cursor[d] + k]
            self._cursor[d] += len(chunk)
            k -= len(chunk)
            out.append(chunk)
        return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)

    def __iter__(self):
        remaining = self.n_draws
        while remaining > 0:
            n = min(self.batch_size, remaining)
            remaining -= n
            counts = self.rng.multinomial(n, self.p)
            yield [self._take(d, int(c)) for d, c in enumerate(counts)]
