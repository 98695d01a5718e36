"""The ``molselect`` command line.

Five subcommands:

``molselect datasets``
    List the dataset registry and what is available locally.
``molselect select``
    Score candidate auxiliaries for a target (Task2vec by default, MolGroup
    or another baseline with ``--method``), print a ranked table, optionally
    write JSON + history CSV.
``molselect evaluate``
    Train a downstream GIN / Graphormer on the target alone and on the
    target + auxiliaries over several seeds and compare the test metric.
``molselect transfer``
    Measure what each candidate does to the target: paired fits with and
    without it over several seeds, gains with intervals and verdicts.
``molselect demo``
    A small MolGroup selection on bundled data (what ``make demo`` runs).

Every command runs offline on the bundled datasets.  ``main`` returns the
exit code instead of calling :func:`sys.exit`, so that tests and notebooks
can call it in-process.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from .presets import ESTIMATOR_PRESETS, PRESETS

__all__ = ["main", "build_parser", "SELECTORS"]

DEMO_TARGET = "bbbp"
DEMO_CANDIDATES = ["bace", "clintox", "esol", "freesolv", "lipo", "sider", "tox21"]

#: ``molselect select``'s method: the one measured best.  Task2vec ranks the candidates as
#: well as MolGroup's best CPU configuration against the ground truth, repeats across seeds
#: where MolGroup does not, and costs a quarter as much (the docs' Presets page has the
#: figures, from benchmarks/results/quality.md).
DEFAULT_METHOD = "task2vec"

#: ``--method`` name -> (selector class name in :mod:`molselect.selectors`, fixed keyword
#: arguments).  Class names rather than classes, so ``molselect --help`` does not import torch.
SELECTORS = {
    "molgroup": ("MolGroupSelector", {}),
    "beam-search": ("BeamSearchSelector", {"criterion": "performance"}),
    "beam-search-ps": ("BeamSearchSelector", {"criterion": "performance+structure"}),
    "tag": ("TAGSelector", {}),
    "task2vec": ("Task2VecSelector", {}),
    "mtdnn": ("MTDNNSelector", {}),
    "all": ("AllAuxiliariesSelector", {}),
    "fingerprint": ("FingerprintSimilaritySelector", {}),
    "random": ("RandomSelector", {}),
}


class CLIError(Exception):
    """A user-facing error: printed without a traceback, exit code 2."""


# -- inputs ------------------------------------------------------------------------------
def _split_list(values):
    """Accept ``a,b c`` as well as ``a b`` and ``a,b``: users type both."""
    out = []
    for value in values or []:
        out.extend(part.strip() for part in str(value).split(",") if part.strip())
    return out


def _is_csv(spec):
    name = str(spec).lower()
    return name.endswith((".csv", ".csv.gz")) or Path(spec).is_file()


def _subsample(data, limit, seed):
    """At most ``limit`` molecules of ``data``, seeded, in their original order."""
    if limit is None or len(data) <= limit:
        return data
    return data.sample(limit, random_state=seed)


def _read_csv(spec, smiles_col, task_cols):
    from .datasets import from_csv

    task_cols = _split_list([task_cols]) if task_cols else None
    # Invalid SMILES are dropped with a warning rather than aborting: a command-line run
    # over someone's spreadsheet should report and go on, as the registry loaders do.
    return from_csv(spec, smiles_col=smiles_col, task_cols=task_cols, on_invalid="drop")


def _load_target(spec, args):
    """The target's train / valid / test splits, from the registry or a CSV file."""
    from .datasets import load_dataset, scaffold_split

    if _is_csv(spec):
        full = _read_csv(spec, args.smiles_col, args.task_cols)
        if len(full) < 10:
            raise CLIError(f"{spec}: {len(full)} molecules are too few to split into "
                           "train / valid / test (need at least 10)")
        train, valid, test = (full.subset(i) for i in scaffold_split(full.ids))
    else:
        train, valid, test = load_dataset(spec)
    return _subsample(train, args.max_molecules, args.seed), valid, test


