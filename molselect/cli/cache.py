"""``molselect cache``: show, prune or clear the feature cache."""

from __future__ import annotations

import argparse

from ._options import Option

__all__ = ["NAME", "HELP", "DESCRIPTION", "options", "run"]

NAME = "cache"
HELP = "show, prune or clear the feature cache (featurized molecules)"
DESCRIPTION = ("Show where molselect caches featurized molecules (the feature cache, "
               "$MOLSELECT_CACHE) and how much it holds; --prune SIZE deletes the entries used "
               "longest ago until the cache holds at most SIZE, --clear deletes every entry "
               "(all are rebuilt on demand). Neither touches the results folders of "
               "--results-dir (finished fits) nor the data home of `molselect datasets` "
               "(downloaded datasets).")


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


def options():
    """The options of ``cache``, in ``--help`` order (``param``: what an option sets)."""
    return [
        Option("--clear", action="store_true", help="delete every feature cache entry"),
        Option("--prune", type=_size, metavar="SIZE",
               help="delete the least recently used entries beyond SIZE (e.g. 500M, 2G)"),
    ]


def run(args):
    """Run ``molselect cache`` on the parsed ``args``; return the exit code."""
    from ..featurize import cache_info, clear_cache

    if args.clear or args.prune is not None:
        gone = clear_cache(max_bytes=args.prune)
        print(f"deleted {gone['files']} cached file(s), {gone['bytes'] / 1024 ** 2:.1f} MiB")
    info = cache_info()
    print(f"feature cache: {info['folder']} (set MOLSELECT_CACHE to change it)")
    print(f"{info['files']} file(s), {info['bytes'] / 1024 ** 2:.1f} MiB")
    for kind, entry in sorted(info["kinds"].items()):
        print(f"  {kind:12s} {entry['files']:5d} file(s) {entry['bytes'] / 1024 ** 2:9.1f} MiB")
    return 0
