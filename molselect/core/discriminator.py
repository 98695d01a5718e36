"""Dataset discriminators for MT-DNN-style instance selection (Kung et al., EMNLP 2021).

Two discriminators score how target-like an auxiliary molecule is.

:func:`target_vs_rest_probability` (the default of
:class:`~molselect.selectors.MTDNNSelector`) follows Kung et al.'s selection
*by feature similarity*: after the multi-task training, the encoder is
frozen and a binary logistic regression, target against the pooled
auxiliaries, is fitted on the graph embeddings.  Its loss weighs the target
and the auxiliaries equally (each auxiliary an equal share of its half, as
balanced sampling gives every dataset an equal share), so its probability
is calibrated to even prior odds: ``p(x) = r(x) / (1 + r(x))`` with ``r`` the
density ratio of the target to the average auxiliary.  ``p > 0.6`` then
means "at least 1.5 times as typical of the target as of the auxiliaries",
and an auxiliary molecule that is just as typical of the target (a copy of a
target molecule, when the other auxiliaries differ) scores above 0.5.

:class:`DiscriminatorNetwork` with :class:`DiscriminatorStep` and
:func:`target_probability` is the earlier design: an (M+1)-way softmax over
the dataset sources, trained jointly with its gradient flowing into the
shared encoder.  Under balanced sampling its prior for the target is
1/(M+1), a molecule equally typical of the target and of its own source
scores at most 0.5, and the encoder is pushed to tell the datasets apart,
so a threshold of 0.6 keeps almost nothing (no molecule at all for a bbbp
target with bace, clintox, esol and tox21).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

from .heads import masked_losses, mean_over_labelled
from .network import MultiDatasetNetwork
from .training import JointStep

__all__ = ["DiscriminatorNetwork", "DiscriminatorStep", "target_probability",
           "target_vs_rest_probability"]


class DiscriminatorNetwork(MultiDatasetNetwork):
    """:class:`~molselect.core.network.MultiDatasetNetwork` plus a dataset discriminator head.

    Parameters
    ----------
    encoder : torch.nn.Module
    n_tasks : list of int
        As :class:`~molselect.core.network.MultiDatasetNetwork`; the
        discriminator tells the ``len(n_tasks)`` datasets apart.
    """

    def __init__(self, encoder, n_tasks):
        super().__init__(encoder, n_tasks)
        self.discriminator = nn.Linear(encoder.hidden_dim, len(n_tasks))

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
    model : DiscriminatorNetwork
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

    For a :class:`DiscriminatorNetwork` (the joint (M+1)-way softmax).

    Returns
    -------
    ndarray of shape (n,)
    """
    h = graph_embeddings(model, table, dataset, batch_size, device)
    if not len(h):
        return np.zeros(0)
    return torch.softmax(model.discriminator(h), dim=1)[:, 0].cpu().numpy()


@torch.no_grad()
def graph_embeddings(model, table, dataset, batch_size=512, device="cpu"):
    """Eval-mode graph embeddings (float, on ``device``) of every molecule of one dataset.

    Eval mode normalises every dataset with the target's running statistics
    (the only ones :class:`~molselect.core.network.MultiDatasetNetwork`
    keeps): one frame of reference in which the datasets can be compared, and
    no dropout.
    """
    model.eval()
    out = [model.embed(batch).float()
           for batch in table.dataset_batches(dataset, batch_size, device)]
    return torch.cat(out) if out else torch.zeros(0, model.encoder.hidden_dim, device=device)


def target_vs_rest_probability(model, table, batch_size=512, device="cpu", l2=1e-4,
                               max_iter=500):
    """Prior-calibrated probability that each auxiliary molecule comes from the target.

    A binary logistic regression, target (dataset 0) against every auxiliary
    pooled, is fitted on the frozen encoder's graph embeddings
    (:func:`graph_embeddings`), standardised with the target's mean and
    standard deviation.  The target's molecules carry half of the loss's
    weight and each of the M auxiliaries 1 / (2M), so the fitted probability
    is the posterior under even odds between the target and the average
    auxiliary (see the module notes).  The fit is convex, full-batch L-BFGS,
    and deterministic.

    Parameters
    ----------
    model : MultiDatasetNetwork
        The trained multi-task model (its encoder is only read).
    table : GraphTable
        Target first, then the auxiliaries.
    batch_size : int, default=512
        Molecules per forward pass when embedding.
    device : str or torch.device, default="cpu"
    l2 : float, default=1e-4
        Ridge penalty on the weights (not the bias): keeps the fit finite
        when the datasets are linearly separable.
    max_iter : int, default=500
        L-BFGS iterations.

    Returns
    -------
    list of ndarray
        One array per auxiliary (datasets 1..M), the probability of each of
        its molecules.
    """
    n_sets = table.n_datasets
    features = [graph_embeddings(model, table, d, batch_size, device) for d in range(n_sets)]
    mean = features[0].mean(dim=0)
    std = features[0].std(dim=0).clamp_min(1e-6) if len(features[0]) > 1 else 1.0
    x = torch.cat([(f - mean) / std for f in features])
    y = torch.cat([torch.full((len(f),), float(d == 0), device=x.device)
                   for d, f in enumerate(features)])
    n_aux = max(n_sets - 1, 1)
    weight = torch.cat([torch.full((len(f),), (0.5 if d == 0 else 0.5 / n_aux) / max(len(f), 1),
                                   device=x.device) for d, f in enumerate(features)])
    w = torch.zeros(x.shape[1], device=x.device, requires_grad=True)
    b = torch.zeros((), device=x.device, requires_grad=True)
    optimizer = torch.optim.LBFGS([w, b], lr=1.0, max_iter=max_iter,
                                  line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        logits = x @ w + b
        loss = (weight * F.binary_cross_entropy_with_logits(logits, y, reduction="none")).sum()
        loss = loss + 0.5 * l2 * (w * w).sum()
        loss.backward()
        return loss

    with torch.enable_grad():
        optimizer.step(closure)
    with torch.no_grad():
        sizes = [len(f) for f in features]
        probs = torch.sigmoid(x @ w + b).cpu().numpy()
    bounds = np.cumsum([0] + sizes)
    return [probs[bounds[d]:bounds[d + 1]] for d in range(1, n_sets)]
