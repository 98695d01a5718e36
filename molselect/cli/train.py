"""``molselect train``: train the downstream model on a target and save it for ``predict``."""

from __future__ import annotations

from pathlib import Path

from .._param_validation import InvalidParameterError
from . import _context, _inputs
from ._common import CLIError
from ._options import (Option, csv_group, flatten, model_options, no_baselines, one_seed,
                       option_for, size_group)

__all__ = ["NAME", "HELP", "DESCRIPTION", "options", "run", "make_model", "fit_model"]

NAME = "train"
HELP = "train the downstream model on a target and save it to a model file"
DESCRIPTION = ("Train a GIN or Graphormer on the target's training split (plus the given "
               "auxiliaries, leakage-guarded) under the converged protocol that `molselect "
               "evaluate` and `transfer` use: up to 100 epochs, stopped early on the "
               "validation loss (--epochs sets that limit), predicting with the mean of the 5 "
               "best epochs' networks. "
               "Print its test score and save it; `molselect predict` applies it to new "
               "molecules.")
EPILOG = ("example: molselect train --target my_series.csv --split cluster --with lipo "
          "--out series.joblib; then: molselect predict --model-file series.joblib "
          "--input new.csv --out predictions.csv")


def options():
    """The options of ``train``, in ``--help`` order (``param``: what an option sets)."""
    return [
        Option("--target", required=True, metavar="NAME|CSV",
               help="target dataset: a registry name or a CSV, TSV or SDF file (split by "
                    "--split)"),
        Option("--with", dest="with_", nargs="*", default=[], metavar="NAME|CSV|JSON",
               help="auxiliaries to train with: names, files, 'all' (every other available "
                    "registry dataset) or the JSON written by `molselect select --out`; "
                    "none: the target alone"),
        *model_options(),
        Option("--seed", param="random_state", type=one_seed, default=0, metavar="N",
               help="the one seed of the run: the model's initialisation and batches, the "
                    "--max-molecules subsample, a random or cluster --split (default: 0)"),
        Option("--out", required=True, metavar="FILE.joblib",
               help="the model file to write (a pickle, as scikit-learn models are: load "
                    "only model files you trust)"),
        no_baselines(),
        Option("--quiet", action="store_true", help="no progress bars or summaries"),
        csv_group(),
        size_group(rounds=False),
    ]


def make_model(args, target):
    """The estimator to train: ``--model`` at ``--preset``, under the converged protocol.

    Parameters
    ----------
    args : argparse.Namespace
        ``train``'s parsed arguments; ``--epochs``, when given, is the
        protocol's epoch limit (early stopping stays).
    target : MoleculeDataset
        The target's training split (classification or regression decides
        the class).

    Returns
    -------
    BaseGraphEstimator
        Unfitted, its parameters checked now, before any training: a refused
        value is a :class:`CLIError` naming the option that set it.
    """
    estimator = _inputs.study_estimator(args.model, target, args, args.seed)
    estimator.set_params(verbose=not args.quiet)
    try:
        estimator._validate_params()
    except InvalidParameterError as exc:
        option = option_for(exc.param, flatten(options()))
        if option is None:
            raise
        raise CLIError(f"{option}: {exc}") from None
    return estimator


def fit_model(estimator, train, valid, test, pool, quiet=False):
    """Fit ``estimator`` on ``train`` plus ``pool`` (leakage-guarded); return its test score.

    Parameters
    ----------
    estimator : BaseGraphEstimator
        Unfitted; fitted in place.
    train, valid, test : MoleculeDataset
        The target's splits: trained on, choosing the epochs, scored.
    pool : dict of str to MoleculeDataset
        The auxiliaries (may be empty).
    quiet : bool, default=False
        Do not print what the leakage guard removed.

    Returns
    -------
    members : dict of str to int
        The molecules each member was trained on.
    score : float
        The target's test metric, in its own units (an RMSE is an RMSE).
    """
    import warnings

    from ..datasets._leakage import make_union
    from ..metrics import greater_is_better

    members = {train.name: train}
    if pool:
        union, leaked = make_union(train, pool, held_out=[valid, test], return_leaked=True)
        members = {name: data for name, data in union.items() if len(data)}
        if sum(leaked.values()) and not quiet:
            print(f"leakage guard: removed {sum(leaked.values())} auxiliary molecule(s) found "
                  "in the target's valid/test splits")
        emptied = [name for name in pool if name not in members]
        if emptied:
            warnings.warn(f"the leakage guard removed every molecule of {', '.join(emptied)} "
                          "(they are in the target's validation or test split): trained "
                          "without them", UserWarning, stacklevel=2)
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        # run() says it in the command's own words (the option is --epochs).
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(members if len(members) > 1 else train, eval_set=valid)
    score = float(estimator.score(test))
    return ({name: len(data) for name, data in members.items()},
            score if greater_is_better(test.metric) else -score)


def run(args):
    """Run ``molselect train`` on the parsed ``args``; return the exit code."""
    from .. import __version__
    from ..datasets._validation import validate_auxiliaries
    from ..metrics import greater_is_better
    from ..models import save_model

    train, valid, test = _inputs.load_target(args.target, args)
    estimator = make_model(args, train)
    specs = _inputs.auxiliary_specs(args.with_, train.name)
    pool = _inputs.load_candidates(specs, args, train.name) if specs else {}
    if pool:
        validate_auxiliaries(pool, train.name)
    if not args.quiet:
        print("target   ", train.summary())
        for data in pool.values():
            print("auxiliary", data.summary())
    sizes, score = fit_model(estimator, train, valid, test, pool, quiet=args.quiet)
    better = "higher" if greater_is_better(test.metric) else "lower"
    trained_on = " + ".join(f"{n} molecules of {name}" for name, n in sizes.items())
    print(f"\n{args.model} trained on {trained_on}; best validation epoch "
          f"{estimator.best_epoch_} of {estimator.n_epochs_}")
    print(f"test {test.metric} on the target's test split ({len(test)} molecules): "
          f"{score:.4f} ({better} is better)")
    scores = _context.baselines(train, test, args)
    if scores is not None:
        members = "the target alone" if len(sizes) == 1 else "the target + " + ", ".join(
            list(sizes)[1:])
        print("\n" + _context.context_block(scores, args.model, score,
                                             label=f"{args.model}, this model ({members})"))
    if estimator.best_epoch_ >= estimator.n_epochs_:
        # Early stopping never ends a fit at its best epoch: this one ran into the limit.
        _context.warn(f"the best validation epoch was the last one trained ({estimator.n_epochs_}"
                      f" of at most {estimator.epochs}): the model may not have converged; "
                      "train longer (a larger --epochs)")
    info = {"target": train.name, "tasks": list(train.tasks),
            "task_types": list(train.task_types), "metric": test.metric,
            "test_score": score, "auxiliaries": [n for n in sizes if n != train.name],
            "n_train": sizes, "model": args.model, "preset": args.preset, "seed": args.seed,
            "smiles_col": args.smiles_col if _inputs.is_csv(args.target) else "smiles",
            "created_by": f"molselect {__version__} train"}
    out = Path(args.out)
    try:
        save_model(estimator, out, info=info, inputs=_inputs.input_files(args))
    except FileExistsError as exc:
        raise CLIError(f"--out {exc}") from None
    except OSError as exc:
        raise CLIError(f"--out {out}: writing the model failed ({exc})") from None
    print(f"wrote {out}; predict with: molselect predict --model-file {out} --input FILE.csv "
          "--out predictions.csv")
    return 0
