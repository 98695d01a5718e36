"""``molselect select``: rank candidate auxiliaries for a target and select some."""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

from .._param_validation import InvalidParameterError
from . import _context, _inputs
from ._common import CLIError, companion_path, write_out
from ._options import (
    RESULTS_DIR_HELP,
    Option,
    csv_group,
    n_jobs,
    no_baselines,
    one_seed,
    option_for,
    option_values,
    positive_int,
    renamed,
    size_group,
    size_options,
)

__all__ = ["NAME", "HELP", "DESCRIPTION", "options", "run", "DEFAULT_METHOD", "method_name"]

NAME = "select"
HELP = "rank candidate auxiliaries for a target and select some"
DESCRIPTION = ("Score candidate auxiliary datasets for a target with MolGroup (or a baseline) "
               "and print the ranked candidates. Datasets are registry names (see `molselect "
               "datasets`) or CSV files.")
EPILOG = ("example: molselect select --target bbbp --candidates bace,esol,tox21 --preset fast "
          "--out result.json\n"
          "verified: molselect select --target bbbp --candidates bace,esol,tox21 --verify "
          "--budget 40")

#: ``molselect select``'s method: the one measured best.  Task2vec ranks the candidates as
#: well as MolGroup's best CPU configuration against the ground truth, repeats across seeds
#: where MolGroup does not, and costs a quarter as much (the docs' Presets page has the
#: figures, from benchmarks/results/quality.md).
DEFAULT_METHOD = "task2vec"
#: The ranking ``--verify`` races when no ``--method`` is given: the cheapest, and no trained
#: selector has been measured to rank better (benchmarks/results/quality.md) or to give a
#: better top 3 by more than noise (benchmarks/results/outcomes.md: Task2vec's mean gain
#: less the task type's over six targets, +0.5%, -2.3% to +3.2%).
VERIFY_METHOD = "task-type"


def options():
    """The options of ``select``, in ``--help`` order (``param``: what an option sets)."""
    from ..presets import PRESETS
    from ..registry import SELECTORS

    return [
        Option("--target", required=True, metavar="NAME|CSV",
               help="target dataset: a registry name or a CSV, TSV or SDF file (split by "
                    "--split)"),
        Option("--candidates", required=True, nargs="+", metavar="NAME|CSV",
               help="candidate auxiliaries, comma- or space-separated: registry names (their "
                    "training split), files, or 'all' (every other available registry "
                    "dataset; a file named all is ./all)"),
        Option("--method", choices=list(SELECTORS), type=method_name,
               help=f"selection method (default: {DEFAULT_METHOD}, the one measured to rank "
                    "best against the ground truth and to repeat across seeds, see the docs' "
                    f"Presets page; with --verify, {VERIFY_METHOD})"),
        Option("--preset", default="stable", choices=sorted(PRESETS),
               help="parameter set: " + ", ".join(sorted(PRESETS)) +
                    " (MolGroup takes all of it, a baseline the size of its GIN; the docs' "
                    "Presets page says what each is and costs) (default: %(default)s)"),
        Option("--seed", param="random_state", type=one_seed, default=0, metavar="N",
               help="the one seed of the run: the selector's, the --max-molecules "
                    "subsample's, a random or cluster --split's and --verify's (default: 0)"),
        Option("--top-k", param="top_k", strict=True, type=positive_int, metavar="K",
               help="number of auxiliaries to select"),
        Option("--threshold", param="threshold", strict=True, type=float, metavar="T",
               help="affinity below which a candidate is dropped (MolGroup: 0.6)"),
        Option("--meta-gradient", param="meta_gradient", strict=True,
               choices=["exact", "linearized"],
               help="MolGroup's meta-gradient: 'exact' (the paper's, default) or "
                    "'linearized' (about a quarter faster per step, approximate)"),
        Option("--repeats", param="n_repeats", strict=True, type=positive_int, metavar="N",
               help="independent trainings from their own seeds, affinities averaged (the "
                    "table then shows their spread and 95%% intervals; cost x N); MolGroup "
                    "repeats each round. Not for the selectors that do not train"),
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
        Option("--verify", action="store_true",
               help="race the nested unions of the ranking's top 1..K against the target "
                    "alone, one seed a round, and keep a group only if its gain is measured "
                    "(verdict: helps / none helps / undecided)"),
        Option("--budget", type=positive_int, metavar="N",
               help="--verify: fits at most (default: 10 rounds of every group)"),
        Option("--max-k", type=positive_int, metavar="K",
               help="--verify: the largest union of the ranking's top K that races "
                    "(default: 3, or every candidate when there are fewer)"),
        Option("--min-gain", type=float, default=0.01, metavar="G",
               help="--verify: the smallest relative gain worth having, a fraction "
                    "(default: %(default)s, 1%% of the alone score)"),
        Option("--results-dir", metavar="DIR", help="--verify: " + RESULTS_DIR_HELP),
        renamed("--verify-cache", "--results-dir", "results_dir",
                why="it keeps finished fits (results), not the feature cache of "
                    "`molselect cache`"),
        Option("--n-jobs", type=n_jobs, metavar="N",
               help="--verify: parallel fits within a round (default: one at a time)"),
        no_baselines("--verify: "),
        csv_group(),
        size_group(),
    ]



