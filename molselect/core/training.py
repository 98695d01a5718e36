"""The one training loop shared by every selector and estimator.

A *step* is any callable ``step(batch) -> dict`` that updates a model on one
:class:`~molselect.core.data.MixedBatch` and returns detached tensors to log.
:func:`train` draws balanced batches, runs the step, averages the logs per
epoch (on the device: one host sync per epoch, not per step), calls the
per-epoch callbacks (validation, best-epoch tracking: :class:`BestEpoch`) and
shows a tqdm bar.
"""

from __future__ import annotations

import contextlib
import random

import numpy as np
import torch
from tqdm.auto import tqdm

from .._progress import progress_disabled
from .heads import masked_losses, mean_over_labelled
from .sampler import BalancedSampler

__all__ = ["adam", "resolve_device", "seed_everything", "torch_threads", "train", "BestEpoch",
           "Callback", "EarlyStopping", "JointStep", "predict"]


def resolve_device(device="auto"):
    """``"auto"`` -> CUDA when available, else CPU; anything else goes to ``torch.device``.

    Errors (an unknown device string, a device that is not available) are
    ValueErrors that name the ``device`` parameter.
    """
    from .._checks import check_device

    return check_device(device)


def seed_everything(seed):
    """Seed torch, numpy and random from ``seed``; return a numpy Generator for sampling.

    Parameters
    ----------
    seed : int, numpy.random.SeedSequence or None
        An int ``s`` and ``SeedSequence(s)`` seed alike (the word that
        ``SeedSequence(s)`` generates); None draws fresh entropy.

    Returns
    -------
    numpy.random.Generator
    """
    if not isinstance(seed, np.random.SeedSequence):
        seed = np.random.SeedSequence(seed)
    seed = int(seed.generate_state(1)[0])
    torch.manual_seed(seed)
    random.seed(seed)
    return np.random.default_rng(seed)


@contextlib.contextmanager
def torch_threads(n):
    """Run the block with ``n`` torch threads (None: leave the setting alone).

    A reduction's result can change in its last bits with the number of
    threads, and joblib's worker processes start with fewer threads than the
    parent (loky gives each ``cores // n_jobs``), so a job that must give the
    same numbers in any process fixes its thread count with this.

    Parameters
    ----------
    n : int or None
    """
    if n is None:
        yield
        return
    saved = torch.get_num_threads()
    torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(saved)


@contextlib.contextmanager
def deterministic(device):
    """Use torch's deterministic kernels on the CPU for the duration of a fit.

    On two or more threads some CPU scatter kernels (``index_add``) reduce in
    a varying order; the deterministic ones make a seeded fit repeat exactly.
    On CUDA it is left alone: deterministic scatters there are much slower.
    """
    if torch.device(device).type != "cpu":
        yield
        return
    previous = torch.are_deterministic_algorithms_enabled()
    previous_warn = torch.is_deterministic_algorithms_warn_only_enabled()
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(previous, warn_only=previous_warn)


def adam(parameters, lr=1e-3):
    """Adam over ``parameters``, fused into one kernel where torch has one.

    The fused CPU and CUDA kernels update every tensor in one call; on a
    model of a hundred parameter tensors that is 2.5x cheaper on CPU than
    the default per-tensor loop, with the same update rule.

    Parameters
    ----------
    parameters : iterable of Tensor
    lr : float, default=1e-3

    Returns
    -------
    torch.optim.Adam
    """
    parameters = list(parameters)
    fused = bool(parameters) and all(
        p.device.type in ("cpu", "cuda") and p.is_floating_point() for p in parameters)
    return torch.optim.Adam(parameters, lr=lr, fused=fused or None)


def train(table, step, epochs, batch_size, rng, device, *, n_draws=None, callbacks=(),
          verbose=False, desc="train", start_epoch=0):
    """Run ``epochs`` epochs of balanced mixed batches through ``step``.

    Parameters
    ----------
    table : GraphTable
        The datasets (target first).
    step : callable
        ``step(batch, epoch) -> dict of str to Tensor``; every value is averaged
        over the epoch's steps (vector values element-wise).
    epochs : int
    batch_size : int
    rng : numpy.random.Generator
    device : torch.device
    n_draws : int, optional
        Draws per epoch (default: target size x number of datasets).
    callbacks : sequence of Callback, default=()
        Called in order at the end of every epoch (each sees the figures that
        the earlier ones added to the epoch's record, which is how a
        validation score reaches :class:`BestEpoch`), and once when training
        ends.  Training ends early after an epoch in which a callback set its
        ``stop_training``.
    verbose : bool
        Show a progress bar.
    desc : str
        Progress-bar label.
    start_epoch : int
        Number given to the first epoch (for logging only).

    Returns
    -------
    list of dict
        Per-epoch averages of the step's logs plus the callbacks' figures.
    """
    sampler = BalancedSampler(table.sizes, batch_size, rng, n_draws=n_draws)
    bar = tqdm(total=epochs * len(sampler), desc=desc, disable=progress_disabled(verbose),
               leave=False, dynamic_ncols=True)
    callbacks = list(callbacks)
    try:
        with deterministic(device):
            history = _run_epochs(table, step, sampler, epochs, device, callbacks, bar,
                                  start_epoch)
            for callback in callbacks:
                callback.on_train_end(history)
    finally:
        bar.close()
    return history


