"""TAG's lookahead inter-task affinity (Fifty et al., NeurIPS 2021).

During ordinary joint training, every few steps and for every auxiliary m,
take a virtual SGD step of the shared encoder on m's loss alone and measure
how much it lowers the target's loss on the same batch::

    Z_m = 1 - L_T(theta_s - eta * grad L_m(theta_s)) / L_T(theta_s)

Positive Z means m's gradient helps the target.  The virtual step is done
with ``torch.func.functional_call`` so the real parameters never change.
"""

from __future__ import annotations

import torch
from torch.func import functional_call

from .heads import masked_loss, masked_losses
from .joint import no_dropout
from .training import JointStep

__all__ = ["LookaheadStep"]


class LookaheadStep(JointStep):
    """A :class:`~molselect.core.training.JointStep` that also logs TAG's lookahead affinity.

    Parameters
    ----------
    model : JointGIN
        Shared encoder + one head per dataset (target first).
    classification : list of BoolTensor
    optimizer : torch.optim.Optimizer
    lookahead_lr : float
        Step size eta of the virtual SGD step.
    every : int
        Compute the affinity every ``every`` training steps (it costs one
        forward/backward per auxiliary).

    Notes
    -----
    The step returns ``affinity`` (sum of Z over the lookahead steps of the
    epoch, one entry per auxiliary), ``measured`` (1 on lookahead steps where
    both the target and the auxiliary had labels, per auxiliary) and the
    usual losses.  The training loop averages them over the epoch; the ratio
    affinity / measured is the epoch's mean Z.
    """

    def __init__(self, model, classification, optimizer, lookahead_lr=0.1, every=10):
        super().__init__(model, classification, optimizer)
        self.lookahead_lr = lookahead_lr
        self.every = every
        self._count = 0

    def objective(self, batch, epoch=None):
        """The joint objective, after the lookahead affinity on every ``every``-th batch.

        As
        :meth:`JointStep.objective <molselect.core.training.JointStep.objective>`;
        the affinity is measured before the update, at the parameters the
        joint loss is taken at, and the logs add ``affinity`` and ``measured``
        (zeros between lookahead steps).
        """
        n_aux = len(batch.graph_counts) - 1
        if self._count % self.every == 0:
            z, measured = self.lookahead(batch)
        else:
            z = torch.zeros(n_aux, device=batch.x.device)
            measured = torch.zeros(n_aux, device=batch.x.device)
        self._count += 1
        loss, logs = super().objective(batch, epoch)
        logs.update(affinity=z, measured=measured)
        return loss, logs

    def lookahead(self, batch):
        """Z of every auxiliary on this batch; returns (z, measured) tensors of length M."""
        model = self.model
        n_aux = len(batch.graph_counts) - 1
        device = batch.x.device
        z = torch.zeros(n_aux, device=device)
        measured = torch.zeros(n_aux, device=device)
        if batch.graph_counts[0] == 0:
            return z, measured
        model.train()
        shared = model.encoder_parameters()
        names = list(shared)
        target_view = batch.select(0, 1)
        y_target = batch.y[0]
        c_target = self.classification[0]
        with no_dropout(model):
            losses, present = masked_losses(model(batch, update_running=False), batch.y,
                                            self.classification)
            with torch.no_grad():
                base, n_target = masked_loss(model(target_view, update_running=False)[0],
                                             y_target, c_target)
            if n_target == 0 or base <= 0:
                return z, measured
            for m in range(1, n_aux + 1):
                if not present[m]:
                    continue
                grads = torch.autograd.grad(losses[m], [shared[k] for k in names],
                                            retain_graph=m < n_aux, allow_unused=True)
                stepped = {k: (p - self.lookahead_lr * g if g is not None else p).detach()
                           for (k, p), g in zip(shared.items(), grads)}
                with torch.no_grad():
                    pred = functional_call(model, stepped, (target_view,),
                                           {"update_running": False})[0]
                    after, _ = masked_loss(pred, y_target, c_target)
                z[m - 1] = 1.0 - after / base
                measured[m - 1] = 1.0
        return z, measured
