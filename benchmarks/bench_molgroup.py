"""MolGroup speed and memory benchmark: a step, a round and a whole selection.

Three parts, each optional (``--steps --round`` when none is given):

``--steps``      ms and GFLOP per step on the same mixed batches: a plain joint step (one
                 shared GIN, no gate, no meta-gradient), MolGroup's warm-up step
                 (per-dataset parameters, no gate: the reference code's "plain" epoch) and
                 the full bi-level MolGroup step with the exact (default) and the
                 linearized meta-gradient; graphs/s; peak memory.
``--round``      one full filtering round at the paper configuration (hidden 300, 5 layers,
                 10 epochs, batch 128, MACCS) for ``--round-target`` (default bace) with
                 ``--round-aux`` (default esol and freesolv; ``all`` is the paper-sized
                 round): wall time, RSS after every epoch (it must stay flat); with
                 ``--meta-gradient linearized|exact|both`` (default both).
``--selection``  a full selection (every round) with ``--preset`` (default paper) for
                 ``--selection-target`` (default bbbp) against ``--selection-candidates``
                 (default: every other available dataset): wall time, peak memory, the
                 selection and the affinities.  The paper-size run is meant for a GPU.

How faithful the cheaper settings are (the linearized meta-gradient, the CPU
presets) is a study: ``python -m benchmarks.studies.bench_molgroup_fidelity``.

Figures are printed and written to ``benchmarks/results/molgroup.json`` (+ ``.md``); a part
that is not run keeps its figures there.
Run: ``python -m benchmarks.bench_molgroup --steps --round [--device cuda]``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from benchmarks._harness import (RESULTS, Stopwatch, describe_machine, peak_memory_mb,
                                 rss_mb, write_results)
from molselect import MolGroupSelector
from molselect.core import (BalancedSampler, Callback, GINEncoder, JointStep, MolGroupModel,
                            MolGroupStep, MultiHead, adam, resolve_device, seed_everything, train)
from molselect.core.prepare import build_table
from molselect.datasets import list_datasets, load_dataset
from molselect.presets import PRESETS, get_preset


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
            with Stopwatch(device) as clock:
                for b in batches[1:]:
                    run(b)
            ms = clock.seconds / n_steps * 1000
            out[name] = min(out.get(name, np.inf), ms)
    peak_mb = peak_memory_mb(device)  # before the FLOP count, whose bookkeeping costs memory
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


def bench_round(device, epochs=10, meta_gradient="exact", target_name="bace",
                aux_names=("esol", "freesolv"), featurize_jobs=None):
    target = load_dataset(target_name).train
    aux = [load_dataset(n).train for n in aux_names]
    with Stopwatch() as clock:
        table, clf, _ = build_table([target] + aux, fingerprints=True, n_jobs=featurize_jobs)
    featurize_s = clock.seconds
    rng = seed_everything(0)
    model = MolGroupModel([len(c) for c in clf]).to(device)
    step = MolGroupStep(model, [c.to(device) for c in clf], warmup_epochs=1,
                        meta_gradient=meta_gradient)
    epoch_rss, epoch_peak, epoch_time = [], [], []

    class Record(Callback):
        def on_epoch_end(self, epoch, logs):
            epoch_time.append(round_clock.lap())
            epoch_rss.append(round(rss_mb(), 1))
            epoch_peak.append(round(peak_memory_mb(device), 1))
            # said at once, so that a run stopped by a time limit still tells the epoch cost
            print(f"epoch {epoch + 1}: {epoch_time[-1]:.1f} s, RSS {epoch_rss[-1]} MB, "
                  f"peak {epoch_peak[-1]} MB", flush=True)

    with Stopwatch(device) as round_clock:
        history = train(table, step, epochs, 128, rng, device, callbacks=[Record()],
                        verbose=True,
                        desc=f"{' + '.join([target_name, *aux_names])}, paper config, "
                             f"{meta_gradient}")
    wall = round_clock.seconds
    last = history[-1]
    return {
        "target": target_name, "auxiliaries": list(aux_names), "epochs": epochs,
        "draws_per_epoch": len(target) * (len(aux_names) + 1),
        "meta_gradient": meta_gradient,
        "featurize_s": round(featurize_s, 2), "round_wall_s": round(wall, 1),
        "epoch_s": [round(t, 1) for t in epoch_time],
        "rss_mb_after_epoch": epoch_rss, "peak_mb_after_epoch": epoch_peak,
        "rss_growth_mb_epoch2_to_last": round(epoch_rss[-1] - epoch_rss[1], 1),
        "affinity": dict(zip(aux_names,
                             np.round(last["gate"] / np.maximum(last["present"], 1e-12), 3).tolist())),
    }


def bench_selection(device, target_name, candidates, params, seed, featurize_jobs=None):
    """A full MolGroup selection (all rounds): wall time, peak memory and the result.

    The issue's GPU run is ``--selection --device cuda``: target bbbp against
    every other available dataset at the paper configuration.
    """
    target = load_dataset(target_name).train
    pool = {n: load_dataset(n).train for n in candidates}
    with Stopwatch() as clock:
        # featurise once (the selector then reads the feature cache); on a GPU machine the
        # serial RDKit featurisation of ~260k molecules, not the training, was what ran long
        build_table([target, *pool.values()], fingerprints=True, n_jobs=featurize_jobs)
    featurize_s = clock.seconds
    # said at once: a run cut short by a time limit still tells where its time went
    print(f"featurised {len(pool) + 1} datasets in {featurize_s:.1f} s; selecting", flush=True)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    with Stopwatch(device) as clock:
        sel = MolGroupSelector(random_state=seed, device=device, verbose=True, **params)
        sel.fit(target, pool)
    wall = clock.seconds
    rounds = sel.history_.groupby("round")["candidate"].nunique()
    return {
        "target": target_name, "candidates": candidates, "params": params, "seed": seed,
        "molecules": {target_name: len(target), **{n: len(d) for n, d in pool.items()}},
        "featurize_s": round(featurize_s, 1), "select_wall_s": round(wall, 1),
        "candidates_per_round": {int(r): int(n) for r, n in rounds.items()},
        "peak_memory_mb": round(peak_memory_mb(device), 1),
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
            names = " + ".join([r["target"], *r["auxiliaries"]])
            lines += [f"## One round, paper configuration ({names}), "
                      f"meta_gradient={r.get('meta_gradient', 'exact')}", "",
                      f"wall **{r['round_wall_s']} s** for {r['epochs']} epochs "
                      f"(featurization {r['featurize_s']} s); seconds per epoch: {r['epoch_s']}; "
                      f"RSS after each epoch (MB): {r['rss_mb_after_epoch']}; growth epoch 2 -> "
                      f"last: {r['rss_growth_mb_epoch2_to_last']} MB; affinities {r['affinity']}",
                      ""]
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


def _names(option, target):
    """Dataset names from a comma-separated option; "all": every available one but target."""
    if option != "all":
        return option.split(",")
    available = list_datasets()
    return [n for n in available.loc[available["available"], "name"] if n != target]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--steps", action="store_true")
    parser.add_argument("--round", action="store_true")
    for moved in ("--fidelity", "--modes", "--surrogate"):  # say where they went
        parser.add_argument(moved, action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--meta-gradient", choices=["linearized", "exact", "both"],
                        default="both", help="meta-gradient(s) of the --round run")
    parser.add_argument("--n-steps", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=10, help="epochs of the --round run")
    parser.add_argument("--round-target", default="bace", help="target of the --round run")
    parser.add_argument("--round-aux", default="esol,freesolv",
                        help="auxiliaries of the --round run: comma-separated names, or 'all' "
                             "available datasets but the target (the paper-sized round)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--selection", action="store_true",
                        help="a full selection (all rounds) with --preset, seed --seeds[0]")
    parser.add_argument("--selection-target", default="bbbp")
    parser.add_argument("--selection-candidates", default="all",
                        help="comma-separated names, or 'all' available datasets but the target")
    parser.add_argument("--preset", default="paper", choices=sorted(PRESETS),
                        help="parameters of the --selection run")
    parser.add_argument("--featurize-jobs", type=int, default=None,
                        help="featurisation workers of the --round and --selection runs (-1: every core)")
    parser.add_argument("--out", default=str(RESULTS / "molgroup.json"))
    args = parser.parse_args(argv)
    if args.fidelity or args.modes or args.surrogate:
        parser.error("--fidelity, --modes and --surrogate are studies: run "
                     "python -m benchmarks.studies.bench_molgroup_fidelity")
    if not (args.steps or args.round or args.selection):
        args.steps = args.round = True
    device = resolve_device(args.device)
    out_path = Path(args.out)
    results = json.loads(out_path.read_text()) if out_path.exists() else {}
    results["machine"] = describe_machine(device)
    if args.steps:
        results["steps"] = bench_steps(device, ["bace", "esol", "freesolv"], 300, 5, args.n_steps)
        print(json.dumps(results["steps"], indent=1))
    if args.round:
        modes = ["exact", "linearized"] if args.meta_gradient == "both" else [args.meta_gradient]
        for mode in modes:
            key = "round" if mode == "exact" else "round_linearized"
            results[key] = bench_round(device, args.epochs, mode, args.round_target,
                                       _names(args.round_aux, args.round_target),
                                       args.featurize_jobs)
            print(json.dumps(results[key], indent=1))
    if args.selection:
        candidates = _names(args.selection_candidates, args.selection_target)
        results["selection"] = bench_selection(device, args.selection_target, candidates,
                                               get_preset(args.preset), args.seeds[0],
                                               args.featurize_jobs)
    write_results(out_path, results, _markdown(results))
    print(_markdown(results))


if __name__ == "__main__":
    main()
