"""Verified selection on real targets: verdict, gain with interval, fits and CPU time.

For each target, :class:`molselect.evaluation.VerifiedSelector` ranks the bundled
candidates with the task-type prior and races the unions of its top 1 .. ``--max-k``
against the target alone (the fast GIN under the default protocol, one seed a round),
until a verdict or the budget.  The report puts each race's CPU time next to the
exhaustive pairwise study's for the same target (``ground_truth.md``'s cost table, 8
seeds x 14 candidates) and, where the outcome scoreboard exists, next to its measured
outcome of the chosen group.

One more race has help planted in it, to show that the race finds help where it
exists: lipo's training split cut to 400 molecules, with its other molecules as a
candidate (true labels) and again with permuted labels (``PLANTED``).

A race's interval is measured on the seeds that also chose the group, so each group
verified as helping is checked again on ``--check-seeds`` fresh seeds (from 1000 on,
never used by a race): the gain a user would see on retraining, with its own t
interval, which is what "never wrong in sign" is judged by.

Usage, from the repository root::

    MOLSELECT_DATA=../shared/data/moleculenet python -m benchmarks.studies.bench_verified \\
        [--targets sider bbbp clintox bace tox21 lipo "lipo-400 (planted)"] [--budget 40]
        [--max-k 3]
        [--check-seeds 10] [--n-jobs 2] [--report-only]

Every fit is kept in the fit cache the studies share, ``benchmarks/results/verified_cache/``
(a race resumes where it stopped, and reuses the outcome scoreboard's fits of the same
seeds), archived in the committed ``outcomes_fits.jsonl.gz`` at each report and restored
from it when a run starts; each finished race is appended to ``verified_runs.jsonl``; the report is
``verified.md``; the held-out checks are appended to ``verified_checks.jsonl``.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

from benchmarks._harness import RESULTS, describe_machine
from benchmarks.studies.bench_outcomes import summarize
from benchmarks.studies._common import (FITS, append_jsonl, export_fits_if_any, import_fits,
                                        read_jsonl)
from molselect.datasets import load_dataset
from molselect.evaluation import (VerifiedSelector, compare_selections, default_estimator,
                                  permuted_labels, summarize_gains)
from molselect.selectors import TaskTypeSelector

RUNS = RESULTS / "verified_runs.jsonl"
CHECKS = RESULTS / "verified_checks.jsonl"
#: Seeds of the held-out checks start here, far above any race's rounds.
CHECK_SEED0 = 1000
#: The planted case, where help is known to exist: lipo cut to ``PLANTED_SIZE`` training
#: molecules, with the rest of its training split as one more candidate (true labels) and
#: the same molecules with permuted labels as another, each raced as a group of its own.
PLANTED = "lipo-400 (planted)"
PLANTED_SIZE = 400
PLANTED_GROUPS = {"lipo rest": ["lipo rest"], "lipo rest, permuted": ["lipo rest, permuted"]}
TARGETS = ["sider", "bbbp", "clintox", "bace", "tox21", "lipo", PLANTED]
BUNDLED = ["bace", "bbbp", "clintox", "sider", "tox21", "toxcast", "esol", "freesolv", "lipo"]
#: CPU minutes of the pairwise ground truth per target (ground_truth.md, "Cost").
PAIRWISE_CPU_MIN = {"bbbp": 115.9, "bace": 95.3, "clintox": 64.0, "sider": 55.5,
                    "esol": 23.1, "freesolv": 16.8}


def _pool(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {c: load_dataset(c).train for c in BUNDLED if c != name}


def _setup(name):
    """``(train, valid, test, pool, extra groups)`` of a target, the planted one included."""
    if name != PLANTED:
        splits = load_dataset(name)
        return splits.train, splits.valid, splits.test, _pool(name), None
    splits = load_dataset("lipo")
    order = np.random.default_rng(0).permutation(len(splits.train))
    rest = splits.train.subset(order[PLANTED_SIZE:], name="lipo rest")
    pool = {**_pool("lipo"), "lipo rest": rest,
            "lipo rest, permuted": permuted_labels(rest, name="lipo rest, permuted")}
    return (splits.train.subset(order[:PLANTED_SIZE], name="lipo"), splits.valid, splits.test,
            pool, PLANTED_GROUPS)


def race(name, budget, max_k, n_jobs):
    train, valid, test, pool, groups = _setup(name)
    # The planted race keeps only the ranking's top 1 beside its own two groups, so that
    # the budget buys rounds rather than groups.
    verifier = VerifiedSelector(TaskTypeSelector(random_state=0),
                                max_k=1 if groups else max_k, budget=budget, groups=groups,
                                results_dir=FITS, n_jobs=n_jobs, torch_threads=1, verbose=True)
    start = time.perf_counter()
    verifier.fit(train, pool, eval_set=[valid, test])
    return {
        "target": name, "verdict": verifier.verdict_, "group": verifier.group_,
        "selected": verifier.selected_, "gain": verifier.gain_,
        "gain_interval": list(verifier.gain_interval_), "n_fits": verifier.n_fits_,
        "detectable_gain": verifier.detectable_gain_,
        "cpu_s": float(verifier.trace_["seconds"].sum()),
        "wall_s": time.perf_counter() - start, "budget": budget, "max_k": max_k,
        "groups": verifier.groups_,
        "summary": verifier.summary_.reset_index(names="group").to_dict(orient="records"),
    }


def check(record, n_seeds, n_jobs):
    """The verified group against the target alone on seeds the race never used."""
    name = record["target"]
    train, valid, test, pool, _ = _setup(name)
    seeds = list(range(CHECK_SEED0, CHECK_SEED0 + n_seeds))
    start = time.perf_counter()
    table = compare_selections(train, {record["group"]: [pool[c] for c in record["selected"]]},
                               default_estimator(train), seeds=seeds,
                               eval_set=valid, test_set=test, results_dir=FITS,
                               n_jobs=n_jobs, torch_threads=1, verbose=False)
    row = summarize_gains(table).iloc[0]
    return {"target": name, "group": record["group"], "selected": record["selected"],
            "seeds": seeds, "gain": float(row["relative_gain"]),
            "low": float(row["relative_ci_low"]), "high": float(row["relative_ci_high"]),
            "verdict": row["verdict"], "wall_s": time.perf_counter() - start}


def _check_lines(checks):
    if not checks:
        return []
    lines = ["", "Held-out check: each group verified as helping, retrained on fresh seeds "
             f"(from {CHECK_SEED0}, never used by a race) against the target alone; "
             "t interval over those seeds, no look-adjustment needed.", "",
             "| target | group | seeds | gain | 95% t interval | verdict | sign as verified |",
             "|---|---|---:|---:|---|---|---|"]
    for c in checks:
        agrees = ("yes" if c["low"] > 0 else "no: significantly negative" if c["high"] < 0
                  else "not confirmed (interval spans 0)")
        lines.append(f"| {c['target']} | {c['group']} ({', '.join(c['selected'])}) | "
                     f"{len(c['seeds'])} | {c['gain']:+.1%} | [{c['low']:+.1%}, "
                     f"{c['high']:+.1%}] | {c['verdict']} | {agrees} |")
    return lines


def _scoreboard():
    """``(target, members joined by "+") -> summary row`` of the outcome scoreboard: the
    scoreboard's groups that a race also raced (the task-type top 3 is the race's top 3)."""
    runs = pd.DataFrame(read_jsonl(RESULTS / "outcomes_runs.jsonl.gz"))
    if runs.empty:
        return {}
    runs = runs.drop_duplicates(["target", "group", "seed"], keep="last")
    runs["members"] = runs["members"].map(lambda m: "+".join(sorted(m)))
    summary = summarize(runs[runs["group"] != "random 3"])
    return {(r["target"], r["members"]): r for _, r in summary.iterrows()}


def _scoreboard_lines(runs, board):
    lines = ["", "Against the outcome scoreboard (`outcomes.md`: 5 seeds, t interval, "
             "Benjamini-Hochberg p), where it measured the same union:", "",
             "| target | race group | race's gain [interval] | race status | scoreboard group "
             "| scoreboard gain [95% CI] | scoreboard verdict |",
             "|---|---|---|---|---|---|---|"]
    for r in runs:
        for s in r["summary"]:
            key = (r["target"], "+".join(sorted(r["groups"][s["group"]])))
            if key not in board:
                continue
            b = board[key]
            lines.append(
                f"| {r['target']} | {s['group']} ({', '.join(r['groups'][s['group']])}) | "
                f"{s['gain']:+.1%} [{s['low']:+.1%}, {s['high']:+.1%}] | {s['status']} | "
                f"{b['group']} | {b['relative_gain']:+.1%} [{b['relative_ci_low']:+.1%}, "
                f"{b['relative_ci_high']:+.1%}] | {b['verdict']} |")
    return lines


def _goal_lines(runs, checks, board):
    """The issue's goals, each judged from the records above."""
    verified = [r for r in runs if r["verdict"] == "helps"]
    checked = {c["target"]: c for c in checks}
    wrong = [r["target"] for r in verified
             if (r["target"] in checked and checked[r["target"]]["high"] < 0)
             or board.get((r["target"], "+".join(sorted(r["selected"]))), {}).get(
                 "relative_ci_high", 1) < 0]
    helped = sorted({t for (t, _), b in board.items()
                     if b["p_adjusted"] < 0.05 and b["relative_gain"] > 0})
    raced = {r["target"]: r for r in runs}
    ratios = {r["target"]: r["cpu_s"] / 60 / PAIRWISE_CPU_MIN[r["target"]]
              for r in runs if r["target"] in PAIRWISE_CPU_MIN}
    cheap = [t for t, ratio in ratios.items() if ratio <= 0.25]
    return [
        "", "Goals:", "",
        f"- never wrong in sign: {len(verified)} group(s) verified as helping "
        f"({', '.join(r['target'] for r in verified) or 'none'}); significantly negative on "
        f"fresh seeds or on the scoreboard: {', '.join(wrong) or 'none'}. Targets where the "
        "scoreboard measured groups that hurt significantly and the race said: "
        + ("; ".join(f"{t} {raced[t]['verdict']}" for t in sorted(
            {t for (t, _), b in board.items()
             if b["p_adjusted"] < 0.05 and b["relative_gain"] < 0} & set(raced))) or "none")
        + ".",
        "- finds help where it exists: targets where the scoreboard shows a group that helps "
        "significantly: " + ("; ".join(
            f"{t}: race {raced[t]['verdict'] if t in raced else 'not run'}" for t in helped)
            or "none, so this goal is not tested by these targets") + ". " + _planted_goal(raced),
        f"- cheap (at most 1/4 of the pairwise study's CPU): {len(cheap)} of {len(ratios)} "
        "targets with a pairwise study ("
        + ", ".join(f"{t} {ratio:.2f}" for t, ratio in ratios.items()) + ").",
    ]


