"""What an auxiliary really does to a target: fits with and without it, paired by seed."""

from __future__ import annotations

import warnings
import zlib
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from ..base import _warn_copies_of_target
from ..datasets._validation import as_dataset, name_datasets
from ..datasets._leakage import make_union
from ..metrics import greater_is_better
from ._jobs import FitJob, resolve_results_dir, run_jobs
from ._protocol import apply_protocol

__all__ = ["evaluate_selection", "permuted_labels", "transfer_gains"]

_COLUMNS = ["target", "candidate", "seed", "metric", "score_alone", "score_with", "gain",
            "relative_gain", "valid_alone", "valid_with", "best_epoch_alone", "best_epoch_with",
            "n_epochs_alone", "n_epochs_with", "n_candidate", "n_leaked", "seconds_alone", "seconds_with"]


def permuted_labels(data, random_state=0, name=None):
    """The same molecules with each task's labels shuffled among its labelled rows.

    An auxiliary that carries no information about its molecules: the control of a
    transfer study.  Adding any dataset to a union changes the training itself (every
    member is drawn equally often, so an epoch of a two-member union has twice the
    optimiser steps), and a short fit can gain from that alone.  A candidate helps by
    what it knows only where it beats this control (``summarize_gains(...,
    relative_to=...)``).

    Parameters
    ----------
    data : dataset
        Usually the target's training split.
    random_state : int, default=0
        Seed of the shuffle.
    name : str, optional
        Default: ``"<name> (permuted labels)"``.

    Returns
    -------
    MoleculeDataset
    """
    data = as_dataset(data, name="target")
    rng = np.random.default_rng(random_state)
    y = data.y.copy()
    for j in range(y.shape[1]):
        rows = np.flatnonzero(~np.isnan(y[:, j]))
        y[rows, j] = y[rng.permutation(rows), j]
    from ..datasets._base import MoleculeDataset

    return MoleculeDataset(data.ids, y, tasks=data.tasks, task_types=data.task_types,
                           metric=data.metric, name=name or f"{data.name} (permuted labels)")


def _check_seeds(seeds):
    if isinstance(seeds, (bool, np.bool_)):
        raise TypeError(f"seeds must be a positive integer or a list of integers, got {seeds!r}")
    if isinstance(seeds, (int, np.integer)):
        if seeds < 1:
            raise ValueError(f"seeds must be at least 1, got {seeds}")
        return list(range(int(seeds)))
    if not isinstance(seeds, Iterable) or isinstance(seeds, (str, bytes)):
        raise TypeError(f"seeds must be a positive integer or a list of integers, got {seeds!r}")
    seeds = list(seeds)
    if not seeds:
        raise ValueError("seeds is empty: give at least one seed")
    bad = [s for s in seeds if isinstance(s, bool) or not isinstance(s, (int, np.integer))]
    if bad:
        raise TypeError(f"seeds must be integers, got {bad[:3]}")
    if min(seeds) < 0:
        raise ValueError(f"seeds must be non-negative, got {min(seeds)}")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds has repeated values: {seeds}")
    return [int(s) for s in seeds]


def _check_estimator(estimator):
    if not isinstance(estimator, BaseEstimator) or not hasattr(estimator, "fit"):
        raise TypeError("estimator must be an unfitted molselect estimator (e.g. "
                        f"GINClassifier(epochs=20)), got {type(estimator).__name__}")
    if "random_state" not in estimator.get_params(deep=False):
        raise TypeError(f"{type(estimator).__name__} has no random_state parameter: a transfer "
                        "study seeds every fit")
    return estimator


def _resolve_splits(target, eval_set, test_set):
    """The target's train / valid / test, from a split object or three datasets."""
    if all(hasattr(target, s) for s in ("train", "valid", "test")) and not hasattr(target, "ids"):
        eval_set = target.valid if eval_set is None else eval_set
        test_set = target.test if test_set is None else test_set
        target = target.train
    if eval_set is None or test_set is None:
        raise ValueError("a transfer study needs the target's validation split (eval_set, for "
                         "the best epoch) and its test split (test_set, for the score); pass "
                         "both, or pass load_dataset(name) as the target")
    name = getattr(target, "name", None) or "target"
    train = as_dataset(target, name=name)
    valid = as_dataset(eval_set, name=f"{name} (eval_set)")
    test = as_dataset(test_set, name=f"{name} (test_set)")
    for split, what in ((valid, "eval_set"), (test, "test_set")):
        if split.n_tasks != train.n_tasks or list(split.task_types) != list(train.task_types):
            raise ValueError(f"{what} has {split.n_tasks} task(s) of types "
                             f"{sorted(set(split.task_types))} but the target {name!r} has "
                             f"{train.n_tasks} of types {sorted(set(train.task_types))}: "
                             f"{what} must be a split of the target")
        if len(split) == 0:
            raise ValueError(f"{what} is empty")
    return train, valid, test


