"""Fits as independent, cached jobs: what makes a transfer study distributable and resumable.

A :class:`FitJob` holds everything one fit needs (an unfitted estimator with
its seed, the training members, the target's validation and test splits) and
:func:`run_fit` returns only numbers, so joblib can ship a job to a worker
process or, under ``joblib.parallel_config(backend="dask")``, to a Dask
cluster.  :class:`ResultCache` keeps each finished job in its own JSON file,
named by a hash of the job's content, so an interrupted study resumes where it
stopped and a repeated one costs nothing.
"""

from __future__ import annotations

import hashlib
import json
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed
from sklearn.exceptions import ConvergenceWarning
from tqdm.auto import tqdm

from .._files import atomic_write_text, remove_stale_temporaries
from .._progress import progress_disabled
from ..metrics import greater_is_better

__all__ = ["FitJob", "ResultCache", "run_fit", "run_jobs"]

# Parameters that do not change what a fit computes, so they stay out of the cache key
# (the seed is a field of its own).  Results on another device count as the same job.
_UNKEYED_PARAMS = ("random_state", "verbose", "device")
# Parameters added after results were cached, at the value that computes exactly what the
# estimator computed before they existed: left out of the key at that value, so that adding a
# parameter does not throw away every cached fit.  A new parameter goes here only when its
# default is measured to change nothing.
_NEUTRAL_PARAMS = {"feature_set": "full", "early_stopping": None, "monitor": "metric",
                   "n_checkpoints": 1, "callbacks": None}


def dataset_fingerprint(data):
    """Hash of a dataset's molecules, labels and task metadata (its identity in a cache key)."""
    digest = hashlib.sha256()
    digest.update("\n".join(map(str, data.ids)).encode("utf-8", "surrogatepass"))
    digest.update(np.ascontiguousarray(data.y, dtype=np.float64).tobytes())
    digest.update(json.dumps([list(data.tasks), list(data.task_types), data.metric]).encode())
    return digest.hexdigest()


def job_key(description):
    """The cache key of a job: a hash of its description (sorted JSON)."""
    blob = json.dumps(description, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:32]


def _jsonable(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in sorted(value.items())}
    return repr(value)


def estimator_description(estimator):
    """Class path and the parameters that define a fit, as JSON-able values."""
    cls = type(estimator)
    params = {k: v for k, v in estimator.get_params(deep=False).items()
              if k not in _UNKEYED_PARAMS
              and not (k in _NEUTRAL_PARAMS and v == _NEUTRAL_PARAMS[k])}
    return {"class": f"{cls.__module__}.{cls.__qualname__}", "params": _jsonable(params)}


@dataclass
class FitJob:
    """One fit of a transfer study: train on ``members``, score the target's test split.

    Parameters
    ----------
    estimator : estimator
        Unfitted; :func:`run_fit` rebuilds it from its class and parameters with
        ``random_state=seed`` (so a job pickled by an older molselect still runs).
    members : list of (str, MoleculeDataset)
        Training data, target first.
    valid, test : MoleculeDataset
        The target's validation split (best epoch) and test split (the score).
    seed : int
    label : dict
        What the job is in the study's terms (target, candidate, role, seed); stored
        with the result, not part of the key.
    torch_threads : int or None
        Intra-op threads of the fit (None leaves the worker's setting).  Seeded fits
        repeat bit for bit only on the same number of threads.
    """

    estimator: object
    members: list
    valid: object
    test: object
    seed: int
    label: dict = field(default_factory=dict)
    torch_threads: int | None = None
    key: str = ""
    description: dict = field(default_factory=dict)

    def __post_init__(self):
        from .. import __version__

        self.estimator_class = type(self.estimator)
        self.estimator_params = dict(self.estimator.get_params(deep=False))

        self.description = {
            "estimator": estimator_description(self.estimator),
            "seed": int(self.seed),
            "members": [[name, dataset_fingerprint(d)] for name, d in self.members],
            "valid": dataset_fingerprint(self.valid),
            "test": dataset_fingerprint(self.test),
            "molselect": __version__,
        }
        self.key = job_key(self.description)


    def __getstate__(self):
        # A worker rebuilds the estimator from its class and parameters rather than
        # unpickling the instance, so a job pickled by an older molselect still runs on a
        # worker that imports a newer one (new parameters take their defaults).
        state = dict(self.__dict__)
        state["estimator"] = None
        return state

    def make_estimator(self):
        """A new, unfitted estimator of the job's class and parameters, seeded by the job."""
        params = {**self.estimator_params, "random_state": int(self.seed)}
        return self.estimator_class(**params)


