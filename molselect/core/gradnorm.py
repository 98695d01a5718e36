"""GradNorm loss weighting (Chen et al., ICML 2018) as a training step.

The paper's GradNorm baseline trains on all datasets together and "updates
the weights of the loss based on the gradients of the last shared GNN
layer".  Each member ``i`` (target and auxiliaries) has a learnable weight
``w_i``; at every step

* ``G_i = || d(w_i L_i) / dW ||`` for the last shared layer's weight ``W``,
* ``r_i = (L_i / L_i(0)) / mean_j (L_j / L_j(0))`` is member i's relative
  inverse training rate,
* the weights follow the gradient of ``sum_i |G_i - mean(G) r_i^alpha|``
  (the target term held constant), while the network follows
  ``sum_i w_i L_i`` (weights held constant),
* the weights are then renormalised to sum to the number of members.

``G_i = w_i ||dL_i/dW||`` exactly, so the norms are taken once, detached,
and the weights' gradient is formed from them without a second-order graph.
"""

from __future__ import annotations

import torch

from .training import JointStep

__all__ = ["GradNormStep"]

#: Asymmetry of Chen et al. (the value they recommend for mixed tasks).
ALPHA = 1.5
#: Adam step size of the loss weights; much larger than the network's,
#: as in the reference implementations, so the weights move within a few epochs.
WEIGHT_LR = 0.025


class GradNormStep(JointStep):
    """A :class:`~molselect.core.training.JointStep` whose member losses GradNorm weighs.

    Its :meth:`objective` first moves the loss weights (their own Adam step)
    and then returns the weighted mean of the members' losses.

    Parameters
    ----------
    model, classification, optimizer
        As :class:`~molselect.core.training.JointStep` (the datasets are the
        members, target first).
    shared_parameter : torch.nn.Parameter
        Weight of the last layer shared by all members (its gradient norms
        drive the balancing).
    alpha : float, default=1.5
        Asymmetry: how strongly a member that trains slower than the others
        is pushed up.
    weight_lr : float, default=0.025
        Adam step size of the loss weights.

    Attributes
    ----------
    weights : torch.nn.Parameter of shape (n_members,)
        Current loss weights: positive, summing to ``n_members``.
    initial_losses : Tensor of shape (n_members,)
        ``L_i(0)``: each member's loss the first time it had labels in a batch.
    """

    def __init__(self, model, classification, optimizer, shared_parameter, alpha=ALPHA,
                 weight_lr=WEIGHT_LR):
        super().__init__(model, classification, optimizer)
        n = len(classification)
        device = shared_parameter.device
        self.shared_parameter = shared_parameter
        self.alpha = float(alpha)
        self.weights = torch.nn.Parameter(torch.ones(n, device=device))
        self.weight_optimizer = torch.optim.Adam([self.weights], lr=weight_lr)
        self.initial_losses = torch.full((n,), float("nan"), device=device)

    def objective(self, batch, epoch=None):
        """Update the loss weights on ``batch``, then return the weighted mean loss.

        As
        :meth:`JointStep.objective <molselect.core.training.JointStep.objective>`;
        the loss is ``sum_i w_i L_i`` over the members with labels divided by
        their number, and the logs add the ``weights`` used.
        """
        losses, present = self.losses(batch)
        n_present = present.sum().clamp_min(1)
        with torch.no_grad():
            fresh = present & torch.isnan(self.initial_losses)
            self.initial_losses = torch.where(fresh, losses.detach().clamp_min(1e-12),
                                              self.initial_losses)
        # one partial backward per member, down to the shared layer only
        norms = []
        for loss, has_labels in zip(losses, present.tolist()):
            grad = None
            if has_labels:
                grad, = torch.autograd.grad(loss, self.shared_parameter, retain_graph=True,
                                            allow_unused=True)
            norms.append(loss.new_zeros(()) if grad is None else torch.linalg.vector_norm(grad))
        norms = torch.stack(norms).detach()
        self._update_weights(losses.detach(), norms, present)

        w = self.weights.detach()
        loss = (w * losses * present).sum() / n_present
        return loss, {"target_loss": losses[0], "weights": w.clone()}

    def _update_weights(self, losses, norms, present):
        if int(present.sum()) < 2:
            return  # balancing needs at least two members in the batch
        w = self.weights
        grad_norms = w.detach() * norms
        ratio = torch.where(present, losses / self.initial_losses, torch.zeros_like(losses))
        mean_ratio = ratio[present].mean().clamp_min(1e-12)
        mean_norm = grad_norms[present].mean()
        target = mean_norm * (ratio / mean_ratio) ** self.alpha
        # d/dw_i |w_i g_i - t_i| = sign(w_i g_i - t_i) g_i
        grad = torch.where(present, torch.sign(grad_norms - target) * norms,
                           torch.zeros_like(norms))
        self.weight_optimizer.zero_grad(set_to_none=True)
        w.grad = grad
        self.weight_optimizer.step()
        with torch.no_grad():
            w.clamp_(min=1e-4)
            w.mul_(len(w) / w.sum())
