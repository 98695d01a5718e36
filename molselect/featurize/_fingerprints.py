"""MACCS structural-key fingerprints (used by MolGroup's structure affinity)."""

from __future__ import annotations

import numpy as np
from rdkit import rdBase
from rdkit.Chem import MACCSkeys

from ._cache import load_or_build
from ._graphs import PARALLEL_THRESHOLD, _as_smiles_array, map_chunks, raise_invalid
from ._smiles import mol_from_smiles

__all__ = ["MACCS_BITS", "maccs_fingerprints"]

MACCS_BITS = 167
"""Length of RDKit's MACCS keys (bit 0 is unused, as in RDKit)."""


def _maccs_chunk(smiles) -> dict[str, np.ndarray]:
    """MACCS bits of a chunk; invalid SMILES get an all-zero row and are reported."""
    bits: list[str] = []
    invalid: list[int] = []
    empty = "0" * MACCS_BITS
    _block = rdBase.BlockLogs()  # noqa: F841  we report parse errors ourselves
    for i, smi in enumerate(smiles):
        mol = mol_from_smiles(smi, empty_is_valid=True)
        if mol is None:
            invalid.append(i)
            bits.append(empty)
        else:
            bits.append(MACCSkeys.GenMACCSKeys(mol).ToBitString())
    # One decode of the joined '0'/'1' text beats a per-molecule numpy conversion.
    flat = np.frombuffer("".join(bits).encode("ascii"), dtype=np.uint8) - ord("0")
    return {"fp": flat.reshape(len(smiles), MACCS_BITS),
            "invalid": np.asarray(invalid, dtype=np.int64)}


def maccs_fingerprints(smiles, n_jobs: int | None = None, cache: bool = True, *,
                       parallel_threshold: int = PARALLEL_THRESHOLD) -> np.ndarray:
    """Compute RDKit MACCS keys for SMILES.

    Parameters
    ----------
    smiles : sequence of str
        SMILES strings.
    n_jobs : int or None, default=None
        Worker processes; None: all cores for at least ``parallel_threshold``
        SMILES, else serial.
    cache : bool, default=True
        Reuse / store the result in the disk cache (see ``load_or_build``).
    parallel_threshold : int, default=5000
        Input size at which ``n_jobs=None`` turns parallel.

    Returns
    -------
    numpy.ndarray of shape (n, 167), dtype uint8
        0/1 bits, as ``MACCSkeys.GenMACCSKeys``.

    Raises
    ------
    ValueError
        If RDKit cannot parse some SMILES, or some are longer than
        ``MAX_SMILES_LENGTH`` (positions and SMILES are listed).

    Examples
    --------
    >>> fp = maccs_fingerprints(["CCO"], cache=False)
    >>> fp.shape, fp.dtype.name, int(fp[0, 139])   # bit 139: OH
    ((1, 167), 'uint8', 1)
    """
    smiles = _as_smiles_array(smiles)

    def build() -> dict[str, np.ndarray]:
        parts = map_chunks(_maccs_chunk, smiles, n_jobs, parallel_threshold)
        offsets = np.cumsum([0] + [len(p["fp"]) for p in parts])
        raise_invalid(smiles, np.concatenate(
            [p["invalid"] + off for p, off in zip(parts, offsets)]))
        if not parts:
            return {"fp": np.zeros((0, MACCS_BITS), dtype=np.uint8)}
        return {"fp": np.concatenate([p["fp"] for p in parts])}

    return load_or_build("maccs", smiles, build, cache=cache, required=("fp",))["fp"]
