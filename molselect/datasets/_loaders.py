"""``load_dataset``: a registered dataset, cleaned and split the paper's way; ``list_datasets``."""

from __future__ import annotations

import warnings

import numpy as np

from ..featurize._smiles import parse_smiles, smiles_array, smiles_too_long, too_long_phrase
from ._base import MoleculeDataset
from ._download import find_local, locate
from ._io import _describe_rows, read_table
from ._registry import dataset_names, get_dataset_info
from ._split import random_split, scaffold_split
from ._labels import check_finite_labels

__all__ = ["DatasetSplits", "list_datasets", "load_dataset", "BUNDLED_SAMPLE_SEED"]

#: Seed of the bundled qm8 / qm9 samples: they are exactly what
#: ``load_dataset(name, random_state=0)`` draws from the full file.
BUNDLED_SAMPLE_SEED = 0

_DEFAULT = "default"


class DatasetSplits:
    """The result of :func:`load_dataset`: train / valid / test plus context.

    Unpacks like a tuple: ``train, valid, test = load_dataset("bbbp")``.

    Attributes
    ----------
    train, valid, test : MoleculeDataset
        The splits; each is named after the dataset (e.g. ``"bbbp"``).
    full : MoleculeDataset
        Every molecule that was split (after dropping unparsable SMILES and,
        for qm8 / qm9, after sampling); ``full.dropped_rows`` holds the row
        numbers of the source file that were dropped.
    info : DatasetInfo or None
        The registry entry; None for a user's data split by
        :func:`~molselect.datasets.from_csv` / ``from_frame(split=...)``.
    indices : dict of str to ndarray of int
        Row indices of ``train`` / ``valid`` / ``test`` in ``full``.
    source_rows : ndarray of int
        Row number in the source file of each molecule of ``full``.
    split : str
        ``"scaffold"``, ``"random"`` or (user data) ``"cluster"``.
    source : str
        Where the file came from: ``"data_home"``, ``"bundled"`` or
        ``"download"``; ``"user"`` for a user's data.
    path : str
        The normalised file that was read (for user data, the file or the
        name in messages).
    """

    __slots__ = ("train", "valid", "test", "full", "info", "indices", "source_rows", "split",
                 "source", "path")

    def __init__(self, train, valid, test, full, info, indices, source_rows, split, source,
                 path):
        self.train, self.valid, self.test, self.full = train, valid, test, full
        self.info, self.indices, self.source_rows = info, indices, source_rows
        self.split, self.source, self.path = split, source, path

    def __iter__(self):
        return iter((self.train, self.valid, self.test))

    def __len__(self):
        return 3

    def __getitem__(self, i):
        return (self.train, self.valid, self.test)[i]

    def __repr__(self):
        name = self.info.name if self.info is not None else self.full.name
        return (f"DatasetSplits({name!r}, split={self.split!r}, "
                f"train={len(self.train)}, valid={len(self.valid)}, test={len(self.test)}, "
                f"source={self.source!r})")


def _sample_valid(smiles, k, random_state):
    """Draw ``k`` parsable molecules in a seeded random order; parse only what is needed.

    Returns (chosen rows sorted, mols of the chosen rows, invalid rows met).
    """
    rng = np.random.default_rng(random_state)
    order = rng.permutation(len(smiles))
    chosen, bad = [], []
    # Parse in chunks: only the sample (plus replacements for invalid ones) is
    # parsed, which keeps sampling 3,000 of qm9's 130k molecules fast.
    start = 0
    while len(chosen) < k and start < len(order):
        chunk = order[start:start + max(k - len(chosen), 64)]
        start += len(chunk)
        mols, invalid = parse_smiles([smiles[i] for i in chunk])
        for row, mol, bad_row in zip(chunk, mols, invalid):
            if bad_row:
                bad.append(int(row))
            elif len(chosen) < k:
                chosen.append((int(row), mol))
    chosen.sort(key=lambda p: p[0])
    rows = np.array([r for r, _ in chosen], dtype=np.int64)
    return rows, [m for _, m in chosen], np.array(sorted(bad), dtype=np.int64)


