"""``molselect transfer``: measure what each candidate auxiliary does to the target."""

from __future__ import annotations

from pathlib import Path

from . import _context, _inputs
from ._common import CLIError, check_out, companion_path, write_out
from ._options import Option, csv_group, positive_int, size_group, study_options

__all__ = ["NAME", "HELP", "DESCRIPTION", "options", "run", "summary_with_control",
           "verdict_lines"]

NAME = "transfer"
HELP = "measure what each candidate auxiliary does to the target"
DESCRIPTION = ("For every seed, train the downstream model on the target alone and on the "
               "target plus each candidate (leakage-guarded), and report each candidate's "
               "relative gain in the target's test metric with its standard error, 95% "
               "interval, Benjamini-Hochberg adjusted paired t-test and a verdict (helps / "
               "hurts / no clear effect).  The study of the paper's figure 1, and the ground "
               "truth a selector is judged by.")
EPILOG = ("examples: molselect transfer --target bbbp --candidates bace,esol,tox21 --seeds 0-7 "
          "--results-dir gains-results --out gains.csv;  molselect transfer --target bbbp "
          "--candidates all --design half --runs 32 --results-dir effects-results")
#: ``--design`` values: the paired study, or designed subsets (subset_effects).
DESIGNS = ("pairwise", "half", "orthogonal")
DEFAULT_RUNS = 32


def options():
    """The options of ``transfer``, in ``--help`` order (``param``: what an option sets)."""
    return [
        Option("--target", required=True, metavar="NAME|CSV",
               help="target dataset: a registry name or a CSV file"),
        Option("--candidates", required=True, nargs="+", metavar="NAME|CSV",
               help="candidate auxiliaries: names, CSV files, or 'all' (every other "
                    "available registry dataset; a file named all is ./all)"),
        *study_options(default_seeds=[0, 1, 2, 3, 4]),
        Option("--no-control", dest="control", action="store_false",
               help="leave out the control: by default every seed also fits the target with "
                    "a copy of its training set whose labels are shuffled (an auxiliary that "
                    "carries no information), and each candidate is also compared with it "
                    "(the 'vs control' column): what a candidate gains beyond the control "
                    "is what it knows, not the longer training a union gives"),
        Option("--design", choices=DESIGNS, default="pairwise",
               help="'pairwise' (default): the target alone and with each candidate, seed by "
                    "seed; 'half' or 'orthogonal': train on --runs designed subsets of the "
                    "candidates (random halves, or a two-level orthogonal design with its "
                    "fold-over) and fit each candidate's main effect, which every run "
                    "informs (--data-seed also sets the design and the runs' training seeds; "
                    "--seeds does not apply)"),
        Option("--runs", type=positive_int, metavar="N",
               help=f"designed subsets to train with --design half|orthogonal "
                    f"(default: {DEFAULT_RUNS})"),
        Option("--out", metavar="FILE.csv",
               help="write the tidy table (one row per candidate and seed; with --design, "
                    "one row per run) and "
                    "FILE.summary.csv (FILE.summary.csv.gz for FILE.csv.gz; with the "
                    "baselines' test scores in its baseline_mean and "
                    "baseline_random_forest columns)"),
        csv_group("--data-seed"),
        size_group(rounds=False),
    ]



def check_design(args):
    """Refuse the options that do not go with ``--design`` before any data is loaded."""
    if args.design == "pairwise":
        if args.runs is not None:
            raise CLIError("--runs: an option of --design half|orthogonal; add --design half")
        return
    if args.resample_to is not None:
        raise CLIError(f"--resample: not available with --design {args.design}")
    args.runs = DEFAULT_RUNS if args.runs is None else args.runs


def run_design(args, train, valid, test, pool, control, estimator, summary_path):
    """``transfer --design half|orthogonal``: every candidate's main effect from subsets."""
    from ..evaluation import subset_effects
    from ..reporting import effects_table, format_table

    kwargs = _inputs.study_kwargs(args)
    result = subset_effects(train, pool, estimator, design=args.design, n_runs=args.runs,
                            eval_set=valid, test_set=test, protocol="fixed",
                            random_state=args.seed,
                            **{k: kwargs[k] for k in ("results_dir", "n_jobs", "torch_threads",
                                                      "verbose")})
    print(f"\n{args.model} on {train.name!r}: main effect of each candidate on the test "
          f"{train.metric}, relative to the {result.intercept:.4f} predicted for the target "
          f"alone, from {args.runs} runs ({args.design} design)")
    print(format_table(effects_table(result.effects, train.metric)))
    print(f"\nheld-out check (runs left out of the fit): R^2 {result.holdout_r2:.2f}, "
          f"Spearman {result.holdout_spearman:.2f}; a low value says the additive model of "
          "the effects explains little of the runs' scores")
    if control is not None:
        row = result.effects.loc[control.name]
        print(f"control ({control.name}): {row['relative_effect']:+.1%} "
              f"({row['relative_ci_low']:+.1%} to {row['relative_ci_high']:+.1%}). An effect "
              "not above the control's comes from the longer training a union gives, not "
              "from what the candidate knows")
    if args.out:
        out = Path(args.out)
        inputs = _inputs.input_files(args)
        write_out(out, result.runs.to_csv(index=False), inputs=inputs)
        write_out(summary_path, result.effects.reset_index().to_csv(index=False),
                  inputs=inputs)
        print(f"wrote {out} and {summary_path}")
    return 0


