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
    table["available"] = table["available"].map({True: "yes", False: "download"})
    columns = ["name", "molecules", "tasks", "type", "metric", "split", "available"]
    if args.long:
        columns.append("description")
    print(table[columns].to_string(index=False))
    print(f"\ndata home: {get_data_home(args.data_home)} (set MOLSELECT_DATA to change it)")
    return 0
