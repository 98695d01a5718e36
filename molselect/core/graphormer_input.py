"""Graphormer's dense inputs: padded tensors of any set of molecules, per batch.

:func:`collate_graphormer` turns molecules and their cached shortest paths
(:func:`~molselect.featurize._spatial.spatial_features`, NumPy only) into the
dense, padded tensors that :class:`~molselect.core.graphormer.GraphormerEncoder`
reads, with vectorised NumPy gathers only.

A :class:`~molselect.core.data.GraphTable` numbers its molecules globally
(dataset after dataset, target first) and asks its ``encoder_inputs`` callable for the
encoder-specific inputs of each batch's global ids.  :class:`GraphormerInputs`
is that callable for :class:`~molselect.core.graphormer.GraphormerEncoder`:
shortest paths are computed (and cached) once per dataset, then joined, so a
new combination of datasets never recomputes or re-caches anything.
"""

from __future__ import annotations

import numpy as np
import torch

from .._ragged import pair_grid, ranges
from ..featurize import MolGraphs, featurize
from ..featurize._spatial import UNREACHABLE, SpatialFeatures, spatial_features

__all__ = ["NUM_SPATIAL", "SPATIAL_PAD", "GraphormerInputs", "collate_graphormer",
           "concat_spatial"]

#: ``spatial_pos`` index of a pair involving a padding node; a real pair at
#: distance ``d`` has index ``d + 1`` and an unreachable one ``UNREACHABLE + 1``.
SPATIAL_PAD = 0
#: Size of the spatial-position vocabulary (``0 .. UNREACHABLE + 1``).
NUM_SPATIAL = UNREACHABLE + 2


def collate_graphormer(graphs, spatial: SpatialFeatures, indices, max_nodes: int = 128,
                       truncate: bool = True) -> dict:
    """Dense, padded Graphormer batch of some molecules.

    Parameters
    ----------
    graphs : MolGraphs
        Featurized molecules.
    spatial : SpatialFeatures
        :func:`~molselect.featurize._spatial.spatial_features` of ``graphs``;
        its ``max_dist`` sets the number of bonds per path in ``edge_path``.
    indices : array-like of int
        The molecules of the batch, in order.
    max_nodes : int, default 128
        Cap on the padded size ``N``; the batch is padded to its largest
        molecule, at most ``max_nodes`` atoms.
    truncate : bool, default True
        What to do with a molecule of more than ``max_nodes`` atoms: keep its
        first ``max_nodes`` atoms (distances and paths still come from the
        whole molecule, so they stay exact for the atoms kept), or raise a
        ``ValueError`` naming it.  Truncating keeps labels aligned, which
        dropping the molecule (as the Graphormer reference code does) would not.

    Returns
    -------
    dict of str to torch.Tensor
        With ``B = len(indices)`` and ``D = spatial.max_dist``:

        ``x`` : (B, N, n_atom_features) long
            Atom feature indices, 0 at padding.
        ``node_mask`` : (B, N) bool
            True for real atoms.
        ``degree`` : (B, N) long
            Number of bonds of each atom (0 at padding).  Molecule graphs are
            undirected, so in- and out-degree coincide and one centrality
            embedding suffices.
        ``spatial_pos`` : (B, N, N) long
            Distance + 1 for real pairs, ``UNREACHABLE + 1`` (256) with no
            path, :data:`SPATIAL_PAD` (0) when either atom is padding.
        ``edge_attr`` : (E, n_bond_features) long
            Bond features of every directed bond of the batch's molecules: the
            per-batch edge table that ``edge_path`` points into.
        ``edge_path`` : (B, N, N, D) long
            Row of ``edge_attr`` of hop ``k`` along the shortest path
            ``i -> j``; ``E`` (one past the table) past the path's end,
            for ``i == j``, unreachable pairs and padding.  This replaces a
            ``(B, N, N, D, n_bond_features)`` tensor that would be
            ``n_bond_features`` times larger.
        ``path_len`` : (B, N, N) long
            Number of valid hops in ``edge_path``: ``min(dist, D)`` for
            reachable pairs, 0 otherwise.
    """
    idx = np.asarray(indices, dtype=np.int64).reshape(-1)
    if idx.size == 0:
        raise ValueError("indices is empty")
    node_ptr = np.asarray(graphs.node_ptr, dtype=np.int64)
    edge_ptr = np.asarray(graphs.edge_ptr, dtype=np.int64)
    n_full = node_ptr[idx + 1] - node_ptr[idx]
    if n_full.max() > max_nodes and not truncate:
        bad = int(np.argmax(n_full > max_nodes))
        raise ValueError(f"molecule {int(idx[bad])} has {int(n_full[bad])} atoms, more than "
                         f"max_nodes={max_nodes}; raise max_nodes or pass truncate=True")
    n_keep = np.minimum(n_full, max_nodes)
    N = int(max(n_keep.max(), 1))
    x, node_mask = _atoms(graphs, node_ptr[idx], n_keep, N)
    edge_attr, degree, edge_offsets, edge_dst = _bonds(graphs, edge_ptr, idx, n_full, node_mask)
    spatial_pos, edge_path, path_len = _pairs(spatial, idx, n_keep, n_full, N, edge_offsets,
                                              edge_dst, len(edge_attr))
    B, D = len(idx), spatial.max_dist

    return {
        "x": torch.from_numpy(x),
        "node_mask": torch.from_numpy(node_mask),
        "degree": torch.from_numpy(degree),
        "spatial_pos": torch.from_numpy(spatial_pos.reshape(B, N, N)),
        "edge_attr": torch.from_numpy(edge_attr),
        "edge_path": torch.from_numpy(edge_path.reshape(B, N, N, D)),
        "path_len": torch.from_numpy(path_len.reshape(B, N, N)),
    }


