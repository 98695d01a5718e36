"""Task2vec embeddings (Achille et al., ICCV 2019) of molecule datasets with a GIN probe.

The embedding of a dataset is the diagonal of the Fisher information of the
probe's encoder parameters under that dataset, estimated by Monte Carlo:
labels are sampled from the model's own predictive distribution (Bernoulli
for classification tasks, unit-variance Gaussian around the prediction for
regression tasks, only where the dataset has a label), the loss is
back-propagated, and squared gradients are averaged over batches (the
official implementation's "montecarlo" method).  The diagonal is then
averaged per output unit ("filter") of each layer.

Batch norm runs in one mode in both steps, the decoder fit
(:func:`train_heads`) and the Fisher pass (:func:`fisher_embedding`): every
batch norm normalises a dataset with that dataset's own statistics, estimated
over the whole dataset with the trained probe and then frozen
(:func:`dataset_statistics`).  Why:

* Per-batch statistics (train mode) make a molecule's features depend on the
  molecules it happens to share a batch with, so the decoders would be
  fitted on features that the Fisher pass never reproduces, and the Fisher
  information of a per-molecule predictive distribution p(y | x) is not even
  defined for such a network.
* The running statistics (plain eval mode) follow the target only
  (:class:`~molselect.core.network.MultiDatasetNetwork` updates them with
  the target segment), so they would normalise every auxiliary with the
  target's statistics, something the probe never saw in training, where each
  dataset is normalised with its own.

Frozen per-dataset statistics keep the training-time normalisation (each
dataset with its own mean and variance), are deterministic per molecule, and
run without dropout (eval mode), so both steps see exactly the same features.
"""

from __future__ import annotations

import contextlib

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

from .gin import FeatureEmbedding
from .heads import masked_loss
from .joint import no_dropout

__all__ = ["dataset_statistics", "fisher_embedding", "filter_average", "task2vec_distance",
           "train_heads"]

#: Molecules per forward pass when estimating a dataset's batch-norm statistics.
#: Fixed (not the caller's batch size) so that the estimate, which averages
#: per-chunk statistics, is the same in every step that uses it; large, so that
#: it is close to whole-dataset statistics (exact below this size).
STATISTICS_CHUNK = 1024


@contextlib.contextmanager
def dataset_statistics(model, table, dataset, device, chunk=STATISTICS_CHUNK):
    """Put ``model`` in eval mode with every batch norm at one dataset's own statistics.

    The statistics are estimated by one pass over the whole dataset in
    training mode (each batch norm normalising with the chunk's statistics,
    as in training, without dropout), in chunks of ``chunk`` molecules, and
    the per-chunk means and variances are averaged weighted by their number
    of rows.  On exit the model's own running statistics and training mode
    are restored.

    Parameters
    ----------
    model : MultiDatasetNetwork
    table : GraphTable
    dataset : int
        Which dataset of the table supplies the statistics.
    device : torch.device
    chunk : int, default=STATISTICS_CHUNK
        Molecules per forward pass.

    Yields
    ------
    MultiDatasetNetwork
        The model, in eval mode: a molecule's features then depend only on the
        molecule and on ``dataset``'s statistics, not on its batch-mates.
    """
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm1d)]
    saved = [(m.running_mean.clone(), m.running_var.clone(), m.momentum) for m in norms]
    was_training = model.training
    try:
        model.train()
        seen = 0
        with no_dropout(model), torch.no_grad():
            for batch in table.dataset_batches(dataset, chunk, device):
                rows = batch.x.shape[0]       # every batch norm of the GIN normalises nodes
                if rows < 2:
                    continue                  # one row has no variance (training_batch_norm)
                seen += rows
                # A cumulative average weighted by rows: this batch's momentum
                # is its share of the rows seen so far (1 for the first batch).
                for m in norms:
                    m.momentum = rows / seen
                # One segment (the batch holds this dataset only), so the
                # running statistics follow this dataset.
                model.encoder(batch)
        for m, (_, _, momentum) in zip(norms, saved):
            m.momentum = momentum
        model.eval()
        yield model
    finally:
        for m, (mean, var, momentum) in zip(norms, saved):
            m.running_mean.copy_(mean)
            m.running_var.copy_(var)
            m.momentum = momentum
        model.train(was_training)


