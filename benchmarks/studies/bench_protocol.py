"""Which fit protocol measures a transfer gain with the least noise per CPU second?

One fit per (target, setting, seed) is run long (up to ``--max-epochs``) and
traced epoch by epoch: the validation metric and loss, the test score, the
CPU seconds so far and the test predictions.  Every protocol studied is a rule
over that trace (when to stop, which epoch or epochs to predict with), so all
of them are measured on the very same trainings, side by side:

* ``best-metric@20``: today's protocol (20 epochs, the best validation-metric
  epoch's network): a 20-epoch fit is the first 20 epochs of the long one,
  bit for bit (constant learning rate, same seeded draws);
* ``best-metric@40``, ``best-loss@20``: more epochs; the checkpoint picked by
  validation loss;
* ``top5@20``, ``last5@20``: the mean prediction of the 5 best / the last 5
  epochs' networks (a checkpoint ensemble);
* ``es-metric-p10``, ``es-loss-p10``, ``es-loss-p20``: train until the
  validation figure has not improved for 10 / 20 epochs (early stopping);
* ``es-loss-p10-top5``, ``es-loss-p20-top5``: the same stop, mean prediction
  of the 5 best validation-loss epochs;
* ``equal-steps@20``: an equal optimiser budget: a union of m members stops
  at 20/m epochs (an epoch of a union has m times the steps of the target's);
* ``<protocol> x2``: a two-model ensemble per fit (seeds 2i and 2i+1 averaged),
  against two seeds at the same cost.

For every target and protocol, the settings (alone, two real candidates, the
permuted-label control) x seeds table of scores (in % of the mean alone
score, signed so that higher is better) is split by a two-way analysis into
the real spread between settings, the seed's shared shift and the residual
noise of one fit (:func:`molselect.evaluation.variance_components`).  A
protocol is better when its residual variance times its CPU seconds is lower
(the CPU time needed for a given reliability), and fair when the permuted
control's gain is within its interval of 0.

Usage, from the repository root::

    MOLSELECT_DATA=../shared/data/moleculenet python -m benchmarks.studies.bench_protocol \\
        [--targets sider bbbp clintox esol] [--seeds 0-7] [--n-jobs 2] [--report-only]

Finished fits are appended to ``benchmarks/results/protocol_runs.jsonl.gz``
(one gzip member per fit, so the file grows and is committed as the study
runs; an interrupted study resumes).  Writes ``protocol.md`` and
``protocol.csv``.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

from benchmarks._harness import RESULTS, describe_machine
from benchmarks.studies._common import append_jsonl, read_jsonl
from molselect._checks import parse_seeds
from molselect.core import Callback, torch_threads
from molselect.datasets import load_dataset
from molselect.datasets._leakage import make_union
from molselect.evaluation import permuted_labels, variance_components
# Private: summarize_gains's t interval, so that the control's interval here is the one
# the library reports.
from molselect.evaluation._stats import _interval
from molselect.metrics import evaluate, greater_is_better
from molselect.models import GINClassifier, GINRegressor

RUNS = RESULTS / "protocol_runs.jsonl.gz"
CONTROL = "permuted target"
#: Two real candidates per target: its most helpful and its most harmful bundled
#: candidate in the published ground truth (so the settings have a real spread).
CANDIDATES = {"sider": ["tox21", "lipo"], "bbbp": ["sider", "lipo"],
              "clintox": ["tox21", "esol"], "esol": ["toxcast", "lipo"],
              "bace": ["toxcast", "lipo"], "freesolv": ["qm8", "tox21"]}
GIN = {"hidden_dim": 64, "num_layers": 3}
MAX_EPOCHS = 100
#: The trace stops when neither validation figure has improved for this many epochs.
TRACE_PATIENCE = 20
ENSEMBLE = 5
#: Protocols whose test predictions are kept, for the two-model ensembles.
KEEP_PREDICTIONS = ("best-metric@20", "es-loss-p10", "es-loss-p10-top5", "es-loss-p20-top5")


class TestTrace(Callback):
    """Record every epoch's test predictions and CPU time; stop when both figures are stale."""

    def __init__(self, test, patience):
        self.test = test
        self.patience = patience

    def set_estimator(self, estimator):
        self.estimator = estimator
        self.outputs, self.seconds, self.records = [], [], []
        self.start = time.process_time()
        self.excluded = 0.0

    def on_epoch_end(self, epoch, logs):
        self.seconds.append(time.process_time() - self.start - self.excluded)
        tic = time.process_time()
        self.outputs.append(self.estimator._predict_outputs(self.test)[1].astype(np.float32))
        self.excluded += time.process_time() - tic
        self.records.append((logs["valid_metric"], logs["valid_loss"]))
        stale = [len(self.records) - 1 - _best(values, lower) for values, lower in
                 ((self._column(0), not self.greater), (self._column(1), True))]
        self.stop_training = min(stale) >= self.patience

    @property
    def greater(self):
        return greater_is_better(self.estimator.metric_)

    def _column(self, i):
        return np.array([r[i] for r in self.records], dtype=float)


