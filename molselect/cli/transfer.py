"""``molselect transfer``: measure what each candidate auxiliary does to the target."""

from __future__ import annotations

from pathlib import Path

from . import _inputs
from ._common import split_list, write_out
from ._options import Option, csv_group, size_group, study_options

__all__ = ["NAME", "HELP", "DESCRIPTION", "options", "run"]

NAME = "transfer"
HELP = "measure what each candidate auxiliary does to the target"
DESCRIPTION = ("For every seed, train the downstream model on the target alone and on the "
               "target plus each candidate (leakage-guarded), and report each candidate's "
               "relative gain in the target's test metric with its standard error, 95%% "
               "interval, Benjamini-Hochberg adjusted paired t-test and a verdict (helps / "
               "hurts / no clear effect).  The study of the paper's figure 1, and the ground "
               "truth a selector is judged by.")
EPILOG = ("example: molselect transfer --target bbbp --candidates bace,esol,tox21 --seeds 0-7 "
          "--cache gains-cache --out gains.csv")


def options():
    """The options of ``transfer``, in ``--help`` order (``param``: what an option sets)."""
    return [
        Option("--target", required=True, metavar="NAME|CSV",
               help="target dataset: a registry name or a CSV file"),
        Option("--candidates", required=True, nargs="+", metavar="NAME|CSV",
               help="candidate auxiliaries: names, CSV files, or 'all' (every other "
                    "available registry dataset)"),
        *study_options(default_seeds=[0, 1, 2, 3, 4]),
        Option("--out", metavar="FILE.csv",
               help="write the tidy table (one row per candidate and seed) and "
                    "FILE.summary.csv"),
        csv_group(),
        size_group(rounds=False),
    ]



def run(args):
    """Run ``molselect transfer`` on the parsed ``args``; return the exit code."""
    from ..datasets import list_datasets
    from ..evaluation import summarize_gains, transfer_gains
    from ..reporting import format_table, transfer_table

    train, valid, test = _inputs.load_target(args.target, args)
    specs = split_list(args.candidates)
    if specs == ["all"]:
        available = list_datasets().query("available")["name"]
        specs = [name for name in available if name != train.name]
    pool = _inputs.load_candidates(specs, args, train.name)
    if not args.quiet:
        print("target   ", train.summary())
        for data in pool.values():
            print("candidate", data.summary())
    estimator = _inputs.make_estimator(args.model, train, args, None)
    gains = transfer_gains(train, pool, estimator, eval_set=valid, test_set=test,
                           **_inputs.study_kwargs(args))
    summary = summarize_gains(gains)
    alone = gains.groupby("seed")["score_alone"].first()
    print(f"\n{args.model} on {train.name!r}: relative gain in test {train.metric} of each "
          f"candidate over seeds {args.seeds} (target alone: {alone.mean():.4f} +- "
          f"{alone.std(ddof=1) if len(alone) > 1 else 0.0:.4f})")
    print(format_table(transfer_table(summary, train.metric)))
    helps = list(summary.loc[summary["verdict"] == "helps", "candidate"])
    hurts = list(summary.loc[summary["verdict"] == "hurts", "candidate"])
    print(f"\nhelps significantly: {', '.join(helps) or '(none)'}; hurts significantly: "
          f"{', '.join(hurts) or '(none)'}; every other effect is within the noise of "
          f"{len(args.seeds)} seed(s)")
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        summary_path = out.with_name(out.name.removesuffix(".csv") + ".summary.csv")
        write_out(out, gains.to_csv(index=False))
        write_out(summary_path, summary.to_csv(index=False))
        print(f"wrote {out} and {summary_path}")
    return 0
