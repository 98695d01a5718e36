"""``molselect select``: rank candidate auxiliaries for a target and select some."""

from __future__ import annotations

import time
from pathlib import Path

from .._param_validation import InvalidParameterError
from . import _inputs
from ._common import CLIError, check_out, split_list, write_out
from ._options import (
    Option,
    csv_group,
    option_for,
    option_values,
    positive_int,
    size_group,
    size_options,
)

__all__ = ["NAME", "HELP", "DESCRIPTION", "options", "run", "DEFAULT_METHOD"]

NAME = "select"
HELP = "rank candidate auxiliaries for a target and select some"
DESCRIPTION = ("Score candidate auxiliary datasets for a target with MolGroup (or a baseline) "
               "and print the ranked candidates. Datasets are registry names (see `molselect "
               "datasets`) or CSV files.")
EPILOG = ("example: molselect select --target bbbp --candidates bace,esol,tox21 --preset fast "
          "--out result.json")

#: ``molselect select``'s method: the one measured best.  Task2vec ranks the candidates as
#: well as MolGroup's best CPU configuration against the ground truth, repeats across seeds
#: where MolGroup does not, and costs a quarter as much (the docs' Presets page has the
#: figures, from benchmarks/results/quality.md).
DEFAULT_METHOD = "task2vec"


def options():
    """The options of ``select``, in ``--help`` order (``param``: what an option sets)."""
    from ..presets import PRESETS
    from ..registry import SELECTORS

    return [
        Option("--target", required=True, metavar="NAME|CSV",
               help="target dataset: a registry name or a CSV file (scaffold-split)"),
        Option("--candidates", required=True, nargs="+", metavar="NAME|CSV",
               help="candidate auxiliaries, comma- or space-separated; registry names use "
                    "their training split"),
        Option("--method", default=DEFAULT_METHOD, choices=list(SELECTORS),
               help="selection method (default: %(default)s, the one measured to rank best "
                    "against the ground truth and to repeat across seeds; see the docs' "
                    "Presets page)"),
        Option("--preset", default="stable", choices=sorted(PRESETS),
               help="parameter set: " + ", ".join(sorted(PRESETS)) +
                    " (MolGroup takes all of it, a baseline the size of its GIN; the docs' "
                    "Presets page says what each is and costs) (default: %(default)s)"),
        Option("--seed", param="random_state", type=int, default=0,
               help="random seed (default: 0)"),
        Option("--top-k", param="top_k", strict=True, type=positive_int, metavar="K",
               help="number of auxiliaries to select"),
        Option("--threshold", param="threshold", strict=True, type=float, metavar="T",
               help="affinity below which a candidate is dropped (MolGroup: 0.6)"),
        Option("--meta-gradient", param="meta_gradient", strict=True,
               choices=["exact", "linearized"],
               help="MolGroup's meta-gradient: 'exact' (the paper's, default) or "
                    "'linearized' (about a quarter faster per step, approximate)"),
        Option("--repeats", param="n_repeats", strict=True, type=positive_int, metavar="N",
               help="MolGroup: independent trainings per round, affinities averaged (the "
                    "table then shows their spread; cost x N)"),
        Option("--filter-rule", param="filter_rule", strict=True,
               choices=["threshold", "relative"],
               help="MolGroup: drop candidates below --threshold ('threshold', the paper's "
                    "rule) or below the round's common level ('relative')"),
        Option("--out", metavar="FILE.json",
               help="write the result as JSON, and the history as FILE.history.csv next to "
                    "it"),
        Option("--checkpoint", param="checkpoint", metavar="FILE.json",
               help="MolGroup: save the state after every finished round to FILE, and resume "
                    "from it when the same command is run again"),
        Option("--quiet", action="store_true", help="no progress bars or summaries"),
        csv_group(),
        size_group(),
    ]



def _selector_options():
    """The options that can set a selector parameter: the size group's, then
    ``select``'s own (the order in which the options a method lacks are listed)."""
    return size_options() + [o for o in options() if isinstance(o, Option)]


def make_selector(args):
    """The selector ``--method`` names, with the preset's and the options' parameters.

    Parameters
    ----------
    args : argparse.Namespace
        ``select``'s parsed arguments.

    Returns
    -------
    BaseAuxiliarySelector
        Not validated yet (see :func:`check_selector_params`).
    """
    from ..presets import selector_params
    from ..registry import SELECTORS

    if args.method not in SELECTORS:
        raise CLIError(f"unknown method {args.method!r}; choose one of {', '.join(SELECTORS)}")
    entry = SELECTORS[args.method]
    cls = entry.cls
    every = _selector_options()
    # An option the method has no parameter for would be dropped without a word (the
    # user would believe that --rounds 2 ran two rounds of Task2vec): refuse it.
    accepted = cls().get_params()
    unused = [o.flag for o in every if o.strict and o.param not in accepted
              and getattr(args, o.dest, None) is not None]
    if unused:
        raise CLIError(f"{', '.join(unused)}: not an option of --method {args.method} "
                       f"({entry.class_name}); leave it out, or choose --method molgroup")
    return cls(**selector_params(cls, args.preset, **entry.params,
                                 **option_values(args, every), verbose=not args.quiet))


def check_selector_params(selector):
    """The selector's own parameter checks, reported with the option that set the value.

    Parameters
    ----------
    selector : BaseAuxiliarySelector
        The selector :func:`make_selector` built.
    """
    try:
        selector._validate_params()
    except InvalidParameterError as exc:
        option = option_for(exc.param, _selector_options())
        if option is None:
            raise
        raise CLIError(f"{option}: {exc}") from None


def run(args):
    """Run ``molselect select`` on the parsed ``args``; return the exit code."""
    from .._selection_file import selection_text
    from ..reporting import format_table, selection_table

    start = time.perf_counter()
    # The parameters are checked before any data is loaded (main has checked --out):
    # a bad --threshold or --out must not cost a featurization, let alone a selection.
    selector = make_selector(args)
    check_selector_params(selector)
    if args.checkpoint:
        if "checkpoint" not in selector.get_params():
            raise CLIError(f"--checkpoint: --method {args.method} cannot resume; only "
                           "--method molgroup writes per-round checkpoints")
        check_out(args.checkpoint, "--checkpoint")
    train, valid, test = _inputs.load_target(args.target, args)
    specs = split_list(args.candidates)
    pool = _inputs.load_candidates(specs, args, train.name)
    if not args.quiet:
        print("target   ", train.summary())
        for data in pool.values():
            print("candidate", data.summary())
    selector.fit(train, pool, eval_set=[valid, test])
    elapsed = time.perf_counter() - start
    print(f"\n{args.method} ranking of {len(pool)} candidates for target {train.name!r} "
          f"({elapsed:.1f} s):")
    print(format_table(selection_table(selector)))
    print("\nselected:", ", ".join(selector.selected_) or "(none)")

    if args.out:
        out = Path(args.out)
        text = selection_text(selector, out, target=train.name, method=args.method,
                              specs=dict(zip(pool, specs)), preset=args.preset,
                              seed=args.seed, max_molecules=args.max_molecules,
                              elapsed_s=round(elapsed, 2))
        write_out(out, text)
        print(f"wrote {out}")
        history = getattr(selector, "history_", None)
        if history is not None:
            history_path = out.with_name(out.stem + ".history.csv")
            write_out(history_path, history.to_csv(index=False))
            print(f"wrote {history_path}")
    return 0
