"""How one MolGroup round trains: its settings and one repeat's training.

:class:`~molselect.selectors.molgroup.MolGroupSelector` builds a round's table
and sends each repeat here, possibly to a joblib worker process: everything
below is module-level and picklable.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from ..core import (Callback, MolGroupModel, MolGroupStep, resolve_device, seed_everything,
                    torch_threads, train)
from ..core.prepare import LabelScaler


@dataclass(frozen=True)
class RoundSettings:
    """How one round's MolGroup model is built and trained: the selector's parameters of it.

    Module-level and frozen, so that it pickles to joblib's worker processes
    unchanged.  Each field is the
    :class:`~molselect.selectors.MolGroupSelector` parameter of the same name
    (see there for its meaning); ``standardize_labels`` is not among them, as
    it acts on the round's table, which is built before the training.
    """

    hidden_dim: int
    num_layers: int
    dropout: float
    batch_size: int
    lr: float
    epochs: int
    warmup_epochs: int
    balance: float
    temperature: float
    gate_direction: str
    structure: str
    feature_set: str
    meta_lr: float | None
    meta_scale: float
    meta_gradient: str

    @classmethod
    def from_params(cls, params):
        """The settings among a selector's parameters.

        Parameters
        ----------
        params : dict
            ``MolGroupSelector.get_params()`` (other keys are ignored).

        Returns
        -------
        RoundSettings
        """
        return cls(**{f.name: params[f.name] for f in fields(cls)})


def _train_repeat(table, classification, n_tasks, names, settings, seed, device, desc,
                  verbose, threads=None):
    """Train one MolGroup model on a round's table; per-epoch figures as numbers only.

    A module-level function of picklable arguments, so that joblib can send a
    round's repeats to worker processes or a Dask cluster; the table is built
    once per round, not once per repeat.  ``threads``: torch threads for the
    training (None: the process's setting); ``names``: the candidates, for the
    progress bar; ``settings``: the round's :class:`RoundSettings`.

    Returns
    -------
    dict of str to numpy.ndarray
        ``affinity``, ``task_affinity``, ``structure_affinity``: (epochs,
        candidates), the mean over each epoch's steps in which the candidate
        was present; ``target_loss``: (epochs,).
    """
    with torch_threads(threads):
        return _train_once(table, classification, n_tasks, names, settings, seed,
                           resolve_device(device), desc, verbose)


def _train_once(table, classification, n_tasks, names, settings, seed, device, desc, verbose):
    rng = seed_everything(seed)
    model = MolGroupModel(
        n_tasks, settings.hidden_dim, settings.num_layers, settings.dropout,
        balance=settings.balance, temperature=settings.temperature,
        gate_direction=settings.gate_direction, structure=settings.structure,
        feature_set=settings.feature_set,
    ).to(device)
    step = MolGroupStep(model, [c.to(device) for c in classification], lr=settings.lr,
                        meta_lr=settings.meta_lr, meta_scale=settings.meta_scale,
                        warmup_epochs=settings.warmup_epochs,
                        meta_gradient=settings.meta_gradient)
    history = train(table, step, settings.epochs, settings.batch_size, rng, device,
                    callbacks=[_TopAffinities(names)], verbose=verbose, desc=desc)
    out = {key: [] for key in ("affinity", "task_affinity", "structure_affinity")}
    for logs in history:
        present = np.maximum(np.asarray(logs["present"], dtype=float), 1e-12)
        out["affinity"].append(np.asarray(logs["gate"], dtype=float) / present)
        out["task_affinity"].append(np.asarray(logs["task_affinity"], dtype=float) / present)
        out["structure_affinity"].append(
            np.asarray(logs["structure_affinity"], dtype=float) / present)
    out = {key: np.vstack(value) for key, value in out.items()}
    out["target_loss"] = np.array([float(logs["target_loss"]) for logs in history])
    return out


class _TopAffinities(Callback):
    """Adds the epoch's three highest affinities to its record, for the progress bar."""

    def __init__(self, names):
        self.names = names

    def on_epoch_end(self, epoch, logs):
        aff = logs["gate"] / np.maximum(logs["present"], 1e-12)
        top = np.argsort(-aff)[:3]
        return {f"a[{self.names[i]}]": float(aff[i]) for i in top}


def _label_scalers(members, standardize):
    """None (each dataset's regression labels standardised) or identity scalers (raw labels)."""
    if standardize:
        return None
    return [LabelScaler.identity(d.n_tasks) for d in members]
