"""The flat molecule-graph store and the parallel SMILES featurizer."""

from __future__ import annotations

import os
import sys
from typing import Callable, Sequence

from typing import TYPE_CHECKING

import numpy as np

from .._ragged import ranges
from .._signals import sigterm_raises
from ._cache import load_or_build
from ._ogb import featurize_chunk
from ._smiles import describe_smiles, too_long_note

if TYPE_CHECKING:  # torch is imported lazily: joblib workers only need numpy + RDKit
    from torch_geometric.data import Batch

__all__ = ["MolGraphs", "featurize", "map_chunks", "raise_invalid"]

PARALLEL_THRESHOLD = 5000
"""Below this many SMILES, ``n_jobs=None`` runs serially: worker start-up costs more."""


def _as_smiles_array(smiles) -> np.ndarray:
    if isinstance(smiles, str):
        raise TypeError("smiles must be a sequence of SMILES strings, not a single str")
    arr = np.empty(len(smiles), dtype=object)
    arr[:] = list(smiles)
    return arr


def _effective_jobs(n: int, n_jobs: int | None, threshold: int) -> int:
    if n_jobs is None:
        if n < threshold:
            return 1
        n_jobs = -1
    if n_jobs < 0:
        n_jobs = max(1, (os.cpu_count() or 1) + 1 + n_jobs)
    return max(1, min(int(n_jobs), max(1, n)))


def map_chunks(func: Callable[[list], dict], smiles: np.ndarray, n_jobs: int | None,
               parallel_threshold: int = PARALLEL_THRESHOLD) -> list[dict]:
    """Apply ``func`` to contiguous chunks of ``smiles``, in parallel for large inputs.

    Parameters
    ----------
    func : callable
        Picklable function from a list of SMILES to a dict of arrays.
    smiles : numpy.ndarray of object
        The SMILES.
    n_jobs : int or None
        Worker processes; None means all cores when ``len(smiles) >=
        parallel_threshold``, else 1; negative values count back from all cores.
    parallel_threshold : int, default=5000
        Size at which ``n_jobs=None`` switches to parallel.

    Returns
    -------
    list of dict
        One result per chunk, in input order. Chunk offsets follow from the chunk
        sizes, which are ``numpy.array_split(smiles, n_chunks)``.
    """
    jobs = _effective_jobs(len(smiles), n_jobs, parallel_threshold)
    if jobs == 1:
        return [func(list(smiles))]
    from joblib import Parallel, delayed
    try:  # joblib >= 1.5 uses the cloudpickle package, older ones a vendored copy
        import cloudpickle
    except ImportError:  # pragma: no cover
        from joblib.externals import cloudpickle

    # Send the chunk function by value: by reference, each fresh worker would import
    # the molselect package, whose __init__ pulls in torch (~2 s and ~400 MB per
    # worker) although the kernel needs only numpy and RDKit.
    cloudpickle.register_pickle_by_value(sys.modules[func.__module__])
    # A few chunks per worker balance uneven molecule sizes while keeping the
    # per-task pickling overhead small.
    chunks = np.array_split(smiles, min(len(smiles), jobs * 4))
    # While the workers run, SIGTERM unwinds like Ctrl-C (joblib's clean-up ends them), then
    # the process still dies by SIGTERM; unless someone (the command line) handles it.
    with sigterm_raises(only_if_default=True, redeliver=True):
        return Parallel(n_jobs=jobs)(delayed(func)(list(c)) for c in chunks)


def raise_invalid(smiles: np.ndarray, invalid: np.ndarray) -> None:
    """Raise ``ValueError`` naming the first invalid SMILES, if any.

    Parameters
    ----------
    smiles : numpy.ndarray of object
        All input SMILES.
    invalid : numpy.ndarray of int
        Positions in ``smiles`` that RDKit could not parse, or that were too
        long to be parsed at all (see ``MAX_SMILES_LENGTH``).

    Raises
    ------
    ValueError
        If ``invalid`` is not empty; over-long SMILES are shown cut short,
        with their length, and the message says why they are refused.
    """
    if len(invalid) == 0:
        return
    shown = ", ".join(f"{int(i)}: {describe_smiles(smiles[i])}" for i in invalid[:10])
    more = f" (and {len(invalid) - 10} more)" if len(invalid) > 10 else ""
    why = too_long_note(smiles[i] for i in invalid)
    raise ValueError(f"{len(invalid)} invalid SMILES (position: SMILES) {shown}{more}{why}")


