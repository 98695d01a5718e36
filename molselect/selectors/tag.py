"""TAG: task grouping by lookahead inter-task affinity (Fifty et al., NeurIPS 2021)."""

from __future__ import annotations

from numbers import Real

import warnings

import numpy as np
import pandas as pd

from .._param_validation import POSITIVE_INT, Interval
from ..base import LEAKAGE_GUARD_DOC, N_REPEATS_DOC, SelectionResult
from ..core import adam, train
from ..core.lookahead import LookaheadStep
from ._joint import JointTrainingSelector

__all__ = ["TAGSelector"]


class TAGSelector(JointTrainingSelector):
    __doc__ = """Select auxiliaries by TAG's lookahead inter-task affinity to the target.

    The target and all candidates are trained jointly on one shared GIN
    encoder with a head per dataset (balanced batches, unweighted mean of the
    losses).  Every ``lookahead_every`` steps, for each candidate m, a virtual
    step of the shared encoder on m's loss alone is taken (the step the Adam
    optimiser would take for that gradient, as TAG's code follows its own
    optimiser) and the change of the target's loss on the same batch is
    recorded as::

        Z_m = 1 - L_target(theta + adam_update(grad L_m)) / L_target(theta)

    ``affinity_`` is Z averaged over all lookahead steps of the training.
    A candidate that no lookahead step measured (it had no labels in any
    lookahead batch) has no Z: its ``affinity_`` is 0, a placeholder, it is
    not selected, and ``fit`` warns.

    Parameters
    ----------
    top_k : int or None, default=3
        At most this many candidates are selected (None: all with Z at least
        ``threshold``).
    threshold : float below 1 or None, default=0.0
        Only candidates whose mean Z is at least ``threshold`` are selected
        (the selectors' one rule): Z > 0 means a step on the candidate
        lowered the target's loss on average.  Z is at most 1, so a
        threshold of 1 or more is refused.  None: no threshold.
    epochs : int, default=10
        Joint training epochs (an epoch is N_target x (M + 1) draws).
    lookahead_every : int, default=5
        Steps between two affinity measurements.
    lookahead_lr : float or None, default=None
        None: the virtual step is Adam's update for the candidate's gradient
        from the optimiser's current state (bias-corrected
        ``lr * m_hat / (sqrt(v_hat) + eps)``), without changing that state.
        A float: a plain SGD step ``-lookahead_lr * grad`` instead (the
        behaviour before the lookahead followed the optimiser was
        ``lookahead_lr=lr``, which under Adam gives Z of order 1e-4).
    hidden_dim : int, default=300
    num_layers : int, default=5
    dropout : float, default=0.5
        Dropout of the training steps (the lookahead passes run without it,
        so both sides of the ratio see the same network).
    batch_size : int, default=128
    lr : float, default=1e-3
        Adam learning rate.
    device : str, default="auto"
    random_state : int, numpy.random.RandomState, numpy.random.Generator or None, default=None
""" + N_REPEATS_DOC + """    verbose : bool, default=False
        Progress bar with the running losses.
""" + LEAKAGE_GUARD_DOC + """
    Attributes
    ----------
    selected_ : list of str
        Best first; may be empty when no candidate has Z at least ``threshold``.
    affinity_ : pandas.Series
        Mean lookahead affinity ``Z = 1 - L'/L`` per candidate, at most 1: the
        relative fall of the target's loss after a step on the candidate
        (higher means more helpful).
    measured_ : pandas.Series of bool
        Per candidate, whether a lookahead step measured its Z.
    history_ : pandas.DataFrame
        One row per epoch and candidate: epoch, candidate, affinity (the
        epoch's mean Z), target_loss.
    ranking_ : list of str
    feature_names_in_ : ndarray of str
    n_leaked_ : dict

    Notes
    -----
    The paper (section 5.4, figure 7c) observes that these affinities are
    small and centred around 0 when many datasets share one encoder.
    """

    _affinity_meaning = ("the mean relative fall of the target's loss after a lookahead step on "
                         "the candidate (TAG)")

    _parameter_constraints = {
        **JointTrainingSelector._parameter_constraints,
        "threshold": [Interval(Real, None, 1, closed="neither",
                               note="Z = 1 - L'/L is at most 1, so no candidate could pass it"),
                      None],
        "epochs": [POSITIVE_INT],
        "lookahead_every": [POSITIVE_INT],
        "lookahead_lr": [Interval(Real, 0, None, closed="neither"), None],
    }

    def __init__(self, top_k=3, threshold=0.0, epochs=10, lookahead_every=5, lookahead_lr=None,
                 hidden_dim=300, num_layers=5, dropout=0.5, batch_size=128, lr=1e-3,
                 device="auto", random_state=None, n_repeats=1, verbose=False, leakage_guard=True):
        self.top_k = top_k
        self.threshold = threshold
        self.epochs = epochs
        self.lookahead_every = lookahead_every
        self.lookahead_lr = lookahead_lr
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

    def _score_joint(self, target, names, table, classification, model, rng, device):
        step = LookaheadStep(model, classification, adam(model.parameters(), self.lr),
                             lookahead_lr=self.lookahead_lr,
                             every=self.lookahead_every)
        history = train(table, step, self.epochs, self.batch_size, rng, device,
                        verbose=self.verbose, desc=f"TAG ({len(names)} candidates)")
        rows = []
        for h in history:
            z = np.atleast_1d(h["affinity"]) / np.maximum(np.atleast_1d(h["measured"]), 1e-12)
            rows += [{"epoch": h["epoch"] + 1, "candidate": name, "affinity": float(z_i),
                      "target_loss": h["target_loss"]} for name, z_i in zip(names, z)]
        total = np.sum([np.atleast_1d(h["affinity"]) for h in history], axis=0)
        measured = np.sum([np.atleast_1d(h["measured"]) for h in history], axis=0)
        affinity = pd.Series(np.where(measured > 0, total / np.maximum(measured, 1e-12), 0.0),
                             index=names, dtype=float)
        history_ = pd.DataFrame(rows, columns=["epoch", "candidate", "affinity", "target_loss"])
        measured_ = pd.Series(measured > 0, index=names, dtype=bool, name="measured")
        if not measured_.all():
            unmeasured = ", ".join(map(repr, measured_.index[~measured_]))
            warnings.warn(
                f"TAGSelector: no lookahead step measured the affinity of {unmeasured} (no "
                "labels of it in any lookahead batch), so it is not selected; train for more "
                "epochs or lower lookahead_every", UserWarning, stacklevel=5)
        return SelectionResult(affinity, history=history_, attributes={"measured_": measured_})

    def _select(self, affinity):
        """The base rule (the ``top_k`` best at least ``threshold``) among the measured candidates.

        An unmeasured candidate's affinity of 0 is a placeholder, not
        evidence that it helps.
        """
        return super()._select(affinity[self.measured_])

    def _threshold_best(self, affinity):
        """As the base rule's, among the measured candidates (None when none was measured)."""
        measured = affinity[self.measured_]
        return None if measured.empty else super()._threshold_best(measured)
