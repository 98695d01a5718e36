"""Content-keyed, checksummed, atomically written disk cache for numpy arrays."""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
import warnings
import zipfile
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import rdkit

from .._files import atomic_write, remove_stale_temporaries

__all__ = ["FEATURIZER_VERSION", "cache_dir", "cache_info", "cache_key", "clear_cache",
           "load_or_build"]

FEATURIZER_VERSION = "1"
"""Bump when any cached representation changes, so stale files are never reused."""

# RDKit's perception (aromaticity, stereo, ring info) can change between releases,
# and the features are derived from it, so its version is part of every key.
_KEY_VERSION = f"molselect-features-{FEATURIZER_VERSION}|rdkit-{rdkit.__version__}"
_META = "__molselect_meta__"
_KIND_RE = re.compile(r"^[A-Za-z0-9_.-]+$")


def cache_dir() -> Path:
    """Return the feature cache folder.

    Returns
    -------
    pathlib.Path
        ``$MOLSELECT_CACHE`` if set, else ``~/.cache/molselect/features``. It is read
        at every call so that tests (and users) can redirect it at run time.
    """
    env = os.environ.get("MOLSELECT_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "molselect" / "features"


#: Seconds within which a temporary file may still be a write in progress (the age
#: :func:`molselect._files.remove_stale_temporaries` waits for as well).
FRESH_TEMPORARY_AGE = 600.0


def _cache_files(folder: Path) -> list[Path]:
    # Only what molselect writes: <kind>/<digest>.npz and the temporary files of an
    # interrupted write; anything else a user keeps in the folder is left alone.
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*/*") if p.is_file() and (
        p.suffix == ".npz" or p.name.endswith(".tmp")))


def cache_info(folder=None):
    """What the feature cache holds.

    Parameters
    ----------
    folder : str or path-like, optional
        The cache folder; default :func:`cache_dir`.

    Returns
    -------
    dict
        ``folder`` (pathlib.Path), ``files`` (int), ``bytes`` (int) and
        ``kinds`` (dict of kind to ``{"files": int, "bytes": int}``).
    """
    folder = Path(folder) if folder is not None else cache_dir()
    kinds: dict[str, dict[str, int]] = {}
    for path in _cache_files(folder):
        entry = kinds.setdefault(path.parent.name, {"files": 0, "bytes": 0})
        entry["files"] += 1
        entry["bytes"] += path.stat().st_size
    return {"folder": folder, "files": sum(k["files"] for k in kinds.values()),
            "bytes": sum(k["bytes"] for k in kinds.values()), "kinds": kinds}


def clear_cache(max_bytes=None, folder=None):
    """Delete cached features: all of them, or the least recently used beyond a size.

    Every entry is rebuilt on demand, so clearing loses nothing but the time
    to featurize again.

    Parameters
    ----------
    max_bytes : int or None, default=None
        None deletes every entry (but the temporary file of a write in progress,
        younger than ten minutes); otherwise the entries used longest ago
        (by modification or access time, whichever is later) are deleted
        until the cache holds at most ``max_bytes``.
    folder : str or path-like, optional
        The cache folder; default :func:`cache_dir`.

    Returns
    -------
    dict
        ``files`` and ``bytes`` deleted.

    Raises
    ------
    ValueError
        If ``max_bytes`` is negative or not an integer.
    """
    if max_bytes is not None and (isinstance(max_bytes, bool) or
                                  not isinstance(max_bytes, (int, np.integer)) or max_bytes < 0):
        raise ValueError(f"max_bytes must be a non-negative integer or None, got {max_bytes!r}")
    folder = Path(folder) if folder is not None else cache_dir()
    files = []
    now = time.time()
    for path in _cache_files(folder):
        try:
            stat = path.stat()
        except FileNotFoundError:   # another process renamed or removed it meanwhile
            continue
        if path.name.endswith(".tmp") and now - stat.st_mtime < FRESH_TEMPORARY_AGE:
            # Another process is writing this entry right now: deleting its temporary file
            # would only make that write fail.
            continue
        files.append((max(stat.st_mtime, stat.st_atime), stat.st_size, path))
    files.sort(key=lambda f: f[0])  # oldest use first
    total = sum(size for _, size, _ in files)
    deleted = {"files": 0, "bytes": 0}
    for _, size, path in files:
        if max_bytes is not None and total <= max_bytes:
            break
        path.unlink(missing_ok=True)
        total -= size
        deleted["files"] += 1
        deleted["bytes"] += size
    return deleted


def cache_key(kind: str, key_parts: Iterable[str]) -> str:
    """Hash ``kind``, the featurizer version and ``key_parts`` into a hex digest.

    Parameters
    ----------
    kind : str
        Namespace of the cached object (e.g. ``"ogb_graphs"``).
    key_parts : iterable of str
        Everything the cached content depends on, typically the SMILES in order.

    Returns
    -------
    str
        SHA-256 hex digest.
    """
    h = hashlib.sha256()
    h.update(f"{_KEY_VERSION}\x00{kind}\x00".encode())
    parts = [str(p) for p in key_parts]
    # The count plus a NUL separator (absent from SMILES) keeps the key unambiguous:
    # ["ab", "c"] and ["a", "bc"] hash differently.
    h.update(f"{len(parts)}\x00".encode())
    h.update("\x00".join(parts).encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def _checksum(arrays: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for name in sorted(arrays):
        arr = np.ascontiguousarray(arrays[name])
        h.update(f"{name}|{arr.dtype.str}|{arr.shape}\x00".encode())
        if arr.size:  # memoryview cannot cast an empty array (molecules without bonds)
            h.update(memoryview(arr).cast("B"))
    return h.hexdigest()


def _validate(arrays: dict) -> dict[str, np.ndarray]:
    if not isinstance(arrays, dict) or not arrays:
        raise TypeError("build() must return a non-empty dict of str -> numpy.ndarray")
    out = {}
    for name, arr in arrays.items():
        arr = np.asarray(arr)
        if not isinstance(name, str) or name == _META or arr.dtype == object:
            raise TypeError(f"cannot cache entry {name!r}: names must be str and arrays "
                            "must have a numeric dtype (object arrays need pickle)")
        out[name] = arr
    return out


def _read(path: Path, key: str, required=()) -> dict[str, np.ndarray]:
    """Load and verify one cache file; raise ``ValueError`` if it is not trustworthy."""
    with np.load(path, allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    meta = json.loads(bytes(arrays.pop(_META)).decode())
    if not isinstance(meta, dict):
        raise ValueError("metadata is not a JSON object")
    if meta.get("key") != key:
        raise ValueError("key mismatch")
    if meta.get("checksum") != _checksum(arrays):
        raise ValueError("checksum mismatch")
    missing = [name for name in required if name not in arrays]
    if missing:
        raise ValueError(f"missing array(s) {missing}")
    return arrays


def _write(path: Path, key: str, arrays: dict[str, np.ndarray]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = json.dumps({"key": key, "version": _KEY_VERSION, "checksum": _checksum(arrays)})
    payload = dict(arrays)
    payload[_META] = np.frombuffer(meta.encode(), dtype=np.uint8)
    # Atomic and with the umask's mode (_files.atomic_write): readers, other processes
    # included, see the old file or the complete new one, and users sharing the cache
    # can read it (mkstemp's 0600 would look "corrupted" to them).
    atomic_write(path, lambda handle: np.savez(handle, **payload))


def load_or_build(kind: str, key_parts: Iterable[str],
                  build: Callable[[], dict[str, np.ndarray]],
                  cache: bool = True, required: Iterable[str] = ()) -> dict[str, np.ndarray]:
    """Return cached arrays for ``(kind, key_parts)``, building and storing them on a miss.

    Parameters
    ----------
    kind : str
        Namespace of the cached object, letters, digits, ``_``, ``-`` and ``.`` only
        (it becomes part of the file name), e.g. ``"ogb_graphs"`` or
        ``"graphormer_spd"``.
    key_parts : iterable of str
        Everything the content depends on (e.g. the SMILES, plus any parameters).
        The key is the SHA-256 of ``kind``, the featurizer and RDKit versions and
        these parts.
    build : callable
        Called with no argument on a miss; returns a dict of str to numeric
        numpy arrays.
    cache : bool, default=True
        If False, just call ``build()`` (no read, no write).
    required : iterable of str, optional
        Arrays a cached file must hold; a file without one of them is treated as
        corrupted and rebuilt.

    Returns
    -------
    dict of str to numpy.ndarray
        The arrays, either loaded from ``cache_dir()/<kind>/<key>.npz`` or built.

    Warns
    -----
    RuntimeWarning
        When a cache file exists but is unreadable, truncated, or fails its key or
        checksum test; it is then rebuilt and overwritten. Also when the cache cannot
        be written (the built arrays are still returned).

    Notes
    -----
    Files are written to a temporary name and moved into place with ``os.replace``,
    so concurrent writers and readers never see partial files.
    """
    if not isinstance(kind, str) or not _KIND_RE.match(kind):
        raise ValueError(f"kind must match {_KIND_RE.pattern}, got {kind!r}")
    if not cache:
        return _validate(build())
    key = cache_key(kind, key_parts)
    path = cache_dir() / kind / f"{key}.npz"
    if path.exists():
        try:
            return _read(path, key, tuple(required))
        except FileNotFoundError:
            pass   # removed since the check (the cache was cleared meanwhile): a miss
        except PermissionError as exc:
            warnings.warn(f"molselect cache file {path} cannot be read ({exc.strerror}); "
                          "building the features instead. Make the cache readable, or set "
                          "MOLSELECT_CACHE to a folder of your own", RuntimeWarning,
                          stacklevel=2)
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile,
                json.JSONDecodeError, UnicodeDecodeError) as exc:
            warnings.warn(f"molselect cache file {path} is corrupted ({exc!s:.80}); "
                          "rebuilding it", RuntimeWarning, stacklevel=2)
    arrays = _validate(build())
    try:
        _write(path, key, arrays)
    except OSError as exc:
        warnings.warn(f"could not write molselect cache file {path}: {exc}",
                      RuntimeWarning, stacklevel=2)
    else:
        # A write killed midway (kill -9) leaves its temporary file; the next write to the
        # same folder removes those old enough not to be another process's write in progress.
        remove_stale_temporaries(path.parent)
    return arrays
