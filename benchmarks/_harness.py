"""What every benchmark and study of ``benchmarks/`` shares, written once.

``benchmarks`` is a package: run its scripts as modules from the repository
root (``python -m benchmarks.bench_models``, ``python -m
benchmarks.studies.bench_ground_truth``), so that the molselect beside them,
not another installed copy, is the one measured.  Nothing here edits
``sys.path``.

* ``REPO`` and ``RESULTS``: the repository root and the results folder,
  ``benchmarks/results/`` unless the environment variable
  ``MOLSELECT_BENCH_RESULTS`` names another (a test rebuilds the reports in a
  copy of the committed results, leaving the checkout untouched).
* :func:`machine` and :func:`describe_machine`: where a run happened (for a
  report's JSON and its header line).
* :func:`rss_mb`, :func:`peak_rss_mb` and :func:`peak_memory_mb`: memory.
* :class:`Stopwatch`: wall time, waiting for CUDA's queued work at both ends.
* :func:`write_results`: a report's ``.json`` and ``.md`` files.

What only the studies share (their run files, seeds, fit cache) is in
:mod:`benchmarks.studies._common`.

Only the standard library is imported here; torch and psutil are imported
by the functions that need them, so that a study can use the paths without
them.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: Where reports and run records are read and written: ``$MOLSELECT_BENCH_RESULTS``, else
#: ``benchmarks/results/``.
RESULTS = Path(os.environ.get("MOLSELECT_BENCH_RESULTS") or REPO / "benchmarks" / "results")


def machine():
    """Where a run happened, for a report's JSON.

    Returns
    -------
    dict
        ``torch`` (version), ``torch_threads``, ``python`` (version),
        ``machine`` (architecture) and ``cpu_count``.
    """
    import torch

    return {"torch": torch.__version__, "torch_threads": torch.get_num_threads(),
            "python": platform.python_version(), "machine": platform.machine(),
            "cpu_count": os.cpu_count()}


def describe_machine(device=None, threads=None):
    """Where a run happened, in one line for a report's header.

    Parameters
    ----------
    device : str or torch.device, optional
        The device the figures were measured on; named at the end of the line,
        with the GPU's name on CUDA.
    threads : int, optional
        The torch threads the figures were measured with, when not this process's
        (a study's report, rebuilt by a process that trains nothing).

    Returns
    -------
    str
        E.g. ``"x86_64, 2 cpus, torch 2.13.0+cpu, 2 torch threads, device cpu"``.
    """
    import torch

    line = (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cpus, "
            f"torch {torch.__version__}, {threads or torch.get_num_threads()} torch threads")
    if device is not None:
        device = torch.device(device)
        line += f", device {device}"
        if device.type == "cuda":
            line += f" ({torch.cuda.get_device_name(device)})"
    return line


def rss_mb():
    """This process's resident memory now, in MiB."""
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def peak_rss_mb():
    """This process's largest resident memory so far, in MiB (children not included)."""
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_memory_mb(device=None):
    """Peak memory of the work on ``device``, in MiB.

    On CUDA, the most the device's tensors held (``torch.cuda.max_memory_allocated``,
    since the last ``torch.cuda.reset_peak_memory_stats``); elsewhere
    :func:`peak_rss_mb`.
    """
    if device is not None:
        import torch

        device = torch.device(device)
        if device.type == "cuda":
            return torch.cuda.max_memory_allocated(device) / 2**20
    return peak_rss_mb()


def sync(device=None):
    """Wait until the work queued on a CUDA ``device`` is done (nothing elsewhere)."""
    if device is None:
        return
    import torch

    device = torch.device(device)
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class Stopwatch:
    """Wall time of a block.

    ``with Stopwatch(device) as clock: ...`` leaves the seconds in
    ``clock.seconds``; ``clock.lap()`` inside the block gives the seconds since
    the start or the previous lap.  CUDA kernels run asynchronously, so on a
    CUDA ``device`` every reading first waits for the queued work: the time is
    that of the work, not of its launch.

    Parameters
    ----------
    device : str or torch.device, optional
        The device whose work is timed (None: CPU work only).
    """

    def __init__(self, device=None):
        self.device = device
        self.seconds = None

    def __enter__(self):
        sync(self.device)
        self._start = self._lap = time.perf_counter()
        return self

    def lap(self):
        """Seconds since the start or the previous lap."""
        sync(self.device)
        now = time.perf_counter()
        seconds, self._lap = now - self._lap, now
        return seconds

    def __exit__(self, *exc):
        sync(self.device)
        self.seconds = time.perf_counter() - self._start


def write_results(path, data, markdown):
    """Write a report: ``path`` with the suffix ``.json`` (``data``) and ``.md``.

    Parameters
    ----------
    path : str or path-like
        The report's files without their suffix (a suffix is replaced), e.g.
        ``RESULTS / "models"``; missing folders are made.
    data : dict or None
        The figures, as JSON (numpy scalars written as floats); None writes
        the Markdown only.
    markdown : str
        The report, ending with a newline (one is added when missing).

    Returns
    -------
    pathlib.Path
        The Markdown file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if data is not None:
        path.with_suffix(".json").write_text(json.dumps(data, indent=2, default=float) + "\n")
    md = path.with_suffix(".md")
    md.write_text(markdown if markdown.endswith("\n") else markdown + "\n")
    return md