def _load_candidates(specs, args, target_name):
    from .datasets import load_dataset

    if not specs:
        raise CLIError("no candidates given: pass --candidates NAME[,NAME...] (see "
                       "`molselect datasets`) or CSV files")
    pool = {}
    for spec in specs:
        if _is_csv(spec):
            data = _read_csv(spec, args.smiles_col, args.candidate_task_cols)
        else:
            data = load_dataset(spec).train
        if data.name in pool:
            raise CLIError(f"candidate {data.name!r} is given twice")
        if data.name == target_name:
            raise CLIError(f"candidate {data.name!r} is the target itself; leave it out")
        pool[data.name] = _subsample(data, args.max_molecules, args.seed)
    return pool


# -- selectors / estimators --------------------------------------------------------------
def _make_selector(args):
    from . import selectors
    from .presets import selector_params

    if args.method not in SELECTORS:
        raise CLIError(f"unknown method {args.method!r}; choose one of {', '.join(SELECTORS)}")
    class_name, fixed = SELECTORS[args.method]
    cls = getattr(selectors, class_name, None)
    if cls is None:  # pragma: no cover - only while a baseline is being written
        raise CLIError(f"method {args.method!r} ({class_name}) is not available in this "
                       "version of molselect")
    options = dict(epochs=args.epochs, hidden_dim=args.hidden_dim, num_layers=args.num_layers,
                   n_rounds=args.rounds, top_k=args.top_k, threshold=args.threshold,
                   meta_gradient=args.meta_gradient, n_repeats=getattr(args, "repeats", None),
                   filter_rule=getattr(args, "filter_rule", None))
    # An option the method has no parameter for would be dropped without a word (the
    # user would believe that --rounds 2 ran two rounds of Task2vec): refuse it.
    accepted = cls().get_params()
    unused = [_OPTIONS.get(k, k) for k, v in options.items()
              if v is not None and k not in accepted]
    if unused:
        raise CLIError(f"{', '.join(unused)}: not an option of --method {args.method} "
                       f"({class_name}); leave it out, or choose --method molgroup")
    return cls(**selector_params(
        cls, args.preset, **fixed, **options, device=args.device,
        checkpoint=getattr(args, "checkpoint", None), random_state=args.seed,
        verbose=not args.quiet))


def _make_estimator(model, target, args, seed):
    from . import models
    from .presets import get_estimator_preset

    family = {"gin": "GIN", "graphormer": "Graphormer"}[model]
    kind = "Classifier" if target.is_classification else "Regressor"
    if not (target.is_classification or all(t == "regression" for t in target.task_types)):
        raise CLIError(f"target {target.name!r} mixes classification and regression tasks; "
                       "the downstream estimators need one kind")
    cls = getattr(models, family + kind)
    params = get_estimator_preset(args.preset, model)
    for key in ("epochs", "hidden_dim", "num_layers", "device"):
        value = getattr(args, key)
        if value is not None:
            params[key] = value
    return cls(random_state=seed, **params)


# -- output files ------------------------------------------------------------------------
def _check_out(path, option="--out"):
    """Fail now, before any data is loaded, when ``path`` cannot be written."""
    from ._files import check_writable

    try:
        return check_writable(path)
    except OSError as exc:
        reason = exc.strerror if exc.strerror and not str(exc).startswith(str(path)) else exc
        raise CLIError(f"{option} {path}: cannot write the results there ({reason}); "
                       "choose another file") from None


def _write_out(path, text, option="--out"):
    """Write a result file atomically (temporary file + rename); errors name the option."""
    from ._files import atomic_write_text

    try:
        return atomic_write_text(path, text)
    except OSError as exc:
        raise CLIError(f"{option} {path}: writing the results failed ({exc}); the table "
                       "above is all that is left of this run") from None


# -- commands ----------------------------------------------------------------------------
def _size(text):
    """``500M``, ``2G``, ``1000000`` -> bytes (for --prune)."""
    units = {"": 1, "K": 1024, "M": 1024 ** 2, "G": 1024 ** 3}
    number, unit = text.strip().upper().rstrip("B"), ""
    if number and number[-1] in units:
        number, unit = number[:-1], number[-1]
    try:
        value = float(number)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a size such as 500M or 2G, got {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"a size must be >= 0, got {text!r}")
    return int(value * units[unit])


