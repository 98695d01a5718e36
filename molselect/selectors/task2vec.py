"""Task2vec: rank candidates by the distance of their Fisher task embedding to the target's."""

from __future__ import annotations

from numbers import Integral, Real

import pandas as pd
from tqdm.auto import tqdm

from .._param_validation import POSITIVE_INT, Interval, StrOptions
from .._progress import progress_disabled
from ..base import LEAKAGE_GUARD_DOC, N_REPEATS_DOC, SelectionResult
from ..core import JointStep, adam, train
from ..core.fisher import filter_average, fisher_embedding, task2vec_distance, train_heads
from ._joint import JointTrainingSelector

__all__ = ["Task2VecSelector"]

DISTANCES = ("asymmetric", "cosine")


class Task2VecSelector(JointTrainingSelector):
    __doc__ = """Select the candidates whose Task2vec embedding is closest to the target's.

    A GIN probe is first trained on the union of the target and all
    candidates (``probe_epochs``, one head per dataset).  Then, following the
    paper's appendix B and the official implementation, the encoder is fixed
    and each dataset's decoder is trained for ``head_epochs`` epochs on the
    frozen embeddings.  Each dataset's embedding is the diagonal Fisher
    information of the encoder parameters, estimated by Monte Carlo with
    labels sampled from the probe's predictive distribution (Bernoulli for
    classification, unit-variance Gaussian for regression, only where the
    dataset has a label), averaged per output unit of every layer.  The
    decoders are fitted on, and the Fisher is taken of, the same features:
    each dataset normalised with its own batch-norm statistics, estimated over
    the dataset and frozen, without dropout.

    Parameters
    ----------
    top_k : int or None, default=3
    threshold : float or None, default=None
        Only candidates whose affinity (minus the distance) is at least
        ``threshold`` are selected.  None: no cut.
    distance : {"asymmetric", "cosine"}, default="asymmetric"
        "cosine": Task2vec's symmetric normalised cosine distance
        ``d(a, b) = cos_dist(a / (a + b), b / (a + b))`` between the
        candidate's and the target's embeddings.  "asymmetric": Task2vec's
        transfer distance from candidate a to target b,
        ``d(a, b) - alpha * d(a, t0)``, which favours complex sources; the
        trivial embedding t0 is the probe's own task, the union, taken as the
        mean of all datasets' embeddings (balanced training weighs them equally).
    alpha : float, default=0.15
        Weight of the complexity term of the asymmetric distance.
    probe_epochs : int, default=5
        Joint training epochs of the probe on the union (0: a random encoder).
    head_epochs : int, default=10
        Epochs of decoder training on the fixed encoder (paper: 10).
    fisher_samples : int or None, default=5000
        Molecules per dataset used for the Fisher estimate (None: all).
    hidden_dim, num_layers, dropout, batch_size, lr
        GIN and Adam settings (paper: 300, 5, 0.5, 128, 1e-3).
    device : str, default="auto"
    random_state : int, numpy.random.RandomState, numpy.random.Generator or None, default=None
""" + N_REPEATS_DOC + """    verbose : bool, default=False
""" + LEAKAGE_GUARD_DOC + """
    Attributes
    ----------
    selected_ : list of str
        Closest first.
    affinity_ : pandas.Series
        Minus the distance (``distance``: asymmetric or cosine) of each
        candidate's Fisher embedding to the target's (higher means more
        helpful: closer).
    distance_ : pandas.Series
        The distances.
    embeddings_ : pandas.DataFrame
        One row per dataset (target first): the filter-averaged Fisher embedding.
    ranking_ : list of str
    feature_names_in_ : ndarray of str
    n_leaked_ : dict
    """

    _affinity_meaning = ("minus the distance of the candidate's Fisher embedding to the target's"
                         " (Task2vec)")

    _parameter_constraints = {
        **JointTrainingSelector._parameter_constraints,
        "threshold": [Interval(Real, None, None, closed="neither"), None],
        "distance": [StrOptions(DISTANCES)],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "probe_epochs": [Interval(Integral, 0, None, closed="left")],
        "head_epochs": [POSITIVE_INT],
        "fisher_samples": [POSITIVE_INT, None],
    }

    def __init__(self, top_k=3, threshold=None, distance="asymmetric", alpha=0.15, probe_epochs=5,
                 head_epochs=10, fisher_samples=5000, hidden_dim=300, num_layers=5, dropout=0.5,
                 batch_size=128, lr=1e-3, device="auto", random_state=None, n_repeats=1, verbose=False,
                 leakage_guard=True):
        self.top_k = top_k
        self.threshold = threshold
        self.distance = distance
        self.alpha = alpha
        self.probe_epochs = probe_epochs
        self.head_epochs = head_epochs
        self.fisher_samples = fisher_samples
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
        if self.probe_epochs:
            step = JointStep(model, classification, adam(model.parameters(), self.lr))
            train(table, step, self.probe_epochs, self.batch_size, rng, device,
                  verbose=self.verbose, desc="Task2vec probe")
        for p in model.encoder.parameters():
            p.requires_grad_(False)
        train_heads(model, table, classification, self.head_epochs, self.batch_size, self.lr,
                    rng, device)
        for p in model.encoder.parameters():
            p.requires_grad_(True)
        n_batches = (None if self.fisher_samples is None
                     else -(-self.fisher_samples // self.batch_size))
        embeddings = {}
        for d, data in enumerate(tqdm([target.name] + names, desc="Task2vec Fisher",
                                      disable=progress_disabled(self.verbose), leave=False)):
            fisher = fisher_embedding(model, table, d, classification[d], self.batch_size,
                                      n_batches, rng, device)
            embeddings[data] = filter_average(model, fisher)
        frame = pd.DataFrame.from_dict(embeddings, orient="index")
        trivial = frame.to_numpy().mean(axis=0) if self.distance == "asymmetric" else None
        t = embeddings[target.name]
        distance = pd.Series({n: task2vec_distance(embeddings[n], t, trivial, self.alpha)
                              for n in names}, dtype=float, name="distance")
        return SelectionResult(-distance, attributes={"distance_": distance, "embeddings_": frame})