def _atoms(graphs, first_node, n_keep, N):
    """The kept atoms' features padded to ``N``, and the mask of real atoms.

    Returns ``x`` (B, N, n_atom_features) and ``node_mask`` (B, N);
    ``first_node`` is each molecule's first row in ``graphs.x``.
    """
    B = len(n_keep)
    atom_b = np.repeat(np.arange(B), n_keep)
    atom_i = ranges(np.zeros(B, dtype=np.int64), n_keep)
    xs = np.asarray(graphs.x)
    x = np.zeros((B, N, xs.shape[1]), dtype=np.int64)
    x[atom_b, atom_i] = xs[first_node[atom_b] + atom_i]
    node_mask = np.zeros((B, N), dtype=bool)
    node_mask[atom_b, atom_i] = True
    return x, node_mask


def _bonds(graphs, edge_ptr, idx, n_full, node_mask):
    """The bonds of the whole molecules: paths of kept atoms may pass through cut ones.

    Returns the batch's edge table ``edge_attr`` (E, n_bond_features), the
    kept atoms' ``degree`` (B, N), each molecule's first row in the table and
    each row's target atom (to walk along the paths).
    """
    B, N = node_mask.shape
    n_edges = edge_ptr[idx + 1] - edge_ptr[idx]
    rows = ranges(edge_ptr[idx], n_edges)
    offsets = np.cumsum(n_edges) - n_edges
    edge_attr = np.asarray(graphs.edge_attr)[rows].astype(np.int64)
    edge_index = np.asarray(graphs.edge_index)
    molecule = np.repeat(np.arange(B), n_edges)
    src = edge_index[0, rows].astype(np.int64)
    nf_max = int(n_full.max())
    deg_full = np.bincount(molecule * nf_max + src, minlength=B * nf_max).reshape(B, nf_max)
    degree = np.zeros((B, N), dtype=np.int64)
    degree[:, :min(N, nf_max)] = deg_full[:, :N]
    degree[~node_mask] = 0
    return edge_attr, degree, offsets, edge_index[1, rows].astype(np.int64)