def method_name(text):
    """``argparse`` type of ``--method``: a selector's registered name, old names translated.

    A renamed method (``all``, now ``all-candidates``: ``--candidates all``
    names every registry dataset) still runs, with a warning
    (:meth:`molselect.registry.Registry.current_name`).
    """
    from ..registry import SELECTORS

    return SELECTORS.current_name(str(text))


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
        Its parameters checked by the selector itself
        (:func:`molselect.presets.selector_params`); a refused value is a
        :class:`CLIError` naming the option that set it.
    """
    from ..presets import selector_params
    from ..registry import SELECTORS

    if args.method is None:
        args.method = VERIFY_METHOD if args.verify else DEFAULT_METHOD
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
    try:
        params = selector_params(cls, args.preset, **entry.params,
                                 **option_values(args, every), verbose=not args.quiet)
    except InvalidParameterError as exc:
        # The selector's own check, reported with the option that set the value.
        option = option_for(exc.param, every)
        if option is None:
            raise
        raise CLIError(f"{option}: {exc}") from None
    return cls(**params)


def make_verifier(selector, args):
    """``--verify``: a :class:`~molselect.evaluation.VerifiedSelector` around ``selector``."""
    from ..evaluation import VerifiedSelector

    verifier = VerifiedSelector(selector, max_k=args.max_k or 3, budget=args.budget,
                                min_gain=args.min_gain, results_dir=args.results_dir,
                                n_jobs=args.n_jobs, torch_threads=1 if args.n_jobs else None,
                                random_state=args.seed, verbose=not args.quiet)
    try:
        verifier._validate_params()
    except InvalidParameterError as exc:
        flag = {"budget": "--budget", "min_gain": "--min-gain",
                "n_jobs": "--n-jobs"}.get(exc.param)
        raise CLIError(f"{flag}: {exc}" if flag else str(exc)) from None
    return verifier


def race_table(verifier):
    """The race's final standing: one row per group."""
    summary = verifier.summary_.copy()
    summary.insert(0, "members", [", ".join(verifier.groups_[g]) for g in summary.index])
    for column in ("gain", "low", "high"):
        summary[column] = summary[column].map(lambda v: f"{v:+.1%}")
    summary.loc[verifier.group_ or [], "status"] = "verified"
    return summary.rename(columns={"low": "95% low", "high": "95% high"})


def verdict_text(verifier, target):
    """The verdict in words a chemist can act on."""
    low, high = verifier.gain_interval_
    detect = verifier.detectable_gain_
    seen = (f"a gain of {detect:.1%} would have been found with 80% probability"
            if detect == detect and detect != float("inf")
            else "not even a gain that doubled the score would have been found reliably")
    cost = f"{verifier.n_fits_} fits"
    if verifier.verdict_ == "helps":
        return (f"verdict: HELPS. Train {target.name!r} with "
                f"{', '.join(verifier.selected_)}: they add {verifier.gain_:+.1%} to its "
                f"{target.metric} (interval {low:+.1%} to {high:+.1%}), measured on its test "
                f"split ({cost}).")
    if verifier.verdict_ == "none helps":
        return (f"verdict: NONE HELPS. Every group's gain is below the smallest worth having "
                f"(min gain {verifier.min_gain:.1%}): train {target.name!r} alone. The best, "
                f"{verifier.summary_['gain'].idxmax()}, measured {verifier.gain_:+.1%} "
                f"({low:+.1%} to {high:+.1%}; {cost}).")
    return (f"verdict: UNDECIDED after {cost}. No group is shown to help or to fall short; "
            f"the best, {verifier.summary_['gain'].idxmax()}, measured {verifier.gain_:+.1%} "
            f"({low:+.1%} to {high:+.1%}), within noise. At this budget {seen}; a larger "
            "--budget resolves smaller gains. Nothing is selected.")