def _run_epochs(table, step, sampler, epochs, device, callbacks, bar, start_epoch):
    history = []
    for epoch in range(start_epoch, start_epoch + epochs):
        sums, counts = {}, {}
        for indices in sampler:
            batch = table.batch(indices).to(device)
            logs = step(batch, epoch)
            for key, value in logs.items():
                value = value.detach()
                if key in sums:
                    sums[key] = sums[key] + value
                    counts[key] += 1
                else:
                    sums[key], counts[key] = value.clone(), 1
            bar.update(1)
        record = {k: (v / counts[k]).cpu().numpy() for k, v in sums.items()}
        record = {k: (float(v) if v.ndim == 0 else v) for k, v in record.items()}
        record["epoch"] = epoch
        for callback in callbacks:
            record.update(callback.on_epoch_end(epoch, record) or {})
        history.append(record)
        bar.set_postfix({k: round(v, 4) for k, v in record.items()
                         if isinstance(v, float) and k != "epoch"})
        if any(callback.stop_training for callback in callbacks):
            break
    return history


class Callback:
    """What :func:`train` calls besides the step, in the shape of skorch's callbacks.

    Subclasses override the hooks they need; both do nothing here.  A callback
    that sets ``stop_training = True`` in :meth:`on_epoch_end` ends training
    after that epoch (skorch's ``EarlyStopping`` does the same by raising).
    """

    stop_training = False

    def on_epoch_end(self, epoch, logs):
        """Called after every epoch with its record (averaged step logs, ``epoch``).

        Parameters
        ----------
        epoch : int
        logs : dict
            The epoch's record so far, including earlier callbacks' figures.

        Returns
        -------
        dict or None
            Figures to add to the record.
        """
        return None

    def on_train_end(self, history):
        """Called once after the last epoch.

        Parameters
        ----------
        history : list of dict
            Every epoch's record.
        """


class BestEpoch(Callback):
    """Keep the weights of the best epoch(s) and load the best back when training ends.

    The in-memory counterpart of skorch's ``Checkpoint(monitor=...,
    load_best=True)``: after every epoch whose ``logs[monitor]`` ranks among
    the ``keep`` best so far, the model's state dict is copied to the CPU; at
    the end of training the best one is loaded back into the model.  Without
    any valid figure the model keeps its last weights.

    Parameters
    ----------
    model : torch.nn.Module
    monitor : str
        Key of the epoch record to watch, e.g. a validation metric that an
        earlier callback adds.
    is_better : callable
        ``is_better(new, best) -> bool``; ``best`` is None before the first
        improvement.
    keep : int, default=1
        How many of the best epochs' weights to keep (a checkpoint ensemble
        averages their predictions).  Ties go to the earlier epoch.

    Attributes
    ----------
    best_epoch : int or None
        Epoch (as numbered by :func:`train`) of the best figure so far.
    best_score : float or None
        That figure.
    best_state : dict of str to Tensor or None
        CPU copy of the model's state dict after that epoch.
    kept : list of (int, float, dict)
        ``(epoch, figure, state)`` of the ``keep`` best epochs, best first.
    """

    def __init__(self, model, monitor, is_better, keep=1):
        self.model = model
        self.monitor = monitor
        self.is_better = is_better
        self.keep = int(keep)
        self.kept = []

    @property
    def best_epoch(self):
        return self.kept[0][0] if self.kept else None

    @property
    def best_score(self):
        return self.kept[0][1] if self.kept else None

    @property
    def best_state(self):
        return self.kept[0][2] if self.kept else None

    def on_epoch_end(self, epoch, logs):
        """Copy the model's weights when ``logs[monitor]`` ranks among the ``keep`` best."""
        score = logs[self.monitor]
        # Position among the kept epochs: after every kept figure at least as good.
        rank = next((i for i, (_, kept, _) in enumerate(self.kept)
                     if self.is_better(score, kept)), len(self.kept))
        if rank == len(self.kept) and (len(self.kept) >= self.keep
                                       or not self.is_better(score, None)):
            return
        state = {k: v.detach().to("cpu", copy=True) for k, v in self.model.state_dict().items()}
        self.kept.insert(rank, (epoch, score, state))
        del self.kept[self.keep:]

    def on_train_end(self, history):
        """Load the best epoch's weights, if an epoch was ever the best."""
        if self.best_state is not None:
            self.model.load_state_dict(self.best_state)


