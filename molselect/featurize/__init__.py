"""SMILES to model inputs: OGB-style molecular graphs and MACCS fingerprints.

Every model in molselect consumes these: :func:`featurize` gives a flat
:class:`MolGraphs` store (9 atom / 3 bond OGB features, identical to
``ogb.utils.smiles2graph``) whose :meth:`MolGraphs.batch` gathers PyG batches
without per-graph loops; :func:`maccs_fingerprints` gives the 167 MACCS bits used by
MolGroup's structure affinity; :func:`load_or_build` is the checksummed disk cache
behind both, open to other cached per-molecule arrays.
"""

from ._cache import FEATURIZER_VERSION, cache_dir, cache_info, clear_cache, load_or_build
from ._fingerprints import MACCS_BITS, maccs_fingerprints
from ._graphs import MolGraphs, featurize
from ._ogb import ALLOWABLE_FEATURES, ATOM_FEATURE_DIMS, BOND_FEATURE_DIMS

__all__ = [
    "ALLOWABLE_FEATURES",
    "ATOM_FEATURE_DIMS",
    "BOND_FEATURE_DIMS",
    "FEATURIZER_VERSION",
    "MACCS_BITS",
    "MolGraphs",
    "cache_dir",
    "cache_info",
    "clear_cache",
    "featurize",
    "load_or_build",
    "maccs_fingerprints",
]