def _best(values, lower):
    """Index of the best finite value (the first of ties); 0 when none is finite."""
    v = np.where(np.isfinite(values), values, np.inf if lower else -np.inf)
    return int(np.argmin(v) if lower else np.argmax(v))


def _order(values, lower, k):
    """Indices of the ``k`` best finite values, best first (earlier epoch first among ties)."""
    v = np.where(np.isfinite(values), values, np.inf if lower else -np.inf)
    order = np.argsort(v if lower else -v, kind="stable")
    return [int(i) for i in order[:k]]


def _stop(values, lower, patience, cap):
    """Last epoch index trained under early stopping with ``patience`` (capped at ``cap``)."""
    best, best_i = None, 0
    for i in range(min(len(values), cap)):
        x = values[i]
        if np.isfinite(x) and (best is None or (x < best if lower else x > best)):
            best, best_i = x, i
        elif i - best_i >= patience:
            return i
    return min(len(values), cap) - 1


def protocols(metric_trace, loss_trace, n_members, greater):
    """Every protocol's (epochs to average, last epoch trained) from a fit's trace.

    Parameters
    ----------
    metric_trace, loss_trace : ndarray
        Validation metric and loss per epoch.
    n_members : int
        Members of the union (1 for the target alone).
    greater : bool
        Whether a larger metric is better.

    Returns
    -------
    dict of str to (list of int, int)
    """
    m, loss = metric_trace, loss_trace
    n = len(m)

    def best_in(values, lower, last, k=1):
        return _order(values[:last + 1], lower, k), last

    out = {}
    for cap in (20, 40):
        out[f"best-metric@{cap}"] = best_in(m, not greater, min(cap, n) - 1)
    out["best-loss@20"] = best_in(loss, True, min(20, n) - 1)
    out["top5@20"] = best_in(m, not greater, min(20, n) - 1, ENSEMBLE)
    last = min(20, n) - 1
    out["last5@20"] = (list(range(max(0, last - ENSEMBLE + 1), last + 1)), last)
    out["equal-steps@20"] = best_in(m, not greater, max(1, 20 // n_members) - 1)
    out["es-metric-p10"] = best_in(m, not greater, _stop(m, not greater, 10, MAX_EPOCHS))
    for p in (10, 20):
        stop = _stop(loss, True, p, MAX_EPOCHS)
        out[f"es-loss-p{p}"] = best_in(loss, True, stop)
        out[f"es-loss-p{p}-top5"] = best_in(loss, True, stop, ENSEMBLE)
    return out


def run_fit(target, setting, seed, members, valid, test):
    """One traced fit; returns the record appended to the runs file."""
    kind = GINClassifier if members[0][1].is_classification else GINRegressor
    trace = TestTrace(test, TRACE_PATIENCE)
    estimator = kind(**GIN, epochs=MAX_EPOCHS, random_state=seed, callbacks=[trace])
    with torch_threads(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimator.fit(dict(members), eval_set=valid)
    history = estimator.history_
    metric_trace = history["valid_metric"].to_numpy(float)
    loss_trace = history["valid_loss"].to_numpy(float)
    greater = greater_is_better(test.metric)
    test_trace = [evaluate(test.y, out, test.metric, test.task_types) for out in trace.outputs]
    record = {"target": target, "setting": setting, "seed": seed, "metric": test.metric,
              "n_members": len(members), "valid_metric": metric_trace.round(6).tolist(),
              "valid_loss": loss_trace.round(6).tolist(),
              "test_score": np.round(test_trace, 6).tolist(),
              "seconds": np.round(trace.seconds, 3).tolist(), "protocols": {}}
    for name, (epochs, last) in protocols(metric_trace, loss_trace, len(members),
                                          greater).items():
        pred = np.mean([trace.outputs[e] for e in epochs], axis=0)
        entry = {"score": evaluate(test.y, pred, test.metric, test.task_types),
                 "epochs": epochs, "last": last, "seconds": trace.seconds[last]}
        if name in KEEP_PREDICTIONS:
            entry["prediction"] = np.round(pred, 4).tolist()
        record["protocols"][name] = entry
    return record


def settings_for(name):
    """The target's splits and its settings: alone, two candidates, the control."""
    splits = load_dataset(name)
    train = splits.train
    pool = {CONTROL: permuted_labels(train, name=CONTROL)}
    pool.update((c, load_dataset(c).train) for c in CANDIDATES[name])
    settings = {"alone": [(train.name, train)]}
    for label, aux in pool.items():
        union = make_union(train, {label: aux}, held_out=[splits.valid, splits.test])
        settings[label] = list(union.items())
    return settings, splits.valid, splits.test


def run_study(targets, seeds, n_jobs):
    done = {(r["target"], r["setting"], r["seed"]) for r in read_jsonl(RUNS)}
    data = {t: settings_for(t) for t in targets}
    jobs = [(t, s, seed) for seed in seeds for t in targets for s in data[t][0]
            if (t, s, seed) not in done]
    print(f"{len(done)} fits in {RUNS.name}; {len(jobs)} to run", flush=True)
    outputs = Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
        delayed(run_fit)(t, s, seed, data[t][0][s], data[t][1], data[t][2])
        for t, s, seed in jobs)
    for i, record in enumerate(outputs, 1):
        append_jsonl(RUNS, record)
        print(f"[{i}/{len(jobs)}] {record['target']} {record['setting']} seed "
              f"{record['seed']}: {len(record['seconds'])} epochs, "
              f"{record['seconds'][-1]:.0f} s", flush=True)


# -- the report ---------------------------------------------------------------------------------
def protocol_table(records):
    """Tidy: target, setting, seed, protocol, score, seconds (incl. the two-model ensembles)."""
    rows = []
    for r in records:
        for name, entry in r["protocols"].items():
            rows.append({"target": r["target"], "setting": r["setting"], "seed": r["seed"],
                         "metric": r["metric"], "protocol": name, "score": entry["score"],
                         "seconds": entry["seconds"]})
    table = pd.DataFrame(rows)
    rows = []
    by_key = {(r["target"], r["setting"], r["seed"]): r for r in records}
    for (target, setting, seed), r in by_key.items():
        partner = by_key.get((target, setting, seed + 1))
        if seed % 2 or partner is None:
            continue
        test = load_dataset(target).test
        for name in KEEP_PREDICTIONS:
            pred = (np.asarray(r["protocols"][name]["prediction"])
                    + np.asarray(partner["protocols"][name]["prediction"])) / 2
            rows.append({"target": target, "setting": setting, "seed": seed // 2,
                         "metric": r["metric"], "protocol": f"{name} x2",
                         "score": evaluate(test.y, pred.reshape(len(test), -1), test.metric,
                                           test.task_types),
                         "seconds": r["protocols"][name]["seconds"]
                         + partner["protocols"][name]["seconds"]})
    return pd.concat([table, pd.DataFrame(rows)], ignore_index=True)


def summarize(table):
    """Per target and protocol: the variance components, the control's gain, the cost."""
    rows = []
    for (target, protocol), g in table.groupby(["target", "protocol"], sort=False):
        wide = g.pivot(index="setting", columns="seed", values="score").dropna(axis=1)
        if wide.shape[1] < 2 or "alone" not in wide.index or CONTROL not in wide.index:
            continue
        sign = 1.0 if greater_is_better(g["metric"].iloc[0]) else -1.0
        alone = wide.loc["alone"].mean()
        percent = sign * 100 * wide / abs(alone)
        vc = variance_components(percent.stack().rename("value").reset_index(),
                                 group="setting", block="seed", value="value")
        control = percent.loc[CONTROL] - percent.loc["alone"]
        mean, _, _, high = _interval(control, 0.95)
        half = high - mean
        seconds = g["seconds"].mean()
        rows.append({"target": target, "protocol": protocol, "seeds": wide.shape[1],
                     "score alone": alone, "between sd %": vc["between_sd"],
                     "residual sd %": vc["residual_sd"], "F": vc["F"],
                     "reliability": vc["reliability"],
                     "seeds for 0.8": vc["blocks_for_reliability"],
                     "control gain %": control.mean(), "control ci": half,
                     "fair": bool(abs(control.mean()) <= half),
                     "s per fit": seconds,
                     "noise x cost": vc["residual_sd"] ** 2 * seconds})
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    base = out[out["protocol"] == "best-metric@20"].set_index("target")["noise x cost"]
    out["efficiency vs today"] = out["target"].map(base) / out["noise x cost"]
    return out


def report(records):
    table = protocol_table(records)
    table.to_csv(RESULTS / "protocol.csv", index=False)
    summary = summarize(table)
    cpu_hours = sum(r["seconds"][-1] for r in records) / 3600
    lines = [
        "# Fit protocols: noise of one fit per CPU second",
        "",
        "Produced by `MOLSELECT_DATA=../shared/data/moleculenet python -m "
        "benchmarks.studies.bench_protocol` (`--report-only` rebuilds this page from "
        "`protocol_runs.jsonl.gz`).",
        f"Machine: {describe_machine()}; one thread per fit. Model: the fast GIN "
        f"({GIN}, batch 128, Adam 1e-3, dropout 0.5), each fit traced to at most "
        f"{MAX_EPOCHS} epochs, until neither validation figure improved for "
        f"{TRACE_PATIENCE}. {len(records)} traced fits, {cpu_hours:.2f} CPU hours.",
        "",
        "Settings per target: alone, the permuted-label control and two candidates "
        f"({', '.join(f'{t}: {c[0]}, {c[1]}' for t, c in CANDIDATES.items())}). Scores are "
        "in % of the mean alone score (higher is better, also for RMSE). `residual sd` is "
        "the noise of one fit (setting x seed interaction, the seed's shared shift "
        "removed); `between sd` the real spread between settings; `F` their mean-square "
        "ratio; `reliability` that of the seed means (1 - 1/F); `seeds for 0.8` the seeds "
        "that give reliability 0.8 (Spearman-Brown); `control gain` the permuted control "
        "against alone with its 95% half-width; `s per fit` the CPU seconds one fit of the "
        "protocol costs (training and validation, to its stop); `noise x cost` = residual "
        "variance x seconds (CPU time for a given precision); `efficiency vs today` its "
        "ratio to `best-metric@20` (2 = half the CPU for the same reliability). "
        "A `x2` protocol is a two-model ensemble per fit (seeds 2i, 2i+1), so it has half "
        "the seeds at twice the cost.",
        "",
    ]
    for target, g in summary.groupby("target", sort=False):
        lines += [f"## {target}", "",
                  "| protocol | seeds | between sd % | residual sd % | F | reliability | "
                  "seeds for 0.8 | control gain % | s per fit | efficiency vs today |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for _, r in g.sort_values("efficiency vs today", ascending=False).iterrows():
            lines.append(
                f"| {r['protocol']} | {r['seeds']} | {r['between sd %']:.2f} | "
                f"{r['residual sd %']:.2f} | {r['F']:.2f} | {r['reliability']:.2f} | "
                f"{_fmt(r['seeds for 0.8'])} | {r['control gain %']:+.2f} +- "
                f"{r['control ci']:.2f} | {r['s per fit']:.1f} | "
                f"{r['efficiency vs today']:.2f} |")
        lines.append("")
    pooled = summary.groupby("protocol").agg(
        efficiency=("efficiency vs today", lambda x: float(np.exp(np.log(x).mean()))),
        fair=("fair", "sum"), targets=("fair", "size"),
        seconds=("s per fit", "mean")).sort_values("efficiency", ascending=False)
    lines += ["## Across targets", "",
              "`efficiency`: geometric mean of `efficiency vs today` over the targets; "
              "`control fair`: targets on which the permuted control's gain is within its "
              "95% interval of 0. The default is the most efficient protocol that is fair "
              "on every target and that an estimator can run (the `x2` ensembles are two "
              "fits).", "",
              "| protocol | efficiency | control fair | mean s per fit |",
              "|---|---:|---:|---:|"]
    lines += [f"| {p} | {r.efficiency:.2f} | {int(r.fair)}/{int(r.targets)} | {r.seconds:.1f} |"
              for p, r in pooled.iterrows()]
    lines.append("")
    (RESULTS / "protocol.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def _fmt(x):
    return "-" if not np.isfinite(x) else f"{x:.0f}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--targets", nargs="+", default=["sider", "bbbp", "clintox", "esol"])
    parser.add_argument("--seeds", default="0-7", help="e.g. 0-7 or 0,1,2 (default: %(default)s)")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--report-only", action="store_true")
    args = parser.parse_args(argv)
    seeds = parse_seeds(args.seeds)
    if not args.report_only:
        run_study(args.targets, seeds, args.n_jobs)
    report(read_jsonl(RUNS))


if __name__ == "__main__":
    main()
