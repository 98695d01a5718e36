"""Per-dataset decoder heads and the masked multi-task losses."""

from __future__ import annotations

import torch
from torch import nn
import torch.nn.functional as F

__all__ = ["MultiHead", "masked_loss", "masked_losses", "mean_over_labelled"]


class MultiHead(nn.Module):
    """One linear decoder per dataset, applied to that dataset's graphs.

    Parameters
    ----------
    in_dim : int
        Size of the graph embeddings.
    n_tasks : list of int
        Number of tasks of each dataset, target first.
    """

    def __init__(self, in_dim, n_tasks):
        super().__init__()
        self.heads = nn.ModuleList(nn.Linear(in_dim, int(t)) for t in n_tasks)

    def forward(self, embeddings, graph_counts, first=0):
        """Split ``embeddings`` by ``graph_counts`` and decode each block with its head.

        ``first`` is the dataset id of the first block (1 when decoding only
        the auxiliaries).
        """
        blocks = torch.split(embeddings, list(graph_counts))
        return [self.heads[first + d](block) for d, block in enumerate(blocks)]


def masked_loss(pred, y, classification):
    """Mean loss over the labelled entries: BCE-with-logits or MSE per task.

    Parameters
    ----------
    pred : Tensor of shape (n, n_tasks)
        Logits (classification tasks) or values (regression tasks).
    y : Tensor of shape (n, n_tasks)
        Labels, NaN where missing.
    classification : BoolTensor of shape (n_tasks,)
        Which tasks are classification tasks.

    Returns
    -------
    loss : Tensor (scalar)
        Zero (still attached to ``pred``) when nothing is labelled.
    n_labelled : Tensor (scalar)
        Number of labelled entries, so callers can skip empty blocks.
    """
    labelled = ~torch.isnan(y)
    target = torch.where(labelled, y, torch.zeros_like(y))
    bce = F.binary_cross_entropy_with_logits(pred, target, reduction="none")
    mse = (pred - target) ** 2
    per_entry = torch.where(classification, bce, mse)
    n = labelled.sum()
    loss = torch.where(labelled, per_entry, torch.zeros_like(per_entry)).sum() / n.clamp_min(1)
    return loss, n


def masked_losses(preds, ys, classification, first=0):
    """:func:`masked_loss` of every dataset's block of a batch, stacked.

    Parameters
    ----------
    preds : sequence of Tensor
        Per dataset of the batch, its (n_d, n_tasks_d) outputs.
    ys : sequence of Tensor
        Per dataset of the batch, its labels (NaN where missing).
    classification : sequence of BoolTensor
        Per dataset of the table, which tasks are classification tasks.
    first : int, default=0
        Table id of the first block (1 when the blocks are the auxiliaries
        only): block ``d`` is scored with ``classification[first + d]``.

    Returns
    -------
    losses : Tensor of shape (n_blocks,)
        Each block's mean loss over its labelled entries (0 without any).
    present : BoolTensor of shape (n_blocks,)
        Whether each block had at least one label.
    """
    out = [masked_loss(p, y, classification[first + d])
           for d, (p, y) in enumerate(zip(preds, ys))]
    return torch.stack([loss for loss, _ in out]), torch.stack([n > 0 for _, n in out])


def mean_over_labelled(losses, present):
    """Unweighted mean of the losses of the blocks that had labels (0 when none had).

    Parameters
    ----------
    losses : Tensor of shape (n_blocks,)
    present : BoolTensor of shape (n_blocks,)
        As :func:`masked_losses` returns them.

    Returns
    -------
    Tensor (scalar)
    """
    # A block without labels has loss 0 but must not count in the denominator either.
    return (losses * present).sum() / present.sum().clamp_min(1)

