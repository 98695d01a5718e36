"""The inputs of the commands: the target and candidate datasets, and the downstream model.

Datasets are registry names or files (CSV, TSV, SDF); a file target is split by
``--split`` (scaffold by default) and every part checked.
The functions read the parsed arguments, so that an option added to a shared
group (:mod:`molselect.cli._options`) reaches them without another edit.
"""

from __future__ import annotations

from pathlib import Path

from ._common import CLIError
from ._options import csv_options, option_values, size_options, study_options

__all__ = ["FILE_SUFFIXES", "ALL", "is_csv", "dataset_specs", "expand_all", "auxiliary_specs",
           "input_files", "load_target", "load_candidates", "make_estimator", "study_estimator",
           "study_kwargs"]


#: The keyword of ``--candidates`` (and ``--with``) for every available registry dataset.
ALL = "all"
#: Names that are files, whether they exist or not: tables and SDF files.
FILE_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".tsv.gz", ".tab", ".sdf", ".sdf.gz", ".sd",
                 ".mol")


def is_csv(spec):
    """Whether a dataset given on the command line is a file (else a registry name).

    A name ending in a table or SDF suffix (:data:`FILE_SUFFIXES`) is a file;
    so is any other name of an existing file, unless it is also a registry
    dataset's name: that ambiguity is refused, never settled silently.

    Parameters
    ----------
    spec : str
        As typed after ``--target`` or ``--candidates``.

    Returns
    -------
    bool

    Raises
    ------
    CLIError
        When ``spec`` names both a registry dataset and an existing file.
    """
    from ..datasets._registry import dataset_names

    name = str(spec)
    if name.lower().endswith(FILE_SUFFIXES):
        return True
    if not Path(name).is_file():
        return False
    if name in dataset_names():
        raise CLIError(
            f"{name!r} is both a registry dataset and a file in this folder: write "
            f"./{name} (or the file's full path) to read the file; to use the registry "
            f"dataset, rename or move the file {name}")
    return True


def dataset_specs(values, option="--candidates"):
    """The datasets a list option names: ``a,b c`` -> ``a``, ``b``, ``c``.

    A value is split at its commas unless that breaks a file name: when a
    piece is neither a registry dataset (nor ``all``) nor an existing file but
    the whole value is an existing file (``"assay, batch 2.csv"``), the value
    is that file.

    Parameters
    ----------
    values : list of str or None
        The option's values.
    option : str, default="--candidates"
        The option, for the message.

    Returns
    -------
    list of str

    Raises
    ------
    CLIError
        When a value split at its commas holds a piece that is neither a
        dataset nor a file, and the whole value is no file either: the message
        says that the value was split, and why that piece was not found.
    """
    from ..datasets._registry import dataset_names, get_dataset_info

    known = {*dataset_names(), ALL}

    def found(piece):
        return piece.lower() in known or Path(piece).is_file()

    specs = []
    for value in map(str, values or []):
        pieces = [piece.strip() for piece in value.split(",") if piece.strip()]
        missing = [piece for piece in pieces if not found(piece)]
        if len(pieces) > 1 and missing and Path(value).is_file():
            specs.append(value)
            continue
        if len(pieces) > 1 and missing:
            why = f"no file {missing[0]!r} exists"
            if not missing[0].lower().endswith((*FILE_SUFFIXES, ".json")):
                try:
                    get_dataset_info(missing[0])
                except ValueError as exc:
                    why = str(exc)
            raise CLIError(
                f"{option} {value!r} was split at its commas into "
                f"{', '.join(map(repr, pieces))}: {why}. A file whose name holds a comma "
                f"is read whole when it exists (no file {value!r} does); datasets may also "
                f"be given as separate arguments ({option} bace \"my file.csv\")")
        specs.extend(pieces)
    return specs


def expand_all(specs, target_name, option="--candidates"):
    """``specs`` with the keyword ``all`` replaced by every available registry dataset.

    The target is left out, and so is a dataset already named in ``specs``.
    A file named ``all`` in the working folder, or a registry dataset of
    that name, makes the keyword ambiguous: refused, never settled silently.

    Parameters
    ----------
    specs : list of str
        From :func:`dataset_specs`.
    target_name : str
        The target's name.
    option : str, default="--candidates"
        The option, for the message.

    Returns
    -------
    list of str
    """
    from ..datasets import list_datasets
    from ..datasets._registry import dataset_names

    if not any(spec.lower() == ALL for spec in specs):
        return list(specs)
    if Path(ALL).is_file() or ALL in dataset_names():
        what = ("a file named all in this folder" if Path(ALL).is_file()
                else "a registry dataset named all")
        raise CLIError(f"{option} all: 'all' is the keyword for every available registry "
                       f"dataset, and there is {what}; write ./all to read the file, or "
                       "name the datasets")
    available = [name for name in list_datasets().query("available")["name"]
                 if name != target_name and name not in specs]
    expanded = []
    for spec in specs:
        expanded.extend(available if spec.lower() == ALL else [spec])
    return expanded


def auxiliary_specs(values, target_name):
    """The auxiliaries ``--with`` names: datasets, files, ``all``, or ``select --out`` JSON.

    Parameters
    ----------
    values : list of str
        ``--with``'s values.
    target_name : str
        The target's name (``all`` leaves it out).

    Returns
    -------
    list of str
        Registry names and files; a JSON file gives its selection.
    """
    from .._selection_file import read_selection

    names = []
    for spec in dataset_specs(values, "--with"):
        if spec.lower().endswith(".json"):
            names.extend(read_selection(spec, option="--with"))
        else:
            names.append(spec)
    return expand_all(names, target_name, "--with")


