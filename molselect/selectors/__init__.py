"""Auxiliary-dataset selectors: MolGroup and the paper's baselines."""

from .beam_search import BeamSearchSelector
from .molgroup import MolGroupSelector, centred_affinity, filter_candidates, survival_ranking
from .mtdnn import MTDNNSelector
from .simple import (
    AllAuxiliariesSelector,
    FingerprintSimilaritySelector,
    RandomSelector,
    fingerprint_distribution,
    fingerprint_kl,
)
from .tag import TAGSelector
from .task_type import TaskTypeSelector
from .task2vec import Task2VecSelector

__all__ = [
    "AllAuxiliariesSelector",
    "BeamSearchSelector",
    "FingerprintSimilaritySelector",
    "MTDNNSelector",
    "MolGroupSelector",
    "RandomSelector",
    "TAGSelector",
    "Task2VecSelector",
    "TaskTypeSelector",
    "centred_affinity",
    "filter_candidates",
    "fingerprint_distribution",
    "fingerprint_kl",
    "survival_ranking",
]