def run_fit(job):
    """Fit ``job``'s estimator on its members and score the target's test split.

    Parameters
    ----------
    job : FitJob

    Returns
    -------
    dict
        ``key``, ``test_score`` and ``valid_score`` (the target's metric in its
        own units: an RMSE is an RMSE), ``best_epoch``, ``n_epochs`` (epochs
        trained: fewer than the estimator's ``epochs`` when early stopping
        ended the fit; absent from results cached before molselect recorded
        it), ``n_train`` (molecules per member), ``seconds`` and ``label``.
    """
    estimator = job.make_estimator()
    start = time.perf_counter()
    from ..core import torch_threads

    with torch_threads(job.torch_threads), warnings.catch_warnings():
        # A study reports its fits that ended at their epoch limit together (the command
        # line's last-epoch warning, from best_epoch and n_epochs), not one warning a fit.
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(dict(job.members), eval_set=job.valid)
        score = float(estimator.score(job.test))
    metric = job.test.metric
    # score() is greater-is-better (an RMSE comes back negated); store the metric itself.
    return {
        "key": job.key,
        "test_score": score if greater_is_better(metric) else -score,
        "valid_score": None if estimator.best_score_ is None else float(estimator.best_score_),
        "best_epoch": int(estimator.best_epoch_),
        "n_epochs": int(estimator.n_epochs_),
        "metric": metric,
        "n_train": {name: len(d) for name, d in job.members},
        "seconds": time.perf_counter() - start,
        "label": job.label,
    }


def _number(value, none_ok=False):
    if value is None:
        return none_ok
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def entry_problem(entry, key):
    """What is wrong with a result-cache entry read for ``key``, or None when it is sound.

    The entry must hold the job it was computed for, whose hash is ``key`` (a
    file copied over another key's file is caught), and a result with the
    fields a study reads, of the right types (an edited or damaged file is
    caught).
    """
    if not isinstance(entry, dict) or not isinstance(entry.get("job"), dict) or \
            not isinstance(entry.get("result"), dict):
        return "it does not hold a job and its result"
    if job_key(entry["job"]) != key:
        return ("its stored job is not the job of this key (the file was copied, renamed or "
                "edited)")
    result = entry["result"]
    if result.get("key") != key:
        return f"its result is for key {result.get('key')!r}"
    for field_name, none_ok in _RESULT_FIELDS:
        if field_name not in result:
            return f"its result has no {field_name!r}"
        if not _number(result[field_name], none_ok):
            return f"its {field_name!r} is not a number ({result[field_name]!r})"
    if isinstance(result["best_epoch"], float) and not result["best_epoch"].is_integer():
        return f"its 'best_epoch' is not a whole number ({result['best_epoch']!r})"
    return None


# The result fields a study reads, and whether each may be None.
_RESULT_FIELDS = (("test_score", False), ("valid_score", True), ("best_epoch", False),
                  ("seconds", False))
# A temporary file of a result write lives for milliseconds; one this old was orphaned by
# an interrupted process (kill -9, a power cut).
_STALE_SECONDS = 600.0


