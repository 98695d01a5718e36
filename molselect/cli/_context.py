"""What a chemist needs beside a model's score: baselines to beat, and fits that did not finish.

``evaluate`` and ``transfer`` print the downstream model's test score on the
target alone; :func:`baselines` gives the scores it has to beat (predicting
the mean, a random forest on ECFP4: :func:`~molselect.evaluation.baseline_scores`),
:func:`context_block` says them in a few lines, and :func:`last_epoch_warning`
says when the alone fits stopped at their last epoch while still improving.
"""

from __future__ import annotations

import json
import sys

import numpy as np

__all__ = ["baselines", "context_block", "last_epoch_warning", "warn", "max_epochs"]

#: The settings of the command line's random forest (part of the baselines' cache key).
FOREST = {"n_estimators": 200, "random_state": 0}


def warn(message):
    """Print ``warning: <message>`` on stderr, as the command line shows every warning."""
    print(f"warning: {message}", file=sys.stderr)


def _cache_file(folder, train, test):
    from pathlib import Path

    from .. import __version__
    from ..evaluation._jobs import dataset_fingerprint, job_key

    key = job_key({"baselines": "mean, random forest on ECFP4", **FOREST,
                   "train": dataset_fingerprint(train), "test": dataset_fingerprint(test),
                   "molselect": __version__})
    # A folder of its own: the results folder's top level holds fits only.
    return Path(folder) / "baselines" / f"{key}.json"


def baselines(train, test, args):
    """The baselines' test scores, or None with ``--no-baselines``.

    Kept in the ``baselines/`` folder of ``--results-dir`` when one is given
    (the forest of a large target takes minutes).

    Parameters
    ----------
    train, test : MoleculeDataset
        The target's training split (as the downstream model saw it) and test split.
    args : argparse.Namespace
        The parsed arguments (``baselines``, ``results_dir``).

    Returns
    -------
    dict or None
        :func:`~molselect.evaluation.baseline_scores`'s result.
    """
    from .._files import atomic_write_text
    from ..evaluation import baseline_scores

    if not getattr(args, "baselines", True):
        return None
    folder = getattr(args, "results_dir", None)
    file = _cache_file(folder, train, test) if folder else None
    if file is not None:
        try:
            stored = json.loads(file.read_text())
        except (OSError, ValueError):
            stored = None
        if isinstance(stored, dict) and {"metric", "mean", "random_forest"} <= set(stored):
            return stored
    scores = baseline_scores(train, test, **FOREST)
    if file is not None:
        try:
            file.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(file, json.dumps(scores, indent=1) + "\n")
        except OSError:
            pass  # the fits' results folder warns about an unwritable folder
    return scores


def context_block(scores, model, alone, label=None):
    """A few lines: the model's score on the target alone beside the baselines'.

    Parameters
    ----------
    scores : dict
        :func:`baselines`'s result.
    model : str
        The downstream model's name (``gin``).
    alone : float
        Its mean test score on the target alone, in the metric's units.
    label : str, optional
        What the model's row is (default: the model on the target alone, mean
        over seeds); ``train`` names the model it trained.

    Returns
    -------
    str
    """
    from ..metrics import greater_is_better

    metric = scores["metric"]
    better = greater_is_better(metric)
    if scores["mean_baseline"] == "training mean":
        mean_label = "predicting the training mean"
    else:
        mean_label = "predicting a constant (the training prior)"
        if metric == "roc_auc":
            mean_label += ": ROC-AUC 0.5 by construction"
    rows = [(label or f"{model}, target alone (mean over seeds)", alone),
            (mean_label, scores["mean"]),
            ("random forest on ECFP4 fingerprints", scores["random_forest"])]
    subject = f"the {model} trained " + ("here" if label else "on the target alone")
    width = max(len(text) for text, _ in rows)
    lines = [f"context: test {metric} on the target's test split "
             f"({'higher' if better else 'lower'} is better)"]
    lines += [f"  {text:<{width}}  {value:.4f}" for text, value in rows]

    def worse(a, b):
        return a < b if better else a > b

    if not np.isfinite([alone, scores["mean"], scores["random_forest"]]).all():
        pass
    elif not worse(scores["mean"], alone):
        lines.append(f"  note: {subject} is no better than "
                     f"predicting the mean ({alone:.4f} vs {scores['mean']:.4f}): it has not "
                     "learnt this target")
    elif worse(alone, scores["random_forest"]):
        lines.append(f"  note: {subject} is worse than a random "
                     f"forest on ECFP4 ({alone:.4f} vs {scores['random_forest']:.4f}): a gain "
                     "from an auxiliary may only make up for a model that is not yet good on "
                     "this target")
    return "\n".join(lines)


def max_epochs(estimator):
    """The epochs a fit of a study may train, and whether it stops early.

    Parameters
    ----------
    estimator : estimator
        The downstream estimator as the study trains it
        (:func:`molselect.cli._inputs.study_estimator`).

    Returns
    -------
    epochs : int
    early_stopping : bool
    """
    params = estimator.get_params(deep=False)
    return int(params["epochs"]), params.get("early_stopping") is not None


def last_epoch_warning(best_epochs, n_epochs, epochs, early_stopping):
    """The warning when at least half of the alone fits were best at the last epoch trained.

    A fit whose best validation epoch is its last one was still improving
    when it ended.  Under early stopping that means the fit ran into its
    epoch limit (patience never ends a fit at its best epoch).

    Parameters
    ----------
    best_epochs : sequence of int
        The best validation epoch (from 1) of each fit of the target alone.
    n_epochs : sequence of int or None
        The epochs each fit trained (None or NaN for a fit cached before
        molselect recorded it: the limit ``epochs`` is taken instead).
    epochs : int
        The epoch limit of the fits.
    early_stopping : bool
        Whether the fits stop early (the message's advice).

    Returns
    -------
    str or None
        The message, or None when fewer than half ended at their last epoch.
    """
    best = np.asarray(best_epochs, dtype=float)
    trained = np.asarray([np.nan if n is None else n for n in n_epochs], dtype=float) \
        if n_epochs is not None else np.full(len(best), np.nan)
    trained = np.where(np.isnan(trained), epochs, trained)
    known = ~np.isnan(best)
    last = known & (best >= trained)
    if not known.any() or 2 * last.sum() < known.sum():
        return None
    limit = (f"the limit of {epochs} epochs, reached while still improving"
             if early_stopping else f"epoch {epochs} of {epochs}")
    # Every command's fits stop early now; without early stopping (a fit cached by an
    # earlier molselect) the same advice holds.
    advice = ("train longer: a larger --epochs (the limit; early stopping still ends a fit "
              "that stops improving)")
    return (f"in {int(last.sum())} of {int(known.sum())} fits of the target alone the best "
            f"validation epoch was the last one trained ({limit}): the fits may not have "
            "converged, so the target-alone score may understate the model and a gain may come "
            f"from the longer training a union gives. {advice[0].upper()}{advice[1:]}")