def run(args):
    """Run ``molselect select`` on the parsed ``args``; return the exit code."""
    from .._selection_file import selection_text
    from ..reporting import format_table, score_note, selection_table

    start = time.perf_counter()
    # The parameters are checked before any data is loaded (main has checked --out):
    # a bad --threshold or --out must not cost a featurization, let alone a selection.
    selector = make_selector(args)
    verify_only = [flag for flag, given in (("--budget", args.budget is not None),
                                            ("--results-dir", args.results_dir is not None),
                                            ("--n-jobs", args.n_jobs is not None),
                                            ("--no-baselines", not args.baselines))
                   if given and not args.verify]
    if verify_only:
        raise CLIError(f"{', '.join(verify_only)}: an option of --verify; add --verify")
    if args.verify:
        selector = make_verifier(selector, args)
    if args.checkpoint:
        if "checkpoint" not in selector.get_params():
            raise CLIError(f"--checkpoint: --method {args.method} cannot resume; only "
                           "--method molgroup writes per-round checkpoints")
    train, valid, test = _inputs.load_target(args.target, args)
    specs = _inputs.expand_all(_inputs.dataset_specs(args.candidates), train.name)
    pool = _inputs.load_candidates(specs, args, train.name)
    if not args.quiet:
        print("target   ", train.summary())
        for data in pool.values():
            print("candidate", data.summary())
    if args.verify and args.max_k is not None and args.max_k > len(pool):
        raise CLIError(f"--max-k {args.max_k}: more than the {len(pool)} candidate(s)")
    if args.verify:
        selector.set_params(max_k=min(selector.max_k, len(pool)))
    selector.fit(train, pool, eval_set=[valid, test])
    elapsed = time.perf_counter() - start
    ranker = selector.ranking_selector_ if args.verify else selector
    print(f"\n{args.method} ranking of {len(pool)} candidates for target {train.name!r} "
          f"({elapsed:.1f} s):")
    table = selection_table(ranker)
    if args.verify:
        # The ranking orders the race; only the race selects.
        table["status"] = [f"rank #{i}" for i in range(1, len(table) + 1)]
    print(format_table(table))
    print(textwrap.fill(score_note(ranker), width=100))
    if args.verify:
        print("\nverification race (relative gain over the target alone, with intervals "
              "valid under the repeated looks):")
        print(format_table(race_table(selector)))
        print()
        print(verdict_text(selector, train))
        scores = _context.baselines(train, test, args)
        if scores is not None:
            alone = selector.trace_.loc[selector.trace_["group"] == "alone", "score"].mean()
            print("\n" + _context.context_block(scores, "gin", alone))
    else:
        print("\nselected:", ", ".join(selector.selected_) or "(none)")
        print("\nnot verified: the ranking is the selector's estimate, not a measured gain. "
              "To check it on your target:\n  molselect select --target "
              f"{args.target} --candidates {','.join(specs)} --verify")

    if args.out:
        out = Path(args.out)
        text = selection_text(selector, out, target=train.name, method=args.method,
                              specs=dict(zip(pool, specs)), preset=args.preset,
                              seed=args.seed, max_molecules=args.max_molecules,
                              elapsed_s=round(elapsed, 2))
        inputs = _inputs.input_files(args) + [args.checkpoint]
        write_out(out, text, inputs=inputs)
        print(f"wrote {out}")
        history = getattr(selector, "history_", None)
        if history is not None:
            history_path = companion_path(out, "history")
            write_out(history_path, history.to_csv(index=False), inputs=inputs)
            print(f"wrote {history_path}")
    return 0
