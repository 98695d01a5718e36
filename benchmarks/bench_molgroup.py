"""MolGroup speed, memory and surrogate-fidelity benchmark.

Six parts, each optional:

``--steps``      ms and GFLOP per step on the same mixed batches: a plain joint step (one
                 shared GIN, no gate, no meta-gradient), MolGroup's warm-up step
                 (per-dataset parameters, no gate: the reference code's "plain" epoch) and
                 the full bi-level MolGroup step with the exact (default) and the
                 linearized meta-gradient; graphs/s; peak memory.
``--round``      one full filtering round at the paper configuration (hidden 300, 5 layers,
                 10 epochs, batch 128, MACCS) for target bace with auxiliaries esol and
                 freesolv: wall time, RSS after every epoch (it must stay flat); with
                 ``--meta-gradient linearized|exact|both`` (default both).
``--fidelity``   how far the opt-in linearized meta-gradient is from the exact one,
                 next to the exact one's own dropout noise (paper configuration).
``--modes``      one paper-size round per seed with each meta-gradient: do the affinities
                 move more with the meta-gradient than with the seed?
``--selection``  a full selection (every round) with ``--preset`` (default paper) for
                 ``--selection-target`` (default bbbp) against ``--selection-candidates``
                 (default: every other available dataset): wall time, peak memory, the
                 selection and the affinities.  The paper-size run is meant for a GPU.
``--surrogate``  Kendall tau between the affinities of the ``fast`` preset and of the paper
                 configuration, over the same pool and ``--seeds`` (one round, so every
                 candidate is scored): per run, next to the tau between two paper runs, and
                 on the seed-averaged affinities, next to each configuration's split-half
                 tau.  Finished runs are kept in ``results/surrogate_runs.jsonl``, so a
                 long study resumes where it stopped.

Figures are printed and written to ``benchmarks/results/molgroup.json`` (+ ``.md``).
Run: ``python benchmarks/bench_molgroup.py --steps --round --fidelity --surrogate
[--device cuda]``.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import resource
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import torch
from scipy.stats import kendalltau
from torch.utils.flop_counter import FlopCounterMode

from molselect import MolGroupSelector
from molselect.core import (BalancedSampler, GINEncoder, JointStep, MolGroupModel, MolGroupStep,
                            MultiHead, adam, resolve_device, seed_everything, train)
from molselect.core.prepare import build_table
from molselect.datasets import list_datasets, load_dataset
from molselect.presets import PRESETS, get_preset

RESULTS = Path(__file__).parent / "results"


def _rss_mb():
    return psutil.Process().memory_info().rss / 2**20


def _peak_mb(device):
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class _JointGIN(torch.nn.Module):
    def __init__(self, n_tasks, hidden_dim, num_layers, dropout):
        super().__init__()
        self.encoder = GINEncoder(hidden_dim, num_layers, dropout)
        self.heads = MultiHead(hidden_dim, n_tasks)

    def forward(self, batch):
        return self.heads(self.encoder(batch), batch.graph_counts)


def bench_steps(device, names, hidden_dim, num_layers, n_steps, batch_size=128, repeats=3):
    data = [load_dataset(n).train for n in names]
    table, clf, _ = build_table(data, fingerprints=True)
    clf = [c.to(device) for c in clf]
    sampler = BalancedSampler(table.sizes, batch_size, np.random.default_rng(0))
    batches = [table.batch(ix).to(device) for _, ix in zip(range(n_steps + 1), sampler)]
    n_graphs = sum(b.num_graphs for b in batches[1:])
    torch.manual_seed(0)
    joint = _JointGIN([d.n_tasks for d in data], hidden_dim, num_layers, 0.5).to(device)
    joint_step = JointStep(joint, clf, adam(joint.parameters(), 1e-3))
    model = MolGroupModel([d.n_tasks for d in data], hidden_dim, num_layers).to(device)
    exact = MolGroupStep(model, clf, warmup_epochs=1, meta_gradient="exact")
    linearized = MolGroupStep(model, clf, warmup_epochs=1, meta_gradient="linearized")
    runs = {
        "plain_joint": lambda b: joint_step(b, 0),
        "molgroup_warmup": lambda b: linearized(b, 0),
        "molgroup_linearized": lambda b: linearized(b, 1),
        "molgroup_exact": lambda b: exact(b, 1),
    }
    out = {}
    # Interleave the kinds several times so drift on a shared machine hits them alike.
    for repeat in range(repeats):
        for name, run in runs.items():
            run(batches[0])
            _sync(device)
            start = time.perf_counter()
            for b in batches[1:]:
                run(b)
            _sync(device)
            ms = (time.perf_counter() - start) / n_steps * 1000
            out[name] = min(out.get(name, np.inf), ms)
    peak_mb = _peak_mb(device)  # before the FLOP count, whose bookkeeping costs memory
    # The floating-point work of each kind bounds its ratio to the plain step from
    # below wherever matmuls dominate, on any hardware.
    gflop = {}
    for name, run in runs.items():
        with FlopCounterMode(display=False) as counter:
            for b in batches[1:]:
                run(b)
        gflop[name] = counter.get_total_flops() / n_steps / 1e9
    result = {
        "datasets": names, "hidden_dim": hidden_dim, "num_layers": num_layers,
        "batch_size": batch_size, "steps": n_steps, "threads": torch.get_num_threads(),
        **{f"ms_{k}": round(v, 1) for k, v in out.items()},
        **{f"graphs_per_s_{k}": round(n_graphs / n_steps / v * 1000, 1) for k, v in out.items()},
        **{f"ratio_{k}_vs_plain_joint": round(out[k] / out["plain_joint"], 2)
           for k in ("molgroup_linearized", "molgroup_exact")},
        **{f"ratio_{k}_vs_warmup": round(out[k] / out["molgroup_warmup"], 2)
           for k in ("molgroup_linearized", "molgroup_exact")},
        **{f"gflop_{k}": round(v, 1) for k, v in gflop.items()},
        **{f"flop_ratio_{k}_vs_plain_joint": round(gflop[k] / gflop["plain_joint"], 2)
           for k in ("molgroup_linearized", "molgroup_exact")},
        "peak_memory_mb": round(peak_mb, 1),
    }
    return result


def bench_round(device, epochs=10, meta_gradient="exact"):
    target = load_dataset("bace").train
    aux = [load_dataset(n).train for n in ("esol", "freesolv")]
    start = time.perf_counter()
    table, clf, _ = build_table([target] + aux, fingerprints=True)
    featurize_s = time.perf_counter() - start
    rng = seed_everything(0)
    model = MolGroupModel([1, 1, 1]).to(device)
    step = MolGroupStep(model, [c.to(device) for c in clf], warmup_epochs=1,
                        meta_gradient=meta_gradient)
    epoch_rss, epoch_peak, epoch_time = [], [], []
    t0 = [time.perf_counter()]

    def record(epoch, logs):
        _sync(device)
        now = time.perf_counter()
        epoch_time.append(now - t0[0])
        t0[0] = now
        epoch_rss.append(round(_rss_mb(), 1))
        epoch_peak.append(round(_peak_mb(device), 1))
        return {}

    start = time.perf_counter()
    history = train(table, step, epochs, 128, rng, device, on_epoch_end=record, verbose=True,
                    desc=f"bace + esol + freesolv, paper config, {meta_gradient}")
    wall = time.perf_counter() - start
    last = history[-1]
    return {
        "target": "bace", "auxiliaries": ["esol", "freesolv"], "epochs": epochs,
        "meta_gradient": meta_gradient,
        "featurize_s": round(featurize_s, 2), "round_wall_s": round(wall, 1),
        "epoch_s": [round(t, 1) for t in epoch_time],
        "rss_mb_after_epoch": epoch_rss, "peak_mb_after_epoch": epoch_peak,
        "rss_growth_mb_epoch2_to_last": round(epoch_rss[-1] - epoch_rss[1], 1),
        "affinity": dict(zip(["esol", "freesolv"],
                             np.round(last["gate"] / np.maximum(last["present"], 1e-12), 3).tolist())),
    }


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
            start = time.perf_counter()
            sel = MolGroupSelector(n_rounds=1, top_k=None, epochs=epochs, meta_gradient=mode,
                                   random_state=seed, device=device).fit(target, pool)
            affinity[(mode, seed)] = sel.affinity_
            print(f"  {mode} seed {seed}: {time.perf_counter() - start:.0f}s "
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


def _surrogate_runs(device, target_name, candidates, configs, seeds, cache):
    """One first round per (config, seed), reusing the runs already in ``cache`` (JSON lines).

    Paper-size rounds take minutes on a CPU, so every finished run is appended
    to ``cache`` at once: an interrupted study resumes where it stopped.
    """
    done = {}
    if cache.exists():
        for line in cache.read_text().splitlines():
            run = json.loads(line)
            done[_run_key(run["target"], run["candidates"], run["params"], run["seed"])] = run
    target = load_dataset(target_name).train
    pool = {n: load_dataset(n).train for n in candidates}
    runs = {}
    for label, params in configs.items():
        for seed in seeds:
            key = _run_key(target_name, candidates, params, seed)
            if key not in done:
                start = time.perf_counter()
                sel = MolGroupSelector(n_rounds=1, top_k=None, random_state=seed,
                                       device=device, **params).fit(target, pool)
                done[key] = {"target": target_name, "candidates": list(candidates),
                             "params": params, "seed": seed, "device": str(device),
                             "seconds": round(time.perf_counter() - start, 1),
                             "affinity": sel.affinity_.round(4).to_dict()}
                with cache.open("a") as f:
                    f.write(json.dumps(done[key]) + "\n")
            runs[(label, seed)] = done[key]
            print(f"  {label} seed {seed}: {done[key]['seconds']:.0f}s "
                  f"{done[key]['affinity']}")
    return runs


def _mean_pairwise_tau(frames_a, frames_b=None):
    """Mean Kendall tau over pairs of rankings: within one list (i < j) or across two."""
    if frames_b is None:
        pairs = [(a, b) for i, a in enumerate(frames_a) for b in frames_a[i + 1:]]
    else:
        pairs = [(a, b) for a in frames_a for b in frames_b]
    return round(float(np.mean([kendalltau(a, b)[0] for a, b in pairs])), 3)


def bench_surrogate(device, target_name, candidates, seeds, paper_epochs, cache, surrogates=None):
    """Do lighter configurations rank candidates like the paper configuration?

    Single rounds are noisy (a seed moves an affinity by up to 0.4), so each
    surrogate is compared on two levels: per run, the mean tau between one of
    its runs and a ``paper`` run next to the mean tau between two ``paper``
    runs (is it as good a stand-in as another paper seed?); and on the
    seed-averaged affinities, with the split-half tau of each configuration
    (first half of the seeds against the second) as its reliability.

    ``surrogates`` maps a label to selector parameters (default: the ``fast``
    preset).
    """
    configs = {"paper": {**get_preset("paper"), "epochs": paper_epochs},
               **(surrogates or {"fast": get_preset("fast")})}
    runs = _surrogate_runs(device, target_name, candidates, configs, seeds, cache)
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


def bench_selection(device, target_name, candidates, params, seed):
    """A full MolGroup selection (all rounds): wall time, peak memory and the result.

    The issue's GPU run is ``--selection --device cuda``: target bbbp against
    every other available dataset at the paper configuration.
    """
    target = load_dataset(target_name).train
    pool = {n: load_dataset(n).train for n in candidates}
    start = time.perf_counter()
    build_table([target, *pool.values()], fingerprints=True)  # featurise once; cached on disk
    featurize_s = time.perf_counter() - start
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    start = time.perf_counter()
    sel = MolGroupSelector(random_state=seed, device=device, verbose=True, **params)
    sel.fit(target, pool)
    wall = time.perf_counter() - start
    rounds = sel.history_.groupby("round")["candidate"].nunique()
    return {
        "target": target_name, "candidates": candidates, "params": params, "seed": seed,
        "molecules": {target_name: len(target), **{n: len(d) for n, d in pool.items()}},
        "featurize_s": round(featurize_s, 1), "select_wall_s": round(wall, 1),
        "candidates_per_round": {int(r): int(n) for r, n in rounds.items()},
        "peak_memory_mb": round(_peak_mb(device), 1),
        "selected": list(sel.selected_),
        "affinity": sel.affinity_.round(4).to_dict(),
        "round_dropped": sel.round_dropped_.to_dict(),
    }


def _markdown(results):
    lines = ["# MolGroup benchmark", "", f"machine: {results['machine']}", ""]
    if "steps" in results:
        s = results["steps"]
        lines += ["## Step cost (same mixed batches, best of interleaved repeats)", "",
                  "| step | ms | graphs/s | / plain joint | GFLOP | FLOP / plain joint |",
                  "|---|---:|---:|---:|---:|---:|"]
        for k in ("plain_joint", "molgroup_warmup", "molgroup_linearized", "molgroup_exact"):
            ratio = round(s["ms_" + k] / s["ms_plain_joint"], 2)
            gflop = s.get("gflop_" + k, float("nan"))
            flop_ratio = round(gflop / s.get("gflop_plain_joint", float("nan")), 2)
            lines.append(f"| {k} | {s['ms_' + k]} | {s['graphs_per_s_' + k]} | {ratio}x "
                         f"| {gflop} | {flop_ratio}x |")
        lines += ["", f"peak memory {s['peak_memory_mb']} MB", ""]
    for key in ("round", "round_linearized"):
        if key in results:
            r = results[key]
            lines += [f"## One round, paper configuration (bace + esol + freesolv), "
                      f"meta_gradient={r.get('meta_gradient', 'exact')}", "",
                      f"wall **{r['round_wall_s']} s** for {r['epochs']} epochs "
                      f"(featurization {r['featurize_s']} s); seconds per epoch: {r['epoch_s']}; "
                      f"RSS after each epoch (MB): {r['rss_mb_after_epoch']}; growth epoch 2 -> "
                      f"last: {r['rss_growth_mb_epoch2_to_last']} MB; affinities {r['affinity']}",
                      ""]
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
    if "selection" in results:
        s = results["selection"]
        lines += [f"## Full selection: target {s['target']}, {len(s['candidates'])} candidates, "
                  f"params {s['params'] or 'paper'}, seed {s['seed']}", "",
                  f"wall **{s['select_wall_s']} s** (featurisation before it "
                  f"{s['featurize_s']} s), candidates per round {s['candidates_per_round']}, "
                  f"peak memory {s['peak_memory_mb']} MB", "",
                  f"selected: **{', '.join(s['selected']) or '(none)'}**", "",
                  "| candidate | affinity (last round it took part in) | dropped in round |",
                  "|---|---:|---:|"]
        for c in sorted(s["affinity"], key=lambda c: -s["affinity"][c]):
            dropped = s["round_dropped"].get(c)
            dropped = "-" if dropped is None or dropped != dropped else int(dropped)
            lines.append(f"| {c} | {s['affinity'][c]} | {dropped} |")
        lines.append("")
    return "\n".join(lines)


def _surrogate_config(text):
    label, _, params = text.partition("=")
    return label, (json.loads(params) if params else get_preset(label))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--steps", action="store_true")
    parser.add_argument("--round", action="store_true")
    parser.add_argument("--surrogate", action="store_true")
    parser.add_argument("--fidelity", action="store_true")
    parser.add_argument("--modes", action="store_true",
                        help="affinities of both meta-gradients over --seeds (paper size)")
    parser.add_argument("--meta-gradient", choices=["linearized", "exact", "both"],
                        default="both", help="meta-gradient(s) of the --round run")
    parser.add_argument("--n-steps", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--surrogate-target", default="freesolv")
    parser.add_argument("--surrogate-candidates",
                        default="bace,bbbp,clintox,esol,lipo,sider")
    parser.add_argument("--surrogate-config", action="append", default=[], metavar="LABEL=JSON",
                        help="a surrogate to compare with paper (repeatable), e.g. "
                             "'small={\"hidden_dim\": 64, \"epochs\": 10}'; a bare preset "
                             "name takes that preset; default: fast")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--selection", action="store_true",
                        help="a full selection (all rounds) with --preset, seed --seeds[0]")
    parser.add_argument("--selection-target", default="bbbp")
    parser.add_argument("--selection-candidates", default="all",
                        help="comma-separated names, or 'all' available datasets but the target")
    parser.add_argument("--preset", default="paper", choices=sorted(PRESETS),
                        help="parameters of the --selection run")
    parser.add_argument("--out", default=str(RESULTS / "molgroup.json"))
    args = parser.parse_args(argv)
    if not (args.steps or args.round or args.surrogate or args.fidelity or args.modes
            or args.selection):
        args.steps = args.round = True
    device = resolve_device(args.device)
    out_path = Path(args.out)
    results = json.loads(out_path.read_text()) if out_path.exists() else {}
    results["machine"] = (f"{platform.processor() or platform.machine()}, "
                          f"{os.cpu_count()} cpus, torch {torch.__version__}, device {device}"
                          + (f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else ""))
    if args.steps:
        results["steps"] = bench_steps(device, ["bace", "esol", "freesolv"], 300, 5, args.n_steps)
        print(json.dumps(results["steps"], indent=1))
    if args.round:
        modes = ["exact", "linearized"] if args.meta_gradient == "both" else [args.meta_gradient]
        for mode in modes:
            key = "round" if mode == "exact" else "round_linearized"
            results[key] = bench_round(device, args.epochs, mode)
            print(json.dumps(results[key], indent=1))
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
            dict(_surrogate_config(c) for c in args.surrogate_config) or None)
        print(json.dumps(results["surrogate"]["kendall_tau"], indent=1))
    if args.selection:
        candidates = args.selection_candidates.split(",")
        if candidates == ["all"]:
            available = list_datasets()
            candidates = [n for n in available.loc[available["available"], "name"]
                          if n != args.selection_target]
        results["selection"] = bench_selection(device, args.selection_target, candidates,
                                               get_preset(args.preset), args.seeds[0])
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(results, indent=1, default=float))
    out_path.with_suffix(".md").write_text(_markdown(results))
    print(_markdown(results))


if __name__ == "__main__":
    main()
