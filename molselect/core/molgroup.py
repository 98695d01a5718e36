"""MolGroup's bi-level training step (paper eq. 6-9; algorithm 1's "training step").

Eq. 9's inner arg-min is approximated by one virtual SGD step, algorithm 1's
step 1).  The filtering round around the step (a freshly initialised model
trained for some epochs, the gate averaged over the last epoch, the
candidates below the threshold removed: algorithm 1's outer loops) is not
here but in :class:`~molselect.MolGroupSelector`.

Names: ``meta_gradient`` (one of ``META_GRADIENTS``) says *how* the gate's
meta-gradient is computed; :meth:`MolGroupStep.gate_gradient` computes it for
one batch without updating anything, and
:meth:`MolGroupStep.gate_gradient_through` from the gradients that a step has
already taken.

Per step, on one mixed batch:

1. gate values a_m from g(.) and the losses of every dataset with the routed encoder;
2. ``g = grad_theta_T(mean auxiliary loss)``, kept differentiable with respect
   to the gate (``create_graph=True``): the virtual step is
   ``theta_T' = theta_T - meta_lr * g``;
3. the meta-gradient of the target loss at ``theta_T'`` for the gate
   parameters only, scaled by ``meta_scale`` as in the reference code:

   - ``"exact"``: a virtual forward of the target's graphs at ``theta_T'``
     through :func:`torch.func.functional_call` (batch-norm running
     statistics left alone), differentiated through ``g``;
   - ``"linearized"``: ``-meta_lr * J_g^T grad L_T(theta_T)``, the gradient of
     the loss's first-order expansion in the virtual step.  It reuses the
     target gradient of step 4, so no second forward pass is needed; the two
     differ by a term of order ``meta_lr``;

4. the ordinary update of every other parameter with the unweighted mean of
   all datasets' losses.

The gradients of step 2 are reused for the ordinary update of step 4, and the
target's part of the graph is kept apart from the auxiliaries', so the
linearized step costs one forward pass, and three backward passes over the
auxiliaries' part and one over the target's.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.func import functional_call

from .gate import Gate
from .heads import MultiHead, masked_loss, masked_losses, mean_over_labelled
from .routed import RoutedGIN
from .training import adam

__all__ = ["META_GRADIENTS", "MolGroupModel", "MolGroupStep"]

#: The ways :class:`MolGroupStep` can compute the gate's meta-gradient.
META_GRADIENTS = ("exact", "linearized")


class MolGroupModel(nn.Module):
    """Routed encoder, per-dataset heads and the gate.

    Parameters
    ----------
    n_tasks : list of int
        Tasks per dataset, target first (so M = len(n_tasks) - 1).
    hidden_dim, num_layers, dropout
        Encoder size (paper: 300, 5, 0.5).
    fingerprint_dim, embedding_dim, balance, temperature
        Gate settings (see :class:`~molselect.core.gate.Gate`).
    gate_direction : {"paper", "reference"}, default="paper"
        The gate's ``direction``: which path its sigmoid weights.
    structure : {"shared", "per_dataset"}, default="shared"
        The gate's structure branch.
    feature_set : {"full", "simple"}, default="full"
        Input features of every encoder copy
        (:func:`~molselect.core.gin.feature_dims`).
    """

    def __init__(self, n_tasks, hidden_dim=300, num_layers=5, dropout=0.5, fingerprint_dim=167,
                 embedding_dim=16, balance=0.9, temperature=0.1, gate_direction="paper",
                 structure="shared", feature_set="full"):
        super().__init__()
        n_aux = len(n_tasks) - 1
        self.routed = RoutedGIN(n_aux, hidden_dim, num_layers, dropout, feature_set)
        self.heads = MultiHead(hidden_dim, n_tasks)
        self.gate = Gate(n_aux, fingerprint_dim, embedding_dim, balance, temperature,
                         direction=gate_direction, structure=structure)

    def gate_parameters(self):
        """Parameters of g(.), updated by the meta-gradient only."""
        return list(self.gate.parameters())

    def model_parameters(self):
        """Every other parameter (encoders and heads)."""
        return list(self.routed.parameters()) + list(self.heads.parameters())


@dataclass
class _StepState:
    """What one forward pass of a step leaves for the meta and ordinary updates."""

    gate: torch.Tensor
    task_affinity: torch.Tensor
    structure_affinity: torch.Tensor
    target_loss: torch.Tensor
    target_present: torch.Tensor
    aux_mean: torch.Tensor
    n_present: torch.Tensor
    aux_grads: tuple
    target_grads: tuple


class MolGroupStep:
    """One bi-level MolGroup update (a step for :func:`~molselect.core.training.train`).

    Parameters
    ----------
    model : MolGroupModel
    classification : list of BoolTensor
        Per dataset, which tasks are classification tasks.
    lr : float
        Adam learning rate of the model and of the gate.
    meta_lr : float, optional
        Step size of the virtual SGD step (default: ``lr``, as the reference).
    meta_scale : float
        Factor on the meta-gradient (1e3 in the reference code).
    warmup_epochs : int
        Epochs trained without the gate and meta-gradient, each dataset on
        its own parameters (the reference's warm-up).
    meta_gradient : {"exact", "linearized"}
        ``"exact"`` evaluates the target loss at ``theta_T'`` with a second
        (virtual) forward pass, as the paper and the reference code do.
        ``"linearized"`` replaces that loss by its first-order expansion in
        the virtual step, ``L_T(theta_T) - meta_lr * grad L_T(theta_T) . g``,
        whose gradient for the gate reuses the target gradient the ordinary
        update computes anyway: no virtual forward, and an error of order
        ``meta_lr`` in the meta-gradient.

    Notes
    -----
    Unlike the :class:`~molselect.core.training.JointStep` family, whose
    subclasses only change the loss that is back-propagated, this step sets
    the model's gradients itself: the ordinary update reuses the gradients
    taken for the meta-gradient instead of a second backward pass.
    """

    def __init__(self, model, classification, lr=1e-3, meta_lr=None, meta_scale=1e3,
                 warmup_epochs=1, meta_gradient="exact"):
        if meta_gradient not in META_GRADIENTS:
            raise ValueError(
                f"meta_gradient must be one of {META_GRADIENTS}, got {meta_gradient!r}")
        self.meta_gradient = meta_gradient
        self.model = model
        self.classification = classification
        self.meta_lr = lr if meta_lr is None else meta_lr
        self.meta_scale = meta_scale
        self.warmup_epochs = warmup_epochs
        self.optimizer = adam(model.model_parameters(), lr)
        self.gate_optimizer = adam(model.gate_parameters(), lr)
        self._target_names = [n for n, _ in model.routed.target.named_parameters()]
        self._target_params = [p for _, p in model.routed.target.named_parameters()]
        target_ids = {id(p) for p in self._target_params}
        self._other_params = [p for p in model.model_parameters() if id(p) not in target_ids]

    def _forward_and_gradients(self, batch, meta):
        """Losses of one batch and their first-order gradients (shared by both updates)."""
        model = self.model
        gate, task_aff, struct_aff = model.gate(batch.fingerprints, batch.graph_dataset,
                                                batch.graph_counts)
        emb_t, emb_a = model.routed(batch, gate if meta else None)
        target_loss, target_present = masked_losses(
            model.heads(emb_t, batch.graph_counts[:1]), batch.y[:1], self.classification)
        aux_losses, aux_present = masked_losses(
            model.heads(emb_a, batch.graph_counts[1:], first=1), batch.y[1:],
            self.classification, first=1)
        n_present = aux_present.sum()
        aux_mean = mean_over_labelled(aux_losses, aux_present)
        params = self._target_params + self._other_params
        # create_graph keeps grad_theta_T(aux) differentiable for the meta-gradient.
        aux_grads = torch.autograd.grad(aux_mean, params, create_graph=meta, allow_unused=True)
        target_grads = torch.autograd.grad(target_loss[0], params, allow_unused=True)
        return _StepState(gate, task_aff, struct_aff, target_loss[0], target_present[0],
                          aux_mean, n_present, aux_grads, target_grads)

    def gate_gradient(self, batch):
        """The gate's meta-gradient on ``batch``, without updating anything.

        Parameters
        ----------
        batch : MixedBatch

        Returns
        -------
        list of Tensor or None
            One per gate parameter (unscaled); all None when the batch holds
            no labelled target or no labelled auxiliary graph.
        """
        self.model.train()
        grads = self._gate_gradient_from(batch, self._forward_and_gradients(batch, meta=True))
        return [None] * len(self.model.gate_parameters()) if grads is None else grads

    def _gate_gradient_from(self, batch, state):
        """The meta-gradient from a step's state; None when the batch cannot give one."""
        if not (bool(state.target_present) and bool(state.n_present > 0)):
            return None
        n_target = len(self._target_params)
        return self.gate_gradient_through(batch, state.aux_grads[:n_target],
                                          state.target_grads[:n_target])

    def __call__(self, batch, epoch=0):
        self.model.train()
        meta = epoch >= self.warmup_epochs
        state = self._forward_and_gradients(batch, meta)
        if meta:
            self._update_gate(self._gate_gradient_from(batch, state))
        target_loss, target_present = state.target_loss, state.target_present
        n_present, aux_mean = state.n_present, state.aux_mean
        aux_grads, target_grads = state.aux_grads, state.target_grads
        # Ordinary update: gradient of mean(all losses) = (target + n_present * aux_mean) / n_total.
        n_total = n_present + target_present
        scale_aux = (n_present / n_total.clamp_min(1)).detach()
        scale_target = (target_present / n_total.clamp_min(1)).detach()
        for p, ga, gt in zip(self._target_params + self._other_params, aux_grads, target_grads):
            grad = None
            if ga is not None:
                grad = ga.detach() * scale_aux
            if gt is not None:
                grad = gt * scale_target if grad is None else grad + gt * scale_target
            p.grad = grad
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        loss = (target_loss * target_present + aux_mean * n_present) / n_total.clamp_min(1)
        # Affinities are averaged only over the steps in which an auxiliary had graphs.
        present = torch.tensor([float(c > 0) for c in batch.graph_counts[1:]],
                               device=state.gate.device)
        return {
            "loss": loss.detach(), "target_loss": target_loss.detach(), "present": present,
            "gate": state.gate.detach() * present,
            "task_affinity": state.task_affinity.detach() * present,
            "structure_affinity": state.structure_affinity.detach() * present,
        }

    def virtual_target_loss(self, batch, virtual_step):
        """Target loss at ``theta_T - meta_lr * virtual_step`` (no running-stat updates)."""
        virtual = {name: p if g is None else p - self.meta_lr * g
                   for name, p, g in zip(self._target_names, self._target_params, virtual_step)}
        emb = functional_call(self.model.routed.target, virtual, (batch.graph_view(0, 1),),
                              {"update_running": False})
        pred = self.model.heads.heads[0](emb)
        loss, _ = masked_loss(pred, batch.y[0], self.classification[0])
        return loss

    def gate_gradient_through(self, batch, virtual_step, target_grads=None):
        """Gradient of the virtual-step target loss with respect to the gate parameters.

        Parameters
        ----------
        batch : MixedBatch
        virtual_step : list of Tensor
            ``grad_theta_T`` of the mean auxiliary loss (the direction of the
            virtual step), built with ``create_graph=True`` so it still depends
            on the gate.
        target_grads : list of Tensor, optional
            ``grad_theta_T`` of the target loss at ``theta_T``; required by
            ``meta_gradient="linearized"``, ignored by ``"exact"``.

        Returns
        -------
        list of Tensor or None
            One per gate parameter (unscaled).
        """
        gate_params = self.model.gate_parameters()
        if self.meta_gradient == "exact":
            meta_loss = self.virtual_target_loss(batch, virtual_step)
            return torch.autograd.grad(meta_loss, gate_params, allow_unused=True)
        # d/dphi [L_T(theta) - meta_lr * <grad L_T(theta), g(phi)>] = -meta_lr * J_g(phi)^T grad L_T
        pairs = [(g, -self.meta_lr * v) for g, v in zip(virtual_step, target_grads)
                 if g is not None and v is not None and g.requires_grad]
        if not pairs:
            return [None] * len(gate_params)
        outputs, cotangents = zip(*pairs)
        return torch.autograd.grad(outputs, gate_params, cotangents, allow_unused=True)

    def _update_gate(self, grads):
        if grads is None:
            return
        gate_params = self.model.gate_parameters()
        for p, g in zip(gate_params, grads):
            p.grad = None if g is None else g * self.meta_scale
        self.gate_optimizer.step()
        self.gate_optimizer.zero_grad(set_to_none=True)
