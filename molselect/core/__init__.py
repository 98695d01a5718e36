"""The torch core: encoders, the routed MolGroup model, its gate and bi-level step,
balanced sampling, the one training loop and its steps (joint, GradNorm).

It knows nothing of scikit-learn.
"""

from .data import GraphTable, MixedBatch
from .gate import Gate
from .gin import GINEncoder
from .gradnorm import GradNormStep
from .heads import MultiHead, masked_loss
from .molgroup import MolGroupModel, MolGroupStep
from .routed import RoutedGIN
from .sampler import BalancedSampler
from .training import (BestEpoch, Callback, EarlyStopping, JointStep, adam, predict, resolve_device,
                       seed_everything, torch_threads, train)

__all__ = [
    "BalancedSampler", "BestEpoch", "Callback", "EarlyStopping", "Gate", "GINEncoder", "GradNormStep",
    "GraphTable", "JointStep", "MixedBatch", "MolGroupModel", "MolGroupStep", "MultiHead",
    "RoutedGIN", "masked_loss", "predict", "adam", "resolve_device", "seed_everything", "torch_threads",
    "train",
]