def _pairs(spatial, idx, n_keep, n_full, N, edge_offsets, edge_dst, n_edge_rows):
    """Every pair of kept atoms: ``spatial_pos``, ``edge_path`` and ``path_len``, flat.

    Each shortest path is walked hop by hop, over the pairs still en route,
    from the first bond that :class:`SpatialFeatures` stores per pair.
    """
    B, D = len(idx), spatial.max_dist
    pb, pi, pj = pair_grid(n_keep)
    nf = n_full[pb]
    base = spatial.pair_ptr[idx][pb]
    flat = pb * (N * N) + pi * N + pj
    d = spatial.dist[base + pi * nf + pj].astype(np.int64)
    spatial_pos = np.zeros(B * N * N, dtype=np.int64)
    spatial_pos[flat] = d + 1

    edge_path = np.full((B * N * N, D), n_edge_rows, dtype=np.int64)
    path_len = np.zeros(B * N * N, dtype=np.int64)
    reach = d != UNREACHABLE
    path_len[flat] = np.where(reach, np.minimum(d, D), 0)
    live = np.nonzero(reach & (d > 0))[0]
    cur = pi[live]
    for k in range(D):
        if live.size == 0:
            break
        e = spatial.first_edge[base[live] + cur * nf[live] + pj[live]].astype(np.int64)
        row = edge_offsets[pb[live]] + e
        edge_path[flat[live], k] = row
        cur = edge_dst[row]
        more = cur != pj[live]
        live, cur = live[more], cur[more]
    return spatial_pos, edge_path, path_len


def concat_spatial(parts, max_dist):
    """Join the :class:`SpatialFeatures` of several graph stores, in order.

    ``first_edge`` holds molecule-local edge ids, so the arrays concatenate
    as they are; only the pair offsets are shifted.

    Parameters
    ----------
    parts : sequence of SpatialFeatures
    max_dist : int

    Returns
    -------
    SpatialFeatures
    """
    sizes = np.concatenate([np.diff(p.pair_ptr) for p in parts])
    pair_ptr = np.zeros(len(sizes) + 1, dtype=np.int64)
    np.cumsum(sizes, out=pair_ptr[1:])
    return SpatialFeatures(dist=np.concatenate([p.dist for p in parts]),
                           first_edge=np.concatenate([p.first_edge for p in parts]),
                           pair_ptr=pair_ptr, max_dist=int(max_dist))


class GraphormerInputs:
    """``encoder_inputs`` callable of a GraphTable: global molecule ids -> Graphormer dense batch.

    Parameters
    ----------
    datasets : sequence of dataset-like
        The table's datasets in table order (only ``ids``, the SMILES, are read).
    max_nodes : int, default=128
        Padding cap; larger molecules keep their first ``max_nodes`` atoms.
    max_dist : int, default=5
        Bonds per shortest path in the edge encoding.
    cache : bool, default=True
        Use the on-disk feature cache for graphs and shortest paths.

    Notes
    -----
    The returned dict (see :func:`collate_graphormer`)
    lands in ``MixedBatch.encoder_inputs`` and is moved to the device with the batch.
    """

    def __init__(self, datasets, max_nodes=128, max_dist=5, cache=True):
        graphs = [featurize(np.asarray(d.ids, dtype=object), cache=cache) for d in datasets]
        self.graphs = MolGraphs.concat(graphs) if len(graphs) > 1 else graphs[0]
        spatial = [spatial_features(g, max_dist=max_dist, cache=cache) for g in graphs]
        self.spatial = concat_spatial(spatial, max_dist) if len(spatial) > 1 else spatial[0]
        self.max_nodes = int(max_nodes)

    def __call__(self, global_ids):
        """Dense padded batch of the molecules ``global_ids`` (table-wide numbering)."""
        return collate_graphormer(self.graphs, self.spatial, global_ids, self.max_nodes)