class EarlyStopping(Callback):
    """Stop training when a figure has not improved for ``patience`` epochs.

    Parameters
    ----------
    monitor : str
        Key of the epoch record to watch.
    patience : int
        Epochs without improvement after which training stops.
    is_better : callable
        ``is_better(new, best) -> bool``; ``best`` is None before the first
        valid figure.

    Attributes
    ----------
    best_epoch : int or None
        The last epoch that improved the figure.
    stopped_epoch : int or None
        The epoch after which training stopped (None: it ran to the end).
    """

    def __init__(self, monitor, patience, is_better):
        self.monitor = monitor
        self.patience = int(patience)
        self.is_better = is_better
        self.best = self.best_epoch = self.stopped_epoch = None
        self._stale = 0

    def on_epoch_end(self, epoch, logs):
        """Note an improvement, or stop after ``patience`` epochs without one."""
        score = logs[self.monitor]
        if self.is_better(score, self.best):
            self.best, self.best_epoch, self._stale = score, epoch, 0
            return
        self._stale += 1
        if self._stale >= self.patience:
            self.stop_training, self.stopped_epoch = True, epoch


class JointStep:
    """Plain multi-dataset training: one shared encoder, one head per dataset.

    Calling the step on a batch puts the model in training mode, asks
    :meth:`objective` for the loss to minimise and the figures to log,
    back-propagates the loss and takes one optimiser step.  Here the loss is
    the unweighted mean of the masked losses of the datasets that have labels
    in the batch (the paper's "unweighted mean of the losses for all included
    tasks").  A subclass changes what is minimised by overriding
    :meth:`objective` alone: :class:`~molselect.core.gradnorm.GradNormStep`
    weighs the datasets' losses, :class:`~molselect.core.discriminator.DiscriminatorStep`
    adds a dataset discriminator's loss and
    :class:`~molselect.core.lookahead.LookaheadStep` measures TAG's lookahead
    affinity before the update.

    Parameters
    ----------
    model : torch.nn.Module
        ``model(batch) -> list of per-dataset predictions``.
    classification : list of BoolTensor
        Per dataset, which tasks are classification tasks.
    optimizer : torch.optim.Optimizer
        Optimiser of the model's parameters.
    """

    def __init__(self, model, classification, optimizer):
        self.model = model
        self.classification = classification
        self.optimizer = optimizer

    def losses(self, batch):
        """Masked loss of every dataset in ``batch`` and whether it had labels.

        Parameters
        ----------
        batch : MixedBatch

        Returns
        -------
        losses, present : Tensor of shape (n_datasets,)
            As :func:`~molselect.core.heads.masked_losses`.
        """
        return masked_losses(self.model(batch), batch.y, self.classification)

    def objective(self, batch, epoch=None):
        """The loss this step minimises on ``batch``, and what else to log.

        The hook that subclasses override.

        Parameters
        ----------
        batch : MixedBatch
        epoch : int, optional
            The epoch the batch belongs to.

        Returns
        -------
        loss : Tensor (scalar)
            Attached to the model's parameters.
        logs : dict of str to Tensor
            Figures to average over the epoch (``target_loss`` here).
        """
        losses, present = self.losses(batch)
        return mean_over_labelled(losses, present), {"target_loss": losses[0]}

    def __call__(self, batch, epoch=None):
        """Update the model on ``batch``; return ``loss`` and the :meth:`objective`'s logs."""
        self.model.train()
        loss, logs = self.objective(batch, epoch)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return {"loss": loss, **logs}


@torch.no_grad()
def predict(model, table, dataset=0, batch_size=512, device="cpu"):
    """Predictions of ``model`` for every molecule of one dataset of ``table``.

    Parameters
    ----------
    model : torch.nn.Module
        ``model(batch) -> list of per-dataset predictions`` (as for :class:`JointStep`).
    table : GraphTable
    dataset : int
        Which dataset of the table to predict.
    batch_size : int
    device : torch.device

    Returns
    -------
    Tensor of shape (n, n_tasks) on the CPU
        Raw outputs (logits for classification tasks).
    """
    model.eval()
    outputs = [model(batch)[dataset].float().cpu()
               for batch in table.dataset_batches(dataset, batch_size, device)]
    return torch.cat(outputs) if outputs else torch.zeros(0)