def _cache(args):
    from .featurize import cache_info, clear_cache

    if args.clear or args.prune is not None:
        gone = clear_cache(max_bytes=args.prune)
        print(f"deleted {gone['files']} cached file(s), {gone['bytes'] / 1024 ** 2:.1f} MiB")
    info = cache_info()
    print(f"feature cache: {info['folder']} (set MOLSELECT_CACHE to change it)")
    print(f"{info['files']} file(s), {info['bytes'] / 1024 ** 2:.1f} MiB")
    for kind, entry in sorted(info["kinds"].items()):
        print(f"  {kind:12s} {entry['files']:5d} file(s) {entry['bytes'] / 1024 ** 2:9.1f} MiB")
    return 0


def _datasets(args):
    from .datasets import get_data_home, list_datasets

    table = list_datasets(data_home=args.data_home)
    table = table.rename(columns={"task_type": "type"})
    table["available"] = table["available"].map({True: "yes", False: "download"})
    columns = ["name", "molecules", "tasks", "type", "metric", "split", "available"]
    if args.long:
        columns.append("description")
    print(table[columns].to_string(index=False))
    print(f"\ndata home: {get_data_home(args.data_home)} (set MOLSELECT_DATA to change it)")
    return 0


def _select(args):
    from .reporting import format_table, selection_result, selection_table

    start = time.perf_counter()
    # The parameters are checked before any data is loaded (main has checked --out):
    # a bad --threshold or --out must not cost a featurization, let alone a selection.
    selector = _make_selector(args)
    _check_selector_params(selector)
    if args.checkpoint:
        if "checkpoint" not in selector.get_params():
            raise CLIError(f"--checkpoint: --method {args.method} cannot resume; only "
                           "--method molgroup writes per-round checkpoints")
        _check_out(args.checkpoint, "--checkpoint")
    train, valid, test = _load_target(args.target, args)
    pool = _load_candidates(_split_list(args.candidates), args, train.name)
    if not args.quiet:
        print("target   ", train.summary())
        for data in pool.values():
            print("candidate", data.summary())
    selector.fit(train, pool, eval_set=[valid, test])
    elapsed = time.perf_counter() - start
    print(f"\n{args.method} ranking of {len(pool)} candidates for target {train.name!r} "
          f"({elapsed:.1f} s):")
    print(format_table(selection_table(selector)))
    print("\nselected:", ", ".join(selector.selected_) or "(none)")

    if args.out:
        out = Path(args.out)
        sources = {name: _source_for(spec, out)
                   for name, spec in zip(pool, _split_list(args.candidates))}
        result = selection_result(selector, target=train.name, method=args.method,
                                  sources=sources, preset=args.preset, seed=args.seed,
                                  max_molecules=args.max_molecules,
                                  elapsed_s=round(elapsed, 2))
        _write_out(out, json.dumps(result, indent=2) + "\n")
        print(f"wrote {out}")
        history = getattr(selector, "history_", None)
        if history is not None:
            history_path = out.with_name(out.stem + ".history.csv")
            _write_out(history_path, history.to_csv(index=False))
            print(f"wrote {history_path}")
    return 0


#: Selector parameter -> the ``select`` option that sets it, for error messages.
_OPTIONS = {"threshold": "--threshold", "random_state": "--seed", "device": "--device",
            "top_k": "--top-k", "epochs": "--epochs", "hidden_dim": "--hidden-dim",
            "num_layers": "--num-layers", "n_rounds": "--rounds", "warmup_epochs": "--epochs",
            "meta_gradient": "--meta-gradient", "n_repeats": "--repeats",
            "filter_rule": "--filter-rule"}


