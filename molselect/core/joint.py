"""A shared GIN with one decoder per dataset, and what the baseline selectors do with it.

:class:`JointGIN` is the plain multi-dataset model of the paper's baselines
(beam search, TAG, Task2vec's probe, MTDNN, unweighted average): one encoder
shared by every dataset, one linear head per dataset.  Batch-norm statistics
are computed per dataset in a mixed batch (as if each dataset had run alone),
so a dataset's loss depends only on its own graphs and a target-only forward
pass normalises exactly as in the mixed one; the running statistics follow
the target only.

:func:`train_and_evaluate` is one beam-search candidate: a short joint
training, then the target's validation loss.  It is a module-level function
of picklable arguments so joblib can ship it to worker processes or to a
dask / ray cluster.
"""

from __future__ import annotations

import contextlib

from torch import nn

from .gin import GINEncoder
from .heads import MultiHead, masked_loss
from .prepare import build_table
from .training import JointStep, adam, predict, resolve_device, seed_everything, train

__all__ = ["JointGIN", "no_dropout", "train_and_evaluate", "validation_loss"]


class JointGIN(nn.Module):
    """GIN encoder shared by all datasets plus one linear head per dataset.

    Parameters
    ----------
    n_tasks : list of int
        Number of tasks of each dataset, target first.
    hidden_dim, num_layers, dropout
        As :class:`~molselect.core.gin.GINEncoder`.
    """

    def __init__(self, n_tasks, hidden_dim=300, num_layers=5, dropout=0.5):
        super().__init__()
        self.encoder = GINEncoder(hidden_dim, num_layers, dropout)
        self.heads = MultiHead(hidden_dim, n_tasks)

    def embed(self, batch, update_running=True):
        """Graph embeddings of a mixed batch (or a view of it), per-dataset batch norm."""
        n_segments = len(batch.graph_counts)
        segment = batch.node_dataset if n_segments > 1 else None
        return self.encoder(batch, segment, n_segments, update_running)

    def forward(self, batch, update_running=True, first=0):
        """Per-dataset predictions: a list with one (n_d, n_tasks_d) tensor per dataset.

        ``first`` is the dataset id of the batch's first block (for views that
        start after the target).
        """
        return self.heads(self.embed(batch, update_running), batch.graph_counts, first=first)

    def encoder_parameters(self):
        """Named parameters of the shared encoder (prefixed as in ``named_parameters``)."""
        return {f"encoder.{k}": v for k, v in self.encoder.named_parameters()}


@contextlib.contextmanager
def no_dropout(model):
    """Switch the GIN's dropout off while keeping training-mode batch norm.

    Lookahead and Fisher computations compare losses of the same batch
    before and after a virtual step; different dropout masks on either side
    would drown the difference being measured.
    """
    encoders = [m for m in model.modules() if isinstance(m, GINEncoder)]
    saved = [e.dropout for e in encoders]
    for e in encoders:
        e.dropout = 0.0
    try:
        yield model
    finally:
        for e, p in zip(encoders, saved):
            e.dropout = p


def validation_loss(model, table, classification, batch_size=512, device="cpu"):
    """The target head's masked loss over dataset 0 of ``table`` (a validation table)."""
    pred = predict(model, table, 0, batch_size=batch_size, device=device)
    loss, _ = masked_loss(pred, table.labels[0], classification.cpu())
    return float(loss)


def train_and_evaluate(datasets, valid, *, epochs, hidden_dim, num_layers, dropout, batch_size,
                       lr, seed, device="cpu", n_draws=None):
    """Train a :class:`JointGIN` on ``datasets`` (target first), return the target's validation loss.

    Parameters
    ----------
    datasets : list of dataset-like
        Target first, then the auxiliaries of one combination.
    valid : dataset-like
        The target's validation data (labels scaled with the target's scaler).
    epochs, hidden_dim, num_layers, dropout, batch_size, lr
        Model and training settings.
    seed : int
        Seed of the initialisation and sampling (the same for every combination,
        so combinations differ only by their data).
    device : str or torch.device
    n_draws : int, optional
        Draws per epoch (default: target size x number of datasets).

    Returns
    -------
    float
        Masked validation loss (BCE / MSE on standardised labels) of the target head.
    """
    device = resolve_device(device)
    table, classification, scalers = build_table(list(datasets))
    valid_table, _, _ = build_table([valid], scalers=scalers[:1])
    rng = seed_everything(seed)
    model = JointGIN([d.n_tasks for d in datasets], hidden_dim, num_layers, dropout).to(device)
    step = JointStep(model, [c.to(device) for c in classification],
                     adam(model.parameters(), lr))
    train(table, step, epochs, batch_size, rng, device, n_draws=n_draws, verbose=False)
    return validation_loss(model, valid_table, classification[0], device=device)