def train_heads(model, table, classification, epochs, batch_size, lr, rng, device):
    """Fit every dataset's linear head on frozen encoder embeddings (Task2vec's probe step).

    The encoder is fixed (eval mode, each dataset at its own frozen batch-norm
    statistics as in :func:`fisher_embedding`, see :func:`dataset_statistics`),
    so the embeddings are computed once and the heads are trained by plain
    mini-batch Adam on them.  Every head restarts from zero: the fit of a
    (convex) linear decoder then depends on the dataset only, not on a random
    initialisation, so two datasets with the same molecules and labels get
    the same decoder and the same Fisher.
    """
    for head in model.heads.heads:
        torch.nn.init.zeros_(head.weight)
        torch.nn.init.zeros_(head.bias)
    embeddings = []
    for d in range(table.n_datasets):
        with dataset_statistics(model, table, d, device), torch.no_grad():
            embeddings.append(torch.cat([model.embed(b)
                                         for b in table.dataset_batches(d, batch_size, device)]))
    for d, head in enumerate(model.heads.heads):
        x, y = embeddings[d], table.labels[d].to(device)
        opt = torch.optim.Adam(head.parameters(), lr=lr)
        c = classification[d].to(device)
        for _ in range(epochs):
            order = torch.as_tensor(rng.permutation(len(x)), device=device)
            for start in range(0, len(x), batch_size):
                idx = order[start:start + batch_size]
                yb = y[idx]
                if torch.isnan(yb).all():
                    continue
                loss, _ = masked_loss(head(x[idx]), yb, c)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()


def fisher_embedding(model, table, dataset, classification, batch_size, n_batches, rng, device):
    """Monte Carlo diagonal Fisher of the encoder parameters for one dataset of ``table``.

    Parameters
    ----------
    model : MultiDatasetNetwork
        The probe (its head ``dataset`` decodes this dataset).
    table : GraphTable
    dataset : int
        Which dataset of the table.
    classification : BoolTensor
        That dataset's classification-task mask.
    batch_size : int
    n_batches : int or None
        Batches to average over (drawn without replacement; None: one pass).
    rng : numpy.random.Generator
    device : torch.device

    Returns
    -------
    dict of str to Tensor
        Diagonal Fisher per encoder parameter (same shapes), on the CPU.
    """
    params = model.encoder_parameters()
    fisher = {k: torch.zeros_like(p) for k, p in params.items()}
    order = rng.permutation(table.sizes[dataset])
    if n_batches is not None:
        order = order[:n_batches * batch_size]
    c = classification.to(device)
    count = 0
    # The same normalisation as the decoders were fitted with (train_heads):
    # this dataset's own frozen statistics, no dropout; see the module notes.
    with dataset_statistics(model, table, dataset, device):
        for batch in table.dataset_batches(dataset, batch_size, device, rows=order):
            pred = model(batch, update_running=False)[dataset]
            labelled = ~torch.isnan(batch.y[dataset])
            if not labelled.any():
                continue
            with torch.no_grad():
                sampled = torch.where(c, torch.bernoulli(torch.sigmoid(pred)),
                                      pred + torch.randn_like(pred))
            per = torch.where(c, F.binary_cross_entropy_with_logits(pred, sampled,
                                                                    reduction="none"),
                              0.5 * (pred - sampled) ** 2)
            loss = (per * labelled).sum() / labelled.sum()
            grads = torch.autograd.grad(loss, list(params.values()), allow_unused=True)
            for (k, _), g in zip(params.items(), grads):
                if g is not None:
                    fisher[k] += g.detach() ** 2
            count += 1
    return {k: (v / max(count, 1)).cpu() for k, v in fisher.items()}


def filter_average(model, fisher):
    """Average a diagonal Fisher per output unit of each layer; concatenate into one vector.

    An embedding table (atom / bond features) has its output units along
    columns, so it is averaged over rows; every other parameter has them
    along its first axis (``nn.Linear`` weight (out, in), biases, batch norm).
    """
    tables = {f"encoder.{k}.weight" for k, m in model.encoder.named_modules()
              if isinstance(m, FeatureEmbedding)}
    parts = []
    for name, value in fisher.items():
        if name in tables:
            parts.append(value.mean(dim=0))
        else:
            parts.append(value.reshape(value.shape[0], -1).mean(dim=1))
    return torch.cat(parts).double().numpy()


def task2vec_distance(a, b, trivial=None, alpha=0.15):
    """Task2vec distance between two embeddings.

    Parameters
    ----------
    a, b : ndarray
        Filter-averaged Fisher embeddings (``a``: source / candidate, ``b``: target).
    trivial : ndarray, optional
        Embedding of the trivial task; when given the asymmetric distance
        ``d_sym(a, b) - alpha * d_sym(a, trivial)`` is returned (the
        "complexity" of the source is rewarded), otherwise the symmetric one.
    alpha : float
        Weight of the complexity term (Task2vec's 0.15).

    Returns
    -------
    float
        The normalised cosine distance ``cos_dist(a / (a + b), b / (a + b))``
        (in [0, 1] since embeddings are non-negative), minus the complexity
        term when asymmetric.
    """
    def sym(u, v):
        total = u + v
        total = np.where(total > 0, total, 1.0)
        u, v = u / total, v / total
        denom = np.linalg.norm(u) * np.linalg.norm(v)
        return float(1.0 - (u @ v) / denom) if denom > 0 else 1.0

    d = sym(a, b)
    if trivial is not None:
        d -= alpha * sym(a, trivial)
    return d
