"""Command-line options as data: each is declared once, with the parameter it sets.

An :class:`Option` is argparse's ``add_argument`` call plus ``param``, the
keyword argument it sets in the library (a selector's, an estimator's or
:func:`~molselect.datasets.from_csv`'s).  The commands add the options of a
group to their parser and read the values back by parameter
(:func:`option_values`); a parameter error of the library is reported with the
option that set the value (:func:`option_for`).  So an option is one entry in
one list: a new CSV option such as ``--sep`` (a :func:`pandas.read_csv`
keyword) is one :class:`Option` in :func:`csv_options`, a new ``select`` option
one in ``select``'s list.

The groups shared by several commands are here: CSV input, sizes, the
downstream model, and the settings of a transfer study; the value types that
argparse checks are in :mod:`molselect.cli._types`.  A renamed option keeps
its old spelling as a hidden :func:`renamed` option that warns.
"""

from __future__ import annotations

import argparse

from ._types import (MIN_RESAMPLE, Renamed, Seeds, n_jobs, one_seed, positive_int, resample_size,
                     seed_list, separator)

__all__ = ["Option", "Group", "Renamed", "renamed", "add_options", "option_values", "option_for",
           "positive_int", "one_seed", "seed_list", "n_jobs", "resample_size", "MIN_RESAMPLE",
           "separator", "SPLITS", "flatten", "csv_options", "csv_group", "size_options",
           "size_group", "model_options", "study_options", "no_baselines", "RESULTS_DIR_HELP"]


class Option:
    """One command-line option and the library parameter it sets.

    Parameters
    ----------
    *flags : str
        The option strings (``"--top-k"``).
    param : str, optional
        The keyword argument it sets; None for an option the command reads itself.
    answers_for : tuple of str, default=()
        Further parameters derived from it, whose errors it answers for
        (``--epochs`` for MolGroup's ``warmup_epochs``).
    strict : bool, default=False
        Refuse the option for a selector without ``param``, rather than ignore
        it (``--rounds`` for a method that has no rounds).
    **kwargs
        ``argparse.ArgumentParser.add_argument``'s keyword arguments.
    """

    def __init__(self, *flags, param=None, answers_for=(), strict=False, **kwargs):
        self.flags = flags
        self.param = param
        self.answers_for = tuple(answers_for)
        self.strict = strict
        self.kwargs = kwargs

    @property
    def flag(self):
        """str: The first option string, as messages name the option."""
        return self.flags[0]

    @property
    def dest(self):
        """str: The attribute of the parsed arguments that holds the value."""
        return self.kwargs.get("dest") or self.flag.lstrip("-").replace("-", "_")

    def __repr__(self):
        return f"Option({self.flag!r}, param={self.param!r})"


class Group:
    """Options that ``--help`` lists under a title of their own.

    Parameters
    ----------
    title : str
        The argument group's title.
    options : list of Option
        Its options.
    description : str, optional
        A line under the title.
    """

    def __init__(self, title, options, description=None):
        self.title = title
        self.options = options
        self.description = description

    def __iter__(self):
        return iter(self.options)


def add_options(parser, options):
    """Add ``options`` to ``parser`` (a :class:`Group`'s in an argument group).

    Parameters
    ----------
    parser : argparse.ArgumentParser
        A command's parser.
    options : iterable of Option or Group
        The options, in the order ``--help`` lists them.
    """
    for option in options:
        if isinstance(option, Group):
            add_options(parser.add_argument_group(option.title, option.description),
                        option.options)
        else:
            parser.add_argument(*option.flags, **option.kwargs)


def flatten(options):
    """The options of ``options``, groups opened, in order.

    Parameters
    ----------
    options : iterable of Option or Group

    Returns
    -------
    list of Option
    """
    return [o for item in options for o in (item if isinstance(item, Group) else [item])]


def option_values(args, options, keep_none=False):
    """The parsed values of the options that set a parameter, by parameter.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed arguments (an option the command lacks reads as None).
    options : iterable of Option
        The options to read.
    keep_none : bool, default=False
        Keep the parameters whose option was not given (None).

    Returns
    -------
    dict
        ``param -> value``, in the order of ``options``.
    """
    values = {}
    for option in options:
        if option.param is not None:
            value = getattr(args, option.dest, None)
            if value is not None or keep_none:
                values[option.param] = value
    return values


