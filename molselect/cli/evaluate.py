"""``molselect evaluate``: train a downstream model with and without auxiliaries."""

from __future__ import annotations

import json
from pathlib import Path

from . import _context, _inputs
from ._common import write_out
from ._options import Option, csv_group, size_group, study_options

__all__ = ["NAME", "HELP", "DESCRIPTION", "options", "run"]

NAME = "evaluate"
HELP = "train a downstream model with and without auxiliaries"
DESCRIPTION = ("Train a GIN or Graphormer on the target alone and on the target plus the given "
               "auxiliaries (leakage-guarded union), over several seeds, and print the "
               "target's test metric (mean and std).")
EPILOG = ("example: molselect evaluate --target bbbp --with bace,tox21 --model gin --seeds 0 1 2 "
          "--preset fast")


def options():
    """The options of ``evaluate``, in ``--help`` order (``param``: what an option sets)."""
    return [
        Option("--target", required=True, metavar="NAME|CSV",
               help="target dataset: a registry name or a CSV file"),
        Option("--with", dest="with_", nargs="*", default=[], metavar="NAME|CSV|JSON",
               help="auxiliaries to add: names, CSV files, 'all' (every other available "
                    "registry dataset) or the JSON written by "
                    "`molselect select --out` (its selection); none: target only"),
        *study_options(default_seeds=[0]),
        Option("--out", metavar="FILE.json", help="write the results as JSON"),
        csv_group("--data-seed"),
        size_group(rounds=False),
    ]


def run(args):
    """Run ``molselect evaluate`` on the parsed ``args``; return the exit code."""
    import numpy as np
    import pandas as pd

    from ..datasets._validation import validate_auxiliaries
    from ..evaluation import FitJob, evaluate_selection, run_jobs, summarize_gains
    from ..reporting import format_percent, format_table, to_jsonable

    train, valid, test = _inputs.load_target(args.target, args)
    specs = _inputs.auxiliary_specs(args.with_, train.name)
    pool = _inputs.load_candidates(specs, args, train.name) if specs else {}
    metric = test.metric
    estimator = _inputs.study_estimator(args.model, train, args, None)
    options = _inputs.study_kwargs(args)
    summary = None
    if pool:
        validate_auxiliaries(pool, train.name)
        gains = evaluate_selection(train, pool, estimator, eval_set=valid, test_set=test,
                                   label=", ".join(pool), protocol="fixed", **options)
        leaked = int(gains["n_leaked"].iloc[0])
        if leaked and not args.quiet:
            print(f"leakage guard: removed {leaked} auxiliary molecule(s) found in the "
                  "target's valid/test splits")
        settings = [("target only", gains["score_alone"]),
                    ("target + " + ", ".join(pool), gains["score_with"])]
        summary = summarize_gains(gains).iloc[0]
        alone = gains.groupby("seed").first()
        epochs = (alone["best_epoch_alone"], alone["n_epochs_alone"],
                  *_context.max_epochs(estimator))
    else:
        jobs = [FitJob(estimator, [(train.name, train)], valid, test, seed)
                for seed in args.seeds]
        results = run_jobs(jobs, results_dir=options["results_dir"], n_jobs=options["n_jobs"],
                           verbose=options["verbose"], desc=f"{args.model} on {train.name}")
        settings = [("target only", [results[job.key]["test_score"] for job in jobs])]
        epochs = ([results[job.key]["best_epoch"] for job in jobs],
                  [results[job.key].get("n_epochs") for job in jobs],
                  *_context.max_epochs(estimator))
    rows = []
    for label, scores in settings:
        scores = np.asarray(scores, dtype=float)
        rows.append({"training data": label, "mean": scores.mean(),
                     "std": scores.std(ddof=1) if len(scores) > 1 else 0.0,
                     "seeds": " ".join(f"{v:.3f}" for v in scores)})
    table = pd.DataFrame(rows).set_index("training data")
    print(f"\n{args.model} on {train.name!r}: test {metric} over seeds {args.seeds}")
    print(format_table(table))
    if summary is not None:
        print(f"\ngain (positive = helps): {summary['gain']:+.4f} +- {summary['gain_se']:.4f} "
              f"(standard error), 95% CI [{summary['gain_ci_low']:+.4f}, "
              f"{summary['gain_ci_high']:+.4f}]; relative "
              f"{format_percent(summary['relative_gain'])}; "
              f"paired t-test p = {summary['p_value']:.3g}: {summary['verdict']}")
    baselines = _context.baselines(train, test, args)
    if baselines is not None:
        baselines = {**baselines, "target_alone": float(table["mean"].iloc[0])}
        print("\n" + _context.context_block(baselines, args.model, baselines["target_alone"]))
    unconverged = _context.last_epoch_warning(*epochs)
    if unconverged:
        _context.warn(unconverged)
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        result = {
            "target": train.name, "model": args.model, "metric": metric,
            "auxiliaries": list(pool), "seeds": list(args.seeds), "preset": args.preset,
            "results": to_jsonable(table.reset_index().to_dict(orient="records")),
        }
        if summary is not None:
            result["gain"] = to_jsonable(summary.to_dict())
        if baselines is not None:
            result["baselines"] = to_jsonable(baselines)
        write_out(out, json.dumps(result, indent=2) + "\n", inputs=_inputs.input_files(args))
        print(f"wrote {out}")
    return 0
