"""Mixed multi-dataset batches, gathered in one vectorised step.

:class:`GraphTable` concatenates the featurized graphs, labels and
fingerprints of several datasets (target first) once; :meth:`GraphTable.batch`
turns one step's per-dataset indices into a :class:`MixedBatch` with numpy
gathers and no per-graph Python work.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from .._ragged import ranges

__all__ = ["GraphTable", "GraphView", "MixedBatch"]


@dataclass
class MixedBatch:
    """One step's graphs from several datasets, sorted by dataset (target first).

    Attributes
    ----------
    x, edge_index, edge_attr, batch : Tensor
        As a torch_geometric batch (edge indices global within the batch).
    num_graphs : int
    graph_dataset, node_dataset : LongTensor
        Dataset id per graph / per node.
    graph_counts, node_counts, edge_counts : list of int
        Graphs, nodes and edges per dataset (host-side, so slicing needs no
        device synchronisation).
    y : list of Tensor
        Labels per dataset, shape (graph_counts[d], n_tasks[d]), NaN = missing.
    fingerprints : Tensor or None
        (num_graphs, fingerprint_dim) float fingerprints when the table has them.
    indices : list of ndarray
        The per-dataset row numbers this batch was drawn from.
    """

    x: torch.Tensor
    edge_index: torch.Tensor
    edge_attr: torch.Tensor
    batch: torch.Tensor
    num_graphs: int
    graph_dataset: torch.Tensor
    node_dataset: torch.Tensor
    graph_counts: list
    node_counts: list
    edge_counts: list
    y: list
    fingerprints: torch.Tensor | None = None
    indices: list = field(default_factory=list)
    encoder_inputs: dict = field(default_factory=dict)

    def to(self, device):
        """Move every tensor to ``device`` (non-blocking where possible)."""
        move = lambda t: t.to(device, non_blocking=True) if torch.is_tensor(t) else t  # noqa: E731
        for name in ("x", "edge_index", "edge_attr", "batch", "graph_dataset", "node_dataset",
                     "fingerprints"):
            setattr(self, name, move(getattr(self, name)))
        self.y = [move(t) for t in self.y]
        self.encoder_inputs = {k: move(v) for k, v in self.encoder_inputs.items()}
        return self

    def graph_view(self, start, stop=None):
        """Datasets ``start:stop`` of the batch as a graph view (slices, no copies).

        The view's ``node_dataset`` is renumbered from 0, so the auxiliaries
        ``graph_view(1)`` have ids 0..M-1.
        """
        stop = len(self.graph_counts) if stop is None else stop
        g0, g1 = sum(self.graph_counts[:start]), sum(self.graph_counts[:stop])
        n0, n1 = sum(self.node_counts[:start]), sum(self.node_counts[:stop])
        e0, e1 = sum(self.edge_counts[:start]), sum(self.edge_counts[:stop])
        return GraphView(
            x=self.x[n0:n1], edge_index=self.edge_index[:, e0:e1] - n0,
            edge_attr=self.edge_attr[e0:e1], batch=self.batch[n0:n1] - g0,
            num_graphs=g1 - g0, node_dataset=self.node_dataset[n0:n1] - start,
            node_counts=self.node_counts[start:stop], edge_counts=self.edge_counts[start:stop],
            graph_counts=self.graph_counts[start:stop],
        )


@dataclass
class GraphView:
    """A torch_geometric-like view of some datasets of a :class:`MixedBatch`."""

    x: torch.Tensor
    edge_index: torch.Tensor
    edge_attr: torch.Tensor
    batch: torch.Tensor
    num_graphs: int
    node_dataset: torch.Tensor
    node_counts: list
    edge_counts: list
    graph_counts: list


class GraphTable:
    """Featurized graphs, labels and fingerprints of several datasets.

    Parameters
    ----------
    graphs : list of MolGraphs
        One featurized store per dataset (see :func:`molselect.featurize.featurize`).
    labels : list of ndarray
        Labels per dataset, shape (n_d, n_tasks_d), NaN where missing.
    fingerprints : list of ndarray, optional
        (n_d, fingerprint_dim) fingerprints per dataset, for the MolGroup gate.
    encoder_inputs : callable, optional
        ``encoder_inputs(global_indices) -> dict of Tensor`` adds encoder-specific
        inputs (e.g. Graphormer's dense spatial tensors) to every batch, as
        ``MixedBatch.encoder_inputs``.
    """

    def __init__(self, graphs, labels, fingerprints=None, encoder_inputs=None):
        if len(graphs) != len(labels):
            raise ValueError("one label array per graph store is needed")
        self.sizes = [len(g) for g in graphs]
        self.graph_offsets = np.concatenate([[0], np.cumsum(self.sizes)]).astype(np.int64)
        self.x = np.concatenate([np.asarray(g.x) for g in graphs])
        self.edge_attr = np.concatenate([np.asarray(g.edge_attr) for g in graphs])
        self.local_edge_index = np.concatenate([np.asarray(g.edge_index) for g in graphs], axis=1)
        self.num_nodes = np.concatenate([np.diff(np.asarray(g.node_ptr)) for g in graphs])
        self.num_edges = np.concatenate([np.diff(np.asarray(g.edge_ptr)) for g in graphs])
        self.node_ptr = np.concatenate([[0], np.cumsum(self.num_nodes)]).astype(np.int64)
        self.edge_ptr = np.concatenate([[0], np.cumsum(self.num_edges)]).astype(np.int64)
        self.labels = [torch.as_tensor(np.asarray(y, dtype=np.float32)) for y in labels]
        self.fingerprints = (
            None if fingerprints is None
            else torch.as_tensor(np.concatenate(fingerprints).astype(np.float32))
        )
        self.encoder_inputs = encoder_inputs

    @property
    def n_datasets(self):
        """int: number of datasets in the table."""
        return len(self.sizes)

    def dataset_batches(self, dataset, batch_size, device=None, rows=None):
        """One dataset's molecules, batch after batch, in batches of no other dataset.

        This is how every model output over a whole dataset is computed
        (predictions, embeddings, discriminator probabilities, Fisher
        information): each batch holds ``batch_size`` rows of ``dataset``
        and none of the other datasets.

        Parameters
        ----------
        dataset : int
            Which dataset of the table.
        batch_size : int
        device : torch.device, optional
            Where to move each batch (default: leave it on the CPU).
        rows : array-like of int, optional
            The rows to visit, in this order (default: all, in order).

        Yields
        ------
        MixedBatch
        """
        rows = np.arange(self.sizes[dataset]) if rows is None else np.asarray(rows)
        indices = [np.zeros(0, dtype=np.int64)] * self.n_datasets
        for start in range(0, len(rows), batch_size):
            indices[dataset] = rows[start:start + batch_size]
            batch = self.batch(indices)
            yield batch if device is None else batch.to(device)

    def batch(self, indices):
        """Gather one mixed batch.

        Parameters
        ----------
        indices : list of array-like of int
            Row numbers per dataset (in dataset order; may be empty).

        Returns
        -------
        MixedBatch
        """
        indices = [np.asarray(i, dtype=np.int64) for i in indices]
        graph_counts = [len(i) for i in indices]
        gid = np.concatenate([i + self.graph_offsets[d] for d, i in enumerate(indices)])
        n_nodes = self.num_nodes[gid]
        n_edges = self.num_edges[gid]
        node_rows = ranges(self.node_ptr[gid], n_nodes)
        edge_rows = ranges(self.edge_ptr[gid], n_edges)
        new_node_ptr = np.concatenate([[0], np.cumsum(n_nodes)[:-1]])
        edge_index = self.local_edge_index[:, edge_rows] + np.repeat(new_node_ptr, n_edges)
        graph_dataset = np.repeat(np.arange(len(indices)), graph_counts)
        node_dataset = np.repeat(graph_dataset, n_nodes)
        edge_dataset = np.repeat(graph_dataset, n_edges)
        n_sets = len(indices)
        gid_t = torch.from_numpy(gid)
        return MixedBatch(
            x=torch.from_numpy(self.x[node_rows].astype(np.int64)),
            edge_index=torch.from_numpy(edge_index.astype(np.int64)),
            edge_attr=torch.from_numpy(self.edge_attr[edge_rows].astype(np.int64)),
            batch=torch.from_numpy(np.repeat(np.arange(len(gid)), n_nodes)),
            num_graphs=len(gid),
            graph_dataset=torch.from_numpy(graph_dataset),
            node_dataset=torch.from_numpy(node_dataset),
            graph_counts=graph_counts,
            node_counts=np.bincount(node_dataset, minlength=n_sets).tolist(),
            edge_counts=np.bincount(edge_dataset, minlength=n_sets).tolist(),
            y=[self.labels[d][torch.from_numpy(i)] for d, i in enumerate(indices)],
            fingerprints=None if self.fingerprints is None else self.fingerprints[gid_t],
            indices=indices,
            encoder_inputs={} if self.encoder_inputs is None else self.encoder_inputs(gid),
        )
