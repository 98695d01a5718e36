"""The torch core: encoders, the multi-dataset network, the routed MolGroup model, its gate
and bi-level step, balanced sampling, the one training loop, its steps (joint, GradNorm) and
its callbacks.

It knows nothing of scikit-learn.
"""

from .data import GraphTable, MixedBatch
from .gate import Gate
from .gin import GINEncoder
from .gradnorm import GradNormStep
from .heads import MultiHead, masked_loss
from .molgroup import MolGroupModel, MolGroupStep
from .network import MultiDatasetNetwork
from .routed import RoutedGIN
from .sampler import BalancedSampler
from .training import (BestEpoch, Callback, EarlyStopping, JointStep, adam, predict, resolve_device,
                       seed_everything, torch_threads, train)

__all__ = [
    "BalancedSampler", "BestEpoch", "Callback", "EarlyStopping", "Gate", "GINEncoder", "GradNormStep",
    "GraphTable", "JointStep", "MixedBatch", "MolGroupModel", "MolGroupStep", "MultiDatasetNetwork",
    "MultiHead", "RoutedGIN", "masked_loss", "predict", "adam", "resolve_device", "seed_everything",
    "torch_threads", "train",
]
