"""MTDNN: instance selection by a dataset discriminator (Kung et al., EMNLP 2021)."""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

from ..base import BaseAuxiliarySelector, SelectionResult
from ..core import JointStep, adam, resolve_device, seed_everything, train
from ..core.discriminator import (DiscriminatorGIN, DiscriminatorStep, target_probability,
                                  target_vs_rest_probability)
from ..core.joint import JointGIN
from ..core.prepare import build_table
from ._common import check_gin_params, check_positive_int, derive_seed

__all__ = ["MTDNNSelector"]


class MTDNNSelector(BaseAuxiliarySelector):
    """Keep the auxiliary molecules that a dataset discriminator finds target-like.

    The target and all candidates are trained jointly on one shared GIN (a
    head per dataset).  A discriminator then scores each auxiliary molecule's
    probability of belonging to the target, and the molecule is kept when it
    exceeds ``threshold`` (paper appendix B: 0.6).  This is instance-level
    selection: ``fit_transform`` returns the target plus, for every selected
    auxiliary, only its kept molecules.

    By default (``discriminator="binary"``) the discriminator follows Kung et
    al.'s selection by feature similarity: a logistic regression, target
    against the pooled auxiliaries, on the frozen encoder's embeddings, with
    the target and the auxiliaries weighted equally, so that its probability
    is calibrated to even prior odds and ``p > 0.6`` means "at least 1.5
    times as typical of the target as of the average auxiliary"
    (:func:`~molselect.core.discriminator.target_vs_rest_probability`).  The
    earlier ``"joint"`` design, an (M+1)-way softmax over the sources trained
    with its gradient in the encoder, has a target prior of 1/(M+1) and
    scores a molecule that is equally typical of the target and of its own
    source at most 0.5, so 0.6 keeps almost nothing: no molecule at all for
    bbbp with bace, clintox, esol and tox21, where the binary discriminator
    keeps some of each.

    Parameters
    ----------
    threshold : float, default=0.6
        Probability of "target" above which an auxiliary molecule is kept.
    top_k : int or None, default=None
        At most this many auxiliaries (those with the highest mean
        probability) are selected among those with kept molecules; None: all.
    epochs : int, default=50
        Joint training epochs (paper: 50 for GIN).
    discriminator : {"binary", "joint"}, default="binary"
        "binary": target against the pooled auxiliaries on frozen features,
        fitted after the training and calibrated to even odds.  "joint": the
        (M+1)-way softmax trained with the tasks (the earlier behaviour).
    discriminator_weight : float, default=1.0
        Weight of the discriminator's cross-entropy in the training loss
        (``discriminator="joint"`` only).
    hidden_dim, num_layers, dropout, batch_size, lr
        GIN and Adam settings (paper: 300, 5, 0.5, 128, 1e-3).
    device : str, default="auto"
    random_state : int, numpy.random.RandomState, numpy.random.Generator or None, default=None
    verbose : bool, default=False
    leakage_guard : bool or "skeleton", default=True

    Attributes
    ----------
    selected_ : list of str
        Auxiliaries with at least one kept molecule, by mean probability.
    affinity_ : pandas.Series
        Mean probability of "target" over each candidate's molecules.
    probabilities_ : dict of str to ndarray
        Per candidate, every molecule's probability of "target".
    kept_ : dict of str to ndarray of bool
        Per candidate, which molecules are kept (probability > threshold).
    n_kept_ : pandas.Series
        Number of kept molecules per candidate.
    history_ : pandas.DataFrame
        One row per epoch: loss, target_loss, discriminator_loss (NaN for
        the binary discriminator, which is fitted after the training).
    ranking_ : list of str
    feature_names_in_ : ndarray of str
    n_leaked_ : dict
    """

    def __init__(self, threshold=0.6, top_k=None, epochs=50, discriminator_weight=1.0,
                 hidden_dim=300, num_layers=5, dropout=0.5, batch_size=128, lr=1e-3,
                 device="auto", random_state=None, verbose=False, leakage_guard=True,
                 discriminator="binary"):
        self.threshold = threshold
        self.top_k = top_k
        self.epochs = epochs
        self.discriminator = discriminator
        self.discriminator_weight = discriminator_weight
        self.hidden_dim = hidden_dim
        self.num_layers = num_layers
        self.dropout = dropout
        self.batch_size = batch_size
        self.lr = lr
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.leakage_guard = leakage_guard

    def _check_params(self):
        super()._check_params()
        if not (isinstance(self.threshold, numbers.Real) and 0.0 <= self.threshold < 1.0):
            raise ValueError(f"threshold must be a probability in [0, 1), got {self.threshold!r}")
        if not (isinstance(self.discriminator_weight, numbers.Real)
                and self.discriminator_weight > 0):
            raise ValueError(
                f"discriminator_weight must be > 0, got {self.discriminator_weight!r}")
        check_positive_int(self, "epochs")
        check_gin_params(self)
        if self.discriminator not in ("binary", "joint"):
            raise ValueError(
                f"discriminator must be 'binary' or 'joint', got {self.discriminator!r}")

    def _score_candidates(self, target, candidates, eval_sets):
        names = list(candidates)
        datasets = [target] + [candidates[n] for n in names]
        device = resolve_device(self.device)
        table, classification, _ = build_table(datasets)
        rng = seed_everything(derive_seed(self.random_state))
        joint = self.discriminator == "joint"
        model = (DiscriminatorGIN if joint else JointGIN)(
            [d.n_tasks for d in datasets], self.hidden_dim, self.num_layers,
            self.dropout).to(device)
        optimizer = adam(model.parameters(), self.lr)
        clf = [c.to(device) for c in classification]
        step = (DiscriminatorStep(model, clf, optimizer, self.discriminator_weight) if joint
                else JointStep(model, clf, optimizer))
        logs = train(table, step, self.epochs, self.batch_size, rng, device,
                     verbose=self.verbose, desc=f"MTDNN ({len(names)} candidates)")
        history = pd.DataFrame([{"epoch": h["epoch"] + 1, "loss": h["loss"],
                                 "target_loss": h["target_loss"],
                                 "discriminator_loss": h.get("discriminator_loss", np.nan)}
                                for h in logs])
        if joint:
            probs = {n: target_probability(model, table, d + 1, device=device)
                     for d, n in enumerate(names)}
        else:
            probs = dict(zip(names, target_vs_rest_probability(model, table, device=device)))
        kept = {n: p > self.threshold for n, p in probs.items()}
        affinity = pd.Series({n: float(p.mean()) for n, p in probs.items()}, dtype=float)
        n_kept = pd.Series({n: int(k.sum()) for n, k in kept.items()}, dtype=int, name="n_kept")
        ranked = affinity.sort_values(ascending=False, kind="stable").index
        selected = [n for n in ranked if n_kept[n] > 0]
        if self.top_k is not None:
            selected = selected[:self.top_k]
        return SelectionResult(affinity, selected=selected, history=history, extra={
            "probabilities_": probs, "kept_": kept, "n_kept_": n_kept})

    def _selected_data(self, name, data):
        mask = self.kept_[name]
        if len(mask) != len(data):
            raise ValueError(
                f"auxiliary {name!r} has {len(data)} molecules but was fitted with {len(mask)}")
        return data.subset(mask)
