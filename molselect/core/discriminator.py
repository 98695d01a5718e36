"""MT-DNN-style dataset discriminator (Kung et al., EMNLP 2021) on a shared GIN.

Next to the per-dataset decoders, a linear head predicts which dataset a
molecule comes from; it is trained jointly with the tasks.  Afterwards its
probability of "target" for an auxiliary molecule measures how target-like
that molecule is.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

from .heads import masked_losses, mean_over_labelled
from .joint import JointGIN
from .training import JointStep

__all__ = ["DiscriminatorGIN", "DiscriminatorStep", "target_probability"]


class DiscriminatorGIN(JointGIN):
    """:class:`~molselect.core.joint.JointGIN` plus a dataset discriminator head.

    Parameters
    ----------
    n_tasks : list of int
        Tasks per dataset, target first.
    hidden_dim, num_layers, dropout
        GIN settings.
    """

    def __init__(self, n_tasks, hidden_dim=300, num_layers=5, dropout=0.5):
        super().__init__(n_tasks, hidden_dim, num_layers, dropout)
        self.discriminator = nn.Linear(hidden_dim, len(n_tasks))

    def forward_all(self, batch, update_running=True):
        """Task predictions (list per dataset) and dataset logits (num_graphs, n_datasets)."""
        h = self.embed(batch, update_running)
        return self.heads(h, batch.graph_counts), self.discriminator(h)


class DiscriminatorStep(JointStep):
    """Joint step whose loss adds the discriminator's cross-entropy to the task losses.

    The task part is the unweighted mean of the datasets' masked losses (as
    :class:`~molselect.core.training.JointStep`); the discriminator's loss is
    the mean cross-entropy over the batch's graphs, weighted by
    ``discriminator_weight``.

    Parameters
    ----------
    model : DiscriminatorGIN
    classification, optimizer
        As :class:`~molselect.core.training.JointStep`.
    discriminator_weight : float, default=1.0
        Weight of the discriminator's cross-entropy in the loss.
    """

    def __init__(self, model, classification, optimizer, discriminator_weight=1.0):
        super().__init__(model, classification, optimizer)
        self.discriminator_weight = discriminator_weight

    def objective(self, batch, epoch=None):
        """Mean task loss plus the weighted discriminator loss, from one forward pass.

        As
        :meth:`JointStep.objective <molselect.core.training.JointStep.objective>`;
        the logs add ``discriminator_loss``.
        """
        preds, logits = self.model.forward_all(batch)
        losses, present = masked_losses(preds, batch.y, self.classification)
        task = mean_over_labelled(losses, present)
        disc = F.cross_entropy(logits, batch.graph_dataset)
        loss = task + self.discriminator_weight * disc
        return loss, {"target_loss": losses[0], "discriminator_loss": disc}


@torch.no_grad()
def target_probability(model, table, dataset, batch_size=512, device="cpu"):
    """Discriminator probability that each molecule of ``dataset`` comes from the target (id 0).

    Returns
    -------
    ndarray of shape (n,)
    """
    model.eval()
    out = [torch.softmax(model.forward_all(batch)[1].float(), dim=1)[:, 0].cpu()
           for batch in table.dataset_batches(dataset, batch_size, device)]
    return torch.cat(out).numpy() if out else np.zeros(0)
