"""``molselect demo``: a verified selection on bundled data (what ``make demo`` runs)."""

from __future__ import annotations

from ._options import Option, positive_int

__all__ = ["NAME", "HELP", "DESCRIPTION", "options", "run", "DEMO_TARGET", "DEMO_CANDIDATES"]

NAME = "demo"
HELP = "run a small verified selection on bundled data (offline)"
DESCRIPTION = ("A verified selection for BBBP on bundled data, as `make demo` runs it: the "
               "candidates ranked by the task-type prior, then the unions of the top 1 and "
               "top 2 raced against BBBP alone, one seed a round, until a verdict or the "
               "budget.")

DEMO_TARGET = "bbbp"
DEMO_CANDIDATES = ["bace", "clintox", "esol", "freesolv", "lipo", "sider", "tox21"]


def options():
    """The options of ``demo``, in ``--help`` order (``param``: what an option sets)."""
    return [
        Option("--target", default=DEMO_TARGET, help="default: %(default)s"),
        Option("--candidates", nargs="+", default=DEMO_CANDIDATES,
               help="default: %(default)s"),
        Option("--seed", type=int, default=0, help="default: %(default)s"),
        Option("--budget", type=positive_int, default=24,
               help="fits at most (default: %(default)s: 8 rounds of the target alone and "
                    "two groups)"),
        Option("--max-k", type=positive_int, default=2,
               help="the largest union of the ranking's top K that races "
                    "(default: %(default)s)"),
        Option("--n-jobs", type=positive_int, default=2,
               help="parallel fits, one thread each (default: %(default)s)"),
    ]


def run(args):
    """Run ``molselect demo`` on the parsed ``args``; return the exit code."""
    from ..datasets import load_dataset
    from ..evaluation import VerifiedSelector
    from ..reporting import format_table, selection_table
    from ..selectors import TaskTypeSelector
    from .select import race_table, verdict_text

    target = load_dataset(args.target)
    print(target.train.summary())
    pool = {name: load_dataset(name).train for name in args.candidates}
    for data in pool.values():
        print("  candidate", data.summary())
    verifier = VerifiedSelector(TaskTypeSelector(random_state=args.seed), max_k=args.max_k,
                                budget=args.budget,
                                n_jobs=args.n_jobs, torch_threads=1,
                                random_state=args.seed, verbose=True)
    print(f"\nracing the top {args.max_k} unions of the task-type ranking against "
          f"{args.target} alone (the fast GIN trained to convergence, at most "
          f"{args.budget} fits):")
    verifier.fit(target.train, pool, eval_set=[target.valid, target.test])
    ranking = selection_table(verifier.ranking_selector_)
    ranking["status"] = [f"rank #{i}" for i in range(1, len(ranking) + 1)]
    print(f"\ntask-type ranking for target {args.target!r}:")
    print(format_table(ranking))
    print("\nverification race (relative gain over the target alone):")
    print(format_table(race_table(verifier)))
    print()
    print(verdict_text(verifier, target.train))
    return 0
