"""GIN encoder with OGB-style atom and bond embeddings (Xu et al. 2019; Hu et al. 2020).

The layers are written so that a batch holding several datasets can be
normalised per dataset ("segment"): :func:`segment_batch_norm` computes
batch-norm statistics separately for each segment.  The routed MolGroup
encoder runs the target's layers over every dataset's nodes in one pass and
still gives each dataset its own statistics, as if it had run alone.
"""

from __future__ import annotations

import torch
from torch import nn
import torch.nn.functional as F

from ..featurize import ATOM_FEATURE_DIMS, BOND_FEATURE_DIMS
from .dropout import dropout

__all__ = ["FEATURE_SETS", "FeatureEmbedding", "GINEncoder", "blockwise_batch_norm",
           "feature_dims", "multi_hot", "segment_batch_norm", "segment_sum",
           "training_batch_norm"]

#: The input feature sets an encoder can embed (see :func:`feature_dims`).
FEATURE_SETS = ("full", "simple")

# The reference code's ``--feature simple`` keeps ``x[:, :2]`` and ``edge_attr[:, :2]``.
_SIMPLE_ATOM_FEATURES = 2
_SIMPLE_BOND_FEATURES = 2


def feature_dims(feature_set="full"):
    """Vocabulary sizes of the atom and of the bond feature columns an encoder embeds.

    Parameters
    ----------
    feature_set : {"full", "simple"}, default="full"
        ``"full"``: OGB's 9 atom and 3 bond features (what
        :func:`~molselect.featurize.featurize` stores).  ``"simple"``: only
        the first two of each, atomic number and chirality, bond type and
        stereo, as the MolGroup reference code's ``--feature simple``
        (``x[:, :2]``, ``edge_attr[:, :2]``).  The featurization is the same
        for both (so is its cache): the embedding layers read only the first
        columns.

    Returns
    -------
    atom_dims, bond_dims : list of int
    """
    if feature_set not in FEATURE_SETS:
        raise ValueError(f"feature_set must be one of {FEATURE_SETS}, got {feature_set!r}")
    if feature_set == "simple":
        return (list(ATOM_FEATURE_DIMS[:_SIMPLE_ATOM_FEATURES]),
                list(BOND_FEATURE_DIMS[:_SIMPLE_BOND_FEATURES]))
    return list(ATOM_FEATURE_DIMS), list(BOND_FEATURE_DIMS)


def multi_hot(features, offsets, width, dtype):
    """Rows with a one at ``feature + offset`` for every categorical column.

    A sum of embeddings is then one matmul ``multi_hot @ table``, whose first
    and second derivatives are matmuls too: far cheaper on the meta-gradient's
    double backward than differentiating a gather twice.
    """
    out = torch.zeros(features.shape[0], width, dtype=dtype, device=features.device)
    return out.scatter_(1, features + offsets, 1.0)


class FeatureEmbedding(nn.Module):
    """Sum of one embedding per categorical feature (OGB's Atom/BondEncoder).

    The tables are stored as one matrix with per-feature offsets so that a
    lookup is a single matmul with the rows' multi-hot encoding.

    Parameters
    ----------
    feature_dims : sequence of int
        Vocabulary size of each feature column embedded.  Inputs may carry
        more columns than this: only the first ``len(feature_dims)`` are read
        (so ``feature_dims("simple")`` embeds the full featurization's first
        columns, see :func:`feature_dims`).
    dim : int
        Embedding size.
    """

    def __init__(self, feature_dims, dim):
        super().__init__()
        offsets = torch.tensor([0, *list(feature_dims)[:-1]]).cumsum(0)
        self.register_buffer("offsets", offsets, persistent=False)
        self.weight = nn.Parameter(torch.empty(int(sum(feature_dims)), dim))
        for start, size in zip(offsets.tolist(), feature_dims):
            nn.init.xavier_uniform_(self.weight.data[start:start + size])

    def encode(self, features):
        """Multi-hot rows of shape (n, vocabulary) for integer features (n, n_features)."""
        if features.shape[1] != self.offsets.shape[0]:
            features = features[:, :self.offsets.shape[0]]
        return multi_hot(features, self.offsets, self.weight.shape[0], self.weight.dtype)

    def forward(self, features, encoded=None):
        """Embed integer features of shape (n, n_features) into (n, dim).

        ``encoded`` reuses a multi-hot matrix from :meth:`encode` (shared by layers).
        """
        return (self.encode(features) if encoded is None else encoded) @ self.weight


def segment_sum(values, segment, n_segments):
    """Sum rows of ``values`` per segment id (differentiable to any order)."""
    out = values.new_zeros((n_segments,) + values.shape[1:])
    return out.index_add(0, segment, values)


