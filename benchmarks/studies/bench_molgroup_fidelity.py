"""How faithful are MolGroup's cheaper settings?  Studies of the meta-gradient and the presets.

Three parts, each optional (at least one, or ``--report-only``):

``--fidelity``   how far the opt-in linearized meta-gradient is from the exact one,
                 next to the exact one's own dropout noise (paper configuration).
``--modes``      one paper-size round per seed with each meta-gradient: do the affinities
                 move more with the meta-gradient than with the seed?
``--surrogate``  Kendall tau between the affinities of the ``fast`` preset and of the paper
                 configuration, over the same pool and ``--seeds`` (one round, so every
                 candidate is scored): per run, next to the tau between two paper runs, and
                 on the seed-averaged affinities, next to each configuration's split-half
                 tau.  Finished runs are kept in ``results/surrogate_runs.jsonl``, so a
                 long study resumes where it stopped.

These are research studies (hours on a CPU at the paper's size); the speed of
MolGroup's step, round and selection is :mod:`benchmarks.bench_molgroup`.

Figures are printed and written to ``benchmarks/results/molgroup_fidelity.json``
(+ ``.md``); a part that is not run keeps its figures there.  ``--report-only``
trains nothing: the Markdown is rebuilt from the JSON, and with ``--surrogate``
that part is recomputed from the kept runs (the same ``--seeds`` and
``--surrogate-config`` as the study's).

Run, from the repository root: ``python -m benchmarks.studies.bench_molgroup_fidelity
--fidelity --modes --surrogate [--device cuda]``.
"""

from __future__ import annotations

import argparse
import copy
import json
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from scipy.stats import kendalltau

from benchmarks._harness import RESULTS, Stopwatch, describe_machine, write_results
from benchmarks.studies._common import append_jsonl, read_jsonl
from molselect import MolGroupSelector
from molselect.core import BalancedSampler, MolGroupModel, MolGroupStep, resolve_device
from molselect.core.prepare import build_table
from molselect.datasets import load_dataset
# Private: the mean pairwise Kendall tau of score_selector's run agreement.
from molselect.evaluation._scoring import _mean_pairwise_tau as _library_pairwise_tau
from molselect.presets import get_preset


def _meta_gradient(model, classification, batch, mode, seed):
    """The gate's meta-gradient on ``batch`` (flattened), dropout masks drawn from ``seed``."""
    step = MolGroupStep(model, classification, meta_gradient=mode)
    torch.manual_seed(seed)
    return torch.cat([g.reshape(-1) for g in step.gate_gradient(batch) if g is not None])


def bench_fidelity(device, n_batches=16):
    """How far the linearized meta-gradient is from the exact one, next to dropout noise.

    After one warm-up epoch and 10 meta steps of the paper configuration (bace +
    esol + freesolv), on ``n_batches`` further batches: the cosine between two
    exact meta-gradients whose virtual forwards draw different dropout masks
    (the noise the exact method carries anyway), the cosine between the exact
    and the linearized one, and with dropout off (both deterministic) their
    relative difference.
    """
    data = [load_dataset(n).train for n in ("bace", "esol", "freesolv")]
    table, clf, _ = build_table(data, fingerprints=True)
    clf = [c.to(device) for c in clf]
    sampler = BalancedSampler(table.sizes, 128, np.random.default_rng(0))
    batches = [table.batch(ix).to(device) for _ in range(3) for ix in sampler]
    warmup = len(sampler)
    torch.manual_seed(0)
    model = MolGroupModel([1, 1, 1]).to(device)
    step = MolGroupStep(model, clf, meta_gradient="exact")
    for b in batches[:warmup]:
        step(b, 0)
    for b in batches[warmup:warmup + 10]:
        step(b, 1)
    quiet = copy.deepcopy(model)
    quiet.routed.target.dropout = 0.0

    def cos(a, b):
        return float(torch.nn.functional.cosine_similarity(a, b, dim=0))

    rows = []
    for b in batches[warmup + 10:warmup + 10 + n_batches]:
        exact1 = _meta_gradient(model, clf, b, "exact", 1)
        exact2 = _meta_gradient(model, clf, b, "exact", 2)
        linear = _meta_gradient(model, clf, b, "linearized", 1)
        quiet_exact = _meta_gradient(quiet, clf, b, "exact", 0)
        quiet_linear = _meta_gradient(quiet, clf, b, "linearized", 0)
        rows.append({
            "cos_exact_vs_exact_other_dropout": cos(exact1, exact2),
            "cos_exact_vs_linearized": cos(exact1, linear),
            "no_dropout_cos_exact_vs_linearized": cos(quiet_exact, quiet_linear),
            "no_dropout_relative_difference": float((quiet_linear - quiet_exact).norm()
                                                    / quiet_exact.norm()),
        })
    return {"batches": n_batches, "per_batch": rows,
            "mean": {k: round(float(np.mean([r[k] for r in rows])), 4) for k in rows[0]}}


