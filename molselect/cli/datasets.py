"""``molselect datasets``: list the dataset registry and what is available offline."""

from __future__ import annotations

from ._options import Option

__all__ = ["NAME", "HELP", "DESCRIPTION", "options", "run"]

NAME = "datasets"
HELP = "list the registered datasets and which are available offline"
DESCRIPTION = ("List the registered datasets: size, tasks, task type, metric, split and whether "
               "they load without a download (bundled or in the data home).")


def options():
    """The options of ``datasets``, in ``--help`` order (``param``: what an option sets)."""
    return [
        Option("--data-home", metavar="DIR",
               help="data home to check (default: $MOLSELECT_DATA or ~/.cache/molselect)"),
        Option("--long", action="store_true", help="add a description column"),
    ]


def run(args):
    """Run ``molselect datasets`` on the parsed ``args``; return the exit code."""
    from ..datasets import get_data_home, list_datasets

    table = list_datasets(data_home=args.data_home)
    table = table.rename(columns={"task_type": "type"})
    table["available"] = [("yes (sample)" if sample else "yes") if available else "download"
                          for available, sample in zip(table["available"], table["sample"])]
    columns = ["name", "molecules", "loads", "tasks", "type", "metric", "split", "available"]
    if args.long:
        columns.append("description")
    print(table[columns].to_string(index=False))
    sampled = table.loc[table["loads"] < table["molecules"], "name"].tolist()
    if sampled:
        print(f"\nloads: molecules a run uses by default; {', '.join(sampled)} are sampled "
              "(the paper's 3,000). 'yes (sample)': only that sample ships with molselect; "
              "the full dataset downloads on first use with max_molecules=None.")
    print(f"\ndata home: {get_data_home(args.data_home)} (downloaded datasets; set "
          "MOLSELECT_DATA to change it)")
    return 0