def _planted_goal(raced):
    """What the planted race (help known to exist) says of the goal."""
    if PLANTED not in raced:
        return "The planted case has not run."
    r = raced[PLANTED]
    permuted = "lipo rest, permuted" in r["selected"]
    low, high = r["gain_interval"]
    return (f"The planted case ({PLANTED}), where the held-back lipo molecules must help: "
            f"{r['verdict']}" + (f", {r['group']} ({', '.join(r['selected'])}) {r['gain']:+.1%} "
                                 f"[{low:+.1%}, {high:+.1%}]" if r["group"] else "")
            + f" in {r['n_fits']} fits; the permuted copy "
            + ("was selected (wrong)." if permuted else "was not selected."))


def report(runs, checks=()):
    export_fits_if_any()
    lines = ["# Verified selection on real targets", "",
             "Produced by `MOLSELECT_DATA=../shared/data/moleculenet python -m "
             "benchmarks.studies.bench_verified` (`--report-only` rebuilds it from "
             "`verified_runs.jsonl`).",
             f"Machine: {describe_machine(threads=1)}; one thread per fit. Ranking: the task-type prior "
             "(candidates: the bundled datasets other than the target); groups: its top 1 .. "
             "K unions; model: the fast GIN under the default protocol; alpha 0.05, min gain "
             f"1%. {PLANTED}: lipo's training split cut to {PLANTED_SIZE} molecules (seed 0), "
             "its other molecules a candidate with true labels and again with permuted labels, "
             "each raced as a group beside the ranking's top 1.", "",
             "| target | verdict | group | gain | 95% interval (valid under repeated looks) | "
             "fits | detectable gain (80% power) | CPU min | pairwise CPU min | ratio |",
             "|---|---|---|---:|---|---:|---:|---:|---:|---:|"]
    for r in runs:
        pair = PAIRWISE_CPU_MIN.get(r["target"])
        cpu = r["cpu_s"] / 60
        group = (f"{r['group']} ({', '.join(r['selected'])})" if r["group"] else "-")
        low, high = r["gain_interval"]
        detect = r["detectable_gain"]
        lines.append(
            f"| {r['target']} | {r['verdict']} | {group} | {r['gain']:+.1%} | "
            f"[{low:+.1%}, {high:+.1%}] | {r['n_fits']} | "
            f"{'-' if detect is None or detect != detect else f'{detect:.1%}'} | {cpu:.1f} | "
            f"{'-' if pair is None else f'{pair:.1f}'} | "
            f"{'-' if pair is None else f'{cpu / pair:.2f}'} |")
    lines += ["", "Per group at the race's end:", ""]
    for r in runs:
        lines.append(f"- **{r['target']}**: " + "; ".join(
            f"{s['group']} ({', '.join(r['groups'][s['group']])}): {s['gain']:+.1%} "
            f"[{s['low']:+.1%}, {s['high']:+.1%}], {s['rounds']} rounds, {s['status']}"
            for s in r["summary"]))
    lines += _check_lines(list(checks))
    board = _scoreboard()
    if board:
        lines += _scoreboard_lines(runs, board)
    lines += _goal_lines(runs, list(checks), board)
    (RESULTS / "verified.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--targets", nargs="+", default=TARGETS)
    parser.add_argument("--budget", type=int, default=40)
    parser.add_argument("--max-k", type=int, default=3)
    parser.add_argument("--check-seeds", type=int, default=10,
                        help="fresh seeds on which a group verified as helping is retrained")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--report-only", action="store_true")
    args = parser.parse_args(argv)
    if not args.report_only:
        import_fits()
        done = {r["target"] for r in read_jsonl(RUNS)}
        for name in args.targets:
            if name in done:
                continue
            record = race(name, args.budget, args.max_k, args.n_jobs)
            append_jsonl(RUNS, record, default=float)
        checked = {c["target"] for c in read_jsonl(CHECKS)}
        for record in read_jsonl(RUNS):
            if (record["target"] in args.targets and record["verdict"] == "helps"
                    and record["target"] not in checked):
                append_jsonl(CHECKS, check(record, args.check_seeds, args.n_jobs),
                             default=float)
    report(read_jsonl(RUNS), read_jsonl(CHECKS))


if __name__ == "__main__":
    main()
