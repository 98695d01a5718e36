"""Index arithmetic of ragged arrays: variable-length segments stored end to end.

Molecules are stored flat (atoms of molecule ``i`` at ``node_ptr[i]:node_ptr[i + 1]``),
so gathering a batch, its bonds or its atom pairs means concatenating many
short ``arange`` runs.  :func:`ranges` does that with one ``arange`` and one
``repeat`` instead of a Python loop over molecules; the featurizer, the batch
gathering of the core and the Graphormer collation all use it.  NumPy only,
so :mod:`molselect.featurize` can use it without importing torch.
"""

from __future__ import annotations

import numpy as np

__all__ = ["pair_grid", "ranges"]


def ranges(starts, lengths):
    """Concatenate ``arange(s, s + n)`` for every pair ``(s, n)``, vectorised.

    Parameters
    ----------
    starts : array-like of int
        First index of each run.
    lengths : array-like of int
        Length of each run (zero allowed).

    Returns
    -------
    ndarray of int64, shape (sum(lengths),)

    Examples
    --------
    >>> ranges([10, 3, 7], [2, 0, 3]).tolist()
    [10, 11, 7, 8, 9]
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    # element k of run r is starts[r] + (k - offset of run r in the output)
    shift = np.asarray(starts, dtype=np.int64) - (np.cumsum(lengths) - lengths)
    return np.arange(int(lengths.sum()), dtype=np.int64) + np.repeat(shift, lengths)


def pair_grid(sizes):
    """Owner, row and column of every cell of ``sizes[k] x sizes[k]`` grids, flat.

    Parameters
    ----------
    sizes : array-like of int
        Side of each grid (e.g. atoms per molecule).

    Returns
    -------
    owner, i, j : ndarray of int64, each of shape (sum(sizes ** 2),)
        Grid, row and column of each cell, row-major within each grid.
    """
    sizes = np.asarray(sizes, dtype=np.int64)
    counts = sizes * sizes
    owner = np.repeat(np.arange(len(sizes)), counts)
    k = ranges(np.zeros(len(sizes), dtype=np.int64), counts)
    s = sizes[owner]
    # s == 0 never owns a cell, so the division is safe
    return owner, k // np.maximum(s, 1), k % np.maximum(s, 1)
