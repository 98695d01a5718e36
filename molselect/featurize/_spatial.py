"""Shortest-path features of molecules, for Graphormer.

Graphormer (Ying et al., 2021) biases attention with the shortest-path
distance between every pair of atoms and with the bonds along one shortest
path.  Both only depend on the molecule, so :func:`spatial_features` computes
them once per molecule (SciPy's ``shortest_path``) and caches them with the
featurization; :func:`molselect.core.graphormer_input.collate_graphormer` then
turns any set of molecules into the dense, padded tensors that
:class:`molselect.core.graphormer.GraphormerEncoder` reads.  This module is
NumPy and SciPy only: the tensors are made in the core.

Storage
-------
For molecule ``m`` with ``n`` atoms the ``n * n`` ordered pairs ``(i, j)`` are
stored row-major from ``pair_ptr[m]``:

* ``dist`` (uint8): the number of bonds on a shortest path ``i -> j``;
  :data:`UNREACHABLE` (255) where ``j`` is not reachable from ``i`` (salts such
  as ``[Na+].[Cl-]``).  Longer paths are clipped to 254, far beyond any
  molecule's diameter in practice.
* ``first_edge`` (int16): the local edge id (row within the molecule's slice of
  ``edge_index``) of the first bond on one shortest path ``i -> j``; -1 where
  ``i == j`` or ``j`` is unreachable.

Storing only the first bond keeps the cache at 3 bytes per atom pair instead of
``1 + 2 * max_dist``, and the cache does not depend on ``max_dist``: the path
``i -> j`` is recovered hop by hop (``e = first_edge[i, j]``, then continue from
the bond's target atom), which is what :meth:`SpatialFeatures.path_edges` and
:func:`~molselect.core.graphormer_input.collate_graphormer` do.  The bonds
followed this way always form a shortest path, because every
``first_edge[., j]`` comes from the same shortest-path tree rooted at ``j``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import shortest_path

from .._ragged import pair_grid
from ._cache import load_or_build

__all__ = ["UNREACHABLE", "SpatialFeatures", "spatial_features"]

#: Stored distance of a pair with no path between them.
UNREACHABLE = 255

_FORMAT = "spatial-v1"
# Atoms per scipy call: shortest_path's per-call overhead dominates for small
# molecules, so molecules are solved block-diagonally in chunks; the dense
# (chunk x chunk) output grows quadratically, which caps a useful chunk size.
_CHUNK_ATOMS = 384


@dataclass(frozen=True)
class SpatialFeatures:
    """All-pairs shortest-path data of a :class:`~molselect.featurize.MolGraphs`.

    Attributes
    ----------
    dist : ndarray of shape (sum n_i^2,), uint8
        Shortest-path distance (number of bonds) per ordered atom pair,
        row-major per molecule; :data:`UNREACHABLE` for no path.
    first_edge : ndarray of shape (sum n_i^2,), int16
        Local edge id of the first bond on a shortest path ``i -> j``; -1 for
        ``i == j`` or no path.
    pair_ptr : ndarray of shape (n_molecules + 1,), int64
        Offsets of each molecule's pairs into ``dist`` and ``first_edge``.
    max_dist : int
        Number of bonds along each path that the edge encoding uses.
    """

    dist: np.ndarray
    first_edge: np.ndarray
    pair_ptr: np.ndarray
    max_dist: int

    def __len__(self) -> int:
        return len(self.pair_ptr) - 1

    def distances(self, i: int) -> np.ndarray:
        """The ``(n, n)`` distance matrix of molecule ``i`` (uint8, 255 = no path)."""
        lo, hi = int(self.pair_ptr[i]), int(self.pair_ptr[i + 1])
        n = int(round(np.sqrt(hi - lo)))
        return self.dist[lo:hi].reshape(n, n)

    def path_edges(self, graphs, i: int) -> np.ndarray:
        """Local edge ids of the first ``max_dist`` bonds on each shortest path.

        Parameters
        ----------
        graphs : MolGraphs
            The graphs these features were computed from.
        i : int
            Molecule index.

        Returns
        -------
        ndarray of shape (n, n, max_dist), int64
            Entry ``[a, b, k]`` is the local edge id (into the molecule's slice
            of ``graphs.edge_index``) of hop ``k`` on the path ``a -> b``; -1
            past the end of the path.
        """
        lo, hi = int(self.pair_ptr[i]), int(self.pair_ptr[i + 1])
        n = int(round(np.sqrt(hi - lo)))
        first = self.first_edge[lo:hi].reshape(n, n).astype(np.int64)
        dst = np.asarray(graphs.edge_index[1, graphs.edge_ptr[i]:graphs.edge_ptr[i + 1]],
                         dtype=np.int64)
        cur = np.repeat(np.arange(n), n).reshape(n, n)
        tgt = np.broadcast_to(np.arange(n), (n, n))
        out = np.full((n, n, self.max_dist), -1, dtype=np.int64)
        for k in range(self.max_dist):
            e = first[cur, tgt]
            live = e >= 0
            out[..., k] = np.where(live, e, -1)
            if not live.any():
                break
            cur = np.where(live, dst[np.where(live, e, 0)], cur)
        return out


def _graph_key(graphs) -> str:
    """A content hash of the topology: the spatial data depends on nothing else."""
    h = hashlib.sha256()
    for arr in (graphs.node_ptr, graphs.edge_ptr, graphs.edge_index):
        a = np.ascontiguousarray(np.asarray(arr, dtype=np.int64))
        h.update(str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _build(graphs) -> dict[str, np.ndarray]:
    node_ptr = np.asarray(graphs.node_ptr, dtype=np.int64)
    edge_ptr = np.asarray(graphs.edge_ptr, dtype=np.int64)
    edge_index = np.asarray(graphs.edge_index, dtype=np.int64)
    n_mol = len(node_ptr) - 1
    sizes = np.diff(node_ptr)
    if sizes.size and sizes.max() > np.iinfo(np.int16).max:
        raise ValueError("a molecule has more than 32767 atoms; edge ids would overflow int16")
    pair_ptr = np.zeros(n_mol + 1, dtype=np.int64)
    np.cumsum(sizes * sizes, out=pair_ptr[1:])
    dist = np.empty(int(pair_ptr[-1]), dtype=np.uint8)
    first_edge = np.empty(int(pair_ptr[-1]), dtype=np.int16)

    # split molecules into consecutive chunks of about _CHUNK_ATOMS atoms
    bounds = [0]
    cum = np.cumsum(sizes)
    while bounds[-1] < n_mol:
        start = bounds[-1]
        base = cum[start - 1] if start else 0
        stop = int(np.searchsorted(cum, base + _CHUNK_ATOMS, side="right"))
        bounds.append(max(stop, start + 1))

    for a, b in zip(bounds[:-1], bounds[1:]):
        n0, n1 = node_ptr[a], node_ptr[b]
        e0, e1 = edge_ptr[a], edge_ptr[b]
        c = int(n1 - n0)
        if c == 0:
            continue
        # edge_index is local per molecule: shift to chunk-wide atom ids
        e_mol = np.repeat(np.arange(a, b), np.diff(edge_ptr[a:b + 1]))
        shift = node_ptr[e_mol] - n0
        src = edge_index[0, e0:e1] + shift
        dst = edge_index[1, e0:e1] + shift
        local_eid = np.arange(e0, e1) - edge_ptr[e_mol]
        adj = sp.csr_matrix((np.ones(len(src)), (src, dst)), shape=(c, c))
        d, pred = shortest_path(adj, method="D", directed=True, unweighted=True,
                                return_predecessors=True)
        eid = np.full((c, c), -1, dtype=np.int64)
        eid[src, dst] = local_eid

        owner, i, j = pair_grid(sizes[a:b])
        off = node_ptr[a:b][owner] - n0
        r, col = off + i, off + j
        dd = d[r, col]
        reach = np.isfinite(dd)
        out = slice(pair_ptr[a], pair_ptr[b])
        dist[out] = np.where(reach, np.minimum(dd, UNREACHABLE - 1), UNREACHABLE).astype(np.uint8)
        # pred[j, i] is i's parent in the shortest-path tree rooted at j, i.e.
        # the next atom after i on a shortest path i -> j (graphs are undirected)
        nxt = pred[col, r]
        has = nxt >= 0
        fe = np.full(len(r), -1, dtype=np.int64)
        fe[has] = eid[r[has], nxt[has]]
        first_edge[out] = fe.astype(np.int16)
    return {"dist": dist, "first_edge": first_edge, "pair_ptr": pair_ptr}


def spatial_features(graphs, max_dist: int = 5, cache: bool = True) -> SpatialFeatures:
    """All-pairs shortest paths of every molecule, computed once and cached.

    Parameters
    ----------
    graphs : MolGraphs
        Featurized molecules (:func:`molselect.featurize.featurize`); only the
        topology (``node_ptr``, ``edge_ptr``, ``edge_index``) is read, and it
        is also what the cache is keyed on.
    max_dist : int, default 5
        Bonds per path used by the edge encoding (Graphormer's
        ``multi_hop_max_dist``).  It does not change what is computed or
        cached, only what
        :func:`~molselect.core.graphormer_input.collate_graphormer` emits.
    cache : bool, default True
        Read and write the on-disk feature cache
        (:func:`molselect.featurize.load_or_build`, kind ``"spatial"``).

    Returns
    -------
    SpatialFeatures
        Flat distances and first bonds, see the module docstring.

    Notes
    -----
    Distances come from :func:`scipy.sparse.csgraph.shortest_path`
    (unweighted, with predecessors), run on block-diagonal chunks of a few
    hundred atoms so that per-call overhead stays low for large datasets.
    """
    if int(max_dist) < 1:
        raise ValueError(f"max_dist must be at least 1, got {max_dist}")
    arrays = load_or_build("spatial", [_FORMAT, _graph_key(graphs)],
                           lambda: _build(graphs), cache=cache)
    expected = np.diff(np.asarray(graphs.node_ptr, dtype=np.int64)) ** 2
    if not np.array_equal(np.diff(arrays["pair_ptr"]), expected):
        raise RuntimeError("cached spatial features do not match the graphs; clear the cache")
    return SpatialFeatures(dist=arrays["dist"], first_edge=arrays["first_edge"],
                           pair_ptr=np.asarray(arrays["pair_ptr"], dtype=np.int64),
                           max_dist=int(max_dist))