def _remedy(info, source, path):
    """What to do about a damaged dataset file, by where it came from."""
    if source == "bundled":
        return ("This copy is bundled with molselect and should not change: reinstall "
                "molselect, or put a good normalised "
                f"{info.name}.csv.gz in a data home (MOLSELECT_DATA)")
    fallback = ("uses its bundled copy" if info.bundled
                else "downloads it again (or says where to put it)")
    return f"Delete {path} so that molselect {fallback}, or replace it with a good copy"


def load_dataset(name, split=None, data_home=None, random_state=0, max_molecules=_DEFAULT,
                 fracs=(0.8, 0.1, 0.1)):
    """Load a registered dataset, drop unparsable SMILES, and split it.

    The file is looked for in the data home (``<name>.csv.gz``), then among
    the copies bundled with molselect (bace, bbbp, clintox, sider, tox21,
    toxcast, esol, freesolv, lipo, and 3,000-molecule samples of qm8 / qm9),
    and is otherwise downloaded from DeepChem, checksum-verified, normalised
    and cached in the data home.

    Parameters
    ----------
    name : str
        A registered dataset (see :func:`list_datasets`).
    split : {None, "scaffold", "random"}, default None
        ``None`` uses the paper's split (scaffold; random for qm8 / qm9).
    data_home : str or path-like, optional
        See :func:`get_data_home`.
    random_state : int, default 0
        Seed of the random split and of the qm8 / qm9 sample.
    max_molecules : int or None, default: 3000 for qm8 / qm9, None otherwise
        Sample this many parsable molecules (seeded by ``random_state``,
        kept in file order) before splitting, as the paper does for qm8 and
        qm9; ``None`` keeps all.  Without a data home, qm8 / qm9 come from the
        bundled sample, which is exactly the ``random_state=0`` sample of the
        full file: other seeds then re-split that sample (with a warning), and
        more than 3,000 molecules need the full file.
    fracs : tuple of three floats, default (0.8, 0.1, 0.1)
        Train / valid / test fractions.

    Returns
    -------
    DatasetSplits
        ``.train``, ``.valid``, ``.test``, ``.full``, ``.info`` and more.

    Raises
    ------
    ValueError
        Unknown dataset or split; a damaged file (empty, truncated or invalid
        gzip, not UTF-8, non-numeric or non-finite labels): the message names
        the file and says what to do.
    molselect.datasets._download.DownloadError
        The data is not local and cannot be downloaded; the message says
        where it was looked for and how to provide it.

    Warns
    -----
    UserWarning
        When SMILES that RDKit cannot parse are dropped (count and rows), and
        when a data-home file has another number of rows than the registry's
        reference file (a truncated file, or another version).
    """
    info = get_dataset_info(name)
    split = split or info.split
    if split not in ("scaffold", "random"):
        raise ValueError(f"split must be None, 'scaffold' or 'random', got {split!r}")
    if max_molecules == _DEFAULT:
        max_molecules = info.max_molecules
    if max_molecules is not None and int(max_molecules) < 1:
        raise ValueError(f"max_molecules must be a positive int or None, got {max_molecules!r}")

    path, source = locate(info, data_home)
    frame = read_table(path, remedy=_remedy(info, source, path))
    expected = ["smiles", *info.tasks]
    if list(frame.columns) != expected:
        missing = [c for c in expected if c not in frame.columns]
        if missing or frame.columns[0] != "smiles":
            raise ValueError(
                f"{path}: not in the normalised layout of dataset {info.name!r} (first column "
                f"smiles, then its {info.n_tasks} tasks); missing {missing[:10]}"
            )
        frame = frame[expected]
    if source == "data_home" and info.n_rows and len(frame) != info.n_rows:
        # A cut or partly written file parses fine; only its length gives it away.
        # A warning, not an error: a data home may deliberately hold another version.
        warnings.warn(
            f"{path} has {len(frame)} rows but the registry's reference {info.name!r} file has "
            f"{info.n_rows}: it may be truncated or another version of the dataset. "
            f"{_remedy(info, source, path)}; if it is deliberately another version, register "
            "it with molselect.datasets._registry.register(dataclasses.replace(info, "
            "n_rows=...), overwrite=True)", UserWarning, stacklevel=2)
    smiles = smiles_array(frame["smiles"])
    try:
        y = frame[list(info.tasks)].to_numpy(dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path}: a label of dataset {info.name!r} is not a number ({exc}). "
                         f"{_remedy(info, source, path)}") from exc
    check_finite_labels(y, info.tasks, str(path))

    if source == "bundled" and info.max_molecules is not None:
        if max_molecules is None or max_molecules > len(smiles):
            warnings.warn(
                f"{info.name}: only the bundled {len(smiles)}-molecule sample is available; "
                f"put the full {info.name}.csv.gz in a data home (MOLSELECT_DATA) for more",
                UserWarning, stacklevel=2)
        elif random_state != BUNDLED_SAMPLE_SEED and max_molecules == len(smiles):
            warnings.warn(
                f"{info.name}: the bundled sample was drawn with random_state="
                f"{BUNDLED_SAMPLE_SEED}; random_state={random_state} changes only the split. "
                f"Put the full {info.name}.csv.gz in a data home to draw another sample",
                UserWarning, stacklevel=2)

    if max_molecules is not None and max_molecules < len(smiles):
        rows, mols, dropped = _sample_valid(smiles, int(max_molecules), random_state)
    else:
        mols, invalid = parse_smiles(smiles)
        dropped = np.flatnonzero(invalid).astype(np.int64)
        rows = np.flatnonzero(~invalid).astype(np.int64)
        if dropped.size:
            mols = [m for m, bad in zip(mols, invalid) if not bad]
    if dropped.size:
        where = "this copy of " if source == "bundled" else ""
        n_long = sum(smiles_too_long(smiles[r]) for r in dropped)
        # Over-long SMILES are never parsed: say so rather than blame RDKit.
        what = "SMILES that RDKit cannot parse" if not n_long else (
            f"invalid SMILES ({n_long} {too_long_phrase()}, {dropped.size - n_long} that RDKit "
            "cannot parse)")
        warnings.warn(
            f"{info.name}: dropped {dropped.size} {what} from "
            f"{where}{path.name} (rows {_describe_rows(dropped)}); see .full.dropped_rows",
            UserWarning, stacklevel=2)

    full = MoleculeDataset(smiles[rows], y[rows], tasks=list(info.tasks),
                           task_types=info.task_types, metric=info.metric, name=info.name)
    full.dropped_rows = dropped
    if split == "scaffold":
        parts = scaffold_split(full.ids, *fracs, mols=mols)
    else:
        parts = random_split(len(full), fracs, random_state=random_state)
    train, valid, test = (full.subset(p) for p in parts)
    for part in (train, valid, test):
        part.dropped_rows = dropped
    indices = dict(zip(("train", "valid", "test"), parts))
    return DatasetSplits(train, valid, test, full, info, indices, rows, split, source,
                         str(path))