class ResultCache:
    """A results folder: finished fits on disk, one JSON file per job named by its content hash.

    The ``results_dir=`` of the studies and ``--results-dir`` on the command line;
    not the feature cache (:func:`molselect.featurize.cache_dir`).

    Parameters
    ----------
    path : str or path-like
        Folder (created when needed).  Files are written atomically
        (temporary file, then rename), so an interrupt never leaves a half
        written result; several studies may share a folder.

    Attributes
    ----------
    write_errors : int
        Results this cache could not store (the first one is warned about;
        the study goes on without them).

    Notes
    -----
    An entry whose stored job does not hash to its key (a file copied over
    another), or whose result lacks a field or holds a field of the wrong
    type, is reported with a warning and computed again.  Temporary files
    that an interrupted write left behind for more than ten minutes are
    removed when a study starts (:meth:`clean`).
    """

    def __init__(self, path):
        self.path = Path(path)
        self.write_errors = 0

    def _file(self, key):
        return self.path / f"{key}.json"

    def _warn(self, message):
        warnings.warn(message, RuntimeWarning, stacklevel=3)

    def get(self, key):
        """The stored result of job ``key``, or None (a damaged entry is warned about)."""
        file = self._file(key)
        if self.path.exists() and not self.path.is_dir():
            return None  # put() says why nothing can be stored here
        try:
            entry = json.loads(file.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            self._warn(f"stored result {file} is unreadable ({exc}); the fit runs again "
                       "and replaces it")
            return None
        problem = entry_problem(entry, key)
        if problem:
            self._warn(f"stored result {file} is damaged: {problem}; the fit runs again "
                       "and replaces it")
            return None
        return entry["result"]

    def put(self, job, result):
        """Store ``result`` of ``job`` (with the job's description, which its key hashes).

        A write error (a read-only or full disk, a file where the folder
        should be) is a warning, not the end of the study: the result is
        still returned by the study, only not kept.

        Returns
        -------
        bool
            Whether the result was stored.
        """
        text = json.dumps({"job": job.description, "result": result}, indent=1, sort_keys=True)
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            atomic_write_text(self._file(job.key), text + "\n")
        except OSError as exc:
            self.write_errors += 1
            if self.write_errors == 1:
                reason = "it is not a folder" if self.path.exists() and \
                    not self.path.is_dir() else exc
                self._warn(f"results folder {self.path}: cannot store results there ({reason}); "
                           "the study goes on, but its results are not kept for a rerun")
            return False
        return True

    def clean(self, min_age=_STALE_SECONDS):
        """Remove temporary files that interrupted writes left for ``min_age`` seconds.

        Returns
        -------
        int
            How many were removed.
        """
        return remove_stale_temporaries(self.path, ".*.json.*.tmp", min_age)

    def __len__(self):
        return sum(1 for _ in self.path.glob("*.json")) if self.path.is_dir() else 0

    def __repr__(self):
        return f"ResultCache({str(self.path)!r})"


def as_cache(cache):
    """``None``, a folder or a :class:`ResultCache` -> a ResultCache or None."""
    if cache is None or isinstance(cache, ResultCache):
        return cache
    return ResultCache(cache)


def resolve_results_dir(results_dir, cache, owner, stacklevel=3):
    """``results_dir``, or the value given under its old name ``cache`` (with a FutureWarning).

    Parameters
    ----------
    results_dir : str, path-like, ResultCache or None
    cache : str, path-like, ResultCache or None
        The old name's value (None, or ``"deprecated"``: not given).
    owner : str
        The function or class, for the messages.
    stacklevel : int, default=3
        Of the warning: the user's call.

    Returns
    -------
    str, path-like, ResultCache or None
    """
    if cache is None or (isinstance(cache, str) and cache == "deprecated"):
        return results_dir
    if results_dir is not None:
        raise TypeError(f"{owner}: results_dir and cache name the same folder of finished "
                        "fits; pass results_dir only")
    warnings.warn(f"{owner}: cache= is renamed results_dir= (the folder of finished fits, the "
                  "command line's --results-dir; 'cache' also named the feature cache); "
                  "cache= still works in 0.1 and will be removed in 0.2", FutureWarning,
                  stacklevel=stacklevel)
    return cache


def run_jobs(jobs, *, results_dir=None, n_jobs=None, verbose=True, desc="fits",
             cached_only=False, cache=None):
    """Run ``jobs`` through joblib, skipping those already in ``results_dir``.

    Results reach the cache as each job finishes (in whatever order the
    workers finish them), so an interrupted call loses at most the jobs that
    were running.  ``n_jobs=None`` takes joblib's current setting, e.g. from
    ``joblib.parallel_config(backend="dask")``.

    Parameters
    ----------
    jobs : list of FitJob
    results_dir : ResultCache, str, path-like or None
        The folder of finished fits (a :class:`ResultCache` over it).
    n_jobs : int or None
    verbose : bool
        A progress bar over the jobs that have to run.
    desc : str
        The progress bar's label.
    cached_only : bool, default=False
        Run nothing: return the results already in ``results_dir`` (to look
        at a study another process is still running).
    cache : str, path-like or ResultCache, optional
        Deprecated: the name ``results_dir`` had until 0.1 (it also named the
        feature cache); still accepted, with a FutureWarning, until 0.2.

    Returns
    -------
    dict of str to dict
        ``job.key -> result`` for every job (identical jobs run once); with
        ``cached_only``, for the cached ones only.
    """
    cache = as_cache(resolve_results_dir(results_dir, cache, "run_jobs"))
    if cached_only and cache is None:
        raise ValueError("cached_only=True needs a results_dir to read from")
    if cache is not None:
        cache.clean()
    results, pending = {}, {}
    for job in jobs:
        if job.key in results or job.key in pending:
            continue
        stored = cache.get(job.key) if cache is not None else None
        if stored is not None:
            results[job.key] = stored
        else:
            pending[job.key] = job
    if not pending or cached_only:
        return results
    parallel = Parallel(n_jobs=n_jobs, return_as="generator_unordered")
    outputs = parallel(delayed(run_fit)(job) for job in pending.values())
    with tqdm(total=len(pending), desc=desc, disable=progress_disabled(verbose),
              unit="fit") as bar:
        for result in outputs:
            if cache is not None:
                cache.put(pending[result["key"]], result)
            results[result["key"]] = result
            bar.update()
    return results