def _resample(data, size, seed):
    """``size`` rows of ``data``: every row ``size // n`` times plus a random remainder when
    upsampling, a random subset when downsampling; seeded by the seed and the name, so the
    target's sample is the same in the alone and the with-candidate fit of one seed."""
    if size is None or len(data) == size:
        return data
    rng = np.random.default_rng([int(seed), zlib.crc32(str(data.name).encode())])
    n = len(data)
    if n > size:
        rows = rng.choice(n, size=size, replace=False)
    else:
        rows = np.concatenate([np.tile(np.arange(n), size // n),
                               rng.choice(n, size=size % n, replace=False)])
    return data.subset(np.sort(rows))


def _check_resample(resample_to):
    if resample_to is None:
        return None
    if isinstance(resample_to, bool) or not isinstance(resample_to, (int, np.integer)) \
            or resample_to < 1:
        raise ValueError(f"resample_to must be a positive integer or None, got {resample_to!r}")
    return int(resample_to)


def warn_emptied(names, consequence, stacklevel=3):
    """Warn that the leakage guard removed every molecule of the candidates ``names``."""
    if names:
        warnings.warn(f"candidate(s) {', '.join(map(repr, names))}: the leakage guard removed "
                      "all of their molecules (they are in the target's validation or test "
                      f"split), so {consequence}", UserWarning, stacklevel=stacklevel + 1)


def _guarded_unions(train, settings, held_out):
    """Each setting's training members (target first) and molecules removed per auxiliary.

    An auxiliary that the leakage guard empties (every molecule of it is in the
    target's validation or test split) is left out with a warning, and a setting
    left with no auxiliary is skipped; if every setting is, the study cannot run.
    """
    unions = {}
    for label, aux in settings.items():
        union, leaked = make_union(train, aux, held_out=held_out, return_leaked=True)
        target, *rest = union.items()
        members = [target, *((name, data) for name, data in rest if len(data))]
        for name in leaked:
            if len(union[name]) == 0:
                what = (f"candidate {name!r}" if [name] == list(aux) else
                        f"auxiliary {name!r} of {label!r}")
                warnings.warn(f"{what}: the leakage guard removed all {leaked[name]} of its "
                              "molecules (they are in the target's validation or test "
                              f"split), so it is {'skipped' if len(members) == 1 else 'left out'}",
                              UserWarning, stacklevel=4)
        if len(members) > 1:
            unions[label] = (members, leaked)
    if not unions:
        raise ValueError(f"the leakage guard removed every molecule of every candidate "
                         f"({', '.join(map(repr, settings))}): they are all in the validation "
                         f"or test split of the target {train.name!r}, so there is nothing to "
                         "compare the target alone with")
    return unions


def _paired_study(target, settings, estimator, *, seeds, eval_set, test_set, resample_to,
                  leakage_guard, results_dir, n_jobs, torch_threads, verbose, cached_only,
                  protocol):
    """Run the alone fit and one fit per setting for every seed; return the tidy table.

    ``settings`` maps a label to the auxiliaries (name -> dataset) trained with the target.
    """
    estimator = apply_protocol(_check_estimator(estimator), protocol)
    seeds = _check_seeds(seeds)
    resample_to = _check_resample(resample_to)
    train, valid, test = _resolve_splits(target, eval_set, test_set)
    held_out = [valid, test] if leakage_guard else None
    _warn_copies_of_target(train, {name: data for aux in settings.values()
                                   for name, data in aux.items()})
    unions = _guarded_unions(train, settings, held_out)

    def job(members, seed, label):
        members = [(name, _resample(data, resample_to, seed)) for name, data in members]
        return FitJob(estimator, members, valid, test, seed, label=label,
                      torch_threads=torch_threads)

    alone = {seed: job([(train.name, train)], seed, {"target": train.name, "seed": seed})
             for seed in seeds}
    paired = {(label, seed): job(list(union), seed,
                                 {"target": train.name, "candidate": label, "seed": seed})
              for label, (union, _) in unions.items() for seed in seeds}
    results = run_jobs([*alone.values(), *paired.values()], results_dir=results_dir, n_jobs=n_jobs,
                       verbose=verbose, desc=f"transfer study for {train.name}",
                       cached_only=cached_only)

    sign = 1.0 if greater_is_better(train.metric) else -1.0
    rows = []
    for (label, seed), with_job in paired.items():
        if alone[seed].key not in results or with_job.key not in results:
            continue  # cached_only: this pair has not finished yet
        base, other = results[alone[seed].key], results[with_job.key]
        leaked = unions[label][1]
        gain = sign * (other["test_score"] - base["test_score"])
        rows.append({
            "target": train.name, "candidate": label, "seed": seed, "metric": train.metric,
            "score_alone": base["test_score"], "score_with": other["test_score"],
            "gain": gain,
            "relative_gain": gain / abs(base["test_score"]) if base["test_score"] else np.nan,
            "valid_alone": base["valid_score"], "valid_with": other["valid_score"],
            "best_epoch_alone": base["best_epoch"], "best_epoch_with": other["best_epoch"],
            # Results cached before n_epochs was recorded lack it (the key is unchanged).
            "n_epochs_alone": base.get("n_epochs"), "n_epochs_with": other.get("n_epochs"),
            "n_candidate": sum(len(d) for _, d in with_job.members[1:]),
            "n_leaked": sum(leaked.values()),
            "seconds_alone": base["seconds"], "seconds_with": other["seconds"],
        })
    return pd.DataFrame(rows, columns=_COLUMNS)


def transfer_gains(target, candidates, estimator, *, seeds=5, eval_set=None, test_set=None,
                   protocol="default", resample_to=None, leakage_guard=True, results_dir=None,
                   n_jobs=None, torch_threads=None, verbose=True, cached_only=False, cache=None):
    """Measure what each candidate auxiliary does to the target: the study of the paper's fig. 1.

    For every seed, a clone of ``estimator`` is fitted on the target alone and,
    for every candidate, on the target plus that candidate (the leakage-guarded
    union), and each fit scores the target's test split at its best validation
    epoch.  The two fits of a seed share the seed, hence the initialisation of
    the encoder and of the target's head and the first draws of the sampler.

    Every fit is an independent joblib job, so
    ``with joblib.parallel_config(backend="dask"):`` sends them to a Dask
    cluster, and finished fits are kept in ``results_dir``: an interrupted study
    resumes where it stopped and a repeated one costs nothing.  The target's
    alone fit of a seed is one job shared by all candidates, so a study costs
    ``len(seeds) x (1 + len(candidates))`` fits.

    Parameters
    ----------
    target : dataset or DatasetSplits
        The target's training split, or ``load_dataset(name)`` (its train,
        valid and test splits).
    candidates : mapping of str to dataset, or list of datasets
        The candidate auxiliaries.
    estimator : estimator
        An unfitted molselect estimator (e.g. ``GINClassifier(epochs=20)``) of
        the target's kind; its ``random_state`` is replaced by each seed.
    seeds : int or list of int, default=5
        The seeds (an int ``n`` means ``range(n)``).
    eval_set, test_set : dataset, optional
        The target's validation split (best epoch) and test split (the
        score); taken from ``target`` when it is a DatasetSplits.
    protocol : str, default="default"
        How long each fit trains and which network it scores, set on the
        estimator (:data:`~molselect.evaluation.PROTOCOLS`): "default" is the
        protocol measured to give the least noise per CPU second
        (``benchmarks/results/protocol.md``); "fixed" fits the estimator as
        given (its ``epochs``, the best validation epoch's network: molselect
        0.1's protocol).
    resample_to : int, optional
        Resample every training set (target and candidate) to this many
        molecules, as the paper's appendix C does with 5,000 to "mitigate the
        issue of varying dataset sizes": smaller ones are repeated (every
        molecule equally often, plus a random remainder), larger ones
        subsampled.  Seeded per seed, so the two fits of a seed see the same
        target sample.  None (default) trains on the sets as they are.
    leakage_guard : bool, default=True
        Remove from every candidate the molecules of the target's validation
        and test splits (:func:`~molselect.datasets.make_union`).
    results_dir : str, path-like or ResultCache, optional
        Folder of finished fits (the command line's ``--results-dir``), keyed
        by content (estimator class and parameters, the training, validation
        and test data, the seed and the molselect version; not the device).
    n_jobs : int, optional
        Parallel fits; None takes joblib's current setting (one process, or
        the backend of an enclosing ``joblib.parallel_config``).
    torch_threads : int, optional
        Intra-op threads per fit; 1 is best with one job per core.  Seeded fits
        repeat bit for bit on the same number of threads.
    verbose : bool, default=True
        Progress bar over the fits that have to run.
    cached_only : bool, default=False
        Run nothing and return the rows whose two fits are already in
        ``results_dir``: a look at a study that is still running elsewhere.
    cache : str, path-like or ResultCache, optional
        Deprecated: the name ``results_dir`` had until 0.1 (it also named the
        feature cache); still accepted, with a FutureWarning, until 0.2.

    Returns
    -------
    pandas.DataFrame
        One row per candidate and seed: ``target``, ``candidate``, ``seed``,
        ``metric``, ``score_alone``, ``score_with`` (test metric in its own
        units), ``gain`` (signed so that positive means "helps": with minus
        alone for ROC-AUC, alone minus with for RMSE/MAE), ``relative_gain``
        (``gain / |score_alone|``, the paper's
        ``(perf(a, b) - perf(a)) / perf(a)``), the validation scores, best
        epochs and ``n_epochs`` (epochs trained; missing for a fit cached by
        an older molselect) of both fits, ``n_candidate`` (molecules of the candidate
        trained on), ``n_leaked`` (removed by the guard) and the fits'
        ``seconds``.  :func:`summarize_gains` turns it into intervals, tests
        and verdicts.

    Raises
    ------
    ValueError
        When the leakage guard empties every candidate: all of their
        molecules are in the target's validation or test split.

    Warns
    -----
    UserWarning
        For a candidate that the leakage guard empties (named, with the
        number of molecules removed): it is skipped and has no rows.  For a
        candidate that is a copy of the target's training split (the same
        molecules with the same labels, e.g. the target under another name),
        as the selectors warn: it looks very helpful without adding any data.

    See Also
    --------
    summarize_gains, evaluate_selection, score_selector

    Examples
    --------
    >>> from molselect.datasets import load_dataset
    >>> from molselect.models import GINClassifier
    >>> pool = {n: load_dataset(n).train for n in ["bace", "tox21"]}            # doctest: +SKIP
    >>> gains = transfer_gains(load_dataset("bbbp"), pool,
    ...                        GINClassifier(hidden_dim=64, num_layers=3, epochs=20),
    ...                        seeds=8, results_dir="gains")                  # doctest: +SKIP
    >>> summarize_gains(gains)[["candidate", "relative_gain", "relative_ci_low",
    ...                         "relative_ci_high", "verdict"]]                # doctest: +SKIP
    """
    if candidates is None or (isinstance(candidates, (Mapping, list, tuple)) and not candidates):
        raise ValueError("no candidates given: pass a mapping name -> dataset or a list")
    pool = name_datasets(candidates)
    target_name = getattr(getattr(target, "train", target), "name", None)
    if target_name is not None and target_name in pool:
        raise ValueError(f"candidate {target_name!r} has the target's name; a candidate is an "
                         "other dataset")
    settings = {name: {name: data} for name, data in pool.items()}
    return _paired_study(target, settings, estimator, seeds=seeds, eval_set=eval_set,
                         test_set=test_set, resample_to=resample_to,
                         leakage_guard=leakage_guard, n_jobs=n_jobs,
                         torch_threads=torch_threads, verbose=verbose,
                         cached_only=cached_only, protocol=protocol,
                         results_dir=resolve_results_dir(results_dir, cache, "transfer_gains"))


def evaluate_selection(target, selected, estimator, *, seeds=5, eval_set=None, test_set=None,
                       protocol="default", resample_to=None, leakage_guard=True,
                       results_dir=None, n_jobs=None, torch_threads=None, verbose=True,
                       label=None, cached_only=False, cache=None):
    """Target alone against target + the selected union, paired by seed.

    The same protocol and statistics as :func:`transfer_gains`, with the
    whole selection as one candidate: this is what ``molselect evaluate``
    reports.

    Parameters
    ----------
    target : dataset or DatasetSplits
        As :func:`transfer_gains`.
    selected : mapping of str to dataset, list of datasets, or a union
        The selected auxiliaries; a ``DatasetGroup`` or a selector's
        ``fit_transform`` output (target first) is taken without its target.
    estimator, seeds, eval_set, test_set, protocol, resample_to, leakage_guard, results_dir, \
n_jobs, torch_threads, verbose, cached_only, cache
        As :func:`transfer_gains`.
    label : str, optional
        The ``candidate`` value of the rows (default: the auxiliaries' names
        joined by ``+``).

    Returns
    -------
    pandas.DataFrame
        The tidy table of :func:`transfer_gains`, one row per seed.

    Raises
    ------
    ValueError
        When the selection is empty, or the leakage guard empties every
        auxiliary of it.

    Warns
    -----
    UserWarning
        For an auxiliary that the leakage guard empties (it is left out of
        the union) and for one that is a copy of the target's training split,
        as :func:`transfer_gains`.
    """
    pool = _selection_pool(selected, "the selection")
    label = label or "+".join(pool)
    return _paired_study(target, {label: pool}, estimator, seeds=seeds, eval_set=eval_set,
                         test_set=test_set, resample_to=resample_to,
                         leakage_guard=leakage_guard, n_jobs=n_jobs,
                         torch_threads=torch_threads, verbose=verbose,
                         cached_only=cached_only, protocol=protocol,
                         results_dir=resolve_results_dir(results_dir, cache, "evaluate_selection"))


def _selection_pool(selected, what):
    """Name -> dataset of a selection (a union is taken without its target); never empty."""
    auxiliaries = getattr(selected, "auxiliaries", None)
    pool = name_datasets(auxiliaries if auxiliaries is not None else selected)
    if not pool:
        raise ValueError(f"{what} is empty: there is no union to compare with the target "
                         "alone")
    return pool


def compare_selections(target, selections, estimator, *, seeds=5, eval_set=None,
                       test_set=None, protocol="default", resample_to=None, leakage_guard=True,
                       results_dir=None, n_jobs=None, torch_threads=None, verbose=True,
                       cached_only=False, cache=None):
    """Several selections, each against the target alone, in one study.

    :func:`evaluate_selection` for every selection at once: the alone fit of
    a seed is shared, and the fits of all selections form one batch of
    joblib jobs, so parallel workers stay busy.  This is how selectors are
    judged (the outcome scoreboard): by what their selections give.

    Parameters
    ----------
    target : dataset or DatasetSplits
        As :func:`transfer_gains`.
    selections : mapping of str to selection
        Label (e.g. the selector's name) -> its selection, in any form
        :func:`evaluate_selection` takes.
    estimator, seeds, eval_set, test_set, protocol, resample_to, leakage_guard, results_dir, \
n_jobs, torch_threads, verbose, cached_only, cache
        As :func:`transfer_gains`.

    Returns
    -------
    pandas.DataFrame
        The tidy table of :func:`transfer_gains`, one row per selection and
        seed; ``candidate`` holds the label.  :func:`summarize_gains` gives
        each selection's gain, interval and verdict (the adjustment for
        multiple tests runs over the selections).

    Examples
    --------
    >>> table = compare_selections(load_dataset("bbbp"),
    ...                            {"task type": [pool["sider"], pool["toxcast"]],
    ...                             "fingerprint": [pool["tox21"]]},
    ...                            gin, seeds=5)                     # doctest: +SKIP
    >>> summarize_gains(table)                                      # doctest: +SKIP
    """
    if not isinstance(selections, Mapping) or not selections:
        raise ValueError("selections must be a non-empty mapping label -> selection, got "
                         f"{type(selections).__name__}")
    settings = {label: _selection_pool(selected, f"selection {label!r}")
                for label, selected in selections.items()}
    return _paired_study(target, settings, estimator, seeds=seeds, eval_set=eval_set,
                         test_set=test_set, resample_to=resample_to,
                         leakage_guard=leakage_guard, n_jobs=n_jobs,
                         torch_threads=torch_threads, verbose=verbose,
                         cached_only=cached_only, protocol=protocol,
                         results_dir=resolve_results_dir(results_dir, cache, "compare_selections"))