def list_datasets(data_home=None):
    """Describe every registered dataset as a table.

    Parameters
    ----------
    data_home : str or path-like, optional
        Data home checked for the ``available`` column (see
        :func:`~molselect.datasets.get_data_home`).

    Returns
    -------
    pandas.DataFrame
        One row per dataset, columns ``name``, ``molecules`` (rows of the
        reference file), ``loads`` (molecules :func:`load_dataset` returns
        by default: qm8 and qm9 sample 3,000, as the paper does), ``tasks``
        (count), ``task_type``, ``metric``, ``split``, ``bundled`` (a copy
        or sample ships with molselect), ``available`` (it loads without a
        download: in the data home or bundled), ``sample`` (what loads is
        the bundled sample, not the full dataset: the full one needs a
        download) and ``description``.
    """
    import pandas as pd

    rows = []
    for info in map(get_dataset_info, dataset_names()):
        path, source = find_local(info, data_home)
        loads = info.n_rows if info.max_molecules is None else min(info.n_rows,
                                                                    info.max_molecules)
        rows.append({
            "name": info.name, "molecules": info.n_rows, "loads": loads,
            "tasks": info.n_tasks, "task_type": info.task_type, "metric": info.metric,
            "split": info.split, "bundled": info.bundled is not None,
            "available": path is not None,
            # Only the sampled datasets ship a sample instead of the whole file.
            "sample": source == "bundled" and info.max_molecules is not None,
            "description": info.description,
        })
    return pd.DataFrame(rows)
