"""What the baseline selectors do with a multi-dataset GIN.

The baselines (beam search, TAG, Task2vec's probe, MTDNN, unweighted
average) train a :class:`~molselect.core.network.MultiDatasetNetwork` with a
GIN encoder (:func:`joint_gin`): one encoder shared by every dataset, one
linear head per dataset, batch-norm statistics computed per dataset in a
mixed batch and running statistics that follow the target only.

:func:`train_and_evaluate` is one beam-search candidate: a short joint
training, then the target's validation loss.  It is a module-level function
of picklable arguments so joblib can ship it to worker processes or to a
dask / ray cluster.
"""

from __future__ import annotations

import contextlib

from .gin import GINEncoder
from .heads import masked_loss
from .network import MultiDatasetNetwork
from .prepare import build_table
from .training import JointStep, adam, predict, resolve_device, seed_everything, train

__all__ = ["joint_gin", "no_dropout", "train_and_evaluate", "validation_loss"]


def joint_gin(n_tasks, hidden_dim=300, num_layers=5, dropout=0.5, network=MultiDatasetNetwork):
    """The baselines' network: a GIN encoder shared by all datasets, one head per dataset.

    Parameters
    ----------
    n_tasks : list of int
        Number of tasks of each dataset, target first.
    hidden_dim, num_layers, dropout
        As :class:`~molselect.core.gin.GINEncoder`.
    network : type, default=MultiDatasetNetwork
        The network class, built as ``network(encoder, n_tasks)`` (MTDNN's
        :class:`~molselect.core.discriminator.DiscriminatorNetwork` adds a
        discriminator head).

    Returns
    -------
    MultiDatasetNetwork
    """
    return network(GINEncoder(hidden_dim, num_layers, dropout), n_tasks)


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
    """Train a :func:`joint_gin` on ``datasets`` (target first); return the target's validation loss.

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
    model = joint_gin([d.n_tasks for d in datasets], hidden_dim, num_layers, dropout).to(device)
    step = JointStep(model, [c.to(device) for c in classification],
                     adam(model.parameters(), lr))
    train(table, step, epochs, batch_size, rng, device, n_draws=n_draws, verbose=False)
    return validation_loss(model, valid_table, classification[0], device=device)
