"""Graphormer's dense inputs for the batches of a multi-dataset :class:`GraphTable`.

A :class:`~molselect.core.data.GraphTable` numbers its molecules globally
(dataset after dataset, target first) and asks its ``extra`` callable for the
encoder-specific inputs of each batch's global ids.  :class:`GraphormerInputs`
is that callable for :class:`~molselect.core.graphormer.GraphormerEncoder`:
shortest paths are computed (and cached) once per dataset by
:func:`~molselect.featurize._spatial.spatial_features`, then joined, so a new
combination of datasets never recomputes or re-caches anything.
"""

from __future__ import annotations

import numpy as np

from ..featurize import MolGraphs, featurize
from ..featurize._spatial import SpatialFeatures, collate_graphormer, spatial_features

__all__ = ["GraphormerInputs", "concat_spatial"]


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
    """``extra`` callable of a GraphTable: global molecule ids -> Graphormer dense batch.

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
    The returned dict (see :func:`~molselect.featurize._spatial.collate_graphormer`)
    lands in ``MixedBatch.extra`` and is moved to the device with the batch.
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
