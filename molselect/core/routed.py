"""The routed multi-dataset GIN of MolGroup (paper section 4.1, eq. 2).

Every dataset owns a full copy of the encoder parameters.  The target runs on
its own parameters theta_T.  Auxiliary m runs, at every layer,
``z = a_m * f(theta_T)(z) + (1 - a_m) * f(theta_m)(z)``, where ``a_m`` is
the weight of the target's path: the gate value under the paper's eq. 2, one
minus it under the reference code's convention (the gate computes ``a_m``
for either, see :class:`~molselect.core.gate.Gate`), so this encoder is the
same for both.

A step's batch holds all datasets at once, sorted by dataset (target first).
The target's layers run once over every node (statistics per dataset).  The
auxiliaries' own parameters are stacked in tensors of leading size M: their
message passing runs once over all auxiliary nodes (one neighbour gather
shared with the target's path) and their MLPs per dataset segment (a
grouped matmul), so a routed step costs about two plain joint forwards,
whatever M is.
"""

from __future__ import annotations

import math

import torch
from torch import nn
import torch.nn.functional as F

from .gin import GINEncoder, feature_dims, mean_pool, segment_sum, training_batch_norm

__all__ = ["RoutedGIN", "grouped_linear"]


def grouped_linear(x, counts, weight, bias=None):
    """Apply ``weight[m]``/``bias[m]`` to the m-th contiguous block of rows of ``x``.

    Parameters
    ----------
    x : Tensor of shape (n, in)
        Rows sorted by group.
    counts : list of int
        Rows per group (``sum(counts) == n``).
    weight : Tensor of shape (groups, in, out)
    bias : Tensor of shape (groups, out), optional

    Returns
    -------
    Tensor of shape (n, out)
    """
    blocks = torch.split(x, list(counts))
    if bias is None:
        return torch.cat([block @ weight[m] for m, block in enumerate(blocks)])
    return torch.cat([torch.addmm(bias[m], block, weight[m]) for m, block in enumerate(blocks)])


def _stacked_embedding(n_copies, feature_dims, dim):
    table = torch.empty(n_copies, int(sum(feature_dims)), dim)
    start = 0
    for size in feature_dims:
        for m in range(n_copies):
            nn.init.xavier_uniform_(table[m, start:start + size])
        start += size
    return nn.Parameter(table)


def _stacked_linear(n_copies, fan_in, fan_out):
    # Same initialisation as torch.nn.Linear, one independent copy per dataset.
    bound = 1.0 / math.sqrt(fan_in)
    weight = nn.Parameter(torch.empty(n_copies, fan_in, fan_out).uniform_(-bound, bound))
    bias = nn.Parameter(torch.empty(n_copies, fan_out).uniform_(-bound, bound))
    return weight, bias


class _StackedGINLayer(nn.Module):
    """M copies of a GIN layer's parameters, applied per auxiliary segment."""

    def __init__(self, n_copies, dim, bond_feature_dims):
        super().__init__()
        self.bond_embedding = _stacked_embedding(n_copies, bond_feature_dims, dim)
        self.eps = nn.Parameter(torch.zeros(n_copies, 1))
        self.w1, self.b1 = _stacked_linear(n_copies, dim, 2 * dim)
        self.norm1_weight = nn.Parameter(torch.ones(n_copies, 2 * dim))
        self.norm1_bias = nn.Parameter(torch.zeros(n_copies, 2 * dim))
        self.w2, self.b2 = _stacked_linear(n_copies, 2 * dim, dim)
        self.norm2_weight = nn.Parameter(torch.ones(n_copies, dim))
        self.norm2_bias = nn.Parameter(torch.zeros(n_copies, dim))

    def forward(self, h, neighbours, dst, bonds, edge_counts, segment, counts):
        messages = F.relu(neighbours + grouped_linear(bonds, edge_counts, self.bond_embedding))
        z = (1 + self.eps.index_select(0, segment)) * h + segment_sum(messages, dst, h.shape[0])
        # The MLP acts on each dataset's rows alone, so it runs block by block and
        # joins the blocks once: every join is a copy, here and in each backward.
        return torch.cat([self._mlp(block, m) for m, block in enumerate(torch.split(z, counts))])

    def _mlp(self, z, m):
        if z.shape[0] == 0:
            return z
        z = training_batch_norm(torch.addmm(self.b1[m], z, self.w1[m]),
                                self.norm1_weight[m], self.norm1_bias[m])
        z = torch.addmm(self.b2[m], F.relu(z), self.w2[m])
        return training_batch_norm(z, self.norm2_weight[m], self.norm2_bias[m])


