"""TAG's lookahead inter-task affinity (Fifty et al., NeurIPS 2021).

During ordinary joint training, every few steps and for every auxiliary m,
take a virtual step of the shared encoder on m's loss alone and measure how
much it lowers the target's loss on the same batch::

    Z_m = 1 - L_T(theta_s') / L_T(theta_s),   theta_s' = theta_s + update(grad L_m(theta_s))

Positive Z means m's gradient helps the target.  The virtual step is done
with ``torch.func.functional_call`` so the real parameters never change.

``update`` is the step the training optimiser would take for that gradient
(:func:`optimizer_update`), as in the authors' code (google-research
``tag/``): its CelebA notebook applies Keras SGD-momentum's own update from
the optimiser's momentum slot (plain SGD on the first step), and its
Taskonomy patch recomputes "SGD w/ 0.9 momentum + 1e-4 weight decay" from the
optimiser's hyper-parameters.  Under Adam, the optimiser of every molselect
training, a plain SGD step ``-lr * grad`` is orders of magnitude smaller than
the real steps (Adam moves every coordinate by about ``lr``), so Z would be
of order 1e-4 and dominated by noise.  The authors' code also divides Z by
the learning rate; molselect does not, which rescales every Z alike and
leaves their order and sign (TAG's threshold 0) unchanged.
"""

from __future__ import annotations

import torch
from torch.func import functional_call

from .heads import masked_loss, masked_losses
from .joint import no_dropout
from .training import JointStep

__all__ = ["LookaheadStep", "optimizer_update"]


def optimizer_update(optimizer, params, grads):
    """The change ``optimizer.step()`` would make to ``params`` for gradients ``grads``.

    Computed from the optimiser's current state (Adam's moments and step
    count, SGD's momentum buffers) and hyper-parameters, as if ``grads``
    were the parameters' ``.grad`` at the next step; neither the optimiser's
    state nor the parameters change.

    Parameters
    ----------
    optimizer : torch.optim.Adam, torch.optim.AdamW or torch.optim.SGD
        Adam and AdamW with or without weight decay, ``amsgrad`` and
        ``maximize``; SGD with or without momentum, dampening, Nesterov and
        weight decay.
    params : list of Tensor
        Parameters the optimiser updates.
    grads : list of Tensor or None
        One gradient per parameter; None leaves it alone (as ``step`` skips
        a parameter without ``.grad``).

    Returns
    -------
    list of Tensor or None
        The update to add to each parameter (None where the gradient is None).

    Raises
    ------
    TypeError
        For another optimiser, or a parameter it does not hold.
    """
    groups = {id(p): g for g in optimizer.param_groups for p in g["params"]}
    out = []
    with torch.no_grad():
        for p, g in zip(params, grads):
            if g is None:
                out.append(None)
                continue
            group = groups.get(id(p))
            if group is None:
                raise TypeError("optimizer_update: a parameter is not in the optimiser")
            state = optimizer.state.get(p, {})
            if isinstance(optimizer, torch.optim.Adam):
                out.append(_adam_update(p, g, group, state,
                                        isinstance(optimizer, torch.optim.AdamW)))
            elif isinstance(optimizer, torch.optim.SGD):
                out.append(_sgd_update(p, g, group, state))
            else:
                raise TypeError(
                    f"optimizer_update supports Adam, AdamW and SGD, not "
                    f"{type(optimizer).__name__}; use a plain SGD lookahead (a lookahead_lr)")
    return out


def _adam_update(p, g, group, state, adamw):
    lr, (beta1, beta2), eps = float(group["lr"]), group["betas"], group["eps"]
    weight_decay = group["weight_decay"]
    decoupled = adamw or group.get("decoupled_weight_decay", False)
    g = -g if group.get("maximize", False) else g
    if weight_decay and not decoupled:
        g = g + weight_decay * p
    step = float(state["step"]) + 1 if "step" in state else 1.0
    m = beta1 * state["exp_avg"] + (1 - beta1) * g if "exp_avg" in state else (1 - beta1) * g
    v = (beta2 * state["exp_avg_sq"] + (1 - beta2) * g * g if "exp_avg_sq" in state
         else (1 - beta2) * g * g)
    if group.get("amsgrad", False) and "max_exp_avg_sq" in state:
        v = torch.maximum(state["max_exp_avg_sq"], v)
    denom = v.sqrt() / (1 - beta2 ** step) ** 0.5 + eps
    update = -(lr / (1 - beta1 ** step)) * m / denom
    if weight_decay and decoupled:
        update = update - lr * weight_decay * p
    return update


def _sgd_update(p, g, group, state):
    lr, momentum = float(group["lr"]), group["momentum"]
    g = -g if group.get("maximize", False) else g
    if group["weight_decay"]:
        g = g + group["weight_decay"] * p
    if momentum:
        buf = state.get("momentum_buffer")
        buf = g if buf is None else momentum * buf + (1 - group["dampening"]) * g
        g = g + momentum * buf if group["nesterov"] else buf
    return -lr * g


class LookaheadStep(JointStep):
    """A :class:`~molselect.core.training.JointStep` that also logs TAG's lookahead affinity.

    Parameters
    ----------
    model : MultiDatasetNetwork
        Shared encoder + one head per dataset (target first).
    classification : list of BoolTensor
    optimizer : torch.optim.Optimizer
        The training optimiser (Adam, AdamW or SGD when ``lookahead_lr`` is None).
    lookahead_lr : float or None, default=None
        None: the virtual step is the update ``optimizer`` would make for
        the auxiliary's gradient, from its current state
        (:func:`optimizer_update`; Adam's bias-corrected
        ``m_hat / (sqrt(v_hat) + eps)`` step), as in TAG's code.  A float:
        a plain SGD step of that size, ``-lookahead_lr * grad`` (molselect's
        lookahead before it followed the optimiser).
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

    def __init__(self, model, classification, optimizer, lookahead_lr=None, every=10):
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
        target_view = batch.graph_view(0, 1)
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
                if self.lookahead_lr is None:
                    updates = optimizer_update(self.optimizer, list(shared.values()), grads)
                else:
                    updates = [None if g is None else -self.lookahead_lr * g for g in grads]
                stepped = {k: (p + u if u is not None else p).detach()
                           for (k, p), u in zip(shared.items(), updates)}
                with torch.no_grad():
                    pred = functional_call(model, stepped, (target_view,),
                                           {"update_running": False})[0]
                    after, _ = masked_loss(pred, y_target, c_target)
                z[m - 1] = 1.0 - after / base
                measured[m - 1] = 1.0
        return z, measured
