"""The published ground truth: what every available auxiliary does to each target.

For each target, a downstream GIN is fitted on the target alone and on the
target plus each other available dataset, over several seeds
(:func:`molselect.evaluation.transfer_gains`), and the test metric at the
best validation epoch is compared seed by seed.  This is the study of the
paper's figure 1, and the ground truth by which selectors are judged
(``bench_quality.py``).

Model: the command line's ``fast`` GIN (hidden 64, 3 layers, 20 epochs,
batch 128, Adam 1e-3, dropout 0.5), which fits these 2-core machines: a fit
with one auxiliary takes 5 to 20 s on one thread.  The paper's GIN (hidden
300, 5 layers, 50 epochs) is about 40x the cost per fit.  Training sets are
used as they are (no resampling to 5,000, which would triple the cost of the
small targets); qm8 and qm9 are the paper's 3,000-molecule samples.

Every fit is cached in ``benchmarks/results/ground_truth_cache/`` (one JSON
file per fit, committed), so the study resumes where it stopped and the
report is rebuilt from the cache in seconds.  Seeds are run in blocks
(``--block``) over all targets, so that a stopped study has every target at
the same number of seeds.

Usage::

    MOLSELECT_DATA=../shared/data/moleculenet python benchmarks/bench_ground_truth.py \\
        [--targets bbbp bace clintox sider esol freesolv] [--seeds 0-7] [--n-jobs 2]
        [--report-only]

Writes ``benchmarks/results/ground_truth.csv`` (tidy: one row per target,
candidate and seed), ``ground_truth_summary.csv``, ``ground_truth.md`` and
``ground_truth_heatmap.png``.  Runs on a Dask cluster too: wrap ``main`` in
``joblib.parallel_config(backend="dask")`` with a ``distributed.Client``
(see the user guide's "Is the selection any good?").
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from molselect.datasets import list_datasets, load_dataset  # noqa: E402
from molselect.evaluation import ResultCache, summarize_gains, transfer_gains  # noqa: E402
from molselect.models import GINClassifier, GINRegressor  # noqa: E402

RESULTS = REPO / "benchmarks" / "results"
CACHE = RESULTS / "ground_truth_cache"
TARGETS = ["bbbp", "bace", "clintox", "sider", "esol", "freesolv"]
GIN = {"hidden_dim": 64, "num_layers": 3, "epochs": 20}


def parse_seeds(text):
    """``0-7`` or ``0,1,2`` -> a list of ints."""
    seeds = []
    for part in str(text).split(","):
        if "-" in part:
            lo, hi = part.split("-")
            seeds.extend(range(int(lo), int(hi) + 1))
        elif part.strip():
            seeds.append(int(part))
    return seeds


def estimator_for(target):
    cls = GINClassifier if target.is_classification else GINRegressor
    return cls(**GIN)


def load_all(names):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # unparsable SMILES, reported by the loader
        return {name: load_dataset(name) for name in names}


def run(targets, seeds, block, n_jobs, torch_threads):
    available = list(list_datasets().query("available")["name"])
    data = load_all(available)
    for start in range(0, len(seeds), block):
        chunk = seeds[start:start + block]
        for name in targets:
            pool = {n: data[n].train for n in available if n != name}
            transfer_gains(data[name], pool, estimator_for(data[name].train), seeds=chunk,
                           cache=CACHE, n_jobs=n_jobs, torch_threads=torch_threads,
                           verbose=True)
    return data, available


def collect(targets, seeds, data, available):
    """The tidy table of every finished pair of fits (nothing is run)."""
    frames = []
    for name in targets:
        pool = {n: data[n].train for n in available if n != name}
        frames.append(transfer_gains(data[name], pool, estimator_for(data[name].train),
                                     seeds=seeds, cache=CACHE, verbose=False, cached_only=True))
    return pd.concat(frames, ignore_index=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--targets", nargs="+", default=TARGETS)
    parser.add_argument("--seeds", default="0-7", help="e.g. 0-7 or 0,1,2 (default: %(default)s)")
    parser.add_argument("--block", type=int, default=4,
                        help="seeds run over all targets before the next block (default 4)")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--torch-threads", type=int, default=1)
    parser.add_argument("--report-only", action="store_true",
                        help="build the report from the cache, running nothing")
    args = parser.parse_args(argv)
    seeds = parse_seeds(args.seeds)
    if args.report_only:
        available = list(list_datasets().query("available")["name"])
        data = load_all(available)
    else:
        data, available = run(args.targets, seeds, args.block, args.n_jobs, args.torch_threads)
    report(collect(args.targets, seeds, data, available), data, available)


if __name__ == "__main__":
    main()
