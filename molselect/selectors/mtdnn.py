"""MTDNN: instance selection by a dataset discriminator (Kung et al., EMNLP 2021)."""

from __future__ import annotations

import warnings
from numbers import Real

import numpy as np
import pandas as pd

from .._param_validation import POSITIVE_INT, Hidden, Interval, StrOptions
from ..base import LEAKAGE_GUARD_DOC, N_REPEATS_DOC, SelectionResult, best_candidates
from ..core import JointStep, MultiDatasetNetwork, adam, train
from ..core.discriminator import (DiscriminatorNetwork, DiscriminatorStep, target_probability,
                                  target_vs_rest_probability)
from ._joint import JointTrainingSelector

__all__ = ["MTDNNSelector"]


class MTDNNSelector(JointTrainingSelector):
    __doc__ = """Keep the auxiliary molecules that a dataset discriminator finds target-like.

    The target and all candidates are trained jointly on one shared GIN (a
    head per dataset).  A discriminator then scores each auxiliary molecule's
    probability of belonging to the target, and the molecule is kept when it
    exceeds ``molecule_threshold`` (paper appendix B: 0.6).  This is instance-level
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
    molecule_threshold : float in [0, 1), default=0.6
        Probability of "target" above which an auxiliary molecule is kept.
        Not the selectors' ``threshold`` (a cut on ``affinity_``), which
        MTDNN does not have.
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
""" + N_REPEATS_DOC + """    verbose : bool, default=False
""" + LEAKAGE_GUARD_DOC + """    threshold : float in [0, 1)
        Deprecated: the name ``molecule_threshold`` had until 0.1; still
        accepted, with a FutureWarning, until 0.2.

    Attributes
    ----------
    selected_ : list of str
        Auxiliaries with at least one kept molecule, by mean probability.
    affinity_ : pandas.Series
        Mean probability of "target" over each candidate's molecules, in [0, 1]
        (higher means more helpful: more target-like).
    probabilities_ : dict of str to ndarray
        Per candidate, every molecule's probability of "target" (with
        ``n_repeats`` > 1, its mean over the repeats).
    kept_ : dict of str to ndarray of bool
        Per candidate, which molecules are kept (probability > molecule_threshold).
    n_kept_ : pandas.Series
        Number of kept molecules per candidate.
    history_ : pandas.DataFrame
        One row per epoch: loss, target_loss, discriminator_loss (NaN for
        the binary discriminator, which is fitted after the training).
    ranking_ : list of str
    feature_names_in_ : ndarray of str
    n_leaked_ : dict
    """

    _affinity_meaning = ("the mean probability that a candidate molecule is the target's, from a"
                         " dataset discriminator")

    _parameter_constraints = {
        **JointTrainingSelector._parameter_constraints,
        "molecule_threshold": [Interval(Real, 0, 1, closed="left",
                                        note="a probability of 'target' above which a molecule "
                                             "is kept")],
        "threshold": [Interval(Real, 0, 1, closed="left",
                               note="a probability of 'target' above which a molecule is kept; "
                                    "threshold is deprecated, pass molecule_threshold"),
                      Hidden(StrOptions(("deprecated",)))],
        "epochs": [POSITIVE_INT],
        "discriminator": [StrOptions(("binary", "joint"))],
        "discriminator_weight": [Interval(Real, 0, None, closed="neither")],
    }

    @property
    def _network(self):
        # Only the joint design trains a discriminator head with the tasks.
        return DiscriminatorNetwork if self.discriminator == "joint" else MultiDatasetNetwork

    def __init__(self, molecule_threshold=0.6, top_k=None, epochs=50, discriminator="binary",
                 discriminator_weight=1.0,
                 hidden_dim=300, num_layers=5, dropout=0.5, batch_size=128, lr=1e-3,
                 device="auto", random_state=None, n_repeats=1, verbose=False, leakage_guard=True,
                 threshold="deprecated"):
        self.molecule_threshold = molecule_threshold
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
        self.n_repeats = n_repeats
        self.verbose = verbose
        self.leakage_guard = leakage_guard
        self.threshold = threshold

    def _molecule_cut(self):
        """("molecule_threshold", value), or ("threshold", value) when the old name was given."""
        if isinstance(self.threshold, str) and self.threshold == "deprecated":
            return "molecule_threshold", self.molecule_threshold
        return "threshold", self.threshold

    def _score_joint(self, target, names, table, classification, model, rng, device):
        param, cut = self._molecule_cut()
        if param == "threshold":
            warnings.warn(
                "MTDNNSelector: threshold is renamed molecule_threshold (the probability of "
                "'target' above which an auxiliary molecule is kept; threshold is the "
                "selectors' cut on affinity_); threshold= still works in 0.1 and will be "
                "removed in 0.2", FutureWarning, stacklevel=5)
        joint = self.discriminator == "joint"
        optimizer = adam(model.parameters(), self.lr)
        step = (DiscriminatorStep(model, classification, optimizer, self.discriminator_weight)
                if joint else JointStep(model, classification, optimizer))
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
        kept = {n: p > cut for n, p in probs.items()}
        affinity = pd.Series({n: float(p.mean()) for n, p in probs.items()}, dtype=float)
        n_kept = pd.Series({n: int(k.sum()) for n, k in kept.items()}, dtype=int, name="n_kept")
        return SelectionResult(affinity, history=history, attributes={
            "probabilities_": probs, "kept_": kept, "n_kept_": n_kept})

    def _combine_repeats(self, results, names):
        """The repeats' mean, with each molecule kept by its mean probability of "target"."""
        result = super()._combine_repeats(results, names)
        _, cut = self._molecule_cut()
        probs = result.attributes["probabilities_"]
        kept = {n: p > cut for n, p in probs.items()}
        result.attributes.update(kept_=kept, n_kept_=pd.Series(
            {n: int(k.sum()) for n, k in kept.items()}, dtype=int, name="n_kept"))
        return result

    def _select(self, affinity):
        """The ``top_k`` candidates of highest mean probability among those with kept molecules.

        MTDNN has no cut on ``affinity_``; ``molecule_threshold`` applies to
        molecules: a candidate is selected when at least one of its molecules
        passes it.
        """
        return best_candidates(affinity, self.top_k, self.n_kept_ > 0)

    def _threshold_best(self, affinity):
        """The molecule cut and the highest probability of "target" of any auxiliary molecule."""
        tops = pd.Series({n: float(p.max()) if len(p) else -np.inf
                          for n, p in self.probabilities_.items()}, dtype=float)
        return (*self._molecule_cut(), "molecule probability of 'target'", float(tops.max()),
                tops.idxmax())

    def _selected_data(self, name, data):
        mask = self.kept_[name]
        if len(mask) != len(data):
            raise ValueError(
                f"auxiliary {name!r} has {len(data)} molecules but was fitted with {len(mask)}")
        return data.subset(mask)