def bench_modes(device, seeds, epochs=10):
    """One paper-configuration round per seed and meta-gradient (bace; esol, freesolv).

    Whether the linearized meta-gradient moves the affinities by more than a
    change of seed does: mean and standard deviation over seeds, per mode.
    """
    target = load_dataset("bace").train
    pool = {n: load_dataset(n).train for n in ("esol", "freesolv")}
    affinity = {}
    for mode in ("linearized", "exact"):
        for seed in seeds:
            with Stopwatch() as clock:
                sel = MolGroupSelector(n_rounds=1, top_k=None, epochs=epochs,
                                       meta_gradient=mode, random_state=seed,
                                       device=device).fit(target, pool)
            affinity[(mode, seed)] = sel.affinity_
            print(f"  {mode} seed {seed}: {clock.seconds:.0f}s "
                  f"{sel.affinity_.round(3).to_dict()}")
    summary = {}
    for mode in ("linearized", "exact"):
        frame = pd.DataFrame([affinity[(mode, s)] for s in seeds])
        summary[mode] = {"mean": frame.mean().round(3).to_dict(),
                         "std": frame.std().round(3).to_dict()}
    diff = pd.DataFrame([affinity[("linearized", s)] - affinity[("exact", s)] for s in seeds])
    return {"seeds": seeds, "epochs": epochs, "summary": summary,
            "affinity": {f"{m}_seed{s}": v.round(4).to_dict() for (m, s), v in affinity.items()},
            "linearized_minus_exact": {"mean": diff.mean().round(3).to_dict(),
                                       "std": diff.std().round(3).to_dict(),
                                       "lower_in": int((diff < 0).values.sum()),
                                       "pairs": int(diff.size)}}


def _run_key(target_name, candidates, params, seed):
    return target_name, tuple(candidates), json.dumps(params, sort_keys=True), seed


def _surrogate_runs(device, target_name, candidates, configs, seeds, cache,
                    cached_only=False):
    """One first round per (config, seed), reusing the runs already in ``cache`` (JSON lines).

    Paper-size rounds take minutes on a CPU, so every finished run is appended
    to ``cache`` at once: an interrupted study resumes where it stopped.
    ``cached_only``: train nothing, and stop at the first run not in ``cache``.
    """
    done = {_run_key(run["target"], run["candidates"], run["params"], run["seed"]): run
            for run in read_jsonl(cache)}
    data = {}  # loaded at the first run to train: a report from the cache needs no data
    runs = {}
    for label, params in configs.items():
        for seed in seeds:
            key = _run_key(target_name, candidates, params, seed)
            if key not in done:
                if cached_only:
                    raise SystemExit(f"{cache} has no run of {label} ({params}) with seed "
                                     f"{seed}: run the study without --report-only")
                if not data:
                    data["target"] = load_dataset(target_name).train
                    data["pool"] = {n: load_dataset(n).train for n in candidates}
                with Stopwatch() as clock:
                    sel = MolGroupSelector(n_rounds=1, top_k=None, random_state=seed,
                                           device=device, **params).fit(data["target"],
                                                                        data["pool"])
                done[key] = {"target": target_name, "candidates": list(candidates),
                             "params": params, "seed": seed, "device": str(device),
                             "seconds": round(clock.seconds, 1),
                             "affinity": sel.affinity_.round(4).to_dict()}
                append_jsonl(cache, done[key])
            runs[(label, seed)] = done[key]
            print(f"  {label} seed {seed}: {done[key]['seconds']:.0f}s "
                  f"{done[key]['affinity']}")
    return runs


