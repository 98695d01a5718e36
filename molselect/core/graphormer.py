"""Graphormer encoder (Ying et al., 2021) for molecule graphs.

The configuration follows MolGroup's appendix B: pre-layer-norm Transformer
layers, summed OGB atom-feature embeddings plus a degree (centrality)
embedding, a per-head attention bias from the shortest-path distance and from
the bonds along a shortest path (Graphormer's multi-hop edge encoding), and a
learnable graph token whose output is the molecule embedding.

Inputs are the dense batches of
:func:`molselect.core.graphormer_input.collate_graphormer`.  Attention runs
through :func:`torch.nn.functional.scaled_dot_product_attention` with the
structural bias as an additive float mask, which picks a fused kernel on CPU
and CUDA alike.  Pure torch: no scikit-learn.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..featurize import ATOM_FEATURE_DIMS, BOND_FEATURE_DIMS
from .dropout import Dropout
from .graphormer_input import NUM_SPATIAL

__all__ = ["GraphormerEncoder", "GraphormerLayer"]


class _OffsetEmbedding(nn.Module):
    """One table for several categorical columns, indexed with per-column offsets."""

    def __init__(self, feature_dims, dim):
        super().__init__()
        offsets = torch.tensor([0, *list(feature_dims)[:-1]], dtype=torch.long).cumsum(0)
        self.register_buffer("offsets", offsets, persistent=False)
        self.table = nn.Embedding(int(sum(feature_dims)), dim)

    def forward(self, features):
        # (..., n_features) -> (..., n_features, dim); wider inputs keep their first columns
        n = self.offsets.shape[0]
        if features.shape[-1] != n:
            features = features[..., :n]
        return self.table(features + self.offsets)


class GraphormerLayer(nn.Module):
    """Pre-LN Transformer layer with an additive attention bias.

    Parameters
    ----------
    hidden_dim : int
        Model width.
    num_heads : int
        Attention heads; must divide ``hidden_dim``.
    ffn_dim : int
        Hidden size of the feed-forward block.
    dropout : float
        Dropout on the attention output, inside and after the feed-forward block.
    attention_dropout : float
        Dropout on the attention probabilities (training only).
    """

    def __init__(self, hidden_dim, num_heads, ffn_dim, dropout, attention_dropout):
        super().__init__()
        if hidden_dim % num_heads:
            raise ValueError(f"num_heads={num_heads} must divide hidden_dim={hidden_dim}")
        self.num_heads = num_heads
        self.attention_dropout = float(attention_dropout)
        self.attn_norm = nn.LayerNorm(hidden_dim)
        self.qkv = nn.Linear(hidden_dim, 3 * hidden_dim)
        self.out = nn.Linear(hidden_dim, hidden_dim)
        self.ffn_norm = nn.LayerNorm(hidden_dim)
        self.ffn = nn.Sequential(nn.Linear(hidden_dim, ffn_dim), nn.GELU(), Dropout(dropout),
                                 nn.Linear(ffn_dim, hidden_dim))
        self.dropout = Dropout(dropout)

    def forward(self, h, bias):
        """Update ``h`` (B, L, hidden_dim) under attention bias ``bias`` (B, heads, L, L)."""
        B, L, C = h.shape
        q, k, v = (self.qkv(self.attn_norm(h))
                   .view(B, L, 3, self.num_heads, C // self.num_heads)
                   .permute(2, 0, 3, 1, 4))
        a = F.scaled_dot_product_attention(
            q, k, v, attn_mask=bias,
            dropout_p=self.attention_dropout if self.training else 0.0)
        h = h + self.dropout(self.out(a.transpose(1, 2).reshape(B, L, C)))
        return h + self.dropout(self.ffn(self.ffn_norm(h)))


class GraphormerEncoder(nn.Module):
    """Graphormer graph encoder: molecule batch to one embedding per molecule.

    Parameters
    ----------
    hidden_dim : int, default 512
        Model width; also the feed-forward hidden size (as in MolGroup).
    num_layers : int, default 5
        Transformer layers.
    num_heads : int, default 8
        Attention heads; must divide ``hidden_dim``.
    dropout : float, default 0.1
        Dropout on the input embeddings, attention outputs and feed-forward blocks.
    attention_dropout : float, default 0.3
        Dropout on attention probabilities.
    max_nodes : int, default 128
        Largest padded molecule size accepted; degrees are clipped to
        ``max_nodes - 1`` (the largest degree in a simple graph of that size).
    max_dist : int, default 5
        Bonds per shortest path used by the edge encoding (one learned
        ``num_heads x num_heads`` map per hop).  Batches may carry fewer hops;
        extra hops are ignored.
    atom_feature_dims, bond_feature_dims : sequence of int, optional
        Vocabulary sizes of the atom and bond feature columns; default to
        :data:`molselect.featurize.ATOM_FEATURE_DIMS` /
        :data:`~molselect.featurize.BOND_FEATURE_DIMS`.  Inputs with more
        columns are embedded by their first ones only (the reference code's
        ``--feature simple`` is ``molselect.core.gin.feature_dims("simple")``).

    Notes
    -----
    The attention bias between atoms ``i`` and ``j`` is, per head,
    ``b_spatial[spd(i, j)] + mean_k(w_k^T e_k)``, where ``e_k`` is the mean of
    the bond-feature embeddings of hop ``k`` on a shortest path and the mean
    runs over the ``min(spd, max_dist)`` hops (Graphormer's ``multi_hop``
    edge encoding).  The graph token gets one learned bias per head towards
    and from every atom ("virtual distance").  Padding atoms are masked out as
    keys, so they cannot influence real atoms or the graph token.  Parameters
    are initialised as Graphormer's ``init_graphormer_params`` (normal, std
    0.02, zero biases).

    Examples
    --------
    >>> from molselect.featurize import featurize
    >>> from molselect.featurize._spatial import spatial_features
    >>> from molselect.core.graphormer_input import collate_graphormer
    >>> g = featurize(["CCO", "c1ccccc1"], cache=False)
    >>> batch = collate_graphormer(g, spatial_features(g, cache=False), [0, 1])
    >>> GraphormerEncoder(hidden_dim=16, num_layers=1, num_heads=2)(batch).shape
    torch.Size([2, 16])
    """

    def __init__(self, hidden_dim=512, num_layers=5, num_heads=8, dropout=0.1,
                 attention_dropout=0.3, max_nodes=128, max_dist=5, atom_feature_dims=None,
                 bond_feature_dims=None):
        super().__init__()
        self.hidden_dim = int(hidden_dim)
        self.num_heads = int(num_heads)
        self.max_nodes = int(max_nodes)
        self.max_dist = int(max_dist)
        atom_dims = list(ATOM_FEATURE_DIMS if atom_feature_dims is None else atom_feature_dims)
        bond_dims = list(BOND_FEATURE_DIMS if bond_feature_dims is None else bond_feature_dims)

        self.atom_encoder = _OffsetEmbedding(atom_dims, hidden_dim)
        self.degree_encoder = nn.Embedding(self.max_nodes, hidden_dim)
        self.graph_token = nn.Embedding(1, hidden_dim)
        self.spatial_encoder = nn.Embedding(NUM_SPATIAL, num_heads)
        self.graph_token_distance = nn.Embedding(1, num_heads)
        self.bond_encoder = _OffsetEmbedding(bond_dims, num_heads)
        # hop k of a path is mapped by its own (heads x heads) matrix
        self.hop_weight = nn.Parameter(torch.empty(self.max_dist, num_heads, num_heads))
        self.input_dropout = Dropout(dropout)
        self.layers = nn.ModuleList(
            GraphormerLayer(hidden_dim, num_heads, hidden_dim, dropout, attention_dropout)
            for _ in range(num_layers))
        self.final_norm = nn.LayerNorm(hidden_dim)
        self.reset_parameters()

    def reset_parameters(self):
        """Graphormer's initialisation: N(0, 0.02) weights, zero biases, unit layer norms."""
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, std=0.02)
                if isinstance(m, nn.Linear) and m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.LayerNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        nn.init.normal_(self.hop_weight, std=0.02)

    def attention_bias(self, batch):
        """Structural attention bias with the graph token and padding mask.

        Parameters
        ----------
        batch : dict of str to Tensor
            A :func:`collate_graphormer` batch on this module's device.

        Returns
        -------
        Tensor of shape (B, num_heads, N + 1, N + 1)
            Additive bias; position 0 is the graph token and columns of
            padding atoms are ``-inf``.
        """
        spatial_pos, node_mask = batch["spatial_pos"], batch["node_mask"]
        edge_path, path_len = batch["edge_path"], batch["path_len"]
        B, N = node_mask.shape
        H = self.num_heads

        bias = self.spatial_encoder(spatial_pos)  # (B, N, N, H)

        hops = min(edge_path.shape[-1], self.max_dist)
        if hops > 0 and batch["edge_attr"].shape[0] > 0:
            bond = self.bond_encoder(batch["edge_attr"]).mean(dim=1)  # (E, H)
            # the padding index E points at a zero row
            bond = torch.cat([bond, bond.new_zeros(1, H)], dim=0)
            edge = bias.new_zeros(B, N, N, H)
            # one hop at a time keeps the (B, N, N, hops, H) tensor out of memory
            for k in range(hops):
                edge = edge + F.embedding(edge_path[..., k], bond @ self.hop_weight[k])
            edge = edge / path_len.clamp(min=1, max=hops).unsqueeze(-1).to(edge.dtype)
            bias = bias + edge

        t = self.graph_token_distance.weight.view(1, H, 1, 1)
        full = torch.cat([
            t.expand(B, H, 1, N + 1),
            torch.cat([t.expand(B, H, N, 1), bias.permute(0, 3, 1, 2)], dim=3),
        ], dim=2)
        key_pad = ~torch.cat([node_mask.new_ones(B, 1), node_mask], dim=1)
        return full.masked_fill(key_pad[:, None, None, :], float("-inf"))

    def forward(self, batch, return_nodes=False):
        """Embed a batch of molecules.

        Parameters
        ----------
        batch : dict of str to Tensor
            From :func:`molselect.core.graphormer_input.collate_graphormer`;
            moved to this module's device if needed.
        return_nodes : bool, default False
            Also return the atom representations.

        Returns
        -------
        graph : Tensor of shape (B, hidden_dim)
            The graph-token output, one embedding per molecule.
        nodes : Tensor of shape (B, N, hidden_dim)
            Atom outputs (padding rows are meaningless); only with
            ``return_nodes=True``.
        """
        device = self.graph_token.weight.device
        batch = {k: v.to(device, non_blocking=True) for k, v in batch.items()
                 if isinstance(v, torch.Tensor)}
        x, node_mask = batch["x"], batch["node_mask"]
        B, N = node_mask.shape
        if N > self.max_nodes:
            raise ValueError(f"batch padded to {N} atoms, more than max_nodes={self.max_nodes}")

        h = self.atom_encoder(x).sum(dim=2)
        h = h + self.degree_encoder(batch["degree"].clamp(max=self.max_nodes - 1))
        h = torch.cat([self.graph_token.weight.expand(B, 1, -1), h], dim=1)
        h = self.input_dropout(h)

        bias = self.attention_bias(batch).to(h.dtype)
        for layer in self.layers:
            h = layer(h, bias)
        h = self.final_norm(h)
        return (h[:, 0], h[:, 1:]) if return_nodes else h[:, 0]

    def encode(self, batch, update_running=True):
        """Graph embeddings of a mixed batch, from its padded Graphormer inputs.

        What :class:`~molselect.core.network.MultiDatasetNetwork` calls.

        Parameters
        ----------
        batch : MixedBatch
            Built by a table whose ``encoder_inputs`` are
            :class:`~molselect.core.graphormer_input.GraphormerInputs`.
        update_running : bool, default=True
            Ignored: layer norm keeps no running statistics.

        Returns
        -------
        Tensor of shape (num_graphs, hidden_dim)
        """
        return self(batch.encoder_inputs)
