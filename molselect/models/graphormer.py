"""Graphormer estimators (Ying et al. 2021) with MolGroup's appendix-B configuration.

No pre-trained weights are shipped: the paper's PCQM4Mv2 checkpoint was never
released.  :meth:`~molselect.models._base.BaseGraphEstimator.pretrain`
pre-trains the encoder on labelled datasets you have and ``pretrained=``
fine-tunes from the saved file.
"""

from __future__ import annotations

from numbers import Real

import torch

from .._param_validation import POSITIVE_INT, Interval, InvalidParameterError
from ..core.gin import feature_dims
from ..core.graphormer import GraphormerEncoder
from ..core.graphormer_input import GraphormerInputs
from ._base import BaseGraphEstimator
from ._mixins import GraphClassifierMixin, GraphRegressorMixin
from ._protocol import PROTOCOL_PARAMS_DOC

__all__ = ["GraphormerClassifier", "GraphormerRegressor"]

_PARAMS = """
    Parameters
    ----------
    hidden_dim : int, default=512
        Model width (also the feed-forward size, as in MolGroup).
    num_layers : int, default=5
        Transformer layers.
    num_heads : int, default=8
        Attention heads; must divide ``hidden_dim``.
    dropout : float, default=0.1
    attention_dropout : float, default=0.3
    max_nodes : int, default=128
        Padding cap; larger molecules keep their first ``max_nodes`` atoms.
    max_dist : int, default=5
        Bonds per shortest path in the multi-hop edge encoding.
    batch_size : int, default=128
    epochs : int, default=30
    lr : float, default=1e-4
        AdamW learning rate.
    loss_weighting : {"uniform", "gradnorm"}, default="uniform"
        "uniform": unweighted mean of the members' masked losses.
        "gradnorm": GradNorm (alpha 1.5) on the last layer's feed-forward
        output weight, weights summing to the number of members.
    feature_set : {"full", "simple"}, default="full"
        Input features the encoder embeds.  "full": OGB's 9 atom and 3 bond
        features (the paper).  "simple": atomic number and chirality, bond
        type and stereo only, the MolGroup reference code's ``--feature
        simple`` (``x[:, :2]``, ``edge_attr[:, :2]``), with which its
        downstream and pairwise results were trained.  The featurization and
        its cache are shared; the encoder's embedding tables change shape,
        so a saved encoder records it.
""" + PROTOCOL_PARAMS_DOC + """    pretrained : str or path-like, optional
        Encoder checkpoint written by :meth:`pretrain` or :meth:`save_encoder`
        (same ``hidden_dim``, ``num_layers``, ``num_heads``, ``max_nodes``,
        ``max_dist``, ``feature_set``).  The paper's PCQM4Mv2 weights are not available.
    device : str, default="auto"
    random_state : int, numpy.random.RandomState, numpy.random.Generator or None, default=None
        Seed of initialisation and sampling; repeats number for number on the CPU
        only, as for :class:`GINClassifier`.
    verbose : bool, default=False

    Attributes
    ----------
    model_ : molselect.core.MultiDatasetNetwork
        Encoder (``model_.encoder``) and one linear head per member.
    members_ : list of str
        Names of the union's members, target first.
    tasks_, n_tasks_, task_types_, metric_
        The target's tasks, their number and types, and its metric.
    history_ : pandas.DataFrame
        Per epoch: ``epoch``, ``loss``, ``target_loss``, ``valid_metric`` and
        ``valid_loss`` (with ``eval_set``), ``weight[<member>]`` (with GradNorm).
    best_epoch_, best_score_
        Epoch kept (from 1) and its validation metric.
    n_epochs_ : int
        Epochs trained (fewer than ``epochs`` when early stopping ended the fit).
    checkpoints_ : list of dict
        CPU state dicts of the kept best epochs, best first.
    loss_weights_ : pandas.Series
        Final loss weight per member.
    label_scaler_ : LabelScaler

    Notes
    -----
    Inputs: OGB atom features plus degree embeddings, a per-head attention
    bias from shortest-path distances (SciPy, computed once per molecule and
    cached with the featurization) and from the bonds along a shortest path,
    and a graph token whose output embeds the molecule.
"""


class _Graphormer(BaseGraphEstimator):
    _encoder_name = "graphormer"
    _shape_params = ("hidden_dim", "num_layers", "num_heads", "max_nodes", "max_dist",
                     "feature_set")

    _parameter_constraints = {
        **BaseGraphEstimator._parameter_constraints,
        "num_heads": [POSITIVE_INT],
        "attention_dropout": [Interval(Real, 0, 1, closed="left")],
        "max_nodes": [POSITIVE_INT],
        "max_dist": [POSITIVE_INT],
    }

    def __init__(self, hidden_dim=512, num_layers=5, num_heads=8, dropout=0.1,
                 attention_dropout=0.3, max_nodes=128, max_dist=5, batch_size=128, epochs=30,
                 lr=1e-4, loss_weighting="uniform", pretrained=None, device="auto",
                 random_state=None, verbose=False, feature_set="full", early_stopping=None,
                 monitor="metric", n_checkpoints=1, callbacks=None):
        self.hidden_dim = hidden_dim
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.dropout = dropout
        self.attention_dropout = attention_dropout
        self.max_nodes = max_nodes
        self.max_dist = max_dist
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

    def _validate_params(self):
        super()._validate_params()
        # Across parameters, which the declarations cannot say.
        if self.hidden_dim % self.num_heads:
            raise InvalidParameterError(f"num_heads={self.num_heads} must divide "
                                        f"hidden_dim={self.hidden_dim}", param="num_heads")

    def _build_encoder(self):
        atom_dims, bond_dims = feature_dims(self.feature_set)
        return GraphormerEncoder(self.hidden_dim, self.num_layers, self.num_heads, self.dropout,
                                 self.attention_dropout, self.max_nodes, self.max_dist,
                                 atom_feature_dims=atom_dims, bond_feature_dims=bond_dims)

    def _make_optimizer(self, parameters):
        return torch.optim.AdamW(parameters, lr=self.lr)

    def _shared_parameter(self, encoder):
        return encoder.layers[-1].ffn[-1].weight

    def _make_encoder_inputs(self, datasets):
        return GraphormerInputs(datasets, self.max_nodes, self.max_dist)


class GraphormerClassifier(GraphClassifierMixin, _Graphormer):
    __doc__ = """Graphormer classifier trained on a target and, optionally, its auxiliaries.
""" + _PARAMS + """
    See Also
    --------
    GraphormerRegressor, GINClassifier

    Examples
    --------
    >>> clf = GraphormerClassifier(random_state=0).fit(union, eval_set=bbbp.valid)  # doctest: +SKIP
    >>> clf.score(bbbp.test)                                                        # doctest: +SKIP
    """


class GraphormerRegressor(GraphRegressorMixin, _Graphormer):
    __doc__ = """Graphormer regressor trained on a target and, optionally, its auxiliaries.
""" + _PARAMS + """
    See Also
    --------
    GraphormerClassifier, GINRegressor
    """
