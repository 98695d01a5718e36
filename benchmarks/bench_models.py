"""Downstream estimators: training throughput, peak memory and a quick quality check.

Throughput (training graphs per second, featurization cached beforehand) and
peak memory (process RSS on CPU, ``torch.cuda.max_memory_allocated`` on CUDA)
of GIN and Graphormer at the paper's sizes on BBBP's training split; each
measurement runs in its own process so peaks do not mix.  The quality check
trains short runs and compares with trivial predictors: ROC-AUC on BBBP's
test split must be well above 0.5, and RMSE on ESOL's test split below the
standard deviation of its labels (the RMSE of predicting the mean).

Usage::

    python -m benchmarks.bench_models [--device auto|cpu|cuda] [--quick]

Writes ``benchmarks/results/models.json`` and ``models.md``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks._harness import (REPO, RESULTS, Stopwatch, describe_machine, peak_rss_mb,
                                 write_results)

PAPER = {
    "GIN": dict(hidden_dim=300, num_layers=5, dropout=0.5, batch_size=128, lr=1e-3),
    "Graphormer": dict(hidden_dim=512, num_layers=5, num_heads=8, dropout=0.1,
                       attention_dropout=0.3, batch_size=128, lr=1e-4),
}
# a CPU-sized Graphormer for the quality check (the paper size is only timed)
SMALL_GRAPHORMER = dict(hidden_dim=64, num_layers=3, num_heads=4, dropout=0.1,
                        attention_dropout=0.1, batch_size=64, lr=5e-4)


def _estimator(model, kind, params):
    from molselect import models

    return getattr(models, f"{model}{kind}")(**params)


def child_throughput(model, device, n_train, epochs):
    """Time one fit in this (fresh) process; return graphs/s and memory figures."""
    import torch

    from molselect.datasets import load_dataset

    train = load_dataset("bbbp").train
    train = train.subset(np.arange(min(n_train, len(train))))
    params = dict(PAPER[model], epochs=1, device=device, random_state=0)
    # featurize + shortest paths (cached) and warm the kernels outside the timing
    _estimator(model, "Classifier", dict(params, epochs=1)).fit(train.subset(np.arange(128)))
    rss_before = peak_rss_mb()
    cuda = device.startswith("cuda")
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    with Stopwatch(device) as clock:
        _estimator(model, "Classifier", dict(params, epochs=epochs)).fit(train)
    seconds = clock.seconds
    return {
        "model": model, "device": device, "config": PAPER[model], "n_train": len(train),
        "epochs": epochs, "seconds": seconds, "graphs_per_s": len(train) * epochs / seconds,
        "peak_rss_mb": peak_rss_mb(), "rss_before_fit_mb": rss_before,
        "cuda_max_allocated_mb": torch.cuda.max_memory_allocated() / 2**20 if cuda else None,
        "threads": torch.get_num_threads(),
    }


def throughput(model, device, n_train, epochs):
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_models", "--_child", model, "--device", device,
         "--n-train", str(n_train), "--epochs", str(epochs)],
        capture_output=True, text=True, check=True, cwd=REPO)
    return json.loads(out.stdout.strip().splitlines()[-1])


def quality(device, quick):
    """Short runs on BBBP (ROC-AUC) and ESOL (RMSE) against trivial predictors."""
    from molselect.datasets import load_dataset
    from molselect.metrics import evaluate

    bbbp, esol = load_dataset("bbbp"), load_dataset("esol")
    rows = []
    configs = [("GIN", PAPER["GIN"], 3 if quick else 5),
               ("Graphormer", SMALL_GRAPHORMER, 3 if quick else 5)]
    for model, config, epochs in configs:
        for kind, data in (("Classifier", bbbp), ("Regressor", esol)):
            est = _estimator(model, kind, dict(config, epochs=epochs, device=device,
                                               random_state=0))
            with Stopwatch() as clock:
                est.fit(data.train, eval_set=data.valid)
            seconds = clock.seconds
            y = data.test.y
            if kind == "Classifier":
                value = evaluate(y, est.predict_proba(data.test)[:, 1], "roc_auc")
                trivial, ok = 0.5, value > 0.6
            else:
                value = evaluate(y, est.predict(data.test), "rmse")
                trivial = float(np.nanstd(y))
                ok = value < trivial
            rows.append({
                "model": model, "dataset": data.train.name, "metric": data.train.metric,
                "config": config, "epochs": epochs, "best_epoch": est.best_epoch_,
                "test": value, "trivial": trivial, "beats_trivial": bool(ok),
                "fit_seconds": seconds,
            })
            print(f"  quality {model:10s} {data.train.name:5s} {data.train.metric}={value:.3f} "
                  f"(trivial {trivial:.3f}) in {seconds:.0f} s", flush=True)
    return rows


def markdown(report):
    lines = [f"# Downstream estimators ({report['when']}, {report['machine']})", "",
             "## Training throughput on bbbp (paper configurations)", "",
             "| model | device | graphs | epochs | graphs/s | peak RSS MB | CUDA peak MB |",
             "|---|---|---|---|---|---|---|"]
    for r in report["throughput"]:
        cuda = "-" if r["cuda_max_allocated_mb"] is None else f"{r['cuda_max_allocated_mb']:.0f}"
        lines.append(f"| {r['model']} | {r['device']} | {r['n_train']} | {r['epochs']} | "
                     f"{r['graphs_per_s']:.1f} | {r['peak_rss_mb']:.0f} | {cuda} |")
    lines += ["", "## Quality after a short training (test split)", "",
              "| model | dataset | config | epochs | metric | test | trivial | beats trivial |",
              "|---|---|---|---|---|---|---|---|"]
    for r in report["quality"]:
        config = "paper" if r["config"] in PAPER.values() else (
            f"hidden {r['config']['hidden_dim']}, {r['config']['num_layers']} layers")
        lines.append(f"| {r['model']} | {r['dataset']} | {config} | {r['epochs']} | "
                     f"{r['metric']} | {r['test']:.3f} | {r['trivial']:.3f} | "
                     f"{'yes' if r['beats_trivial'] else 'NO'} |")
    lines += ["", "Trivial: ROC-AUC 0.5 (constant score); RMSE of predicting the test mean "
              "(the labels' standard deviation). Pass mark for ROC-AUC: > 0.6.", ""]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--quick", action="store_true",
                        help="time on 512 molecules and train 3 epochs for quality")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--_child", help=argparse.SUPPRESS)
    parser.add_argument("--n-train", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--epochs", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args._child:
        print(json.dumps(child_throughput(args._child, args.device, args.n_train, args.epochs)))
        return

    import torch

    from molselect.core import resolve_device

    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    if args.device != "auto":
        devices = [str(resolve_device(args.device))]
    n_train = 512 if args.quick else 100_000  # 100k: the whole training split
    report = {"when": time.strftime("%Y-%m-%d"), "quick": args.quick,
              "machine": describe_machine(devices[-1]), "throughput": [], "quality": []}
    for device in devices:
        for model in PAPER:
            r = throughput(model, device, n_train, 1)
            report["throughput"].append(r)
            print(f"  throughput {model:10s} {device}: {r['graphs_per_s']:.1f} graphs/s, "
                  f"peak RSS {r['peak_rss_mb']:.0f} MB", flush=True)
    report["quality"] = quality(devices[-1], args.quick)
    text = markdown(report)
    write_results(args.out / "models", report, text)
    print(text)


if __name__ == "__main__":
    main()
