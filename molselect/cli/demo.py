"""``molselect demo``: a small MolGroup selection on bundled data (what ``make demo`` runs)."""

from __future__ import annotations

from ._options import Option

__all__ = ["NAME", "HELP", "DESCRIPTION", "options", "run", "DEMO_TARGET", "DEMO_CANDIDATES"]

NAME = "demo"
HELP = "run a small MolGroup selection on bundled data (offline)"
DESCRIPTION = "A small MolGroup selection for BBBP on bundled data, as `make demo` runs it."

DEMO_TARGET = "bbbp"
DEMO_CANDIDATES = ["bace", "clintox", "esol", "freesolv", "lipo", "sider", "tox21"]


def options():
    """The options of ``demo``, in ``--help`` order (``param``: what an option sets)."""
    from ..presets import PRESETS

    return [
        Option("--target", default=DEMO_TARGET, help="default: %(default)s"),
        Option("--candidates", nargs="+", default=DEMO_CANDIDATES,
               help="default: %(default)s"),
        Option("--preset", default="stable", choices=sorted(PRESETS),
               help="default: %(default)s"),
        Option("--seed", type=int, default=0, help="default: %(default)s"),
    ]



def run(args):
    """Run ``molselect demo`` on the parsed ``args``; return the exit code."""
    from ..datasets import load_dataset
    from ..presets import get_preset
    from ..reporting import format_table, selection_table
    from ..selectors import MolGroupSelector

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
