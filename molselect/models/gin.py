"""GIN estimators: the paper's downstream GIN (hidden 300, 5 layers, Adam 1e-3)."""

from __future__ import annotations

from ..core import GINEncoder, adam
from ._base import BaseGraphEstimator
from ._mixins import GraphClassifierMixin, GraphRegressorMixin
from ._protocol import PROTOCOL_PARAMS_DOC

__all__ = ["GINClassifier", "GINRegressor"]

_PARAMS = """
    Parameters
    ----------
    hidden_dim : int, default=300
        Node and graph embedding size.
    num_layers : int, default=5
        GIN layers (each with batch norm, OGB atom / bond embeddings).
    dropout : float, default=0.5
        Dropout after every layer.
    batch_size : int, default=128
    epochs : int, default=50
        An epoch draws ``len(target) x n_members`` molecules, every member
        equally often.
    lr : float, default=1e-3
        Adam learning rate.
    loss_weighting : {"uniform", "gradnorm"}, default="uniform"
        "uniform": unweighted mean of the members' masked losses (the
        paper).  "gradnorm": GradNorm (Chen et al. 2018, alpha 1.5) on the
        last GIN layer's weight, weights renormalised to sum to the number
        of members (the paper's GradNorm baseline).
    feature_set : {"full", "simple"}, default="full"
        Input features the encoder embeds.  "full": OGB's 9 atom and 3 bond
        features (the paper).  "simple": atomic number and chirality, bond
        type and stereo only, the MolGroup reference code's ``--feature
        simple`` (``x[:, :2]``, ``edge_attr[:, :2]``), with which its
        downstream and pairwise results were trained.  The featurization and
        its cache are shared; the encoder's embedding tables change shape,
        so a saved encoder records it.
""" + PROTOCOL_PARAMS_DOC + """    pretrained : str or path-like, optional
        Encoder checkpoint from :meth:`pretrain` / :meth:`save_encoder` to
        start from (same ``hidden_dim``, ``num_layers`` and ``feature_set``).
    device : str, default="auto"
        "auto" uses CUDA when available.
    random_state : int, numpy.random.RandomState, numpy.random.Generator or None, default=None
        Seed of initialisation and sampling.  A seeded fit repeats number for number
        on the CPU (with the same torch thread count); on CUDA it does not, since the
        scatter-adds that sum neighbours and pool graphs run in no fixed order there
        (two seeded fits differed by up to 1e-2 in an H200 check).
    verbose : bool, default=False
        Progress bar with the running loss and validation metric.

    Attributes
    ----------
    model_ : molselect.core.MultiDatasetNetwork
        Encoder (``model_.encoder``) and one head per member (``model_.heads``).
    members_ : list of str
        Names of the union's members, target first.
    tasks_ : list of str
        The target's tasks; ``n_tasks_`` their number, ``task_types_`` their types.
    metric_ : str
        The target's metric (used by ``score`` and the validation).
    history_ : pandas.DataFrame
        Per epoch: ``epoch`` (from 1), ``loss`` (training loss), ``target_loss``,
        ``valid_metric`` and ``valid_loss`` (the target's metric and loss on
        ``eval_set``, when given) and,
        with GradNorm, ``weight[<member>]``.
    best_epoch_ : int
        Epoch (from 1) whose weights were kept; ``best_score_`` its validation
        metric (None without ``eval_set``).
    n_epochs_ : int
        Epochs trained (fewer than ``epochs`` when early stopping ended the fit).
    checkpoints_ : list of dict
        CPU state dicts of the kept best epochs, best first (``n_checkpoints``
        of them; empty without ``eval_set``).
    loss_weights_ : pandas.Series
        Final loss weight per member (all 1 with "uniform").
    label_scaler_ : LabelScaler
        Standardisation of the target's regression labels.
"""


class _GIN(BaseGraphEstimator):
    _encoder_name = "gin"
    _shape_params = ("hidden_dim", "num_layers", "feature_set")

    def __init__(self, hidden_dim=300, num_layers=5, dropout=0.5, batch_size=128, epochs=50,
                 lr=1e-3, loss_weighting="uniform", pretrained=None, device="auto",
                 random_state=None, verbose=False, feature_set="full", early_stopping=None,
                 monitor="metric", n_checkpoints=1, callbacks=None):
        self.hidden_dim = hidden_dim
        self.num_layers = num_layers
        self.dropout = dropout
        self.batch_size = batch_size
        self.epochs = epochs
        self.lr = lr
        self.loss_weighting = loss_weighting
        self.pretrained = pretrained
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.feature_set = feature_set
        self.early_stopping = early_stopping
        self.monitor = monitor
        self.n_checkpoints = n_checkpoints
        self.callbacks = callbacks

    def _build_encoder(self):
        return GINEncoder(self.hidden_dim, self.num_layers, self.dropout, self.feature_set)

    def _make_optimizer(self, parameters):
        return adam(parameters, self.lr)

    def _shared_parameter(self, encoder):
        return encoder.layers[-1].lin2.weight

    def _make_encoder_inputs(self, datasets):
        return None


class GINClassifier(GraphClassifierMixin, _GIN):
    __doc__ = """GIN classifier trained on a target and, optionally, its auxiliary datasets.

    Fit it on the union a selector returns (target first); it predicts and
    scores the target's tasks.  Auxiliaries may be of any task type.
""" + _PARAMS + """
    See Also
    --------
    GINRegressor, GraphormerClassifier

    Examples
    --------
    >>> from molselect.datasets import load_dataset
    >>> bbbp = load_dataset("bbbp")                                         # doctest: +SKIP
    >>> clf = GINClassifier(epochs=5, random_state=0)                       # doctest: +SKIP
    >>> clf.fit(bbbp.train, eval_set=bbbp.valid)                            # doctest: +SKIP
    >>> clf.score(bbbp.test)  # ROC-AUC                                      # doctest: +SKIP
    """


class GINRegressor(GraphRegressorMixin, _GIN):
    __doc__ = """GIN regressor trained on a target and, optionally, its auxiliary datasets.

    Regression labels are standardised per task for training and predictions
    come back in label units.
""" + _PARAMS + """
    See Also
    --------
    GINClassifier, GraphormerRegressor
    """