def _check_selector_params(selector):
    """The selector's own parameter checks, reported with the option that set the value."""
    try:
        selector._validate_params()
    except ValueError as exc:
        message = str(exc)
        for param, option in _OPTIONS.items():
            if message.startswith(param):
                raise CLIError(f"{option}: {message}") from None
        raise


def _source_for(spec, out):
    """How a candidate is recorded in the JSON.

    A registry name or an absolute path as given; a relative CSV path relative to the
    JSON's folder (where ``evaluate --with`` resolves it), not to the folder of this run.
    """
    if not _is_csv(spec) or Path(spec).is_absolute():
        return spec
    path = Path(spec).resolve()
    try:
        return Path(os.path.relpath(path, out.resolve().parent)).as_posix()
    except ValueError:  # pragma: no cover - another drive on Windows
        return str(path)


def _auxiliaries_from(specs):
    """``--with`` values: names / CSV files, or a JSON written by ``select --out``."""
    names = []
    for spec in _split_list(specs):
        if spec.lower().endswith(".json"):
            path = Path(spec)
            if not path.is_file():
                raise FileNotFoundError(f"no such selection file: {path}")
            try:
                result = json.loads(path.read_text(encoding="utf-8"))
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise CLIError(f"--with {path}: not a valid JSON file ({exc}); pass the file "
                               "written by `molselect select --out`") from None
            if not isinstance(result, dict) or "selected" not in result:
                raise CLIError(f"{path} has no 'selected' list; write it with "
                               "`molselect select --out`")
            selected = result["selected"]
            if not isinstance(selected, list) or not all(isinstance(n, str) for n in selected):
                raise CLIError(f"{path}: 'selected' must be a list of dataset names, got "
                               f"{selected!r}; write it as [\"name\", ...] (as `molselect "
                               "select --out` does)")
            sources = result.get("sources", {})
            if not isinstance(sources, dict):
                sources = {}
            names.extend(_resolve_source(sources.get(n, n), path) for n in selected)
        else:
            names.append(spec)
    return names


def _resolve_source(spec, selection_file):
    """A CSV named in a selection JSON: relative paths are relative to the JSON's folder."""
    if not str(spec).lower().endswith((".csv", ".csv.gz")) or Path(spec).is_absolute():
        return spec
    beside = selection_file.parent / spec
    if beside.is_file():
        return str(beside)
    if Path(spec).is_file():  # an older selection file, written relative to its run's folder
        return spec
    raise CLIError(f"{spec} (a candidate recorded in {selection_file}) was not found: relative "
                   f"paths in a selection file are resolved against its folder "
                   f"{selection_file.parent}")


def _study_options(args):
    """The keyword arguments shared by every transfer-study command."""
    return dict(seeds=args.seeds, cache=args.cache, n_jobs=args.n_jobs,
                torch_threads=args.torch_threads, resample_to=args.resample_to,
                verbose=not args.quiet)


def _evaluate(args):
    import numpy as np
    import pandas as pd

    from .datasets._validation import validate_auxiliaries
    from .evaluation import FitJob, evaluate_selection, run_jobs, summarize_gains
    from .reporting import format_percent, format_table, to_jsonable

    train, valid, test = _load_target(args.target, args)
    specs = _auxiliaries_from(args.with_)
    pool = _load_candidates(specs, args, train.name) if specs else {}
    metric = test.metric
    estimator = _make_estimator(args.model, train, args, None)
    options = _study_options(args)
    summary = None
    if pool:
        validate_auxiliaries(pool, train.name)
        gains = evaluate_selection(train, pool, estimator, eval_set=valid, test_set=test,
                                   label=", ".join(pool), **options)
        leaked = int(gains["n_leaked"].iloc[0])
        if leaked and not args.quiet:
            print(f"leakage guard: removed {leaked} auxiliary molecule(s) found in the "
                  "target's valid/test splits")
        settings = [("target only", gains["score_alone"]),
                    ("target + " + ", ".join(pool), gains["score_with"])]
        summary = summarize_gains(gains).iloc[0]
    else:
        jobs = [FitJob(estimator, [(train.name, train)], valid, test, seed)
                for seed in args.seeds]
        results = run_jobs(jobs, cache=options["cache"], n_jobs=options["n_jobs"],
                           verbose=options["verbose"], desc=f"{args.model} on {train.name}")
        settings = [("target only", [results[job.key]["test_score"] for job in jobs])]
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
        _write_out(out, json.dumps(result, indent=2) + "\n")
        print(f"wrote {out}")
    return 0


