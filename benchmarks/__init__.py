"""molselect's speed benchmarks and, in :mod:`benchmarks.studies`, its research studies.

Run each as a module from the repository root, e.g. ``python -m
benchmarks.bench_models --quick``; see ``benchmarks/README.md``.  Not part of
the installed library.
"""
