"""The inputs of the commands: the target and candidate datasets, and the downstream model.

Datasets are registry names or CSV files; a CSV target is scaffold-split.
The functions read the parsed arguments, so that an option added to a shared
group (:mod:`molselect.cli._options`) reaches them without another edit.
"""

from __future__ import annotations

from pathlib import Path

from ._common import CLIError
from ._options import csv_options, option_values, size_options, study_options

__all__ = ["is_csv", "load_target", "load_candidates", "make_estimator", "study_kwargs"]


def is_csv(spec):
    """Whether a dataset given on the command line is a CSV file (else a registry name)."""
    name = str(spec).lower()
    return name.endswith((".csv", ".csv.gz")) or Path(spec).is_file()


def _subsample(data, limit, seed):
    """At most ``limit`` molecules of ``data``, seeded, in their original order."""
    if limit is None or len(data) <= limit:
        return data
    return data.sample(limit, random_state=seed)


def _read_csv(spec, args, task_cols):
    from ..datasets import from_csv
    from ._common import split_list

    task_cols = split_list([task_cols]) if task_cols else None
    # Invalid SMILES are dropped with a warning rather than aborting: a command-line run
    # over someone's spreadsheet should report and go on, as the registry loaders do.
    return from_csv(spec, **option_values(args, csv_options()), task_cols=task_cols,
                    on_invalid="drop")


def load_target(spec, args):
    """The target's train / valid / test splits, from the registry or a CSV file.

    Parameters
    ----------
    spec : str
        A registry name or a CSV file.
    args : argparse.Namespace
        The parsed arguments (CSV options, ``--max-molecules``, ``--seed``).

    Returns
    -------
    tuple of MoleculeDataset
        Train (subsampled to ``--max-molecules``), valid, test.
    """
    from ..datasets import load_dataset, scaffold_split

    if is_csv(spec):
        full = _read_csv(spec, args, args.task_cols)
        if len(full) < 10:
            raise CLIError(f"{spec}: {len(full)} molecules are too few to split into "
                           "train / valid / test (need at least 10)")
        train, valid, test = (full.subset(i) for i in scaffold_split(full.ids))
    else:
        train, valid, test = load_dataset(spec)
    return _subsample(train, args.max_molecules, args.seed), valid, test


def load_candidates(specs, args, target_name):
    """The candidate auxiliaries by name: registry training splits or CSV files.

    Parameters
    ----------
    specs : list of str
        Registry names or CSV files.
    args : argparse.Namespace
        The parsed arguments.
    target_name : str
        The target's name, which no candidate may have.

    Returns
    -------
    dict of str to MoleculeDataset
    """
    from ..datasets import load_dataset

    if not specs:
        raise CLIError("no candidates given: pass --candidates NAME[,NAME...] (see "
                       "`molselect datasets`) or CSV files")
    pool = {}
    for spec in specs:
        if is_csv(spec):
            data = _read_csv(spec, args, args.candidate_task_cols)
        else:
            data = load_dataset(spec).train
        if data.name in pool:
            raise CLIError(f"candidate {data.name!r} is given twice")
        if data.name == target_name:
            raise CLIError(f"candidate {data.name!r} is the target itself; leave it out")
        pool[data.name] = _subsample(data, args.max_molecules, args.seed)
    return pool


def make_estimator(model, target, args, seed):
    """The downstream estimator ``--model`` names, sized by ``--preset`` and the size options.

    Parameters
    ----------
    model : str
        A name in :data:`molselect.registry.ESTIMATORS`.
    target : MoleculeDataset
        The target: classification or regression decides the class.
    args : argparse.Namespace
        The parsed arguments.
    seed : int or None
        Its ``random_state``.

    Returns
    -------
    BaseGraphEstimator
    """
    from ..presets import get_estimator_preset
    from ..registry import ESTIMATORS

    if not (target.is_classification or all(t == "regression" for t in target.task_types)):
        raise CLIError(f"target {target.name!r} mixes classification and regression tasks; "
                       "the downstream estimators need one kind")
    cls = ESTIMATORS[model].estimator_class(target.is_classification)
    params = get_estimator_preset(args.preset, model)
    params.update(option_values(args, size_options(rounds=False)))
    return cls(random_state=seed, **params)


def study_kwargs(args):
    """The keyword arguments of a transfer study, from the study options and ``--quiet``.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed arguments of ``evaluate`` or ``transfer``.

    Returns
    -------
    dict
    """
    return dict(option_values(args, study_options(args.seeds), keep_none=True),
                verbose=not args.quiet)