def _transfer(args):
    from .datasets import list_datasets
    from .evaluation import summarize_gains, transfer_gains
    from .reporting import format_table, transfer_table

    train, valid, test = _load_target(args.target, args)
    specs = _split_list(args.candidates)
    if specs == ["all"]:
        available = list_datasets().query("available")["name"]
        specs = [name for name in available if name != train.name]
    pool = _load_candidates(specs, args, train.name)
    if not args.quiet:
        print("target   ", train.summary())
        for data in pool.values():
            print("candidate", data.summary())
    estimator = _make_estimator(args.model, train, args, None)
    gains = transfer_gains(train, pool, estimator, eval_set=valid, test_set=test,
                           **_study_options(args))
    summary = summarize_gains(gains)
    alone = gains.groupby("seed")["score_alone"].first()
    print(f"\n{args.model} on {train.name!r}: relative gain in test {train.metric} of each "
          f"candidate over seeds {args.seeds} (target alone: {alone.mean():.4f} +- "
          f"{alone.std(ddof=1) if len(alone) > 1 else 0.0:.4f})")
    print(format_table(transfer_table(summary, train.metric)))
    helps = list(summary.loc[summary["verdict"] == "helps", "candidate"])
    hurts = list(summary.loc[summary["verdict"] == "hurts", "candidate"])
    print(f"\nhelps significantly: {', '.join(helps) or '(none)'}; hurts significantly: "
          f"{', '.join(hurts) or '(none)'}; every other effect is within the noise of "
          f"{len(args.seeds)} seed(s)")
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        summary_path = out.with_name(out.name.removesuffix(".csv") + ".summary.csv")
        _write_out(out, gains.to_csv(index=False))
        _write_out(summary_path, summary.to_csv(index=False))
        print(f"wrote {out} and {summary_path}")
    return 0


def _demo(args):
    from .datasets import load_dataset
    from .presets import get_preset
    from .reporting import format_table, selection_table
    from .selectors import MolGroupSelector

    target = load_dataset(args.target)
    print(target.train.summary())
    pool = {name: load_dataset(name).train for name in args.candidates}
    for data in pool.values():
        print("  candidate", data.summary())
    params = get_preset(args.preset)
    selector = MolGroupSelector(random_state=args.seed, verbose=True, **params)
    selector.fit(target.train, pool, eval_set=[target.valid, target.test])
    print(f"\nMolGroup ({args.preset} preset) affinities for target {args.target!r}:")
    print(format_table(selection_table(selector)))
    print("\nselected:", ", ".join(selector.selected_) or "(none: no candidate passed the threshold)")
    return 0


# -- parser ------------------------------------------------------------------------------
def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _seed_list(text):
    """``3``, ``0-7`` or ``0,1,2`` -> a list of seeds."""
    seeds = []
    for part in str(text).split(","):
        part = part.strip()
        try:
            if "-" in part[1:]:
                lo, hi = part.split("-", 1) if not part.startswith("-") else (part, part)
                lo, hi = int(lo), int(hi)
                if hi < lo:
                    raise ValueError
                seeds.extend(range(lo, hi + 1))
            elif part:
                seeds.append(int(part))
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected a seed, a range such as 0-7 or a list such as 0,1,2; got "
                f"{text!r}") from None
    return seeds


def _seeds_action():
    class Seeds(argparse.Action):
        def __call__(self, parser, namespace, values, option_string=None):
            flat = [seed for value in values for seed in value]
            if len(set(flat)) != len(flat):
                parser.error(f"{option_string}: seeds repeat ({flat})")
            setattr(namespace, self.dest, flat)
    return Seeds