def _gated_mix(own, shared, gate):
    """``gate * shared + (1 - gate) * own`` (eq. 2) in one pass."""
    return torch.lerp(own, shared, gate)


class RoutedGIN(nn.Module):
    """Target GIN plus M auxiliary GINs, mixed per layer by the gate (eq. 2).

    Parameters
    ----------
    n_auxiliaries : int
        Number of auxiliary datasets M.
    hidden_dim, num_layers, dropout, feature_set
        As :class:`~molselect.core.gin.GINEncoder`; every dataset's copy
        embeds the same feature columns.

    Attributes
    ----------
    target : GINEncoder
        theta_T; also the encoder that the meta-gradient's virtual step
        updates through :func:`torch.func.functional_call`.
    """

    def __init__(self, n_auxiliaries, hidden_dim=300, num_layers=5, dropout=0.5,
                 feature_set="full"):
        super().__init__()
        if n_auxiliaries < 1:
            raise ValueError("RoutedGIN needs at least one auxiliary dataset")
        atom_dims, bond_dims = feature_dims(feature_set)
        self.n_auxiliaries = n_auxiliaries
        self.target = GINEncoder(hidden_dim, num_layers, dropout, feature_set)
        self.aux_atom_embedding = _stacked_embedding(n_auxiliaries, atom_dims, hidden_dim)
        self.aux_layers = nn.ModuleList(
            _StackedGINLayer(n_auxiliaries, hidden_dim, bond_dims) for _ in range(num_layers)
        )

    def forward(self, batch, gate):
        """Graph embeddings of a mixed batch: the target's, then the auxiliaries'.

        The two parts are computed separately (the target never sees the
        gate), so the target loss can be differentiated without walking the
        auxiliaries' graph.

        Parameters
        ----------
        batch : MixedBatch
            Graphs sorted by dataset, target (dataset 0) first.
        gate : Tensor of shape (M,) or None
            The weight a_m of the *target's* path for each auxiliary in this
            step (the affinity; :class:`~molselect.core.gate.Gate` gives it
            for either gate direction); ``None`` runs every auxiliary on its
            own parameters only (the warm-up epoch).

        Returns
        -------
        target_embeddings : Tensor of shape (graph_counts[0], hidden_dim)
        auxiliary_embeddings : Tensor of shape (sum(graph_counts[1:]), hidden_dim)
        """
        return (self.target(batch.graph_view(0, 1)),
                self.forward_auxiliaries(batch.graph_view(1), gate))

    def forward_auxiliaries(self, view, gate):
        """Embeddings of the auxiliaries' graphs ``view`` (ids 0..M-1), routed by ``gate``."""
        segment, counts = view.node_dataset, view.node_counts
        atoms = self.target.atom_embedding.encode(view.x)
        bonds = self.target.layers[0].bond_embedding.encode(view.edge_attr)
        h = grouped_linear(atoms, counts, self.aux_atom_embedding)
        if gate is not None:
            node_gate = gate.index_select(0, segment)[:, None]
            h = _gated_mix(h, self.target.atom_embedding(view.x, atoms), node_gate)
        src, dst = view.edge_index
        for i, (layer, aux_layer) in enumerate(zip(self.target.layers, self.aux_layers)):
            neighbours = h.index_select(0, src)
            own = aux_layer(h, neighbours, dst, bonds, view.edge_counts, segment, counts)
            if gate is not None:
                # The target's layer sees each auxiliary with that auxiliary's own batch
                # statistics and never moves the target's running averages.
                shared = layer(h, view.edge_index, view.edge_attr, segment, self.n_auxiliaries,
                               update_running=False, counts=counts, bonds=bonds,
                               neighbours=neighbours)
                own = _gated_mix(own, shared, node_gate)
            h = self.target.activate(own, i)
        return mean_pool(h, view.batch, view.num_graphs)
