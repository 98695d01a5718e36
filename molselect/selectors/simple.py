"""Training-free selectors: all candidates (UA), fingerprint similarity, random.

Also the fingerprint-distribution divergence of the paper's section 3, used
by :class:`FingerprintSimilaritySelector` and by the "S" of beam search P+S.
"""

from __future__ import annotations

from numbers import Real

import numpy as np
import pandas as pd

from .._param_validation import Interval
from ..base import LEAKAGE_GUARD_DOC, TOP_K, BaseAuxiliarySelector, SelectionResult
from ..featurize import maccs_fingerprints

__all__ = [
    "AllAuxiliariesSelector",
    "FingerprintSimilaritySelector",
    "RandomSelector",
    "fingerprint_distribution",
    "fingerprint_kl",
]


def fingerprint_distribution(smiles, smoothing=1.0):
    """Distribution over MACCS bits: how often each bit is set in a set of molecules.

    Parameters
    ----------
    smiles : sequence of str
    smoothing : float, default=1.0
        Additive (Laplace) count added to every bit before normalising, so
        that a bit never set (MACCS bit 0 always is) has non-zero mass and
        the KL divergence stays finite.

    Returns
    -------
    ndarray of shape (167,)
        Non-negative, sums to 1.
    """
    bits = maccs_fingerprints(np.asarray(smiles, dtype=object))
    counts = bits.sum(axis=0, dtype=np.float64) + float(smoothing)
    return counts / counts.sum()


def fingerprint_kl(p, q):
    """Asymmetric KL divergence ``KL(p || q)`` between two bit distributions.

    ``p`` is the target's distribution, ``q`` the candidate's: the divergence
    measures how badly the candidate's substructure statistics cover the
    target's (paper section 3).  Both must be strictly positive (smoothed).
    """
    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    return float(np.sum(p * (np.log(p) - np.log(q))))


class AllAuxiliariesSelector(BaseAuxiliarySelector):
    __doc__ = """Select every candidate: the paper's Unweighted Average (UA) baseline.

    Training on the union that ``fit_transform`` returns, with the losses
    averaged unweighted over datasets, is UA.

    Parameters
    ----------
""" + LEAKAGE_GUARD_DOC + """
    Attributes
    ----------
    selected_ : list of str
        Every candidate, in the order given.
    affinity_ : pandas.Series
        1.0 for every candidate (no scoring).
    ranking_ : list of str
        The order given.
    feature_names_in_ : ndarray of str
    n_leaked_ : dict
        After ``fit_transform``: molecules removed per auxiliary by the leakage guard.
    """

    _affinity_meaning = "1 for every candidate (all are selected)"

    def __init__(self, leakage_guard=True):
        self.leakage_guard = leakage_guard

    def _score_candidates(self, target, candidates, eval_sets):
        return SelectionResult(pd.Series(1.0, index=list(candidates)))

    def _select(self, affinity):
        """Every candidate, in the order given."""
        return list(affinity.index)


class FingerprintSimilaritySelector(BaseAuxiliarySelector):
    __doc__ = """Rank candidates by the similarity of their MACCS fingerprint distribution to the target's.

    Each dataset's distribution is the smoothed frequency of each of the 167
    MACCS bits over its molecules (paper section 3); a candidate's affinity
    is ``-KL(p_target || p_candidate)`` (0 for an identical distribution,
    more negative for a more different one).  No training.

    Parameters
    ----------
    top_k : int or None, default=3
        Number of candidates selected (None: all at or above ``threshold``).
    threshold : float <= 0 or None, default=None
        Only candidates whose affinity is at least ``threshold`` are selected
        (``-threshold`` is the largest KL accepted); the affinity is at most 0,
        so a positive threshold is refused.  None: no cut.
    smoothing : float, default=1.0
        Laplace count added to every bit (see :func:`fingerprint_distribution`).
""" + LEAKAGE_GUARD_DOC + """
    Attributes
    ----------
    selected_ : list of str
        Best first.
    affinity_ : pandas.Series
        ``-KL(target || candidate)`` per candidate, in nats, at most 0 (higher
        means more helpful: closer fingerprint distributions).
    divergence_ : pandas.Series
        The KL divergences themselves.
    target_distribution_ : ndarray of shape (167,)
    ranking_ : list of str
    feature_names_in_ : ndarray of str
    n_leaked_ : dict
    """

    _affinity_meaning = ("minus the KL divergence between the MACCS-bit distributions of the "
                         "candidate and the target")

    _parameter_constraints = {
        **BaseAuxiliarySelector._parameter_constraints,
        "top_k": TOP_K,
        "threshold": [Interval(Real, None, 0, closed="right",
                               note="the affinity is -KL, at most 0, so a positive threshold "
                                    "would select nothing"), None],
        "smoothing": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(self, top_k=3, threshold=None, smoothing=1.0, leakage_guard=True):
        self.top_k = top_k
        self.threshold = threshold
        self.smoothing = smoothing
        self.leakage_guard = leakage_guard

    def _score_candidates(self, target, candidates, eval_sets):
        p = fingerprint_distribution(target.ids, self.smoothing)
        kl = pd.Series({name: fingerprint_kl(p, fingerprint_distribution(d.ids, self.smoothing))
                        for name, d in candidates.items()}, dtype=float, name="divergence")
        return SelectionResult(-kl, attributes={"divergence_": kl, "target_distribution_": p})


class RandomSelector(BaseAuxiliarySelector):
    __doc__ = """Select ``top_k`` candidates at random: a sanity floor for the other selectors.

    Parameters
    ----------
    top_k : int or None, default=3
        Number selected (None: a random ordering of all).
    random_state : int, numpy.random.RandomState, numpy.random.Generator or None, default=None
        Seed; the same seed and candidate names give the same selection.
""" + LEAKAGE_GUARD_DOC + """
    Attributes
    ----------
    selected_ : list of str
    affinity_ : pandas.Series
        The random scores (uniform on [0, 1)) that ordered the candidates.
    ranking_ : list of str
    feature_names_in_ : ndarray of str
    n_leaked_ : dict
    """

    _affinity_meaning = "a random number"
    _random_scores = True

    _parameter_constraints = {
        **BaseAuxiliarySelector._parameter_constraints,
        "top_k": TOP_K,
        "random_state": ["random_state"],
    }

    def __init__(self, top_k=3, random_state=None, leakage_guard=True):
        self.top_k = top_k
        self.random_state = random_state
        self.leakage_guard = leakage_guard

    def _score_candidates(self, target, candidates, eval_sets):
        rng = np.random.default_rng(self._training_seed())
        return SelectionResult(pd.Series(rng.random(len(candidates)), index=list(candidates)))