def _add_study_options(parser, default_seeds):
    parser.add_argument("--model", default="gin", choices=["gin", "graphormer"],
                        help="downstream model (default: %(default)s)")
    parser.add_argument("--seeds", type=_seed_list, nargs="+", default=default_seeds,
                        action=_seeds_action(), metavar="SEEDS",
                        help="seeds: 0 1 2, 0-7 or 0,1,2; each seed pairs a fit without and "
                             f"one with the auxiliaries (default: {default_seeds})")
    parser.add_argument("--preset", default="fast", choices=sorted(ESTIMATOR_PRESETS),
                        help="model size: 'fast' (CPU) or 'paper' (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the --max-molecules subsample (default: 0)")
    parser.add_argument("--cache", metavar="DIR",
                        help="keep every finished fit in DIR: a repeated or interrupted run "
                             "resumes from it")
    parser.add_argument("--n-jobs", type=int, metavar="N",
                        help="parallel fits (joblib; default: one at a time)")
    parser.add_argument("--torch-threads", type=_positive_int, metavar="N",
                        help="torch threads per fit (1 is best with one fit per core)")
    parser.add_argument("--resample", dest="resample_to", type=_positive_int, metavar="N",
                        help="resample every training set to N molecules (the paper's "
                             "appendix C uses 5000)")
    parser.add_argument("--quiet", action="store_true", help="print the final table only")


def _add_data_options(parser):
    group = parser.add_argument_group("CSV input")
    group.add_argument("--smiles-col", default="smiles", metavar="COL",
                       help="SMILES column of CSV inputs (default: %(default)s)")
    group.add_argument("--task-cols", metavar="COL[,COL...]",
                       help="label columns of a CSV target (default: every other column)")
    group.add_argument("--candidate-task-cols", metavar="COL[,COL...]",
                       help="label columns of CSV candidates (default: every other column)")


def _add_size_options(parser, rounds=True):
    group = parser.add_argument_group(
        "size", "override the preset, e.g. to make a quick trial run tiny")
    group.add_argument("--max-molecules", type=_positive_int, metavar="N",
                       help="use at most N training molecules of the target and of each "
                            "auxiliary (seeded subsample)")
    group.add_argument("--epochs", type=_positive_int, metavar="N", help="training epochs")
    group.add_argument("--hidden-dim", type=_positive_int, metavar="N",
                       help="embedding size of the network")
    group.add_argument("--num-layers", type=_positive_int, metavar="N",
                       help="message-passing layers")
    if rounds:
        group.add_argument("--rounds", type=_positive_int, metavar="N",
                           help="MolGroup filtering rounds")
    group.add_argument("--device", metavar="DEV",
                       help="'cpu', 'cuda', 'cuda:1' ... (default: CUDA when available)")


