"""The ``molselect`` command line."""

from __future__ import annotations

import argparse
import sys

__all__ = ["main"]

DEMO_TARGET = "bbbp"
DEMO_CANDIDATES = ["bace", "clintox", "esol", "freesolv", "lipo", "sider", "tox21"]


def _demo(args):
    from .datasets import load_dataset
    from .presets import get_preset
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
    table = selector.affinity_.to_frame()
    table["task"] = selector.task_affinity_
    table["structure"] = selector.structure_affinity_
    table["dropped_after_round"] = selector.round_dropped_
    table = table.loc[selector.ranking_]
    print(table.to_string(float_format=lambda v: f"{v:.3f}"))
    print("\nselected:", ", ".join(selector.selected_) or "(none: no candidate passed the threshold)")
    return 0


def build_parser():
    """The argument parser of the ``molselect`` command (exposed for the docs and tests)."""
    parser = argparse.ArgumentParser(
        prog="molselect",
        description="Choose the auxiliary molecule datasets that help a target dataset.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run a small MolGroup selection on bundled data (offline)")
    demo.add_argument("--target", default=DEMO_TARGET)
    demo.add_argument("--candidates", nargs="+", default=DEMO_CANDIDATES)
    demo.add_argument("--preset", default="fast")
    demo.add_argument("--seed", type=int, default=0)
    demo.set_defaults(func=_demo)
    return parser


def main(argv=None):
    """Entry point of the ``molselect`` console script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, KeyError, FileNotFoundError, TypeError) as exc:
        print(f"molselect: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