def training_batch_norm(x, weight, bias, running_mean=None, running_var=None, momentum=0.1,
                        eps=1e-5):
    """Training-mode batch norm over the rows of ``x``, defined for a single row too.

    A single row is its own mean, so its normalised value is 0 and the output
    is ``bias`` (torch refuses such a batch). It carries no variance, so it
    leaves the running statistics alone. A batch meets this when it holds
    one one-atom molecule (methane, an ion) of a dataset.

    Parameters
    ----------
    x : Tensor of shape (n, channels)
    weight, bias : Tensor of shape (channels,) or None
    running_mean, running_var : Tensor of shape (channels,), optional
        Updated in place (momentum ``momentum``) when given and ``n > 1``.
    momentum, eps : float

    Returns
    -------
    Tensor of shape (n, channels)
    """
    if x.shape[0] == 1:
        return (x.new_zeros(x.shape) if bias is None else bias.expand(x.shape)).contiguous()
    return F.batch_norm(x, running_mean, running_var, weight, bias, True, momentum, eps)


def segment_batch_norm(x, norm, segment=None, n_segments=1, update_segment=0,
                       update_running=True, counts=None):
    """Batch norm with statistics computed separately for each segment of rows.

    Rows must be sorted by segment (as in a batch sorted by dataset).

    Parameters
    ----------
    x : Tensor of shape (n, channels)
        Rows to normalise.
    norm : torch.nn.BatchNorm1d
        Supplies the affine parameters and the running statistics.
    segment : LongTensor of shape (n,), optional
        Segment id per row; ``None`` means one segment (plain batch norm).
    n_segments : int
        Number of segments.
    update_segment : int
        Only this segment's statistics update the running averages (the
        target's, so auxiliaries never shift the target's evaluation-time
        normalisation).
    update_running : bool
        Set to False for a virtual forward pass (the meta-gradient's lookahead)
        so it leaves the running statistics untouched.
    counts : list of int, optional
        Rows per segment (rows must be sorted by segment); computed from
        ``segment`` when omitted, which costs a host synchronisation.

    Returns
    -------
    Tensor of shape (n, channels)
    """
    if not norm.training:
        return F.batch_norm(x, norm.running_mean, norm.running_var, norm.weight, norm.bias,
                            False, 0.0, norm.eps)
    if segment is None or n_segments == 1:
        track = update_running and norm.track_running_stats
        return training_batch_norm(
            x, norm.weight, norm.bias, norm.running_mean if track else None,
            norm.running_var if track else None, norm.momentum, norm.eps,
        )
    if counts is None:
        counts = torch.bincount(segment, minlength=n_segments).tolist()
    track = update_running and norm.track_running_stats
    return blockwise_batch_norm(x, counts, norm.weight, norm.bias, norm.eps,
                                running=(norm.running_mean, norm.running_var) if track else None,
                                running_block=update_segment, momentum=norm.momentum)


def blockwise_batch_norm(x, counts, weight, bias, eps=1e-5, running=None, running_block=0,
                         momentum=0.1):
    """Training-mode batch norm over each contiguous block of rows separately.

    Native batch-norm kernels per block are much faster than scatter-based
    statistics, and twice differentiable as the meta-gradient needs.

    Parameters
    ----------
    x : Tensor of shape (n, channels)
    counts : list of int
        Rows per block.
    weight, bias : Tensor of shape (channels,)
        Affine parameters, shared by every block.
    eps : float
    running : (Tensor, Tensor), optional
        Running mean and variance that block ``running_block`` updates.
    running_block : int
    momentum : float

    Returns
    -------
    Tensor of shape (n, channels)
    """
    out = []
    for i, block in enumerate(torch.split(x, list(counts))):
        if block.shape[0] == 0:
            out.append(block)
            continue
        mean, var = running if running is not None and i == running_block else (None, None)
        out.append(training_batch_norm(block, weight, bias, mean, var, momentum, eps))
    return torch.cat(out)