def build_parser():
    """Build the argument parser of the ``molselect`` command.

    Exposed so that the documentation and the tests can inspect the options.

    Returns
    -------
    argparse.ArgumentParser
    """
    parser = argparse.ArgumentParser(
        prog="molselect",
        description="Choose the auxiliary molecule datasets that help a target dataset "
                    "(MolGroup, NeurIPS 2023), and train GIN / Graphormer models on them.",
        epilog="Run `molselect COMMAND --help` for the options of each command.",
    )
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback on errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    datasets = sub.add_parser(
        "datasets", help="list the registered datasets and which are available offline",
        description="List the registered datasets: size, tasks, task type, metric, split and "
                    "whether they load without a download (bundled or in the data home).")
    datasets.add_argument("--data-home", metavar="DIR",
                          help="data home to check (default: $MOLSELECT_DATA or "
                               "~/.cache/molselect)")
    datasets.add_argument("--long", action="store_true", help="add a description column")
    datasets.set_defaults(func=_datasets)

    select = sub.add_parser(
        "select", help="rank candidate auxiliaries for a target and select some",
        description="Score candidate auxiliary datasets for a target with MolGroup (or a "
                    "baseline) and print the ranked candidates. Datasets are registry names "
                    "(see `molselect datasets`) or CSV files.",
        epilog="example: molselect select --target bbbp --candidates bace,esol,tox21 "
               "--preset fast --out result.json")
    select.add_argument("--target", required=True, metavar="NAME|CSV",
                        help="target dataset: a registry name or a CSV file (scaffold-split)")
    select.add_argument("--candidates", required=True, nargs="+", metavar="NAME|CSV",
                        help="candidate auxiliaries, comma- or space-separated; registry "
                             "names use their training split")
    select.add_argument("--method", default=DEFAULT_METHOD, choices=list(SELECTORS),
                        help="selection method (default: %(default)s, the one measured to "
                             "rank best against the ground truth and to repeat across seeds; "
                             "see the docs' Presets page)")
    select.add_argument("--preset", default="stable", choices=sorted(PRESETS),
                        help="parameter set: " + ", ".join(sorted(PRESETS)) +
                             " (MolGroup takes all of it, a baseline the size of its GIN; the "
                             "docs' Presets page says what each is and costs) "
                             "(default: %(default)s)")
    select.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    select.add_argument("--top-k", type=_positive_int, metavar="K",
                        help="number of auxiliaries to select")
    select.add_argument("--threshold", type=float, metavar="T",
                        help="affinity below which a candidate is dropped (MolGroup: 0.6)")
    select.add_argument("--meta-gradient", choices=["exact", "linearized"],
                        help="MolGroup's meta-gradient: 'exact' (the paper's, default) or "
                             "'linearized' (about a quarter faster per step, approximate)")
    select.add_argument("--repeats", type=_positive_int, metavar="N",
                        help="MolGroup: independent trainings per round, affinities averaged "
                             "(the table then shows their spread; cost x N)")
    select.add_argument("--filter-rule", choices=["threshold", "relative"],
                        help="MolGroup: drop candidates below --threshold ('threshold', the "
                             "paper's rule) or below the round's common level ('relative')")
    select.add_argument("--out", metavar="FILE.json",
                        help="write the result as JSON, and the history as "
                             "FILE.history.csv next to it")
    select.add_argument("--checkpoint", metavar="FILE.json",
                        help="MolGroup: save the state after every finished round to FILE, and "
                             "resume from it when the same command is run again")
    select.add_argument("--quiet", action="store_true", help="no progress bars or summaries")
    _add_data_options(select)
    _add_size_options(select)
    select.set_defaults(func=_select)

    evaluate = sub.add_parser(
        "evaluate", help="train a downstream model with and without auxiliaries",
        description="Train a GIN or Graphormer on the target alone and on the target plus "
                    "the given auxiliaries (leakage-guarded union), over several seeds, and "
                    "print the target's test metric (mean and std).",
        epilog="example: molselect evaluate --target bbbp --with bace,tox21 --model gin "
               "--seeds 0 1 2 --preset fast")
    evaluate.add_argument("--target", required=True, metavar="NAME|CSV",
                          help="target dataset: a registry name or a CSV file")
    evaluate.add_argument("--with", dest="with_", nargs="*", default=[], metavar="NAME|CSV|JSON",
                          help="auxiliaries to add: names, CSV files, or the JSON written by "
                               "`molselect select --out` (its selection); none: target only")
    _add_study_options(evaluate, default_seeds=[0])
    evaluate.add_argument("--out", metavar="FILE.json", help="write the results as JSON")
    _add_data_options(evaluate)
    _add_size_options(evaluate, rounds=False)
    evaluate.set_defaults(func=_evaluate)

    transfer = sub.add_parser(
        "transfer", help="measure what each candidate auxiliary does to the target",
        description="For every seed, train the downstream model on the target alone and on "
                    "the target plus each candidate (leakage-guarded), and report each "
                    "candidate's relative gain in the target's test metric with its standard "
                    "error, 95%% interval, Benjamini-Hochberg adjusted paired t-test and a "
                    "verdict (helps / hurts / no clear effect).  The study of the paper's "
                    "figure 1, and the ground truth a selector is judged by.",
        epilog="example: molselect transfer --target bbbp --candidates bace,esol,tox21 "
               "--seeds 0-7 --cache gains-cache --out gains.csv")
    transfer.add_argument("--target", required=True, metavar="NAME|CSV",
                          help="target dataset: a registry name or a CSV file")
    transfer.add_argument("--candidates", required=True, nargs="+", metavar="NAME|CSV",
                          help="candidate auxiliaries: names, CSV files, or 'all' (every "
                               "other available registry dataset)")
    _add_study_options(transfer, default_seeds=[0, 1, 2, 3, 4])
    transfer.add_argument("--out", metavar="FILE.csv",
                          help="write the tidy table (one row per candidate and seed) and "
                               "FILE.summary.csv")
    _add_data_options(transfer)
    _add_size_options(transfer, rounds=False)
    transfer.set_defaults(func=_transfer)

    cache = sub.add_parser(
        "cache", help="show, prune or clear the feature cache",
        description="Show where molselect caches featurized molecules and how much it holds; "
                    "--prune SIZE deletes the entries used longest ago until the cache holds at "
                    "most SIZE, --clear deletes every entry (all are rebuilt on demand).")
    cache.add_argument("--clear", action="store_true", help="delete every cached entry")
    cache.add_argument("--prune", type=_size, metavar="SIZE",
                       help="delete the least recently used entries beyond SIZE (e.g. 500M, 2G)")
    cache.set_defaults(func=_cache)

    demo = sub.add_parser(
        "demo", help="run a small MolGroup selection on bundled data (offline)",
        description="A small MolGroup selection for BBBP on bundled data, as `make demo` "
                    "runs it.")
    demo.add_argument("--target", default=DEMO_TARGET, help="default: %(default)s")
    demo.add_argument("--candidates", nargs="+", default=DEMO_CANDIDATES,
                      help="default: %(default)s")
    demo.add_argument("--preset", default="stable", choices=sorted(PRESETS),
                      help="default: %(default)s")
    demo.add_argument("--seed", type=int, default=0, help="default: %(default)s")
    demo.set_defaults(func=_demo)
    return parser