def input_files(args):
    """The existing files a run reads: target, candidates, ``--with``, ``predict``'s inputs.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed arguments of any command.

    Returns
    -------
    list of str
        What the result files must never overwrite.
    """
    specs = [getattr(args, name, None) for name in ("target", "input", "model_file")]
    for option in ("candidates", "with_"):
        specs.extend(dataset_specs(getattr(args, option, None),
                                   "--" + option.rstrip("_")))
    return [spec for spec in specs if spec and Path(spec).is_file()]


def _subsample(data, limit, seed):
    """At most ``limit`` molecules of ``data``, seeded, in their original order."""
    if limit is None or len(data) <= limit:
        return data
    return data.sample(limit, random_state=seed)


def _read_csv(spec, args, task_cols, smiles_col=None, **split):
    from ..datasets import from_csv
    from ._common import split_list

    task_cols = split_list([task_cols]) if task_cols else None
    kwargs = option_values(args, csv_options())
    if smiles_col:
        kwargs["smiles_col"] = smiles_col
    # Invalid SMILES are dropped with a warning rather than aborting: a command-line run
    # over someone's spreadsheet should report and go on, as the registry loaders do.
    return from_csv(spec, **kwargs, task_cols=task_cols, on_invalid="drop", **split)


def load_target(spec, args):
    """The target's train / valid / test splits, from the registry or a CSV file.

    Parameters
    ----------
    spec : str
        A registry name or a CSV file.
    args : argparse.Namespace
        The parsed arguments (CSV options, ``--split``, ``--max-molecules``,
        ``--seed``).

    Returns
    -------
    tuple of MoleculeDataset
        Train (subsampled to ``--max-molecules``), valid, test.
    """
    from ..datasets import DegenerateSplitError, load_dataset

    if str(spec).lower() == ALL and not Path(spec).is_file():
        raise CLIError("--target all: 'all' names every registry dataset, a keyword of "
                       "--candidates; give one target (a file named all is ./all)")
    try:
        if is_csv(spec):
            train, valid, test = _read_csv(spec, args, args.task_cols,
                                           split=getattr(args, "split", None) or "scaffold",
                                           random_state=args.seed)
        elif getattr(args, "split", None) is not None:
            if args.split == "cluster":
                raise CLIError(f"--split cluster: only for a CSV target; the registry dataset "
                               f"{spec!r} takes --split scaffold or random")
            train, valid, test = load_dataset(spec, split=args.split, random_state=args.seed)
        else:
            train, valid, test = load_dataset(spec)
    except DegenerateSplitError as exc:
        raise CLIError(_as_options(str(exc))) from None
    return _subsample(train, args.max_molecules, args.seed), valid, test


def _as_options(message):
    """A split error's advice, in the command line's words (``--split random``)."""
    import re

    message = re.sub(r"split='(\w+)'(?! with fracs)", r"--split \1", message)
    return re.sub(r"split='(\w+)' with fracs=(\([^)]*\))",
                  r"from_csv(..., split='\1', fracs=\2) in Python", message)


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
    if not specs:
        raise CLIError("no candidates given: pass --candidates NAME[,NAME...] (see "
                       "`molselect datasets`) or CSV files")
    pool = {}
    for spec in specs:
        if is_csv(spec):
            data = _read_csv(spec, args, args.candidate_task_cols,
                             getattr(args, "candidate_smiles_col", None))
        else:
            data = _registry_candidate(spec, args.max_molecules, args.seed)
        if data.name in pool:
            raise CLIError(f"candidate {data.name!r} is given twice")
        if data.name == target_name:
            raise CLIError(f"candidate {data.name!r} is the target itself; leave it out")
        pool[data.name] = _subsample(data, args.max_molecules, args.seed)
    return pool


def _registry_candidate(name, limit, seed):
    """A registry candidate's training split; with ``limit``, only a sample is parsed.

    A ``--max-molecules`` run takes ``limit`` molecules of the training split
    of a seeded sample of ``2 * limit`` (``load_dataset(max_molecules=...)``),
    so that a large dataset (hiv, muv, chembl) is not parsed and split in full
    for a small trial; when that split holds fewer than ``limit``, the whole
    dataset is loaded.
    """
    from ..datasets import load_dataset
    from ..datasets._registry import get_dataset_info

    info = get_dataset_info(name)
    size = min(filter(None, (info.n_rows, info.max_molecules)), default=None)
    if limit is not None and size is not None and 2 * limit < size:
        train = load_dataset(name, max_molecules=2 * limit, random_state=seed).train
        if len(train) >= limit:
            return train
    return load_dataset(name).train


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


def study_estimator(model, target, args, seed):
    """The downstream estimator of ``evaluate``, ``transfer`` and ``train``, under the
    converged protocol, with ``--epochs`` (when given) as its epoch limit.

    The studies' protocol sets its own epoch limit; applied here instead, a user's
    ``--epochs`` is the limit rather than silently replaced, and the target alone trains
    the same way with and without auxiliaries.

    Parameters
    ----------
    model, target, args, seed
        As :func:`make_estimator`.

    Returns
    -------
    BaseGraphEstimator
        Unfitted; pass it to the studies with ``protocol="fixed"``.
    """
    from ..evaluation import apply_protocol

    estimator = apply_protocol(make_estimator(model, target, args, seed), "default")
    if getattr(args, "epochs", None) is not None:
        estimator.set_params(epochs=args.epochs)
    return estimator


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
