"""The ``molselect`` command line.

Eight subcommands, one module each:

``molselect datasets``
    List the dataset registry and what is available locally.
``molselect select``
    Score candidate auxiliaries for a target (Task2vec by default, MolGroup
    or another baseline with ``--method``), print a ranked table, optionally
    write JSON + history CSV.
``molselect evaluate``
    Train a downstream GIN / Graphormer on the target alone and on the
    target + auxiliaries over several seeds and compare the test metric.
``molselect transfer``
    Measure what each candidate does to the target: paired fits with and
    without it over several seeds, gains with intervals and verdicts.
``molselect train``
    Train the downstream model on the target (and auxiliaries), print its
    test score and save it to a model file.
``molselect predict``
    Predict the tasks of the molecules of a file with a saved model.
``molselect cache``
    Show, prune or clear the feature cache (featurized molecules; not the
    results folders of ``--results-dir``, nor the data home).
``molselect demo``
    A small MolGroup selection on bundled data (what ``make demo`` runs).

A command module has ``NAME``, ``HELP``, ``DESCRIPTION`` (and ``EPILOG``),
``options()`` and ``run(args)``, as chemprop v2's ``Subcommand``; an option
is one :class:`~molselect.cli._options.Option` in its command's
``options()``, and the groups that several commands share are declared once
in :mod:`molselect.cli._options`, and the choices of
``--method`` and ``--model`` are the registries of :mod:`molselect.registry`.
This module builds the parser and runs a command with the error handling
they all share.

Every command runs offline on the bundled datasets.  ``main`` returns the
exit code instead of calling :func:`sys.exit`, so that tests and notebooks
can call it in-process.
"""

from __future__ import annotations

import argparse
import sys

from .._signals import Terminated, sigterm_raises
from . import cache, datasets, demo, evaluate, predict, select, train, transfer
from ._common import CLIError, check_folder, check_out
from ._options import add_options

__all__ = ["main", "build_parser", "check_paths", "CLIError", "COMMANDS"]

#: The command modules, in the order ``molselect --help`` lists them.
COMMANDS = (datasets, select, evaluate, transfer, train, predict, cache, demo)


def build_parser():
    """Build the argument parser of the ``molselect`` command.

    Exposed so that the documentation and the tests can inspect the options.

    Returns
    -------
    argparse.ArgumentParser
    """
    parser = argparse.ArgumentParser(
        prog="molselect",
        description="Choose the auxiliary molecule datasets that help a target dataset "
                    "(MolGroup, NeurIPS 2023), and train GIN / Graphormer models on them.",
        epilog="Run `molselect COMMAND --help` for the options of each command.",
    )
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback on errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command_parser = sub.add_parser(command.NAME, help=command.HELP,
                                        description=command.DESCRIPTION,
                                        epilog=getattr(command, "EPILOG", None))
        add_options(command_parser, command.options())
        command_parser.set_defaults(func=command.run)
    return parser


def main(argv=None):
    """Run the ``molselect`` command.

    Parameters
    ----------
    argv : list of str, optional
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit code: 0 on success, 2 for bad arguments or input data (argparse's
        convention), 1 for a failure while running, 130 when interrupted (Ctrl-C) and
        143 when terminated (SIGTERM); both exit cleanly, without partial output files.
    """
    from ..datasets import DownloadError

    import warnings

    parser = build_parser()
    with warnings.catch_warnings():
        # The parser warns too: an old option spelling, a renamed method.
        warnings.showwarning = _show_warning
        args = parser.parse_args(argv)
    # SIGTERM raises Terminated (a KeyboardInterrupt): the clean-up Ctrl-C runs, then 143.
    with sigterm_raises():
        try:
            with warnings.catch_warnings():
                # A warning is a line for the user, not the library's file and line number.
                warnings.showwarning = _show_warning
                check_paths(args)
                return args.func(args)
        except Terminated:
            print("molselect: terminated", file=sys.stderr)
            return 143
        except KeyboardInterrupt:
            print("molselect: interrupted", file=sys.stderr)
            return 130
        except (CLIError, ValueError, KeyError, FileNotFoundError, TypeError) as exc:
            if args.debug:
                raise
            print(f"molselect {args.command}: error: {_message(exc)}", file=sys.stderr)
            return 2
        except (DownloadError, OSError, RuntimeError) as exc:
            if args.debug:
                raise
            print(f"molselect {args.command}: failed: {_message(exc)}", file=sys.stderr)
            return 1
        except Exception as exc:  # noqa: BLE001 - a user sees a message, --debug the traceback
            if args.debug:
                raise
            print(f"molselect {args.command}: failed: {type(exc).__name__}: {_message(exc)} "
                  "(run with --debug for the traceback)", file=sys.stderr)
            return 1


def check_paths(args):
    """Check every file and folder a command writes, before it loads data or trains.

    ``--out`` (and ``select``'s ``--checkpoint``) must be writable and none of
    the run's input files; ``--results-dir`` must be a folder files can be
    kept in.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed arguments of any command.
    """
    from ._inputs import input_files

    import os

    inputs = input_files(args)
    out, checkpoint = getattr(args, "out", None), getattr(args, "checkpoint", None)
    if out and checkpoint and os.path.realpath(out) == os.path.realpath(checkpoint):
        raise CLIError(f"--out and --checkpoint name the same file ({out}): the result would "
                       "replace the checkpoint; give them different files")
    if out:
        check_out(out, inputs=inputs)
    if checkpoint:
        check_out(checkpoint, "--checkpoint", inputs=inputs)
    if getattr(args, "results_dir", None):
        check_folder(args.results_dir, "--results-dir")


def _show_warning(message, category, filename, lineno, file=None, line=None):
    """``warnings.showwarning`` for the command line: ``warning: <message>`` on stderr."""
    print(f"warning: {message}", file=sys.stderr if file is None else file)


def _message(exc):
    # KeyError's str() is the repr of its argument, quotes included.
    if isinstance(exc, KeyError) and type(exc) is KeyError and exc.args:
        return str(exc.args[0])
    return str(exc)