def main(argv=None):
    """Run the ``molselect`` command.

    Parameters
    ----------
    argv : list of str, optional
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit code: 0 on success, 2 for bad arguments or input data (argparse's
        convention), 1 for a failure while running, 130 when interrupted (Ctrl-C) and
        143 when terminated (SIGTERM); both exit cleanly, without partial output files.
    """
    from .datasets import DownloadError

    parser = build_parser()
    args = parser.parse_args(argv)
    installed, previous = _on_sigterm(_raise_terminated)
    try:
        if getattr(args, "out", None):
            # Every command with --out checks it before loading data or training.
            _check_out(args.out)
        return args.func(args)
    except _Terminated:
        print("molselect: terminated", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print("molselect: interrupted", file=sys.stderr)
        return 130
    except (CLIError, ValueError, KeyError, FileNotFoundError, TypeError) as exc:
        if args.debug:
            raise
        print(f"molselect {args.command}: error: {_message(exc)}", file=sys.stderr)
        return 2
    except (DownloadError, OSError, RuntimeError) as exc:
        if args.debug:
            raise
        print(f"molselect {args.command}: failed: {_message(exc)}", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - a user sees a message, --debug the traceback
        if args.debug:
            raise
        print(f"molselect {args.command}: failed: {type(exc).__name__}: {_message(exc)} "
              "(run with --debug for the traceback)", file=sys.stderr)
        return 1
    finally:
        if installed:
            _on_sigterm(previous)


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that the same clean-up runs (joblib workers included)."""


def _raise_terminated(signum, frame):
    raise _Terminated


def _on_sigterm(handler):
    """Install ``handler`` for SIGTERM (main thread only): (installed, previous handler)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return False, None
    previous = signal.signal(signal.SIGTERM, signal.SIG_DFL if handler is None else handler)
    return True, previous


def _message(exc):
    # KeyError's str() is the repr of its argument, quotes included.
    if isinstance(exc, KeyError) and type(exc) is KeyError and exc.args:
        return str(exc.args[0])
    return str(exc)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
