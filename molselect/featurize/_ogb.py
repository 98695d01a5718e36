"""OGB atom and bond vocabularies, and the vectorised featurization kernel.

The vocabularies are copied from ``ogb.utils.features`` (OGB 1.3.6) so that every
model trained here uses the same feature indices as OGB's ``smiles2graph``, without
making ``ogb`` a runtime dependency.
"""

from __future__ import annotations

import re

import numpy as np
from rdkit import rdBase
from rdkit.Chem import rdchem

from ._smiles import mol_from_smiles

__all__ = [
    "ALLOWABLE_FEATURES",
    "ATOM_FEATURE_DIMS",
    "BOND_FEATURE_DIMS",
    "featurize_chunk",
]

ALLOWABLE_FEATURES: dict[str, list] = {
    "possible_atomic_num_list": list(range(1, 119)) + ["misc"],
    "possible_chirality_list": [
        "CHI_UNSPECIFIED", "CHI_TETRAHEDRAL_CW", "CHI_TETRAHEDRAL_CCW", "CHI_OTHER", "misc",
    ],
    "possible_degree_list": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, "misc"],
    "possible_formal_charge_list": [-5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, "misc"],
    "possible_numH_list": [0, 1, 2, 3, 4, 5, 6, 7, 8, "misc"],
    "possible_number_radical_e_list": [0, 1, 2, 3, 4, "misc"],
    "possible_hybridization_list": ["SP", "SP2", "SP3", "SP3D", "SP3D2", "misc"],
    "possible_is_aromatic_list": [False, True],
    "possible_is_in_ring_list": [False, True],
    "possible_bond_type_list": ["SINGLE", "DOUBLE", "TRIPLE", "AROMATIC", "misc"],
    "possible_bond_stereo_list": [
        "STEREONONE", "STEREOZ", "STEREOE", "STEREOCIS", "STEREOTRANS", "STEREOANY",
    ],
    "possible_is_conjugated_list": [False, True],
}
"""OGB's ``allowable_features``: the value list behind each feature index."""

_ATOM_KEYS = (
    "possible_atomic_num_list", "possible_chirality_list", "possible_degree_list",
    "possible_formal_charge_list", "possible_numH_list", "possible_number_radical_e_list",
    "possible_hybridization_list", "possible_is_aromatic_list", "possible_is_in_ring_list",
)
_BOND_KEYS = ("possible_bond_type_list", "possible_bond_stereo_list",
              "possible_is_conjugated_list")

ATOM_FEATURE_DIMS: list[int] = [len(ALLOWABLE_FEATURES[k]) for k in _ATOM_KEYS]
"""Vocabulary size of each of the 9 atom features (as ``ogb`` ``get_atom_feature_dims()``)."""

BOND_FEATURE_DIMS: list[int] = [len(ALLOWABLE_FEATURES[k]) for k in _BOND_KEYS]
"""Vocabulary size of each of the 3 bond features (as ``ogb`` ``get_bond_feature_dims()``)."""


def _enum_table(enum_type, vocab: list[str], fallback: int) -> np.ndarray:
    """Map an RDKit enum's integer value straight to an OGB index.

    One extra trailing slot holds ``fallback`` so values from a newer RDKit (beyond
    the enum known at import) can be clipped onto it instead of indexing out of bounds.
    """
    values = enum_type.values
    table = np.full(max(values) + 2, fallback, dtype=np.int8)
    for code, member in values.items():
        name = str(member).rsplit(".", 1)[-1]
        if name in vocab:
            table[code] = vocab.index(name)
    return table


# OGB uses list.index (no 'misc') for chirality and stereo, so tags added to RDKit
# after OGB was written (CHI_TETRAHEDRAL, CHI_ALLENE, STEREOATROPCW, ...) would
# raise there. Here they fall back to 'misc' (chirality) and STEREOANY (stereo, which
# has no 'misc' slot): the closest meaning that keeps the vocabulary sizes unchanged.
_CHIRAL = _enum_table(rdchem.ChiralType, ALLOWABLE_FEATURES["possible_chirality_list"], 4)
_HYBRID = _enum_table(rdchem.HybridizationType,
                      ALLOWABLE_FEATURES["possible_hybridization_list"], 5)
_BOND_TYPE = _enum_table(rdchem.BondType, ALLOWABLE_FEATURES["possible_bond_type_list"], 4)
_STEREO = _enum_table(rdchem.BondStereo, ALLOWABLE_FEATURES["possible_bond_stereo_list"], 5)


# Chirality only comes from '@', bond stereo from '/' '\\' (or CXSMILES '|...|'
# extensions), dative bonds from '->' '<-': without these characters the SMILES parser
# leaves chirality and stereo unset and every bond is single/double/triple/aromatic
# (or quadruple, '$', which is 'misc' either way).
_NEEDS_ENUMS = re.compile(r"[@/\\|<>]").search
_BOND_CODE_OF_ORDER = {1.0: int(rdchem.BondType.SINGLE), 2.0: int(rdchem.BondType.DOUBLE),
                       3.0: int(rdchem.BondType.TRIPLE), 1.5: int(rdchem.BondType.AROMATIC)}
_OTHER_BOND = int(rdchem.BondType.OTHER)


def _lookup(table: np.ndarray, codes: np.ndarray) -> np.ndarray:
    return table[np.clip(codes, 0, len(table) - 1)]


def _range_index(values: np.ndarray, low: int, high: int, misc: int) -> np.ndarray:
    """OGB's ``safe_index`` for a contiguous integer vocabulary ``low..high``."""
    inside = (values >= low) & (values <= high)
    return np.where(inside, values - low, misc).astype(np.int8)