def _mean_pairwise_tau(frames_a, frames_b=None):
    """Mean Kendall tau over pairs of rankings: within one list (i < j) or across two.

    Within one list it is the library's (the run agreement of
    :func:`molselect.evaluation.score_selector`); the library has no form across two lists.
    """
    if frames_b is None:
        return round(_library_pairwise_tau(frames_a), 3)
    return round(float(np.mean([kendalltau(a, b)[0] for a in frames_a for b in frames_b])), 3)


def bench_surrogate(device, target_name, candidates, seeds, paper_epochs, cache, surrogates=None,
                    cached_only=False):
    """Do lighter configurations rank candidates like the paper configuration?

    Single rounds are noisy (a seed moves an affinity by up to 0.4), so each
    surrogate is compared on two levels: per run, the mean tau between one of
    its runs and a ``paper`` run next to the mean tau between two ``paper``
    runs (is it as good a stand-in as another paper seed?); and on the
    seed-averaged affinities, with the split-half tau of each configuration
    (first half of the seeds against the second) as its reliability.

    ``surrogates`` maps a label to selector parameters (default: the ``fast``
    preset); ``cached_only``: from the runs kept in ``cache`` only.
    """
    configs = {"paper": {**get_preset("paper"), "epochs": paper_epochs},
               **(surrogates or {"fast": get_preset("fast")})}
    runs = _surrogate_runs(device, target_name, candidates, configs, seeds, cache, cached_only)
    frames = {label: pd.DataFrame([runs[(label, s)]["affinity"] for s in seeds])[candidates]
              for label in configs}
    means = {label: frame.mean() for label, frame in frames.items()}
    rows = {label: [row for _, row in frame.iterrows()] for label, frame in frames.items()}
    half = len(seeds) // 2
    tau = {"per_run_paper_vs_paper": _mean_pairwise_tau(rows["paper"])}
    for label in configs:
        if label != "paper":
            tau[f"per_run_{label}_vs_paper"] = _mean_pairwise_tau(rows[label], rows["paper"])
            tau[f"per_run_{label}_vs_{label}"] = _mean_pairwise_tau(rows[label])
            tau[f"seed_mean_{label}_vs_paper"] = round(
                float(kendalltau(means[label], means["paper"])[0]), 3)
    for label, frame in frames.items():
        if half >= 1:
            first, second = frame.iloc[:half].mean(), frame.iloc[half:].mean()
            tau[f"split_half_{label}"] = round(float(kendalltau(first, second)[0]), 3)
    lowest = {label: frame.idxmin(axis=1).tolist() for label, frame in frames.items()}
    return {
        "target": target_name, "candidates": candidates, "seeds": seeds,
        "paper_epochs": paper_epochs, "configs": configs,
        "kendall_tau": tau,
        "mean_affinity": {label: m.round(3).to_dict() for label, m in means.items()},
        "std_affinity": {label: frames[label].std().round(3).to_dict() for label in frames},
        "top3_of_mean": {label: m.sort_values(ascending=False).index[:3].tolist()
                         for label, m in means.items()},
        "dropped_first_per_seed": lowest,
        "seconds_mean": {label: round(float(np.mean([runs[(label, s)]["seconds"]
                                                    for s in seeds])), 1) for label in configs},
    }


