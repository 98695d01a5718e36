"""Finding a dataset's file: data home, bundled copy, or download + normalise.

Resolution order for a registered dataset ``name`` (see :func:`locate`):

1. ``<data home>/<name>.csv.gz`` (the normalised layout);
2. the raw DeepChem file placed by hand in ``<data home>/raw/`` (e.g.
   ``raw/HIV.csv``, the URL's file name; a subfolder because pcba's raw
   file is itself called ``pcba.csv.gz``):
   it is checksum-verified, normalised and cached as ``<name>.csv.gz``;
3. the copy bundled in the package's ``data/`` folder, if any;
4. a download of the raw file from ``DatasetInfo.url``, checksum-verified,
   normalised and cached in the data home.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import warnings
from pathlib import Path

import numpy as np

from .._files import atomic_write
from ._base import CLASSIFICATION
from ._registry import DATA_DIR, get_dataset_info

__all__ = ["get_data_home", "locate", "find_local", "normalise_raw", "DownloadError"]

_TIMEOUT = 60


class DownloadError(OSError):
    """A dataset is not available locally and could not be downloaded."""


def _default_data_home():
    if os.name == "nt":  # pragma: no cover - platform specific
        base = os.environ.get("LOCALAPPDATA") or os.path.expanduser("~")
        return Path(base) / "molselect" / "Cache"
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "molselect"


def get_data_home(data_home=None):
    """Return the folder where molselect looks for and caches dataset files.

    Parameters
    ----------
    data_home : str or path-like, optional
        Explicit folder.  When omitted, the ``MOLSELECT_DATA`` environment
        variable is used, else the user cache folder
        (``$XDG_CACHE_HOME/molselect`` or ``~/.cache/molselect``;
        ``%LOCALAPPDATA%\\molselect\\Cache`` on Windows).

    Returns
    -------
    pathlib.Path
        The folder (not created: it is made on the first download).
    """
    if data_home is None:
        data_home = os.environ.get("MOLSELECT_DATA") or _default_data_home()
    return Path(os.path.expanduser(str(data_home)))


def _describe_home(data_home):
    if data_home is not None:
        return "the data_home argument"
    if os.environ.get("MOLSELECT_DATA"):
        return "MOLSELECT_DATA"
    return "the default data home (the user cache folder)"


def find_local(info, data_home=None):
    """Find a dataset's file without downloading.

    Parameters
    ----------
    info : DatasetInfo or str
        The dataset.
    data_home : str or path-like, optional
        See :func:`get_data_home`.

    Returns
    -------
    (pathlib.Path or None, str or None)
        The file and where it came from: ``"data_home"``, ``"raw"`` (a raw
        file in the data home that still needs normalising) or ``"bundled"``;
        ``(None, None)`` when a download is needed.
    """
    info = get_dataset_info(info)
    home = get_data_home(data_home)
    normalised = home / f"{info.name}.csv.gz"
    if normalised.is_file():
        return normalised, "data_home"
    if info.raw_filename and (home / "raw" / info.raw_filename).is_file():
        return home / "raw" / info.raw_filename, "raw"
    if info.bundled and (DATA_DIR / info.bundled).is_file():
        return DATA_DIR / info.bundled, "bundled"
    return None, None


def locate(info, data_home=None, download=True):
    """Return the normalised file of a dataset, downloading it if needed.

    Parameters
    ----------
    info : DatasetInfo or str
        The dataset.
    data_home : str or path-like, optional
        See :func:`get_data_home`.
    download : bool, default True
        Whether a missing file may be downloaded.

    Returns
    -------
    (pathlib.Path, str)
        The normalised ``csv.gz`` and its source: ``"data_home"``,
        ``"bundled"`` or ``"download"`` (a raw file normalised now counts as
        ``"download"``).

    Raises
    ------
    DownloadError
        When the file is nowhere local and the download fails (or is not
        allowed); the message says where it looked and how to provide it.
    ValueError
        When the downloaded (or hand-placed raw) file fails its checksum or
        lacks task columns; nothing is cached then.
    """
    info = get_dataset_info(info)
    home = get_data_home(data_home)
    path, source = find_local(info, data_home)
    if source in ("data_home", "bundled"):
        return path, source
    target = home / f"{info.name}.csv.gz"
    if source == "raw":
        _verify(path, info, origin=str(path))
        _write_normalised(normalise_raw(path, info), target, info)
        return target, "download"
    where = _describe_home(data_home)
    how = (
        f"Provide it by (a) putting a normalised {info.name}.csv.gz (first column smiles, one "
        f"column per task) in {home}, or (b) downloading {info.url} yourself and saving it "
        f"as {home / 'raw' / (info.raw_filename or '?')}, or (c) pointing MOLSELECT_DATA / data_home "
        "at a folder that holds either."
    )
    if not download or not info.url:
        raise DownloadError(
            f"dataset {info.name!r} was not found in {home} (data home from {where}) and is "
            f"not bundled with molselect. {how}"
        )
    home.mkdir(parents=True, exist_ok=True)
    # Download into a temporary folder of the data home, removed afterwards whatever
    # happens, and keep the URL's file name so pandas infers the compression from it.
    with tempfile.TemporaryDirectory(dir=home, prefix=".download-") as tmp:
        raw = Path(tmp) / info.raw_filename
        try:
            with urllib.request.urlopen(info.url, timeout=_TIMEOUT) as response, \
                    open(raw, "wb") as out:
                shutil.copyfileobj(response, out)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise DownloadError(
                f"dataset {info.name!r} was not found in {home} (data home from {where}), is "
                f"not bundled with molselect, and downloading {info.url} failed: {exc}. {how}"
            ) from exc
        _verify(raw, info, origin=info.url)
        frame = normalise_raw(raw, info)
        _write_normalised(frame, target, info)
    return target, "download"


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _verify(path, info, origin):
    actual = _sha256(path)
    if info.sha256 is None:
        warnings.warn(
            f"no sha256 is recorded for dataset {info.name!r}; the file from {origin} has "
            f"sha256 {actual}. Pin it with molselect.datasets._registry.register("
            "dataclasses.replace(info, sha256=...), overwrite=True).",
            UserWarning, stacklevel=3,
        )
        return
    if actual.lower() != info.sha256.lower():
        raise ValueError(
            f"checksum mismatch for dataset {info.name!r} from {origin}: expected sha256 "
            f"{info.sha256}, got {actual}. The file was discarded and nothing was cached; "
            "the download may be corrupted or the source may have changed."
        )


def normalise_raw(path, info):
    """Turn a raw DeepChem-format file into molselect's normalised table.

    Parameters
    ----------
    path : str or path-like
        The raw csv (optionally ``.gz``).
    info : DatasetInfo or str
        The dataset, giving the SMILES column, renames and tasks.

    Returns
    -------
    pandas.DataFrame
        Column ``smiles`` (whitespace stripped) then one float column per task
        in ``info.tasks`` order, NaN = missing.

    Raises
    ------
    ValueError
        When the SMILES column or a task column is missing, or a label is not
        numeric.
    """
    import pandas as pd

    from ._io import read_table

    info = get_dataset_info(info)
    raw = read_table(Path(path), remedy=f"Delete {path} and download {info.url} again")
    renames = dict(info.raw_renames)
    renames[info.raw_smiles_col] = "smiles"
    raw = raw.rename(columns=renames)
    missing = [c for c in ("smiles", *info.tasks) if c not in raw.columns]
    if missing:
        shown = ", ".join(map(repr, missing[:10])) + (" ..." if len(missing) > 10 else "")
        raise ValueError(
            f"raw file {Path(path).name} for dataset {info.name!r} lacks {len(missing)} "
            f"expected column(s): {shown}; it has {list(raw.columns)[:20]}"
        )
    out = pd.DataFrame({"smiles": raw["smiles"].astype("string").str.strip()})
    labels = {}
    for task in info.tasks:
        values = pd.to_numeric(raw[task], errors="coerce")
        bad = values.isna() & raw[task].notna() & (raw[task].astype("string").str.strip() != "")
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise ValueError(
                f"raw file {Path(path).name}: column {task!r} has a non-numeric label "
                f"{raw[task].iloc[row]!r} at row {row}"
            )
        labels[task] = values.astype(float)
    return pd.concat([out, pd.DataFrame(labels)], axis=1)


def _write_normalised(frame, target, info):
    classification = info.task_type == CLASSIFICATION
    frame = frame.copy()
    if classification:
        # Written as 0/1 rather than 0.0/1.0, like the reference files.
        for col in frame.columns[1:]:
            values = frame[col]
            if np.all(np.mod(values.dropna(), 1) == 0):
                frame[col] = values.astype("Int64")
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Streamed into the atomic writer's temporary file: the table is never held as text.
    atomic_write(target, lambda handle: frame.to_csv(
        handle, index=False, compression={"method": "gzip", "mtime": 0}))