def _atom_features(raw: np.ndarray) -> np.ndarray:
    """Turn raw RDKit atom properties (n, 9) into OGB indices (n, 9) int8."""
    out = np.empty(raw.shape, dtype=np.int8)
    out[:, 0] = _range_index(raw[:, 0], 1, 118, 118)
    out[:, 1] = _lookup(_CHIRAL, raw[:, 1])
    out[:, 2] = _range_index(raw[:, 2], 0, 10, 11)
    out[:, 3] = _range_index(raw[:, 3], -5, 5, 11)
    out[:, 4] = _range_index(raw[:, 4], 0, 8, 9)
    out[:, 5] = _range_index(raw[:, 5], 0, 4, 5)
    out[:, 6] = _lookup(_HYBRID, raw[:, 6])
    out[:, 7] = raw[:, 7] != 0
    out[:, 8] = raw[:, 8] != 0
    return out


def _bond_features(raw: np.ndarray) -> np.ndarray:
    """Turn raw RDKit bond properties (n, 3) into OGB indices (n, 3) int8."""
    out = np.empty(raw.shape, dtype=np.int8)
    out[:, 0] = _lookup(_BOND_TYPE, raw[:, 0])
    out[:, 1] = _lookup(_STEREO, raw[:, 1])
    out[:, 2] = raw[:, 2] != 0
    return out


def featurize_chunk(smiles) -> dict[str, np.ndarray]:
    """Featurize a sequence of SMILES into flat OGB graph arrays.

    This is the unit of work sent to each joblib worker: RDKit is called once per
    property per atom/bond (enum-valued properties only where the SMILES can set them), all values go into one flat Python list for the whole
    chunk, and the OGB index mapping happens once, vectorised, on the chunk.

    Parameters
    ----------
    smiles : sequence of str
        SMILES strings.

    Returns
    -------
    dict of str to numpy.ndarray
        ``x`` (total_atoms, 9) int8, ``edge_index`` (2, total_edges) int32 local atom
        indices, ``edge_attr`` (total_edges, 3) int8, ``num_nodes`` and ``num_edges``
        (n,) int64, and ``invalid`` (k,) int64 positions (in ``smiles``) that RDKit
        could not parse or that ``readable_smiles`` refused unparsed (not ASCII, or
        longer than ``MAX_SMILES_LENGTH``); invalid molecules get zero atoms.
    """
    atom_raw: list = []
    bond_raw: list = []
    num_nodes = np.zeros(len(smiles), dtype=np.int64)
    num_bonds = np.zeros(len(smiles), dtype=np.int64)
    invalid: list[int] = []
    _block = rdBase.BlockLogs()  # noqa: F841  RDKit's parse errors would flood stderr; we report them ourselves
    atom_extend = atom_raw.extend
    bond_extend = bond_raw.extend
    bond_code = _BOND_CODE_OF_ORDER.get
    for i, smi in enumerate(smiles):
        mol = mol_from_smiles(smi, empty_is_valid=True)
        if mol is None:
            invalid.append(i)
            continue
        n_atoms, n_bonds = mol.GetNumAtoms(), mol.GetNumBonds()
        atom_at, bond_at = mol.GetAtomWithIdx, mol.GetBondWithIdx
        # Enum getters cost ~5x a plain getter and wrapper creation dominates, so the
        # common case (no stereo / dative / CXSMILES syntax) skips the enums whose
        # value the SMILES fixes: chirality and bond stereo are then unset, and the
        # bond type follows from its order. Enum members are ints for numpy.
        if _NEEDS_ENUMS(smi) is None:
            for k in range(n_atoms):
                a = atom_at(k)
                atom_extend((a.GetAtomicNum(), 0, a.GetTotalDegree(), a.GetFormalCharge(),
                             a.GetTotalNumHs(), a.GetNumRadicalElectrons(),
                             a.GetHybridization(), a.GetIsAromatic(), a.IsInRing()))
            for k in range(n_bonds):
                b = bond_at(k)
                bond_extend((b.GetBeginAtomIdx(), b.GetEndAtomIdx(),
                             bond_code(b.GetBondTypeAsDouble(), _OTHER_BOND), 0,
                             b.GetIsConjugated()))
        else:
            for k in range(n_atoms):
                a = atom_at(k)
                atom_extend((a.GetAtomicNum(), a.GetChiralTag(), a.GetTotalDegree(),
                             a.GetFormalCharge(), a.GetTotalNumHs(),
                             a.GetNumRadicalElectrons(), a.GetHybridization(),
                             a.GetIsAromatic(), a.IsInRing()))
            for k in range(n_bonds):
                b = bond_at(k)
                bond_extend((b.GetBeginAtomIdx(), b.GetEndAtomIdx(), b.GetBondType(),
                             b.GetStereo(), b.GetIsConjugated()))
        num_nodes[i] = n_atoms
        num_bonds[i] = n_bonds

    atoms = np.array(atom_raw, dtype=np.int64).reshape(-1, 9)
    bonds = np.array(bond_raw, dtype=np.int64).reshape(-1, 5)
    # OGB order: for bond k, edge 2k is (begin, end) and edge 2k+1 is (end, begin).
    edge_index = np.empty((2, 2 * len(bonds)), dtype=np.int32)
    edge_index[0, 0::2] = bonds[:, 0]
    edge_index[1, 0::2] = bonds[:, 1]
    edge_index[0, 1::2] = bonds[:, 1]
    edge_index[1, 1::2] = bonds[:, 0]
    return {
        "x": _atom_features(atoms),
        "edge_index": edge_index,
        "edge_attr": np.repeat(_bond_features(bonds[:, 2:]), 2, axis=0),
        "num_nodes": num_nodes,
        "num_edges": 2 * num_bonds,
        "invalid": np.asarray(invalid, dtype=np.int64),
    }