class GINLayer(nn.Module):
    """One GIN convolution with edge features: ``MLP((1 + eps) h + sum relu(h_j + e_ij))``.

    The MLP is Linear(H, 2H) -> BN -> ReLU -> Linear(2H, H) and is followed by
    the layer's outer batch norm, as in OGB's GIN.
    """

    def __init__(self, dim, bond_feature_dims=None):
        super().__init__()
        self.bond_embedding = FeatureEmbedding(
            BOND_FEATURE_DIMS if bond_feature_dims is None else bond_feature_dims, dim)
        self.eps = nn.Parameter(torch.zeros(1))
        self.lin1 = nn.Linear(dim, 2 * dim)
        self.norm1 = nn.BatchNorm1d(2 * dim)
        self.lin2 = nn.Linear(2 * dim, dim)
        self.norm2 = nn.BatchNorm1d(dim)

    def forward(self, h, edge_index, edge_attr, segment=None, n_segments=1, update_running=True,
                counts=None, bonds=None, neighbours=None):
        """New node states.

        ``bonds`` (multi-hot bond rows) and ``neighbours`` (``h`` at each
        edge's source) may be passed in when another layer already made them.
        """
        src, dst = edge_index
        if neighbours is None:
            neighbours = h.index_select(0, src)
        messages = F.relu(neighbours + self.bond_embedding(edge_attr, bonds))
        z = (1 + self.eps) * h + segment_sum(messages, dst, h.shape[0])
        z = segment_batch_norm(self.lin1(z), self.norm1, segment, n_segments,
                               update_running=update_running, counts=counts)
        z = self.lin2(F.relu(z))
        return segment_batch_norm(z, self.norm2, segment, n_segments,
                                  update_running=update_running, counts=counts)


class GINEncoder(nn.Module):
    """A stack of GIN layers over OGB atom/bond features, mean-pooled per graph.

    Parameters
    ----------
    hidden_dim : int, default=300
        Node embedding size.
    num_layers : int, default=5
        Number of message-passing layers.
    dropout : float, default=0.5
        Dropout after every layer.
    feature_set : {"full", "simple"}, default="full"
        Input features embedded (:func:`feature_dims`): all 9 atom / 3 bond
        OGB features, or the reference code's ``--feature simple`` (atomic
        number, chirality; bond type, stereo).

    Notes
    -----
    ``forward`` takes a torch_geometric batch (``x``, ``edge_index``,
    ``edge_attr``, ``batch``, ``num_graphs``) and returns graph embeddings of
    shape (num_graphs, hidden_dim).  ``segment``/``n_segments`` give every
    dataset of a mixed batch its own batch-norm statistics; :meth:`encode`
    derives them from a :class:`~molselect.core.data.MixedBatch`.
    """

    def __init__(self, hidden_dim=300, num_layers=5, dropout=0.5, feature_set="full"):
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"num_layers must be >= 1, got {num_layers}")
        atom_dims, bond_dims = feature_dims(feature_set)
        self.hidden_dim = hidden_dim
        self.num_layers = num_layers
        self.dropout = dropout
        self.feature_set = feature_set
        self.atom_embedding = FeatureEmbedding(atom_dims, hidden_dim)
        self.layers = nn.ModuleList(GINLayer(hidden_dim, bond_dims) for _ in range(num_layers))

    def activate(self, h, layer):
        """ReLU (except after the last layer) then dropout, applied after each layer."""
        if layer < self.num_layers - 1:
            h = F.relu(h)
        return dropout(h, self.dropout, self.training)

    def node_embeddings(self, batch, segment=None, n_segments=1, update_running=True):
        """Node representations after the last layer, shape (n_nodes, hidden_dim)."""
        h = self.atom_embedding(batch.x)
        bonds = self.layers[0].bond_embedding.encode(batch.edge_attr)
        for i, layer in enumerate(self.layers):
            h = layer(h, batch.edge_index, batch.edge_attr, segment, n_segments, update_running,
                      bonds=bonds)
            h = self.activate(h, i)
        return h

    def forward(self, batch, segment=None, n_segments=1, update_running=True):
        h = self.node_embeddings(batch, segment, n_segments, update_running)
        return mean_pool(h, batch.batch, batch.num_graphs)

    def encode(self, batch, update_running=True):
        """Graph embeddings of a mixed batch, each dataset normalised with its own statistics.

        What :class:`~molselect.core.network.MultiDatasetNetwork` calls.

        Parameters
        ----------
        batch : MixedBatch or GraphView
            One or more datasets' blocks of graphs.
        update_running : bool, default=True
            Whether a training-mode pass updates the running statistics (the
            first dataset's only, see :func:`segment_batch_norm`).

        Returns
        -------
        Tensor of shape (num_graphs, hidden_dim)
        """
        n_segments = len(batch.graph_counts)
        # A lone dataset is plain batch norm, which needs no per-node segment ids.
        segment = batch.node_dataset if n_segments > 1 else None
        return self(batch, segment, n_segments, update_running)


def mean_pool(h, graph_of_node, n_graphs):
    """Average node rows per graph (a graph with no atoms pools to zeros)."""
    counts = torch.bincount(graph_of_node, minlength=n_graphs).clamp_min(1).to(h.dtype)
    return segment_sum(h, graph_of_node, n_graphs) / counts[:, None]
