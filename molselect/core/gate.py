"""The routing function g(.) of MolGroup (paper eq. 3-5).

``a_m = sigmoid((lam * task_cos_m + (1 - lam) * struct_cos_m) / temperature)``

- task affinity: cosine between learnable task embeddings of the target and
  of auxiliary m (orthogonal initialisation, every auxiliary starting from the
  same vector, so every task cosine starts at exactly 0);
- structure affinity: cosine between Set2Set pools of ``W x_fp`` over the
  target's and auxiliary m's molecules in the current batch (eq. 4).
"""

from __future__ import annotations

import torch
from torch import nn
import torch.nn.functional as F
from torch_geometric.nn.aggr import Set2Set

__all__ = ["Gate"]


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
    processing_steps : int, default=2
        Set2Set processing steps.
    """

    def __init__(self, n_auxiliaries, fingerprint_dim=167, embedding_dim=16, balance=0.9,
                 temperature=0.1, processing_steps=2):
        super().__init__()
        self.n_auxiliaries = n_auxiliaries
        self.balance = balance
        self.temperature = temperature
        pair = torch.empty(2, embedding_dim)
        nn.init.orthogonal_(pair)
        self.task_embedding = nn.Parameter(
            torch.cat([pair[:1], pair[1:].expand(n_auxiliaries, -1)]).clone()
        )
        self.fingerprint_projection = nn.Linear(fingerprint_dim, embedding_dim, bias=False)
        self.set2set = Set2Set(embedding_dim, processing_steps=processing_steps)

    def forward(self, fingerprints, graph_dataset):
        """Gate values and their two parts for this batch.

        Parameters
        ----------
        fingerprints : Tensor of shape (num_graphs, fingerprint_dim)
        graph_dataset : LongTensor of shape (num_graphs,)
            Dataset id of each graph, sorted (0 = target).

        Returns
        -------
        gate, task_affinity, structure_affinity : Tensors of shape (M,)
            The gate values and the task / structure cosines they fuse.
        """
        task = F.normalize(self.task_embedding, dim=-1)
        task_affinity = task[1:] @ task[0]
        pooled = self.set2set(self.fingerprint_projection(fingerprints), index=graph_dataset,
                              dim_size=self.n_auxiliaries + 1)
        pooled = F.normalize(pooled, dim=-1)
        structure_affinity = pooled[1:] @ pooled[0]
        fused = self.balance * task_affinity + (1 - self.balance) * structure_affinity
        return torch.sigmoid(fused / self.temperature), task_affinity, structure_affinity
