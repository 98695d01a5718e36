"""Repeated splits next to repeated seeds: which variance each answers to.

A gain measured over seeds on one split says whether a candidate helps *for that test
split's molecules*; a chemist wants to know whether it helps for new molecules of the same
kind, and another split holds other molecules.  This study measures both variances of one
candidate's relative gain over the target alone: within a split (seed to seed) and between
splits (the split's own shift of the gain, beyond what its seeds explain).

Per target, the protocol study's two candidates (``bench_protocol.CANDIDATES``) are trained
with the target under ``--splits`` fingerprint-cluster splits (Butina clusters in a seeded
order: :func:`molselect.datasets.from_frame` with ``split="cluster"``: each split holds other
molecules out) and ``--seeds`` seeds each, the fast GIN under the default protocol, paired
by seed with the target alone.  Variance components of the relative gain (one-way random
effects over splits): ``within sd`` (one seed's noise), ``between sd`` (the spread of the
true gain from split to split, ``sqrt(max(var(split means) - within^2 / seeds, 0))``).
The interval over split means (t, splits - 1 degrees of freedom) answers "does it help on
new molecules"; the pooled interval over the seeds of one split answers only "on this
split".

Usage, from the repository root::

    MOLSELECT_DATA=../shared/data/moleculenet python -m benchmarks.studies.bench_splits \\
        [--targets bbbp clintox sider] [--splits 4] [--seeds 4] [--n-jobs 2] [--report-only]

Every fit goes to the shared fit cache ``verified_cache/`` (archived in
``outcomes_fits.jsonl.gz``); each finished (target, split)
is appended to ``splits_runs.jsonl.gz``; the report is ``splits.md`` (+ ``splits.csv``).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd
from scipy import stats

from benchmarks._harness import RESULTS, describe_machine
from benchmarks.studies._common import (FITS, append_jsonl, export_fits_if_any, import_fits,
                                        read_jsonl)
from benchmarks.studies.bench_protocol import CANDIDATES
from molselect.datasets import from_frame, load_dataset
from molselect.evaluation import default_estimator, transfer_gains

RUNS = RESULTS / "splits_runs.jsonl.gz"
TARGETS = ["bbbp", "clintox", "sider"]


def measure(target, split_seed, seeds, n_jobs):
    """The gains of the target's two candidates on cluster split ``split_seed``."""
    full = load_dataset(target).full
    frame = pd.DataFrame({"smiles": full.ids, **dict(zip(full.tasks, full.y.T))})
    train, valid, test = from_frame(frame, task_types=list(full.task_types), name=target,
                                    split="cluster", random_state=split_seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        pool = {c: load_dataset(c).train for c in CANDIDATES[target]}
    start = time.perf_counter()
    table = transfer_gains(train, pool, default_estimator(train), seeds=seeds, eval_set=valid,
                           test_set=test, results_dir=FITS, n_jobs=n_jobs, torch_threads=1,
                           verbose=False)
    return {"target": target, "split": split_seed, "sizes": [len(train), len(valid), len(test)],
            "wall_s": time.perf_counter() - start,
            "rows": table[["candidate", "seed", "score_alone", "score_with",
                           "relative_gain"]].to_dict(orient="records")}


def components(gains):
    """Per candidate: the variance components and both intervals of its relative gain.

    ``gains`` has one row per split and seed (columns ``split``, ``seed``,
    ``relative_gain``).
    """
    by_split = gains.groupby("split")["relative_gain"]
    means, n_seeds = by_split.mean(), int(by_split.size().min())
    within = float(np.sqrt(by_split.var(ddof=1).mean()))
    between = float(np.sqrt(max(means.var(ddof=1) - within ** 2 / n_seeds, 0.0)))
    k = len(means)
    half_splits = stats.t.ppf(0.975, k - 1) * means.std(ddof=1) / np.sqrt(k)
    # What seeds on one split claim: the interval of a single split's seeds, averaged.
    half_one = stats.t.ppf(0.975, n_seeds - 1) * within / np.sqrt(n_seeds)
    return {"splits": k, "seeds": n_seeds, "gain": float(means.mean()),
            "ci_low": float(means.mean() - half_splits),
            "ci_high": float(means.mean() + half_splits),
            "within_sd": within, "between_sd": between, "one_split_half": float(half_one),
            "split_means": [float(m) for m in means]}


def report(records):
    rows = []
    for r in records:
        for row in r["rows"]:
            rows.append({"target": r["target"], "split": r["split"], **row})
    table = pd.DataFrame(rows)
    lines = ["# Repeated splits next to repeated seeds", "",
             "Produced by `MOLSELECT_DATA=../shared/data/moleculenet python -m "
             "benchmarks.studies.bench_splits` (`--report-only` rebuilds it from "
             "`splits_runs.jsonl.gz`).", f"Machine: {describe_machine()}; one thread per fit.",
             "", "Each target's candidates trained with it under fingerprint-cluster splits "
             "(Butina clusters, seeded order; each split holds other molecules out), several "
             "seeds per split, the fast GIN under the default protocol, paired by seed with "
             "the target alone. Gains are relative to alone (positive means helps). `within "
             "sd`: one seed's noise on one split; `between sd`: how much the true gain moves "
             "from split to split; `95% CI over splits`: what the gain is on new molecules of "
             "this kind (t over the split means); `+- one split`: the half-width that seeds on "
             "one split alone would claim, blind to the split's own shift.", ""]
    if table.empty:
        lines.append("No split measured yet.")
    else:
        cpu = sum(r["wall_s"] for r in records) / 3600
        lines += [f"Splits measured: {len(records)}; {cpu:.2f} wall hours, two fits at a time "
                  f"(about {2 * cpu:.1f} CPU hours).", "",
                  "| target | candidate | splits x seeds | gain % | 95% CI over splits | "
                  "+- one split | within sd % | between sd % | split means % |",
                  "|---|---|---:|---:|---|---:|---:|---:|---|"]
        summary = []
        for (target, candidate), gains in table.groupby(["target", "candidate"], sort=False):
            if gains["split"].nunique() < 2:
                continue
            c = components(gains)
            summary.append({"target": target, "candidate": candidate, **c})
            lines.append(
                f"| {target} | {candidate} | {c['splits']} x {c['seeds']} | "
                f"{100 * c['gain']:+.1f} | [{100 * c['ci_low']:+.1f}, {100 * c['ci_high']:+.1f}]"
                f" | {100 * c['one_split_half']:.1f} | {100 * c['within_sd']:.1f} | "
                f"{100 * c['between_sd']:.1f} | "
                f"{', '.join(f'{100 * m:+.1f}' for m in c['split_means'])} |")
        pd.DataFrame(summary).to_csv(RESULTS / "splits.csv", index=False)
    (RESULTS / "splits.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--targets", nargs="+", default=TARGETS, choices=sorted(CANDIDATES))
    parser.add_argument("--splits", type=int, default=4)
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--report-only", action="store_true")
    args = parser.parse_args(argv)
    if not args.report_only:
        import torch

        torch.set_num_threads(1)
        import_fits()
        done = {(r["target"], r["split"]) for r in read_jsonl(RUNS)}
        for target in args.targets:
            for split in range(args.splits):
                if (target, split) not in done:
                    append_jsonl(RUNS, measure(target, split, args.seeds, args.n_jobs),
                                 default=float)
        export_fits_if_any()
    report(read_jsonl(RUNS))


if __name__ == "__main__":
    main()
