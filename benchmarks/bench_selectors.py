"""Wall time of every selector for the targets BBBP and Tox21 (paper figure 5b).

Each selector scores the other available datasets as candidate auxiliaries of
the target's training split (the target's validation split is the
``eval_set``).  Two presets:

* ``light`` (CPU default): hidden 32, 2 layers, 1 epoch everywhere (MolGroup:
  2 epochs with 1 warm-up), targets and candidates subsampled to at most
  ``--max-molecules`` (1000) molecules each, and only the smaller candidates
  (``--candidates``).  The figures compare the selectors' relative cost; they
  are not the paper's absolute times.
* ``paper`` (``--device cuda``): the paper's configuration (GIN hidden 300,
  5 layers, the selectors' default epochs), full datasets.

Usage::

    MOLSELECT_DATA=/work/shared/data/moleculenet \\
        python -m benchmarks.bench_selectors [--preset light|paper] [--device cpu|cuda]
        [--targets bbbp tox21] [--candidates ...] [--selectors ...] [--max-molecules 1000]

Writes ``benchmarks/results/selectors.json`` and ``selectors.md``.
"""

from __future__ import annotations

import argparse
import os
import warnings
from pathlib import Path

import numpy as np

from benchmarks._harness import RESULTS, Stopwatch, machine, write_results
from molselect.datasets import load_dataset
from molselect.selectors import (
    AllAuxiliariesSelector,
    BeamSearchSelector,
    FingerprintSimilaritySelector,
    MolGroupSelector,
    MTDNNSelector,
    RandomSelector,
    TAGSelector,
    Task2VecSelector,
)

ALL_DATASETS = ["bace", "bbbp", "clintox", "esol", "freesolv", "lipo", "sider", "tox21",
                "toxcast", "hiv", "muv", "chembl", "qm8", "qm9"]
LIGHT_CANDIDATES = ["bace", "clintox", "esol", "sider"]


def make_selectors(preset, device, seed):
    if preset == "paper":
        common = dict(device=device, random_state=seed)
        return {
            "MolGroup": MolGroupSelector(**common),
            "BeamSearch(P)": BeamSearchSelector(**common),
            "BeamSearch(P+S)": BeamSearchSelector(criterion="performance+structure", **common),
            "TAG": TAGSelector(**common),
            "Task2vec": Task2VecSelector(**common),
            "MTDNN": MTDNNSelector(**common),
            "FingerprintKL": FingerprintSimilaritySelector(),
            "UA": AllAuxiliariesSelector(),
            "Random": RandomSelector(random_state=seed),
        }
    gin = dict(hidden_dim=32, num_layers=2, batch_size=128, device=device, random_state=seed)
    return {
        "MolGroup": MolGroupSelector(epochs=2, warmup_epochs=1, **gin),
        "BeamSearch(P)": BeamSearchSelector(epochs=1, **gin),
        "BeamSearch(P+S)": BeamSearchSelector(criterion="performance+structure", epochs=1, **gin),
        "TAG": TAGSelector(epochs=1, **gin),
        "Task2vec": Task2VecSelector(probe_epochs=1, fisher_samples=1000, **gin),
        "MTDNN": MTDNNSelector(epochs=1, **gin),
        "FingerprintKL": FingerprintSimilaritySelector(),
        "UA": AllAuxiliariesSelector(),
        "Random": RandomSelector(random_state=seed),
    }


def subsample(data, limit, seed):
    if limit is None or len(data) <= limit:
        return data
    rows = np.sort(np.random.default_rng(seed).choice(len(data), limit, replace=False))
    return data.subset(rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", choices=["light", "paper"], default=None,
                        help="default: paper on CUDA, light otherwise")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--data-home", default=os.environ.get("MOLSELECT_DATA"))
    parser.add_argument("--targets", nargs="+", default=["bbbp", "tox21"])
    parser.add_argument("--candidates", nargs="+", default=None)
    parser.add_argument("--selectors", nargs="+", default=None)
    parser.add_argument("--max-molecules", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(RESULTS / "selectors"))
    args = parser.parse_args(argv)

    preset = args.preset or ("paper" if args.device.startswith("cuda") else "light")
    limit = args.max_molecules if args.max_molecules is not None else (
        1000 if preset == "light" else None)
    pool_names = args.candidates or (LIGHT_CANDIDATES if preset == "light" else ALL_DATASETS)
    names = sorted(set(pool_names) | set(args.targets))

    splits = {}
    with Stopwatch() as clock, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for name in names:
            splits[name] = load_dataset(name, data_home=args.data_home)
    load_s = clock.seconds
    print(f"loaded {len(names)} datasets in {load_s:.1f}s", flush=True)

    def write(results):
        config = {
            "preset": preset, "device": args.device, "max_molecules": limit,
            "candidates": pool_names, "targets": args.targets, "seed": args.seed,
            **machine(), "load_seconds": round(load_s, 1),
            "note": ("light preset: hidden 32, 2 layers, 1 epoch (MolGroup 2 with 1 warm-up), "
                     f"every dataset subsampled to <= {limit} molecules; relative costs only"
                     if preset == "light" else "paper configuration"),
        }
        lines = ["# Selector wall time (paper figure 5b)", "",
                 f"Preset **{preset}** on `{args.device}` ({config['note']}); candidates: "
                 f"{', '.join(pool_names)} (minus the target). torch {config['torch']}, "
                 f"{config['torch_threads']} threads, {config['cpu_count']} CPUs (shared).", "",
                 "| target | selector | seconds | selected |", "|---|---|---:|---|"]
        for r in results:
            lines.append(f"| {r['target']} | {r['selector']} | {r['seconds']:.1f} | "
                         f"{', '.join(r['selected']) or '(none)'} |")
        out = Path(args.out)
        write_results(out, {"config": config, "results": results}, "\n".join(lines))
        return out

    results = []
    for target_name in args.targets:
        target = subsample(splits[target_name].train, limit, args.seed)
        valid = subsample(splits[target_name].valid, limit, args.seed)
        pool = {n: subsample(splits[n].train, limit, args.seed)
                for n in pool_names if n != target_name}
        # Featurize once up front so every selector is timed on cached features,
        # as all but the first would be anyway.
        AllAuxiliariesSelector().fit(target, pool)
        from molselect.core.prepare import build_table
        build_table([target, valid, *pool.values()], fingerprints=True)
        selectors = make_selectors(preset, args.device, args.seed)
        for label, selector in selectors.items():
            if args.selectors and label not in args.selectors:
                continue
            with Stopwatch() as clock, warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                selector.fit(target, pool, eval_set=valid)
            seconds = clock.seconds
            extra = {}
            if hasattr(selector, "history_") and "combination" in selector.history_:
                extra["combinations_trained"] = int(len(selector.history_))
            if hasattr(selector, "n_kept_"):
                extra["molecules_kept"] = int(selector.n_kept_.sum())
            row = {"target": target_name, "selector": label, "seconds": round(seconds, 2),
                   "selected": list(selector.selected_), "n_candidates": len(pool),
                   "target_size": len(target), **extra}
            results.append(row)
            print(f"{target_name:6s} {label:16s} {seconds:8.1f}s  selected={row['selected']}",
                  flush=True)
            write(results)   # a cut-short run still leaves its figures

    out = write(results)
    print(f"wrote {out.with_suffix('.json')} and {out.with_suffix('.md')}")


if __name__ == "__main__":
    main()
