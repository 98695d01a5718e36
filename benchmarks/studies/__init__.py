"""The research studies: ground truth, selector quality, fit protocols, verified selection,
the outcome scoreboard and MolGroup's fidelity.

Run each as a module from the repository root, e.g. ``python -m
benchmarks.studies.bench_ground_truth --report-only``; what they share is in
:mod:`benchmarks.studies._common`.
"""
