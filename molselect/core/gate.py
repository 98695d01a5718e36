"""The routing function g(.) of MolGroup (paper eq. 3-5).

``score_m = (lam * task_cos_m + (1 - lam) * struct_cos_m) / temperature``

- task affinity: cosine between learnable task embeddings of the target and
  of auxiliary m (orthogonal initialisation, every auxiliary starting from the
  same vector, so every task cosine starts at exactly 0);
- structure affinity: cosine between Set2Set pools of ``W x_fp`` over the
  target's and auxiliary m's molecules in the current batch (eq. 4).

The gate returns ``a_m``, the weight of the *target's* parameters in
auxiliary m's layers, which is also its affinity.  The paper's eq. 2 puts
the sigmoid there: ``a_m = sigmoid(score_m)``.  The authors' released code
puts it on the auxiliary's own parameters (``gate * f(theta_m) + (1 - gate)
* f(theta_T)``), so its target weight and affinity are ``1 - sigmoid(score_m)
= sigmoid(-score_m)`` (``direction="reference"``).
"""

from __future__ import annotations

import torch
from torch import nn
import torch.nn.functional as F
from torch_geometric.nn.aggr import Set2Set

__all__ = ["GATE_DIRECTIONS", "Gate", "STRUCTURES"]

#: Which path the sigmoid of the fused affinity weights (see :class:`Gate`).
GATE_DIRECTIONS = ("paper", "reference")

#: How the structure branch pools a dataset's fingerprints (see :class:`Gate`).
STRUCTURES = ("shared", "per_dataset")


class Gate(nn.Module):
    """Per-step gate values of M auxiliaries.

    Parameters
    ----------
    n_auxiliaries : int
        Number of auxiliary datasets M.
    fingerprint_dim : int, default=167
        Length of the fingerprint (MACCS keys).
    embedding_dim : int, default=16
        Size of the task embeddings and of ``W x_fp``.
    balance : float, default=0.9
        lam, the weight of the task affinity.
    temperature : float, default=0.1
        Divides the fused affinity before the sigmoid (the reference code's
        value; the paper's eq. 5 is the case temperature = 1).
    processing_steps : int or None, default=None
        Set2Set processing steps; None uses 2 with ``structure="shared"`` (the
        paper) and 1 with ``structure="per_dataset"`` (the reference code).
    direction : {"paper", "reference"}, default="paper"
        ``"paper"``: eq. 2 as printed, ``a_m = sigmoid(score)`` weights the
        target's parameters.  ``"reference"``: the released code's
        ``gate * f(theta_m) + (1 - gate) * f(theta_T)`` with ``gate =
        sigmoid(score)``, i.e. ``a_m = sigmoid(-score)``.  Either way the
        first output is the weight of the target's path (the affinity).
    structure : {"shared", "per_dataset"}, default="shared"
        ``"shared"``: one Set2Set for every dataset over the raw ``W x_fp``
        (the paper's eq. 4).  ``"per_dataset"``: one Set2Set per dataset
        (index 0 the target, m the m-th auxiliary) over the L2-normalised
        ``W x_fp`` of each molecule, as the reference code's
        ``structure_pool``.

    Attributes
    ----------
    set2set : Set2Set
        With ``structure="shared"``.
    set2sets : ModuleList of Set2Set
        With ``structure="per_dataset"``, M + 1 of them.
    """

    def __init__(self, n_auxiliaries, fingerprint_dim=167, embedding_dim=16, balance=0.9,
                 temperature=0.1, processing_steps=None, direction="paper", structure="shared"):
        super().__init__()
        if direction not in GATE_DIRECTIONS:
            raise ValueError(f"direction must be one of {GATE_DIRECTIONS}, got {direction!r}")
        if structure not in STRUCTURES:
            raise ValueError(f"structure must be one of {STRUCTURES}, got {structure!r}")
        self.n_auxiliaries = n_auxiliaries
        self.balance = balance
        self.temperature = temperature
        self.direction = direction
        self.structure = structure
        pair = torch.empty(2, embedding_dim)
        nn.init.orthogonal_(pair)
        self.task_embedding = nn.Parameter(
            torch.cat([pair[:1], pair[1:].expand(n_auxiliaries, -1)]).clone()
        )
        self.fingerprint_projection = nn.Linear(fingerprint_dim, embedding_dim, bias=False)
        if structure == "shared":
            steps = 2 if processing_steps is None else processing_steps
            self.set2set = Set2Set(embedding_dim, processing_steps=steps)
        else:
            steps = 1 if processing_steps is None else processing_steps
            self.set2sets = nn.ModuleList(Set2Set(embedding_dim, processing_steps=steps)
                                          for _ in range(n_auxiliaries + 1))

    def structure_embeddings(self, fingerprints, graph_dataset, counts=None):
        """The pooled structure embedding of every dataset, shape (M + 1, 2 * embedding_dim).

        ``counts`` (graphs per dataset) saves a host synchronisation with
        ``structure="per_dataset"``; a dataset absent from the batch pools to
        its Set2Set's data-free query and a zero readout.
        """
        projected = self.fingerprint_projection(fingerprints)
        if self.structure == "shared":
            return self.set2set(projected, index=graph_dataset, dim_size=self.n_auxiliaries + 1)
        projected = F.normalize(projected, dim=-1)
        if counts is None:
            counts = torch.bincount(graph_dataset, minlength=self.n_auxiliaries + 1).tolist()
        blocks = torch.split(projected, list(counts))
        return torch.cat([
            pool(block, index=graph_dataset.new_zeros(block.shape[0]), dim_size=1)
            for pool, block in zip(self.set2sets, blocks)
        ])

    def forward(self, fingerprints, graph_dataset, counts=None):
        """Gate values and their two parts for this batch.

        Parameters
        ----------
        fingerprints : Tensor of shape (num_graphs, fingerprint_dim)
        graph_dataset : LongTensor of shape (num_graphs,)
            Dataset id of each graph, sorted (0 = target).
        counts : list of int, optional
            Graphs per dataset (``graph_dataset``'s run lengths).

        Returns
        -------
        gate, task_affinity, structure_affinity : Tensors of shape (M,)
            The weight of the target's path for each auxiliary (its
            affinity, for either ``direction``) and the task / structure
            cosines it fuses.
        """
        task = F.normalize(self.task_embedding, dim=-1)
        task_affinity = task[1:] @ task[0]
        pooled = F.normalize(self.structure_embeddings(fingerprints, graph_dataset, counts),
                             dim=-1)
        structure_affinity = pooled[1:] @ pooled[0]
        score = (self.balance * task_affinity
                 + (1 - self.balance) * structure_affinity) / self.temperature
        if self.direction == "reference":
            score = -score
        return torch.sigmoid(score), task_affinity, structure_affinity
