"""What the research studies of ``benchmarks/studies/`` share, written once.

* :func:`read_jsonl` and :func:`append_jsonl`: a study's record of finished
  runs, one JSON object a line, in a plain ``.jsonl`` file or a gzip-compressed
  ``.jsonl.gz`` (one gzip member per appended record, so the file only grows
  and an interrupted write costs at most its own record).
* :class:`OneFileCache`: a :class:`molselect.evaluation.ResultCache` kept in
  one ``.jsonl.gz`` file instead of one JSON file per fit, for a cache that is
  committed with the study's results.
* :data:`FITS`, :func:`export_fits` and :func:`import_fits`: the fit cache that
  the outcome, verification and split studies share (a fit one of them made is
  not made again by another), and its committed archive.

The paths, the machine's description, timing and report writing, which the
speed benchmarks share too, are in :mod:`benchmarks._harness`; the seed lists of
``--seeds`` are parsed by the command line's own parser,
:func:`molselect._checks.parse_seeds`.
"""

from __future__ import annotations

import gzip
import json
import warnings
import zlib
from pathlib import Path

from benchmarks._harness import RESULTS
from molselect.evaluation import ResultCache
# Private, but the very check ResultCache applies to an entry it reads back: a cache kept
# in another form should not trust its entries more.
from molselect.evaluation._jobs import entry_problem


#: The fit cache shared by ``bench_outcomes``, ``bench_verified`` and ``bench_splits``
#: (gitignored: one JSON file per fit).
FITS = RESULTS / "verified_cache"
#: Every fit of ``FITS``, one JSON line each: its committed copy.  (Named after the study
#: that archived it first.)
FITS_ARCHIVE = RESULTS / "outcomes_fits.jsonl.gz"


def read_jsonl(path):
    """Every complete record of a JSON-lines file (``[]`` when it does not exist).

    Parameters
    ----------
    path : str or path-like
        A ``.jsonl`` file, or a ``.jsonl.gz`` file of one or more gzip members.
        A gzip member cut short by an interrupt (the last one) is ignored;
        blank lines are skipped.

    Returns
    -------
    list of dict
    """
    path = Path(path)
    if not path.exists():
        return []
    if path.suffix != ".gz":
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    records = []
    data = path.read_bytes()
    while data:
        decompressor = zlib.decompressobj(wbits=31)  # one gzip member
        try:
            text = decompressor.decompress(data)
        except zlib.error:
            break
        if not decompressor.eof:
            break  # a member cut short by an interrupt
        records.extend(json.loads(line) for line in text.decode().splitlines() if line.strip())
        data = decompressor.unused_data
    return records


def append_jsonl(path, record, default=None):
    """Append ``record`` to a JSON-lines file (made when missing; its folder must exist).

    Parameters
    ----------
    path : str or path-like
        ``.jsonl``, or ``.jsonl.gz`` (the record is written as a gzip member of its own).
    record : dict
    default : callable, optional
        ``json.dumps``'s ``default``, for values JSON does not know (e.g. ``float``
        for numpy scalars).
    """
    path = Path(path)
    line = json.dumps(record, default=default) + "\n"
    if path.suffix == ".gz":
        with open(path, "ab") as handle:
            handle.write(gzip.compress(line.encode()))
    else:
        with open(path, "a") as handle:
            handle.write(line)


class OneFileCache(ResultCache):
    """Finished fits in one gzip JSON-lines file: a :class:`~molselect.evaluation.ResultCache`.

    Each line is what a :class:`~molselect.evaluation.ResultCache` file holds,
    ``{"job": ..., "result": ...}``; a new fit is appended as a gzip member of
    its own (:func:`append_jsonl`), so an interrupted study loses at most the
    fit being written.  The file is read once, at the first look-up.  Only one
    process may write it at a time (the studies write from their main process,
    as :func:`molselect.evaluation.run_jobs` does).

    Parameters
    ----------
    path : str or path-like
        The ``.jsonl.gz`` file (created, with its folder, at the first fit stored).
    """

    def __init__(self, path):
        super().__init__(path)
        self._entries = None

    def _all(self):
        if self._entries is None:
            self._entries = {}
            for entry in read_jsonl(self.path):
                result = entry.get("result") if isinstance(entry, dict) else None
                key = result.get("key") if isinstance(result, dict) else None
                self._entries[key] = entry  # a later entry of a key replaces an earlier one
        return self._entries

    def get(self, key):
        """The stored result of job ``key``, or None (a damaged entry is warned about)."""
        entry = self._all().get(key)
        if entry is None:
            return None
        problem = entry_problem(entry, key)
        if problem:
            warnings.warn(f"result cache {self.path}: the entry of {key} is damaged: "
                          f"{problem}; the fit runs again", RuntimeWarning, stacklevel=2)
            return None
        return entry["result"]

    def put(self, job, result):
        """Append ``result`` of ``job``; a write error is a warning (see ResultCache.put)."""
        entry = {"job": job.description, "result": result}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            append_jsonl(self.path, entry)
        except OSError as exc:
            self.write_errors += 1
            if self.write_errors == 1:
                warnings.warn(f"result cache {self.path}: cannot store results there ({exc}); "
                              "the study goes on, but its results are not kept for a rerun",
                              RuntimeWarning, stacklevel=2)
            return False
        self._all()[job.key] = entry
        return True

    def clean(self, min_age=None):
        """Nothing to clean: appends leave no temporary files (returns 0)."""
        return 0

    def __len__(self):
        return len(self._all())

    def __repr__(self):
        return f"OneFileCache({str(self.path)!r})"


def pack_cache(folder, path):
    """Write a ResultCache folder's entries into one :class:`OneFileCache` file.

    The entries are read as JSON and written in the order of their keys, one
    line each, in a single gzip member (reproducible: no time stamp), so the
    same folder always packs to the same bytes.

    Parameters
    ----------
    folder : str or path-like
        A :class:`~molselect.evaluation.ResultCache` folder (``<key>.json`` files).
    path : str or path-like
        The ``.jsonl.gz`` file to write (replaced).

    Returns
    -------
    int
        How many entries were written.
    """
    files = sorted(Path(folder).glob("*.json"))
    lines = [json.dumps(json.loads(f.read_text()), sort_keys=True) + "\n" for f in files]
    Path(path).write_bytes(gzip.compress("".join(lines).encode(), mtime=0))
    return len(lines)


def export_fits():
    """Write every fit of :data:`FITS` to :data:`FITS_ARCHIVE`.

    Sorted by file name, so the archive only changes when the fits do.  A study
    calls it when it writes its report; the archive is what gets committed.
    """
    entries = [{"file": path.name, "entry": json.loads(path.read_text())}
               for path in sorted(FITS.glob("*.json"))]
    with gzip.open(FITS_ARCHIVE, "wt", compresslevel=9) as handle:
        for entry in entries:
            handle.write(json.dumps(entry, sort_keys=True) + "\n")


def import_fits():
    """Restore into :data:`FITS` the archived fits it lacks (a fresh checkout resumes).

    The cache checks each entry against its key when it reads it, so a damaged
    line is recomputed, not trusted.
    """
    FITS.mkdir(parents=True, exist_ok=True)
    for row in read_jsonl(FITS_ARCHIVE):
        path = FITS / Path(row["file"]).name
        if not path.exists():
            path.write_text(json.dumps(row["entry"]))


def export_fits_if_any():
    """:func:`export_fits` when :data:`FITS` holds a fit (a checkout that never ran a
    study keeps the committed archive as it is)."""
    if FITS.is_dir() and any(FITS.glob("*.json")):
        export_fits()
