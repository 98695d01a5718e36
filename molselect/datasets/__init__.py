"""Molecule datasets: the MolGroup registry, loaders, splits and user data.

>>> from molselect.datasets import load_dataset
>>> bbbp = load_dataset("bbbp")          # bundled, scaffold split   # doctest: +SKIP
>>> bbbp.train, bbbp.valid, bbbp.test                               # doctest: +SKIP
"""

from ..featurize._smiles import MAX_SMILES_LENGTH
from ._base import CLASSIFICATION, REGRESSION, DatasetGroup, MoleculeDataset, infer_task_types
from ._download import DownloadError, get_data_home
from ._io import from_csv, from_frame
from ._leakage import canonical_keys, find_overlap, make_union, skeleton_keys
from ._loaders import DatasetSplits, list_datasets, load_dataset
from ._registry import DatasetInfo, get_dataset_info
from ._from_smiles import from_smiles
from ._split import cluster_split, random_split, scaffold_split
from ._user_split import DegenerateSplitError
from ._validation import as_dataset, as_group, name_datasets

__all__ = [
    "MoleculeDataset",
    "DatasetGroup",
    "DatasetInfo",
    "DatasetSplits",
    "DownloadError",
    "as_dataset",
    "as_group",
    "list_datasets",
    "load_dataset",
    "get_dataset_info",
    "get_data_home",
    "from_csv",
    "from_frame",
    "from_smiles",
    "scaffold_split",
    "random_split",
    "cluster_split",
    "DegenerateSplitError",
    "find_overlap",
    "make_union",
    "canonical_keys",
    "skeleton_keys",
    "name_datasets",
    "infer_task_types",
    "CLASSIFICATION",
    "REGRESSION",
    "MAX_SMILES_LENGTH",
]