def _ragged_gather(ptr: np.ndarray, idx: np.ndarray):
    """Flat positions of the rows of segments ``idx`` given segment offsets ``ptr``.

    Returns the positions, the per-segment sizes and the segments' offsets in
    the output (:func:`molselect._ragged.ranges` replaces a Python loop over
    the selected graphs).
    """
    sizes = ptr[idx + 1] - ptr[idx]
    out_ptr = np.zeros(len(idx) + 1, dtype=np.int64)
    np.cumsum(sizes, out=out_ptr[1:])
    return ranges(ptr[idx], sizes), sizes, out_ptr


class MolGraphs:
    """Flat, concatenated OGB graphs of ``n`` molecules.

    Parameters
    ----------
    x : numpy.ndarray of shape (total_atoms, 9)
        Atom feature indices (see ``ATOM_FEATURE_DIMS``), stored as int8.
    edge_index : numpy.ndarray of shape (2, total_edges)
        Local atom indices (``0..num_nodes[i]-1``) within each molecule, both
        directions of every bond in OGB order; stored as int32 and upcast to int64
        by :meth:`batch`.
    edge_attr : numpy.ndarray of shape (total_edges, 3)
        Bond feature indices (see ``BOND_FEATURE_DIMS``), stored as int8.
    node_ptr : numpy.ndarray of shape (n + 1,)
        Offsets of each molecule's atoms in ``x``.
    edge_ptr : numpy.ndarray of shape (n + 1,)
        Offsets of each molecule's edges in ``edge_index`` / ``edge_attr``.
    smiles : array-like of str, optional
        The SMILES the graphs came from.

    Attributes
    ----------
    num_nodes : numpy.ndarray of shape (n,)
        Atoms per molecule.
    num_edges : numpy.ndarray of shape (n,)
        Directed edges per molecule (twice its bonds).

    See Also
    --------
    featurize : Build a ``MolGraphs`` from SMILES.
    """

    def __init__(self, x, edge_index, edge_attr, node_ptr, edge_ptr, smiles=None):
        self.x = np.asarray(x)
        self.edge_index = np.asarray(edge_index)
        self.edge_attr = np.asarray(edge_attr)
        self.node_ptr = np.asarray(node_ptr, dtype=np.int64)
        self.edge_ptr = np.asarray(edge_ptr, dtype=np.int64)
        n = len(self.node_ptr) - 1
        self.smiles = (_as_smiles_array(smiles) if smiles is not None
                       else np.full(n, None, dtype=object))
        if (len(self.edge_ptr) != n + 1 or len(self.smiles) != n
                or self.node_ptr[-1] != len(self.x) or self.edge_ptr[-1] != len(self.edge_attr)
                or self.edge_index.shape != (2, len(self.edge_attr))):
            raise ValueError("inconsistent MolGraphs arrays")

    def __len__(self) -> int:
        return len(self.node_ptr) - 1

    def __repr__(self) -> str:
        return (f"MolGraphs(n={len(self)}, atoms={len(self.x)}, "
                f"edges={self.edge_index.shape[1]})")

    @property
    def num_nodes(self) -> np.ndarray:
        """Atoms per molecule, shape (n,)."""
        return np.diff(self.node_ptr)

    @property
    def num_edges(self) -> np.ndarray:
        """Directed edges per molecule, shape (n,)."""
        return np.diff(self.edge_ptr)

    def _indices(self, indices) -> np.ndarray:
        n = len(self)
        if indices is None:
            return np.arange(n, dtype=np.int64)
        if isinstance(indices, slice):
            return np.arange(n, dtype=np.int64)[indices]
        if hasattr(indices, "detach"):  # a torch.Tensor
            indices = indices.detach().cpu().numpy()
        idx = np.asarray(indices)
        if idx.dtype == bool:
            if idx.shape != (n,):
                raise IndexError(f"boolean mask of shape {idx.shape} for {n} molecules")
            return np.flatnonzero(idx)
        idx = idx.astype(np.int64, copy=False).reshape(-1)
        if len(idx) and (idx.min() < -n or idx.max() >= n):
            raise IndexError(f"molecule index out of range for {n} molecules")
        return np.where(idx < 0, idx + n, idx)

    def subset(self, indices) -> "MolGraphs":
        """Return the molecules at ``indices`` as a new ``MolGraphs``.

        Parameters
        ----------
        indices : array-like of int, boolean mask or slice
            Molecules to keep, in the given order (repeats allowed).

        Returns
        -------
        MolGraphs
            A copy holding only those molecules.
        """
        idx = self._indices(indices)
        nodes, _, node_ptr = _ragged_gather(self.node_ptr, idx)
        edges, _, edge_ptr = _ragged_gather(self.edge_ptr, idx)
        return MolGraphs(self.x[nodes], self.edge_index[:, edges], self.edge_attr[edges],
                         node_ptr, edge_ptr, self.smiles[idx])

    def batch(self, indices, device=None) -> Batch:
        """Gather molecules into one PyG ``Batch`` without a per-graph Python loop.

        Parameters
        ----------
        indices : array-like of int, boolean mask, slice or torch.Tensor
            Molecules of the batch, in order.
        device : str or torch.device, optional
            Where to put the tensors (default CPU).

        Returns
        -------
        torch_geometric.data.Batch
            With ``x`` (long), ``edge_index`` (long, offset to be global within the
            batch), ``edge_attr`` (long), ``batch`` (long graph id per node), ``ptr``
            and ``num_graphs``; equal to ``Batch.from_data_list`` over the graphs
            (``to_data_list()`` works too).
        """
        import torch
        from torch_geometric.data import Batch

        idx = self._indices(indices)
        nodes, n_nodes, node_ptr = _ragged_gather(self.node_ptr, idx)
        edges, n_edges, edge_ptr = _ragged_gather(self.edge_ptr, idx)
        edge_index = self.edge_index[:, edges].astype(np.int64)
        edge_index += np.repeat(node_ptr[:-1], n_edges)
        ptr = torch.from_numpy(node_ptr)
        eptr = torch.from_numpy(edge_ptr)
        out = Batch(
            x=torch.from_numpy(self.x[nodes].astype(np.int64)),
            edge_index=torch.from_numpy(edge_index),
            edge_attr=torch.from_numpy(self.edge_attr[edges].astype(np.int64)),
            batch=torch.from_numpy(np.repeat(np.arange(len(idx), dtype=np.int64), n_nodes)),
            ptr=ptr,
        )
        # The bookkeeping Batch.from_data_list would have left, so that
        # to_data_list() / get_example() / index_select() behave as usual.
        out._num_graphs = len(idx)
        zeros = torch.zeros(len(idx), dtype=torch.long)
        out._slice_dict = {"x": ptr, "edge_index": eptr, "edge_attr": eptr}
        out._inc_dict = {"x": zeros, "edge_index": ptr[:-1], "edge_attr": zeros}
        return out.to(device) if device is not None else out

    def to_pyg(self, indices=None) -> Batch:
        """Return all (or the given) molecules as one PyG ``Batch``.

        Parameters
        ----------
        indices : array-like of int, optional
            Molecules to include; all by default.

        Returns
        -------
        torch_geometric.data.Batch
            As :meth:`batch`.
        """
        return self.batch(indices)

    def __getitem__(self, i):
        """One molecule as a PyG ``Data`` (int), or a ``subset`` (anything else)."""
        if isinstance(i, (int, np.integer)):
            from torch_geometric.data import Data

            b = self.batch([i])
            return Data(x=b.x, edge_index=b.edge_index, edge_attr=b.edge_attr,
                        num_nodes=int(b.ptr[1]), smiles=self.smiles[int(i) % len(self)])
        return self.subset(i)

    @classmethod
    def concat(cls, parts: Sequence["MolGraphs"]) -> "MolGraphs":
        """Concatenate several ``MolGraphs`` in order.

        Parameters
        ----------
        parts : sequence of MolGraphs
            The stores to join.

        Returns
        -------
        MolGraphs
            All molecules of ``parts``, in order.
        """
        return cls._from_counts(
            [p.x for p in parts], [p.edge_index for p in parts], [p.edge_attr for p in parts],
            np.concatenate([p.num_nodes for p in parts]),
            np.concatenate([p.num_edges for p in parts]),
            np.concatenate([p.smiles for p in parts]))

    @classmethod
    def _from_counts(cls, xs, eis, eas, num_nodes, num_edges, smiles) -> "MolGraphs":
        node_ptr = np.zeros(len(num_nodes) + 1, dtype=np.int64)
        edge_ptr = np.zeros(len(num_edges) + 1, dtype=np.int64)
        np.cumsum(num_nodes, out=node_ptr[1:])
        np.cumsum(num_edges, out=edge_ptr[1:])
        return cls(np.concatenate(xs) if xs else np.empty((0, 9), np.int8),
                   np.concatenate(eis, axis=1) if eis else np.empty((2, 0), np.int32),
                   np.concatenate(eas) if eas else np.empty((0, 3), np.int8),
                   node_ptr, edge_ptr, smiles)