def option_for(param, options):
    """The option that sets ``param`` (or answers for it), or None.

    Parameters
    ----------
    param : str
        A library parameter.
    options : iterable of Option
        The command's options.

    Returns
    -------
    str or None
        The option string.
    """
    for option in options:
        if param == option.param or param in option.answers_for:
            return option.flag
    return None


# -- old spellings ----------------------------------------------------------------------
def renamed(old, new, dest, why="", **kwargs):
    """An :class:`Option` for the old spelling ``old`` of the option ``new``.

    Parameters
    ----------
    old, new : str
        The old and the current option strings.
    dest : str
        The new option's destination, which the old spelling sets.
    why : str, optional
        What the new name makes clear (in the warning).
    **kwargs
        The new option's ``type`` (and ``nargs``), so that a value is checked alike.

    Returns
    -------
    Option
    """
    return Option(old, dest=dest, action=Renamed, new=new, why=why,
                  default=argparse.SUPPRESS, help=argparse.SUPPRESS, **kwargs)


#: The ``--split`` choices: :func:`~molselect.datasets.from_csv`'s ``split``.
SPLITS = ("scaffold", "random", "cluster")


# -- groups shared by several commands -------------------------------------------------------
def csv_options(seed_option="--seed"):
    """The options that read CSV inputs (in :func:`csv_group`).

    ``--smiles-col`` and ``--sep`` (any option with a ``param``) are passed to
    :func:`~molselect.datasets.from_csv`; the label columns depend on the role
    of the file (target or candidate), so may the SMILES column
    (``--candidate-smiles-col``), and ``--split`` applies to the target only.

    Parameters
    ----------
    seed_option : str, default="--seed"
        The command's option that seeds ``--split`` (``--data-seed`` where
        ``--seeds`` are the training seeds).

    Returns
    -------
    list of Option
    """
    return [
        Option("--smiles-col", param="smiles_col", default="smiles", metavar="COL",
               help="SMILES column of a CSV target, and of CSV candidates unless "
                    "--candidate-smiles-col is given (default: %(default)s)"),
        Option("--candidate-smiles-col", metavar="COL",
               help="SMILES column of CSV candidates, when it is not the target's "
                    "(default: --smiles-col)"),
        Option("--task-cols", metavar="COL[,COL...]",
               help="label columns of a CSV target (default: every other column)"),
        Option("--candidate-task-cols", metavar="COL[,COL...]",
               help="label columns of CSV candidates (default: every other column)"),
        Option("--sep", param="sep", type=separator, metavar="SEP",
               help="field separator of CSV inputs, e.g. ';' or '\\t' (default: ',', a tab "
                    "for .tsv / .tab files)"),
        Option("--split", choices=SPLITS, metavar="{" + ",".join(SPLITS) + "}",
               help="how a CSV target is split into train / valid / test (80/10/10, seeded "
                    f"by {seed_option}): 'scaffold' (default), 'random', or 'cluster' (Butina "
                    "clusters of fingerprints: for a congeneric series); a registry target "
                    "keeps its own split unless this is given"),
    ]


def csv_group(seed_option="--seed"):
    """The ``CSV input`` group: :func:`csv_options`.

    Parameters
    ----------
    seed_option : str, default="--seed"
        As for :func:`csv_options`.

    Returns
    -------
    Group
    """
    return Group("CSV input", csv_options(seed_option))


def size_group(rounds=True):
    """The ``size`` group: :func:`size_options`.

    Parameters
    ----------
    rounds : bool, default=True
        Include ``--rounds``.

    Returns
    -------
    Group
    """
    return Group("size", size_options(rounds),
                 "override the preset, e.g. to make a quick trial run tiny")


def size_options(rounds=True):
    """The size options, which override a preset (in :func:`size_group`).

    Parameters
    ----------
    rounds : bool, default=True
        Include ``--rounds`` (MolGroup's filtering rounds: ``select`` only).

    Returns
    -------
    list of Option
    """
    return [
        Option("--max-molecules", type=positive_int, metavar="N",
               help="use at most N training molecules of the target and of each auxiliary "
                    "(seeded subsample; a registry auxiliary's come from a sample of 2N, so "
                    "that a large dataset is not parsed in full)"),
        Option("--epochs", param="epochs", answers_for=("warmup_epochs",), strict=True,
               type=positive_int, metavar="N", help="training epochs"),
        Option("--hidden-dim", param="hidden_dim", strict=True, type=positive_int,
               metavar="N", help="embedding size of the network"),
        Option("--num-layers", param="num_layers", strict=True, type=positive_int,
               metavar="N", help="message-passing layers"),
        *([Option("--rounds", param="n_rounds", strict=True, type=positive_int, metavar="N",
                  help="MolGroup filtering rounds")] if rounds else []),
        Option("--device", param="device", metavar="DEV",
               help="'cpu', 'cuda', 'cuda:1' ... (default: CUDA when available)"),
    ]