def _markdown(results):
    lines = ["# MolGroup: how faithful are the cheaper settings?", "",
             f"machine: {results.get('machine', 'not recorded')}", ""]
    if "fidelity" in results:
        f = results["fidelity"]
        lines += ["## Linearized vs exact meta-gradient (paper configuration, "
                  f"{f['batches']} batches)", "", "| measure | mean |", "|---|---:|"]
        lines += [f"| {k} | {v} |" for k, v in f["mean"].items()]
        lines.append("")
    if "modes" in results:
        m = results["modes"]
        lines += ["## Affinities by meta-gradient over seeds (paper configuration, one round, "
                  f"target bace, seeds {m['seeds']})", "",
                  "| meta_gradient | candidate | mean | std |", "|---|---|---:|---:|"]
        for mode, stats in m["summary"].items():
            lines += [f"| {mode} | {c} | {stats['mean'][c]} | {stats['std'][c]} |"
                      for c in stats["mean"]]
        if "linearized_minus_exact" in m:
            d = m["linearized_minus_exact"]
            lines += ["", f"Linearized minus exact, same seed: mean {d['mean']}, sd {d['std']}; "
                          f"lower in {d['lower_in']} of {d['pairs']} pairs."]
        lines.append("")
    if "surrogate" in results:
        s = results["surrogate"]
        lines += ["## Surrogate fidelity (Kendall tau of first-round affinities)", "",
                  f"target {s['target']}, candidates {', '.join(s['candidates'])}, "
                  f"seeds {s['seeds']}, configurations {s['configs']}; seconds per round "
                  f"{s['seconds_mean']}", "",
                  "| comparison | tau |", "|---|---:|"]
        lines += [f"| {k} | {v} |" for k, v in s["kendall_tau"].items()]
        lines += ["", "| candidate | " + " | ".join(
                      f"{label} mean (sd)" for label in s["mean_affinity"]) + " |",
                  "|---|" + "---:|" * len(s["mean_affinity"])]
        for c in s["candidates"]:
            lines.append(f"| {c} | " + " | ".join(
                f"{s['mean_affinity'][label][c]} ({s['std_affinity'][label][c]})"
                for label in s["mean_affinity"]) + " |")
        lines += ["", f"top 3 of the seed means: {s['top3_of_mean']}; lowest per seed "
                      f"(dropped first): {s['dropped_first_per_seed']}", ""]
    return "\n".join(lines)


def _surrogate_config(text):
    label, _, params = text.partition("=")
    return label, (json.loads(params) if params else get_preset(label))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--fidelity", action="store_true")
    parser.add_argument("--modes", action="store_true",
                        help="affinities of both meta-gradients over --seeds (paper size)")
    parser.add_argument("--surrogate", action="store_true")
    parser.add_argument("--epochs", type=int, default=10,
                        help="epochs of the paper-size rounds of --modes and --surrogate")
    parser.add_argument("--surrogate-target", default="freesolv")
    parser.add_argument("--surrogate-candidates",
                        default="bace,bbbp,clintox,esol,lipo,sider")
    parser.add_argument("--surrogate-config", action="append", default=[], metavar="LABEL=JSON",
                        help="a surrogate to compare with paper (repeatable), e.g. "
                             "'small={\"hidden_dim\": 64, \"epochs\": 10}'; a bare preset "
                             "name takes that preset; default: fast")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--report-only", action="store_true",
                        help="train nothing: rebuild the report from the JSON (and the "
                             "--surrogate part from results/surrogate_runs.jsonl)")
    parser.add_argument("--out", default=str(RESULTS / "molgroup_fidelity.json"))
    args = parser.parse_args(argv)
    if not (args.fidelity or args.modes or args.surrogate or args.report_only):
        parser.error("choose --fidelity, --modes or --surrogate (or --report-only)")
    device = resolve_device(args.device)
    out_path = Path(args.out)
    results = json.loads(out_path.read_text()) if out_path.exists() else {}
    if not args.report_only:
        results["machine"] = describe_machine(device)
        if args.fidelity:
            results["fidelity"] = bench_fidelity(device)
            print(json.dumps(results["fidelity"]["mean"], indent=1))
        if args.modes:
            results["modes"] = bench_modes(device, args.seeds, args.epochs)
            print(json.dumps(results["modes"]["summary"], indent=1))
    if args.surrogate:
        results["surrogate"] = bench_surrogate(
            device, args.surrogate_target, args.surrogate_candidates.split(","), args.seeds,
            args.epochs, RESULTS / "surrogate_runs.jsonl",
            dict(_surrogate_config(c) for c in args.surrogate_config) or None,
            cached_only=args.report_only)
        print(json.dumps(results["surrogate"]["kendall_tau"], indent=1))
    write_results(out_path, results, _markdown(results))
    print(_markdown(results))


if __name__ == "__main__":
    main()