def run(args):
    """Run ``molselect transfer`` on the parsed ``args``; return the exit code."""
    from ..evaluation import permuted_labels, transfer_gains
    from ..reporting import format_table, transfer_table

    check_design(args)
    summary_path = companion_path(args.out, "summary") if args.out else None
    if summary_path is not None:
        check_out(summary_path, "--out", inputs=_inputs.input_files(args))
    train, valid, test = _inputs.load_target(args.target, args)
    specs = _inputs.expand_all(_inputs.dataset_specs(args.candidates), train.name)
    pool = _inputs.load_candidates(specs, args, train.name)
    control = None
    if args.control:
        control = permuted_labels(train, random_state=args.seed)
        if control.name in pool:
            raise CLIError(f"candidate {control.name!r} has the control's name; rename it, "
                           "or pass --no-control")
        pool[control.name] = control
    if not args.quiet:
        print("target   ", train.summary())
        for data in pool.values():
            print("candidate" if data is not control else "control  ", data.summary())
    estimator = _inputs.study_estimator(args.model, train, args, None)
    if args.design != "pairwise":
        return run_design(args, train, valid, test, pool, control, estimator, summary_path)
    gains = transfer_gains(train, pool, estimator, eval_set=valid, test_set=test,
                           protocol="fixed", **_inputs.study_kwargs(args))
    summary = summary_with_control(gains, None if control is None else control.name)
    alone = gains.groupby("seed")["score_alone"].first()
    print(f"\n{args.model} on {train.name!r}: relative gain in test {train.metric} of each "
          f"candidate over seeds {args.seeds} (target alone: {alone.mean():.4f} +- "
          f"{alone.std(ddof=1) if len(alone) > 1 else 0.0:.4f})")
    print(format_table(transfer_table(summary, train.metric)))
    print("\n" + verdict_lines(summary, control, len(args.seeds)))
    baselines = _context.baselines(train, test, args)
    if baselines is not None:
        print("\n" + _context.context_block(baselines, args.model, alone.mean()))
        summary = summary.assign(baseline_mean=baselines["mean"],
                                 baseline_random_forest=baselines["random_forest"])
    first = gains.groupby("seed").first()
    unconverged = _context.last_epoch_warning(first["best_epoch_alone"], first["n_epochs_alone"],
                                              *_context.max_epochs(estimator))
    if unconverged:
        _context.warn(unconverged)
    if args.out:
        out = Path(args.out)
        inputs = _inputs.input_files(args)
        write_out(out, gains.to_csv(index=False), inputs=inputs)
        write_out(summary_path, summary.to_csv(index=False), inputs=inputs)
        print(f"wrote {out} and {summary_path}")
    return 0


def summary_with_control(gains, control=None):
    """:func:`~molselect.evaluation.summarize_gains`, with each candidate against the control.

    Parameters
    ----------
    gains : pandas.DataFrame
        The tidy table of :func:`~molselect.evaluation.transfer_gains`.
    control : str, optional
        The control candidate's name (no control: the plain summary).

    Returns
    -------
    pandas.DataFrame
        The summary against the target alone (the control a row of it), plus
        ``relative_gain_vs_control``, ``p_adjusted_vs_control`` and
        ``verdict_vs_control`` from ``summarize_gains(gains, relative_to=control)``
        (empty for the control's own row).
    """
    from ..evaluation import summarize_gains

    summary = summarize_gains(gains)
    if control is None:
        return summary
    versus = summarize_gains(gains, relative_to=control).set_index("candidate")
    for column in ("relative_gain", "p_adjusted", "verdict"):
        summary[f"{column}_vs_control"] = summary["candidate"].map(versus[column])
    return summary


def verdict_lines(summary, control, n_seeds):
    """What the verdicts say, in words (against the alone fit, and the control when run)."""
    def names(frame, verdict, column="verdict"):
        return ", ".join(frame.loc[frame[column] == verdict, "candidate"]) or "(none)"

    others = summary[summary["candidate"] != getattr(control, "name", None)]
    text = (f"helps significantly: {names(others, 'helps')}; hurts significantly: "
            f"{names(others, 'hurts')}; every other effect is within the noise of "
            f"{n_seeds} seed(s)")
    if control is not None:
        text += (f"\nagainst the control ({control.name}): better: "
                 f"{names(others, 'helps', 'verdict_vs_control')}; worse: "
                 f"{names(others, 'hurts', 'verdict_vs_control')}. A gain that does not beat "
                 "the control comes from the longer training a union gives, not from what "
                 "the candidate knows")
    return text