#: ``--results-dir``: the folder of finished fits (a :class:`~molselect.evaluation.ResultCache`).
RESULTS_DIR_HELP = ("results folder: keep every finished fit in DIR, so that a repeated or "
                    "interrupted run resumes from it (folders can be shared between runs and "
                    "commands)")


def model_options():
    """``--model`` and ``--preset``: the downstream model and its size (``evaluate``,
    ``transfer``, ``train``).

    Returns
    -------
    list of Option
        Read by :func:`molselect.cli._inputs.make_estimator`.
    """
    from ..presets import ESTIMATOR_PRESETS
    from ..registry import ESTIMATORS

    return [
        Option("--model", default="gin", choices=list(ESTIMATORS),
               help="downstream model (default: %(default)s)"),
        Option("--preset", default="fast", choices=sorted(ESTIMATOR_PRESETS),
               help="model size: 'fast' (CPU) or 'paper' (default: %(default)s)"),
    ]


def study_options(default_seeds):
    """The settings of a transfer study (``evaluate``, ``transfer``).

    Parameters
    ----------
    default_seeds : list of int
        The command's default ``--seeds``.

    Returns
    -------
    list of Option
        Those with a ``param`` are keyword arguments of
        :func:`~molselect.evaluation.transfer_gains` and
        :func:`~molselect.evaluation.evaluate_selection`.
    """
    model, preset = model_options()
    return [
        model,
        Option("--seeds", param="seeds", type=seed_list, nargs="+", default=default_seeds,
               action=Seeds, metavar="SEEDS",
               help="training seeds, one fit each: 0 1 2, 0-7 or 0,1,2; each seed pairs a fit "
                    f"without and one with the auxiliaries (default: {default_seeds})"),
        preset,
        # One seed for what is drawn from the data, apart from --seeds (the fits):
        # --seed differed from --seeds by one letter.
        Option("--data-seed", dest="seed", type=one_seed, default=0, metavar="N",
               help="seed of what is drawn from the data, the same for every fit: the "
                    "--max-molecules subsample and a random or cluster --split (transfer: "
                    "also the control's shuffled labels and the --design) (default: 0)"),
        renamed("--seed", "--data-seed", "seed", type=one_seed,
                why="it seeds the data's subsample and split; --seeds seeds the fits"),
        Option("--results-dir", param="results_dir", metavar="DIR", help=RESULTS_DIR_HELP),
        renamed("--cache", "--results-dir", "results_dir",
                why="it keeps finished fits (results), not the feature cache of "
                    "`molselect cache`"),
        Option("--n-jobs", param="n_jobs", type=n_jobs, metavar="N",
               help="parallel fits (joblib; default: one at a time)"),
        Option("--torch-threads", param="torch_threads", type=positive_int, metavar="N",
               help="torch threads per fit (1 is best with one fit per core)"),
        Option("--resample", param="resample_to", dest="resample_to", type=resample_size,
               metavar="N",
               help=f"resample every training set to N molecules, N >= {MIN_RESAMPLE} (the "
                    "paper's appendix C uses 5000)"),
        no_baselines(),
        Option("--quiet", action="store_true", help="print the final table only"),
    ]


def no_baselines(prefix=""):
    """``--no-baselines``: leave out the model-quality context (``prefix`` starts its help)."""
    return Option("--no-baselines", dest="baselines", action="store_false",
                  help=f"{prefix}leave out the context: by default the target's test score of "
                       "predicting the mean and of a random forest on ECFP4 fingerprints "
                       "(trained on the target's training split) is shown beside the model's; "
                       "the forest takes minutes on a target of thousands of molecules with "
                       "missing labels (one forest per task), and is kept in --results-dir "
                       "where there is one")