def featurize(smiles, n_jobs: int | None = None, cache: bool = True, verbose: bool = False,
              *, parallel_threshold: int = PARALLEL_THRESHOLD) -> MolGraphs:
    """Featurize SMILES into OGB molecular graphs (as ``ogb.utils.smiles2graph``).

    Parameters
    ----------
    smiles : sequence of str
        SMILES strings. An empty string is a valid molecule with no atoms.
    n_jobs : int or None, default=None
        Worker processes. None: all cores when there are at least
        ``parallel_threshold`` SMILES, else serial. Negative values count back from
        all cores (-1 = all).
    cache : bool, default=True
        Reuse / store the arrays in the disk cache (see ``load_or_build``), keyed by
        the exact SMILES sequence.
    verbose : bool, default=False
        Print the number of molecules, atoms, time and whether the cache was hit.
    parallel_threshold : int, default=5000
        Input size at which ``n_jobs=None`` turns parallel.

    Returns
    -------
    MolGraphs
        The graphs in input order; molecules without bonds have no edges.

    Raises
    ------
    ValueError
        If RDKit cannot parse some SMILES, or some are longer than
        ``MAX_SMILES_LENGTH`` (5,000 characters, refused unparsed); the message
        lists positions and SMILES (the first 10).

    Notes
    -----
    Atom and bond features equal OGB's ``atom_to_feature_vector`` /
    ``bond_to_feature_vector``, except that chirality and bond-stereo tags unknown
    to OGB (for which OGB raises) map to ``'misc'`` and ``STEREOANY``.

    Examples
    --------
    >>> g = featurize(["CCO", "[Na+].[Cl-]"], cache=False)
    >>> len(g), g.num_nodes.tolist(), g.num_edges.tolist()
    (2, [3, 2], [4, 0])
    >>> g.batch([1, 0]).edge_index.tolist()
    [[2, 3, 3, 4], [3, 2, 4, 3]]
    """
    import time

    smiles = _as_smiles_array(smiles)
    start = time.perf_counter()
    built = []

    def build() -> dict[str, np.ndarray]:
        built.append(True)
        parts = map_chunks(featurize_chunk, smiles, n_jobs, parallel_threshold)
        offsets = np.cumsum([0] + [len(p["num_nodes"]) for p in parts])
        raise_invalid(smiles, np.concatenate(
            [p["invalid"] + off for p, off in zip(parts, offsets)]))
        store = MolGraphs._from_counts(
            [p["x"] for p in parts], [p["edge_index"] for p in parts],
            [p["edge_attr"] for p in parts],
            np.concatenate([p["num_nodes"] for p in parts]),
            np.concatenate([p["num_edges"] for p in parts]), smiles)
        return {"x": store.x, "edge_index": store.edge_index, "edge_attr": store.edge_attr,
                "node_ptr": store.node_ptr, "edge_ptr": store.edge_ptr}

    arrays = load_or_build("ogb_graphs", smiles, build, cache=cache,
                           required=("x", "edge_index", "edge_attr", "node_ptr", "edge_ptr"))
    graphs = MolGraphs(arrays["x"], arrays["edge_index"], arrays["edge_attr"],
                       arrays["node_ptr"], arrays["edge_ptr"], smiles)
    if verbose:
        source = "built" if built else "loaded from cache"
        print(f"featurize: {len(graphs)} molecules, {len(graphs.x)} atoms {source} "
              f"in {time.perf_counter() - start:.2f} s")
    return graphs
