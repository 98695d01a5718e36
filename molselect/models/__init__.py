"""Downstream scikit-learn estimators: GIN and Graphormer, classifier and regressor.

Each fits a dataset or a union (target first, then auxiliaries) as a
selector's ``fit_transform`` returns it, keeps one decoder head per member,
and predicts and scores the target.
"""

from ._base import BaseGraphEstimator
from ._persistence import load_model, save_model
from .gin import GINClassifier, GINRegressor
from .graphormer import GraphormerClassifier, GraphormerRegressor

__all__ = ["BaseGraphEstimator", "GINClassifier", "GINRegressor", "GraphormerClassifier",
           "GraphormerRegressor", "load_model", "save_model"]
