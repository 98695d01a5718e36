"""Re-run the reliability probes of issue 14 that were not "good", against the current code.

The review (``reliability-probes.md``, 142 probes at commit 84cd185) gave 56 probes a
verdict other than "good": 24 unclear messages, 21 silent, 9 crashes, 2 missing
features.  Each of them is re-run here as a small function named after its number, on
bundled data or a few synthetic molecules, with tiny models (hidden_dim 16, 1-2 epochs),
so that the whole script runs in a few minutes on one core.

Every probe states its rule for the new verdict in its docstring, with the review's
meaning of the verdicts: **good** = a clear error that says what and where, a documented
warning or a documented, counted recovery; **unclear** = an error is raised but it lacks
the file, row or parameter (or misleads); **silent** = a wrong or degraded answer, lost
work, or no usable error; **crash** = an internal exception or a traceback; **missing**
= no way to do what a user needs.  A probe made of several checks takes the worst
verdict of its checks.  The rules were written from the review's complaint, not from
what the code now says; where a check still fails, the table says so.

The two probes that need a signal or a killed process (98, 100) run the test of
``tests/test_reliability.py`` that reproduces them, by pytest node id.

As a check of the rules: copied into an export of the reviewed commit 84cd185 and run
there, the script judged none of these probes good (probe 10 left out: it hangs there).

Usage::

    python benchmarks/studies/reliability_probes.py [--only 7,10,...] [--review PATH]

Prints the table and writes ``benchmarks/results/reliability_probes.md`` (not with
``--only``).
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import io
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for _harness

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from _harness import REPO, RESULTS, Stopwatch, write_results  # noqa: E402

REPORT = RESULTS / "reliability_probes.md"
REVIEW = REPO.parent / "shared" / "reviews" / "reliability-probes.md"
REVIEWED_AT = "84cd185"
N_PROBES = 142
OLD_COUNTS = {"good": 86, "unclear": 24, "silent": 21, "crash": 9, "missing": 2}
VERDICTS = ("good", "unclear", "silent", "crash", "missing")
# A probe of several checks takes the worst one's verdict.
SEVERITY = {"good": 0, "unclear": 1, "missing": 2, "silent": 3, "crash": 4}

# The review's 56 probes that were not "good": number -> (what was probed, old verdict).
OLD = {
    7: ("integer or bytes values in the SMILES column", "unclear"),
    10: ("pathological 100,000-atom chain 'C' * 100000", "silent"),
    15: ("unicode junk SMILES '☃CC', '\\x00C' (RDKit reads ethane, methane)", "silent"),
    16: ("lone surrogate 'C\\udcffC' (raise and on_invalid='drop')", "crash"),
    19: ("DataFrame with index 100..103, invalid SMILES at label 102", "unclear"),
    24: ("from_csv: latin-1 byte in a UTF-8 read", "unclear"),
    25: ("from_csv: .csv.gz that is not gzip", "unclear"),
    26: ("from_csv: truncated .csv.gz", "crash"),
    30: ("single-class target in GINClassifier.fit", "silent"),
    31: ("labels 0/1/2 inferred as regression", "silent"),
    32: ("task_types='classification' forced on labels 0/1/2", "silent"),
    33: ("one inf label in the target of MolGroupSelector", "silent"),
    34: ("one 1e309 label in one auxiliary CSV (library and CLI select)", "silent"),
    35: ("one inf in a 0/1 column of a CSV target", "silent"),
    36: ("GINRegressor.fit with one inf label", "silent"),
    37: ("molselect evaluate --with a CSV holding 1e309", "unclear"),
    41: ("duck-typed w with n-1 rows", "crash"),
    42: ("invalid SMILES in a dataset built directly (which dataset?)", "unclear"),
    43: ("'' SMILES in a dataset built directly: fit and predict", "silent"),
    45: ("'' labels in a pandas-3 str column", "unclear"),
    46: ("complex or datetime labels", "silent"),
    48: ("a copy of the target passed as an auxiliary", "silent"),
    54: ("threshold 1.5 / -0.5 / nan (MolGroup, TAG, fingerprint)", "silent"),
    55: ("threshold='0.5' (a string)", "crash"),
    60: ("device='nonsense'", "unclear"),
    61: ("device=3 / 'mps' / 'meta'", "crash"),
    62: ("random_state=RandomState(0) / default_rng(0)", "unclear"),
    63: ("random_state=-1 (library) and --seed -1 (CLI)", "unclear"),
    64: ("eval_set of another task in BeamSearch / MolGroup", "silent"),
    71: ("candidates in reverse order change the ranking (undocumented)", "unclear"),
    76: ("stereo variants of a held-out molecule pass the leakage guard", "unclear"),
    77: ("salt / hydrate forms of a held-out molecule pass the leakage guard", "unclear"),
    84: ("cache metadata crafted as a JSON list", "crash"),
    85: ("cache file with a valid checksum but no edge_attr", "crash"),
    91: ("cache file modes 0600; unreadable file called 'corrupted'", "unclear"),
    92: ("cache location, documentation, size limit, clearing", "missing"),
    93: ("data home: truncated bbbp.csv.gz", "crash"),
    94: ("data home: non-gzip esol.csv.gz / empty lipo.csv.gz", "unclear"),
    95: ("data home: hiv.csv.gz cut to 49 rows", "silent"),
    98: ("interrupt in round 2: round 1 lost, no resume", "missing"),
    100: ("SIGTERM during parallel featurization leaves workers", "silent"),
    104: ("KeyboardInterrupt during a MolGroupSelector refit", "silent"),
    108: ("CLI --target ./missing_file (no .csv suffix)", "unclear"),
    112: ("CLI --threshold 2 / --threshold nan", "silent"),
    113: ("CLI --seed -1", "unclear"),
    114: ("CLI --device nonsense", "unclear"),
    115: ("CLI target: truncated .csv.gz", "crash"),
    116: ("CLI target: non-gzip .csv.gz / latin-1 byte", "unclear"),
    119: ("CLI select --out under a file / a directory / /proc", "silent"),
    120: ("CLI evaluate --out /proc/e.json", "silent"),
    121: ("CLI evaluate --with a malformed JSON", "unclear"),
    123: ("CLI --with JSON where \"selected\": \"bace\"", "unclear"),
    127: ("select JSON with a relative CSV, evaluate from another folder", "unclear"),
    131: ("score a classifier on regression labels", "unclear"),
    136: ("eval_set with no usable labels: best epoch falls back silently", "silent"),
    137: ("all-NaN eval_set without task types: contradictory message", "unclear"),
}

SMILES = ["CCO", "CCN", "CCC", "c1ccccc1", "CC(=O)O", "CCCl", "C1CCCCC1", "c1ccncc1",
          "CC(C)O", "OCC(O)CO"]
TINY = dict(hidden_dim=16, num_layers=2, batch_size=16, device="cpu")
DOCUMENTED_TYPES = (ValueError, TypeError, KeyError, OSError)


# -- running one call and judging it ----------------------------------------------------------
@dataclass
class Check:
    """One observation inside a probe: what happened, and the verdict of its rule."""

    label: str
    verdict: str
    happened: str


@dataclass
class Attempt:
    value: object = None
    error: BaseException | None = None
    warnings: tuple = ()
    seconds: float = 0.0


def attempt(fn):
    """Call ``fn``, recording its value or exception, its warnings and its duration."""
    with Stopwatch() as clock, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value, error = fn(), None
        except Exception as exc:  # noqa: BLE001 - recording every failure is the point
            value, error = None, exc
    return Attempt(value, error, tuple(caught), clock.seconds)


def _short(text, limit=230):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _error_text(exc):
    return _short(f"{type(exc).__name__}: {exc}")


def _warning_texts(att, category=Warning):
    return [str(w.message) for w in att.warnings if issubclass(w.category, category)]


def _missing(text, needles):
    return [n for n in needles if not re.search(n, text)]


def expect_error(label, fn, types=(ValueError,), needles=(), within=None):
    """Rule: raises one of ``types`` whose message matches every regex in ``needles``
    (what and where), within ``within`` seconds when given.

    No exception: silent.  Another documented type, or a message without a needle:
    unclear.  Any other exception type: crash.
    """
    att = attempt(fn)
    if att.error is None:
        return Check(label, "silent", f"{label}: no error (returned "
                     f"{_short(repr(att.value), 80)})")
    happened = f"{label}: {_error_text(att.error)}"
    if within is not None and att.seconds > within:
        return Check(label, "silent", f"{happened} after {att.seconds:.1f} s (> {within} s)")
    if not isinstance(att.error, types):
        verdict = "unclear" if isinstance(att.error, DOCUMENTED_TYPES) else "crash"
        return Check(label, verdict, happened)
    lacking = _missing(str(att.error), needles)
    if lacking:
        return Check(label, "unclear", f"{happened} [lacks {lacking}]")
    return Check(label, "good", happened)


def expect_warning(label, fn, needles, category=UserWarning, check=None):
    """Rule: completes and warns (``category``) with a message matching every regex in
    ``needles``, and ``check(value)`` holds when given.

    No such warning, or a failed check: silent.  An exception: crash (unclear for a
    documented error type).
    """
    att = attempt(fn)
    if att.error is not None:
        verdict = "unclear" if isinstance(att.error, DOCUMENTED_TYPES) else "crash"
        return Check(label, verdict, f"{label}: {_error_text(att.error)}")
    texts = _warning_texts(att, category)
    match = [t for t in texts if not _missing(t, needles)]
    if not match:
        return Check(label, "silent", f"{label}: no matching warning (got "
                     f"{[_short(t, 80) for t in texts] or 'none'})")
    if check is not None and not check(att.value):
        return Check(label, "silent", f"{label}: warned but the result is wrong: "
                     f"{_short(match[0], 120)}")
    return Check(label, "good", f"{label}: {category.__name__}: {_short(match[0])}")


def expect_ok(label, fn, check, describe=repr):
    """Rule: completes and ``check(value)`` holds (a documented recovery).

    A failed check: silent.  An exception: crash (unclear for a documented error type).
    """
    att = attempt(fn)
    if att.error is not None:
        verdict = "unclear" if isinstance(att.error, DOCUMENTED_TYPES) else "crash"
        return Check(label, verdict, f"{label}: {_error_text(att.error)}")
    good = bool(check(att.value))
    return Check(label, "good" if good else "silent",
                 f"{label}: {_short(describe(att.value), 160)}")


@contextlib.contextmanager
def patched(obj, name, value):
    old = getattr(obj, name)
    setattr(obj, name, value)
    try:
        yield
    finally:
        setattr(obj, name, old)


def cli(*argv):
    """Run ``molselect`` in this process: (return code, stdout, stderr, data loads)."""
    import molselect.cli as cli_module
    import molselect.cli._inputs as inputs

    loads = []
    original = inputs.load_target

    def counting(*args, **kwargs):
        loads.append(args[0])
        return original(*args, **kwargs)

    out, err = io.StringIO(), io.StringIO()
    with patched(inputs, "load_target", counting), contextlib.redirect_stdout(out), \
            contextlib.redirect_stderr(err), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            code = cli_module.main([str(a) for a in argv])
        except SystemExit as exc:  # argparse
            code = exc.code
        except BaseException:  # noqa: BLE001 - an escaping exception is a traceback
            err.write(traceback.format_exc())
            code = "exception"
    return code, out.getvalue(), err.getvalue(), len(loads)


def expect_cli(label, argv, needles=(), rc=2, before_data=False):
    """Rule: ``molselect ARGV`` exits with ``rc`` and no traceback, stderr matches every
    regex in ``needles``, and with ``before_data`` no data was loaded first.

    rc 0: silent.  A traceback: crash.  The failure only after the data was loaded (the
    work is lost): silent.  Otherwise another rc or a message without a needle: unclear.
    """
    code, _, err, loads = cli(*argv)
    last = _short(err.strip().splitlines()[-1] if err.strip() else "(nothing on stderr)")
    happened = f"{label}: rc {code}, {last}"
    if "Traceback" in err or code == "exception":
        return Check(label, "crash", happened)
    if code == 0:
        return Check(label, "silent", happened)
    if before_data and loads:
        return Check(label, "silent", happened + " (after loading the data)")
    lacking = _missing(err, needles)
    if code != rc or lacking:
        return Check(label, "unclear", happened + (f" [lacks {lacking}]" if lacking else ""))
    return Check(label, "good", happened + (" (before loading any data)" if before_data
                                            else ""))


def run_test(node, label, timeout=900):
    """Rule: the test of tests/test_reliability.py that reproduces the probe passes."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:xdist", "-q",
                           "-p", "no:cacheprovider", f"tests/test_reliability.py::{node}"],
                          cwd=REPO, capture_output=True, text=True, timeout=timeout, env=env)
    summary = _short(proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else "")
    return Check(label, "good" if proc.returncode == 0 else "silent",
                 f"{label}: pytest {node}: {summary}")


# -- shared data ---------------------------------------------------------------------------
_DATA = {}


def small():
    """A 40-molecule BBBP target, its validation split, two 30-molecule candidates, and
    ESOL's validation split (another task)."""
    if "target" not in _DATA:
        from molselect.datasets import load_dataset

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            bbbp = load_dataset("bbbp")
            esol = load_dataset("esol")
            _DATA["target"] = bbbp.train.subset(np.arange(0, 400, 10), name="bbbp")
            _DATA["valid"] = bbbp.valid.subset(np.arange(40))
            _DATA["pool"] = {
                "bace": load_dataset("bace").train.subset(np.arange(30), name="bace"),
                "esol": esol.train.subset(np.arange(30), name="esol")}
            _DATA["esol_valid"] = esol.valid.subset(np.arange(40))
            _DATA["bbbp_text"] = bbbp.full.to_frame().to_csv(index=False)
    return _DATA


def workdir():
    return Path(tempfile.mkdtemp(prefix="probe-", dir=_DATA["tmp"]))


def csv_with_label(path, value, column="logS", n=5):
    path.write_text(f"smiles,{column}\n" + "".join(f"{s},{i % 2}\n" for i, s in
                                                  enumerate(SMILES[:n])) + f"CCCC,{value}\n")
    return path


# -- the probes ------------------------------------------------------------------------------
PROBES = {}


def probe(number):
    def register(fn):
        PROBES[number] = fn
        return fn
    return register


@probe(7)
def probe_7():
    """good: ValueError saying the values are not strings, with the value and its row."""
    from molselect.datasets import from_frame

    mixed = pd.DataFrame({"smiles": ["CCO", 42, b"CCN"], "y": [0, 1, 0]})
    ints = pd.DataFrame({"smiles": [1, 2, 3, 4], "y": [0, 1, 0, 1]})
    return [expect_error("42 and b'CCN'", lambda: from_frame(mixed),
                         needles=["not strings", "42", r"rows .*1"]),
            expect_error("int column", lambda: from_frame(ints),
                         needles=["not strings", r"rows .*0, 1, 2, 3"])]


@probe(10)
def probe_10():
    """good: refused in under 5 s as too long (not 'could not be parsed'), naming the row,
    the length and the limit; featurize refuses it; canonical_keys / find_overlap give it no
    key and no match (as an unparsable SMILES), in under 5 s."""
    from molselect.datasets import canonical_keys, find_overlap, from_frame
    from molselect.featurize import featurize

    huge = "C" * 100_000
    frame = pd.DataFrame({"smiles": ["CCO", huge, "CCN"], "y": [0, 1, 0]})
    checks = [
        expect_error("from_frame", lambda: from_frame(frame, name="big"), within=5,
                     needles=["'big'", "too long", r"rows .*1 \(", "100,000 characters",
                              "MAX_SMILES_LENGTH = 5,000"]),
        expect_error("featurize", lambda: featurize([huge], cache=False), within=5,
                     needles=["too long", "100,000 characters", "MAX_SMILES_LENGTH"]),
    ]
    if "could not be parsed" in checks[0].happened:
        checks[0] = Check(checks[0].label, "unclear", checks[0].happened + " [says unparsable]")
    with Stopwatch() as clock:
        keys = canonical_keys([huge]).tolist()
        overlap = find_overlap(["CCO", huge], [huge, "OCC"]).tolist()
    seconds = clock.seconds
    good = keys == [None] and overlap == [False, True] and seconds < 5
    checks.append(Check("keys", "good" if good else "silent",
                        f"canonical_keys: {keys}, find_overlap: {overlap} in {seconds:.2f} s "
                        "(no key and no match, as for an unparsable SMILES)"))
    return checks


@probe(15)
def probe_15():
    """good: both junk strings are rejected as invalid SMILES with their rows."""
    from molselect.datasets import from_frame

    frame = pd.DataFrame({"smiles": ["CCO", "☃CC", "\x00C", "CCN"], "y": [0, 1, 0, 1]})
    return [expect_error("from_frame", lambda: from_frame(frame),
                         needles=["2 SMILES", r"rows .*1 .*2 "])]


@probe(16)
def probe_16():
    """good: a ValueError naming row 1 (raise); dropped and counted with 'drop'."""
    from molselect.datasets import from_frame

    frame = pd.DataFrame({"smiles": ["CCO", "C\udcffC", "CCN"], "y": [0, 1, 0]})
    return [expect_error("raise", lambda: from_frame(frame), needles=[r"rows .*1 "]),
            expect_warning("drop", lambda: from_frame(frame, on_invalid="drop"),
                           needles=["dropped 1"],
                           check=lambda d: d.dropped_rows.tolist() == [1] and len(d) == 2)]


@probe(19)
def probe_19():
    """good: the message says that row numbers are positions, not index labels."""
    from molselect.datasets import from_frame

    frame = pd.DataFrame({"smiles": ["CCO", "CCN", "xx", "CCC"], "y": [0, 1, 0, 1]},
                         index=[100, 101, 102, 103])
    return [expect_error("index 100..103", lambda: from_frame(frame),
                         needles=["positions, not index labels", r"rows .* 2 "])]


@probe(24)
def probe_24():
    """good: ValueError naming the file and the encoding problem."""
    from molselect.datasets import from_csv

    path = workdir() / "latin.csv"
    path.write_bytes("smiles,y\nCCO,1\nCC\xe9,0\n".encode("latin-1"))
    return [expect_error("latin-1", lambda: from_csv(path),
                         needles=[r"latin\.csv", "UTF-8", "encoding"])]


@probe(25)
def probe_25():
    """good: ValueError naming the file and saying it is not gzip."""
    from molselect.datasets import from_csv

    path = workdir() / "fake.csv.gz"
    path.write_text("no gzip here\n")
    return [expect_error("not gzip", lambda: from_csv(path),
                         needles=[r"fake\.csv\.gz", "gzip"])]


def _truncated(path):
    data = gzip.compress(small()["bbbp_text"].encode())
    path.write_bytes(data[: len(data) // 2])
    return path


@probe(26)
def probe_26():
    """good: ValueError naming the file and saying it is truncated (not EOFError)."""
    from molselect.datasets import from_csv

    path = _truncated(workdir() / "t.csv.gz")
    return [expect_error("truncated", lambda: from_csv(path),
                         needles=[r"t\.csv\.gz", "truncated"])]


@probe(30)
def probe_30():
    """good: GINClassifier.fit refuses a target with a single class."""
    from molselect.datasets import MoleculeDataset
    from molselect.models import GINClassifier

    data = MoleculeDataset(SMILES, np.zeros(10), task_types="classification", name="t")
    return [expect_error("all zeros", lambda: GINClassifier(epochs=1, **TINY).fit(data),
                         needles=["one class"])]


@probe(31)
def probe_31():
    """good: inferring regression from integer labels 0/1/2 warns, naming the column."""
    from molselect.datasets import from_frame

    frame = pd.DataFrame({"smiles": SMILES, "y": [0, 1, 2] * 3 + [1]})
    return [expect_warning("0/1/2", lambda: from_frame(frame),
                           needles=["'y'", "integer labels 0, 1, 2"],
                           check=lambda d: d.task_types == ["regression"])]


@probe(32)
def probe_32():
    """good: forced classification on 0/1/2 is refused by from_frame and by a selector."""
    from molselect.datasets import from_frame
    from molselect.selectors import MolGroupSelector

    frame = pd.DataFrame({"smiles": SMILES, "y": [0, 1, 2] * 3 + [1]})

    class Duck:
        ids = np.array(SMILES, dtype=object)
        y = np.array([0, 1, 2, 1, 0, 1, 0, 1, 0, 1], dtype=float)
        task_types = ["classification"]

    d = small()
    return [expect_error("from_frame", lambda: from_frame(frame, task_types="classification"),
                         needles=["'y'", "other than 0 and 1"]),
            expect_error("MolGroupSelector", lambda: MolGroupSelector(
                n_rounds=1, epochs=2, **TINY).fit(d["target"], {"duck": Duck(), **d["pool"]}),
                needles=["duck", "other than 0 and 1"])]


@probe(33)
def probe_33():
    """good: an inf target label is refused before training, naming the column and row
    (a MoleculeDataset, and a duck-typed target given to MolGroupSelector)."""
    from molselect.datasets import MoleculeDataset
    from molselect.selectors import MolGroupSelector

    d = small()
    ids, y = d["target"].ids, d["target"].y.copy()
    y[3, 0] = np.inf

    class Duck:
        pass

    duck = Duck()
    duck.ids, duck.y = ids, y
    return [expect_error("MoleculeDataset", lambda: MoleculeDataset(ids, y, name="t"),
                         needles=["'t'", "column", "row 3"]),
            expect_error("duck target", lambda: MolGroupSelector(
                n_rounds=1, epochs=2, top_k=2, **TINY).fit(duck, d["pool"]),
                needles=["non-finite|inf", "row 3"])]


@probe(34)
def probe_34():
    """good: a 1e309 label in a candidate CSV is refused naming the file, column and row,
    by from_csv and by `molselect select` (rc 2, before any training)."""
    from molselect.datasets import from_csv

    path = csv_with_label(workdir() / "esol_big.csv", "1e309")
    return [expect_error("from_csv", lambda: from_csv(path),
                         needles=[r"esol_big\.csv", "'logS'", "row 5"]),
            expect_cli("CLI select", ["select", "--target", "bbbp", "--candidates",
                                      f"{path},bace,clintox", "--max-molecules", "30",
                                      "--epochs", "2", "--rounds", "1", "--hidden-dim", "16",
                                      "--num-layers", "2", "--device", "cpu", "--quiet"],
                       needles=[r"esol_big\.csv", "logS", "row 5"])]


@probe(35)
def probe_35():
    """good: an inf in a 0/1 CSV column is refused naming the file, column and row."""
    from molselect.datasets import from_csv

    path = csv_with_label(workdir() / "bbbp_inf.csv", "inf", column="p_np")
    return [expect_error("from_csv", lambda: from_csv(path),
                         needles=[r"bbbp_inf\.csv", "'p_np'", "row 5"])]


@probe(36)
def probe_36():
    """good: GINRegressor.fit refuses an inf label (MoleculeDataset and duck-typed)."""
    from molselect.datasets import MoleculeDataset
    from molselect.models import GINRegressor

    class Duck:
        ids = np.array(SMILES[:4], dtype=object)
        y = np.array([[1.0], [np.inf], [2.0], [3.0]])

    return [expect_error("MoleculeDataset", lambda: MoleculeDataset(
                SMILES[:4], [1.0, 2.0, np.inf, 3.0], name="d"), needles=["'d'", "row 2"]),
            expect_error("duck", lambda: GINRegressor(epochs=1, **TINY).fit(Duck()),
                         needles=["non-finite|inf", "row 1"])]


@probe(37)
def probe_37():
    """good: `molselect evaluate --with` a CSV holding 1e309 names the file, column, row."""
    path = csv_with_label(workdir() / "esol_big.csv", "1e309")
    return [expect_cli("CLI evaluate", ["evaluate", "--target", "bbbp", "--with", path,
                                        "--max-molecules", "30", "--epochs", "1",
                                        "--hidden-dim", "16", "--num-layers", "2",
                                        "--seeds", "0", "--device", "cpu", "--quiet"],
                       needles=[r"esol_big\.csv", "logS", "row 5"])]


@probe(41)
def probe_41():
    """good: a ValueError about w's shape (not an IndexError), built directly or duck-typed."""
    from molselect.datasets import MoleculeDataset, as_dataset

    class Duck:
        ids = np.array(SMILES, dtype=object)
        y = np.ones((10, 1))
        w = np.ones((9, 1))

    return [expect_error("MoleculeDataset", lambda: MoleculeDataset(
                SMILES[:4], np.ones(4), w=np.ones((3, 1)), name="d"), needles=["w has shape"]),
            expect_error("duck", lambda: as_dataset(Duck(), name="duck"),
                         needles=["w has shape"])]


@probe(42)
def probe_42():
    """good: invalid SMILES found at featurization name the dataset and its role."""
    from molselect.datasets import MoleculeDataset
    from molselect.models import GINClassifier
    from molselect.selectors import TAGSelector

    d = small()
    bad = MoleculeDataset(["CCO", "xx", "CCN"], [1.0, 2.0, 3.0], name="mine")
    bad_target = MoleculeDataset(["CCO", "xx", "CCN", "CCC"], [0, 1, 0, 1], name="t",
                                 task_types="classification")
    return [expect_error("auxiliary", lambda: TAGSelector(epochs=1, random_state=0, **TINY)
                         .fit(d["target"], {"mine": bad}),
                         needles=["auxiliary dataset 'mine'", "1: 'xx'"]),
            expect_error("target", lambda: GINClassifier(epochs=1, **TINY).fit(bad_target),
                         needles=["target dataset 't'", "1: 'xx'"])]


@probe(43)
def probe_43():
    """good: fit and predict refuse '' SMILES (RDKit reads them as 0-atom molecules)."""
    from molselect.datasets import MoleculeDataset
    from molselect.models import GINClassifier

    data = MoleculeDataset(["CCO", "", "CCN", "CCC"], [0, 1, 0, 1], name="d",
                           task_types="classification")
    fitted = GINClassifier(epochs=1, **TINY).fit(
        MoleculeDataset(["CCO", "CCC", "CCN", "CCCC"], [0, 1, 0, 1], name="ok",
                        task_types="classification"))
    return [expect_error("fit", lambda: GINClassifier(epochs=1, **TINY).fit(data),
                         needles=["'d'", "empty SMILES", "position"]),
            expect_error("predict", lambda: fitted.predict(["", "CCO"]),
                         needles=["empty SMILES"])]


@probe(45)
def probe_45():
    """good: '' in a pandas-3 'str' column is a missing label (the documented rule)."""
    from molselect.datasets import from_frame

    frame = pd.DataFrame({"smiles": SMILES[:3], "y": pd.Series(["0", "1", ""], dtype="str")})
    return [expect_ok(f"dtype {frame['y'].dtype}", lambda: from_frame(frame),
                      check=lambda d: np.isnan(d.y[2, 0]) and d.y[:2, 0].tolist() == [0, 1],
                      describe=lambda d: f"labels {d.y[:, 0].tolist()} (NaN = missing)")]


@probe(46)
def probe_46():
    """good: complex and datetime labels are refused, naming the column."""
    from molselect.datasets import from_frame

    complex_frame = pd.DataFrame({"smiles": SMILES[:2], "y": [1 + 2j, 3]})
    dates = pd.DataFrame({"smiles": SMILES[:2],
                          "y": pd.to_datetime(["2020-01-01", "2021-01-01"])})
    return [expect_error("complex", lambda: from_frame(complex_frame),
                         needles=["'y'", "complex"]),
            expect_error("datetime", lambda: from_frame(dates), needles=["'y'", "dates"])]


@probe(48)
def probe_48():
    """good: an auxiliary identical to the target is warned about, by name."""
    from molselect.selectors import FingerprintSimilaritySelector

    d = small()
    return [expect_warning("fingerprint selector", lambda: FingerprintSimilaritySelector(
        top_k=1).fit(d["target"], {"copy": d["target"], **d["pool"]}),
        needles=["'copy'", "copy of the target"])]


@probe(54)
def probe_54():
    """good: every out-of-range or NaN threshold is refused, naming `threshold`."""
    from molselect.selectors import FingerprintSimilaritySelector, MolGroupSelector, TAGSelector

    d = small()
    makers = [("MolGroup 1.5", lambda: MolGroupSelector(threshold=1.5, n_rounds=1, epochs=2,
                                                         **TINY)),
              ("MolGroup -0.5", lambda: MolGroupSelector(threshold=-0.5, n_rounds=1, epochs=2,
                                                          **TINY)),
              ("MolGroup nan", lambda: MolGroupSelector(threshold=math.nan, n_rounds=1,
                                                         epochs=2, **TINY)),
              ("TAG 5", lambda: TAGSelector(threshold=5.0, epochs=1, **TINY)),
              ("fingerprint nan", lambda: FingerprintSimilaritySelector(threshold=math.nan))]
    return [expect_error(label, lambda make=make: make().fit(d["target"], d["pool"]),
                         needles=["threshold must be"]) for label, make in makers]


@probe(55)
def probe_55():
    """good: a string threshold is refused naming `threshold` (not a numpy UFuncTypeError)."""
    from molselect.selectors import MolGroupSelector

    d = small()
    return [expect_error("'0.5'", lambda: MolGroupSelector(threshold="0.5", n_rounds=1,
                                                           epochs=2, **TINY)
                         .fit(d["target"], d["pool"]), needles=["threshold must be"])]


def _device_checks(bad):
    from molselect.models import GINClassifier
    from molselect.selectors import MolGroupSelector, TAGSelector

    d = small()
    tiny = dict(hidden_dim=16, num_layers=2, batch_size=16)
    return [
        expect_error(f"MolGroup {bad!r}", lambda: MolGroupSelector(
            n_rounds=1, epochs=2, device=bad, **tiny).fit(d["target"], d["pool"]),
            needles=["device"]),
        expect_error(f"TAG {bad!r}", lambda: TAGSelector(
            epochs=1, device=bad, **tiny).fit(d["target"], d["pool"]), needles=["device"]),
        expect_error(f"GIN {bad!r}", lambda: GINClassifier(
            epochs=1, device=bad, **tiny).fit(d["target"]), needles=["device"])]


@probe(60)
def probe_60():
    """good: device='nonsense' gives a ValueError naming `device` (MolGroup, TAG, GIN)."""
    return _device_checks("nonsense")


@probe(61)
def probe_61():
    """good: device=3 / 'mps' / 'meta' give a ValueError naming `device`, not a crash."""
    checks = []
    for bad in (3, "mps", "meta"):
        checks += _device_checks(bad)
    return checks


@probe(62)
def probe_62():
    """good: RandomState and Generator are accepted by MolGroup, GIN, TAG, Random and
    BeamSearch (the documented types), fitting without error."""
    from molselect.models import GINClassifier
    from molselect.selectors import (BeamSearchSelector, MolGroupSelector, RandomSelector,
                                     TAGSelector)

    d = small()
    one = {"bace": d["pool"]["bace"]}
    checks = []
    for kind, make in (("RandomState", lambda: np.random.RandomState(0)),
                       ("Generator", lambda: np.random.default_rng(0))):
        checks += [
            expect_ok(f"MolGroup {kind}", lambda make=make: MolGroupSelector(
                n_rounds=1, epochs=2, top_k=1, random_state=make(), **TINY).fit(
                d["target"], one), check=lambda s: len(s.affinity_) == 1,
                describe=lambda s: f"fitted, affinity {s.affinity_.round(3).tolist()}"),
            expect_ok(f"GIN {kind}", lambda make=make: GINClassifier(
                epochs=1, random_state=make(), **TINY).fit(d["target"]),
                check=lambda m: hasattr(m, "model_"), describe=lambda m: "fitted"),
            expect_ok(f"TAG {kind}", lambda make=make: TAGSelector(
                epochs=1, random_state=make(), **TINY).fit(d["target"], d["pool"]),
                check=lambda s: len(s.affinity_) == 2, describe=lambda s: "fitted"),
            expect_ok(f"Random {kind}", lambda make=make: RandomSelector(
                top_k=1, random_state=make()).fit(d["target"], d["pool"]),
                check=lambda s: len(s.selected_) == 1, describe=lambda s: "fitted"),
            expect_ok(f"BeamSearch {kind}", lambda make=make: BeamSearchSelector(
                beam_width=1, depth=1, epochs=1, random_state=make(), **TINY).fit(
                d["target"], d["pool"], eval_set=d["valid"]),
                check=lambda s: len(s.affinity_) == 2, describe=lambda s: "fitted")]
    return checks


@probe(63)
def probe_63():
    """good: random_state=-1 names `random_state`; `--seed -1` names --seed, rc 2, before
    loading any data."""
    from molselect.selectors import MolGroupSelector

    d = small()
    return [expect_error("MolGroup -1", lambda: MolGroupSelector(
                n_rounds=1, epochs=2, random_state=-1, **TINY).fit(d["target"], d["pool"]),
                needles=["random_state must be"]),
            expect_cli("CLI --seed -1", ["select", "--target", "bbbp", "--candidates", "bace",
                                         "--seed", "-1"], needles=["--seed"], before_data=True)]


@probe(64)
def probe_64():
    """good: an eval_set of another task (ESOL for a BBBP target) is refused, naming it."""
    from molselect.selectors import BeamSearchSelector, MolGroupSelector

    d = small()
    return [expect_error(name, lambda make=make: make().fit(
                d["target"], d["pool"], eval_set=[d["esol_valid"]]),
                needles=[r"eval_set\[0\]", "task"])
            for name, make in (("BeamSearch", lambda: BeamSearchSelector(
                                    epochs=1, random_state=0, **TINY)),
                               ("MolGroup", lambda: MolGroupSelector(
                                   epochs=2, n_rounds=1, random_state=0, **TINY)))]


@probe(71)
def probe_71():
    """good: the ranking does not depend on the candidates' order, or the user guide says
    that it can (the review's complaint: 'not documented')."""
    from molselect.selectors import MolGroupSelector

    d = small()
    forward = {"bace": d["pool"]["bace"], "esol": d["pool"]["esol"]}
    backward = dict(reversed(list(forward.items())))

    def affinities(pool):
        sel = MolGroupSelector(n_rounds=1, epochs=2, top_k=2, threshold=0.0, random_state=0,
                               **TINY).fit(d["target"], pool)
        return sel.affinity_.sort_index().round(4).to_dict()

    att_f, att_b = attempt(lambda: affinities(forward)), attempt(lambda: affinities(backward))
    if att_f.error or att_b.error:
        return [Check("MolGroup", "crash", _error_text(att_f.error or att_b.error))]
    same = att_f.value == att_b.value
    guide = (REPO / "docs" / "user_guide" / "selectors.rst").read_text()
    documented = bool(re.search(r"ranking can depend on the order", " ".join(guide.split())))
    return [Check("order", "good" if same or documented else "unclear",
                  f"affinities forward {att_f.value}, reversed {att_b.value} "
                  f"({'equal' if same else 'differ'}); user guide documents the order "
                  f"dependence: {documented}")]


@probe(76)
def probe_76():
    """good: the default rule (same InChIKey) and its consequence for stereo variants are
    documented, and match='skeleton' removes the variants."""
    return _leakage_variants(["C[C@@H](N)C(=O)O", "CC(N)C(=O)O", "C/C=C\\C"], "enantiomer")


@probe(77)
def probe_77():
    """good: as 76, for salt and hydrate forms."""
    return _leakage_variants(["CCN.Cl", "CCN.O"], "salt")


def _leakage_variants(variants, word):
    from molselect.datasets import find_overlap

    held_out = ["C[C@H](N)C(=O)O", "C/C=C/C", "CCN"]
    default = find_overlap(held_out, variants).tolist()
    skeleton = find_overlap(held_out, variants, match="skeleton").tolist()
    guide = " ".join((REPO / "docs" / "user_guide" / "datasets.rst").read_text().split())
    documented = word in guide and "different* molecule" in guide
    good = not any(default) and all(skeleton) and documented
    return [Check("variants", "good" if good else "unclear",
                  f"{variants}: default match {default}, match='skeleton' {skeleton}; user "
                  f"guide spells out that they count as different molecules: {documented}")]


@contextlib.contextmanager
def env_var(name, value):
    old = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if old is None:
            del os.environ[name]
        else:
            os.environ[name] = old


def _cache_env():
    """A fresh feature cache folder of its own, for a probe that damages cache files."""
    folder = workdir()
    return env_var("MOLSELECT_CACHE", str(folder)), folder


@probe(84)
def probe_84():
    """good: crafted metadata (a JSON list) is detected with a warning and rebuilt."""
    from molselect.featurize import _cache

    env, folder = _cache_env()
    build = lambda: {"a": np.arange(3)}  # noqa: E731
    with env:
        _cache.load_or_build("probe", ["CCO"], build)
        (path,) = (folder / "probe").glob("*.npz")
        np.savez(path, a=np.arange(3),
                 __molselect_meta__=np.frombuffer(b'["a list"]', dtype=np.uint8))
        return [expect_warning("meta ['a list']", lambda: _cache.load_or_build(
            "probe", ["CCO"], build), needles=["corrupted"], category=RuntimeWarning,
            check=lambda out: np.array_equal(out["a"], np.arange(3)))]


@probe(85)
def probe_85():
    """good: a cache file without edge_attr is detected with a warning and rebuilt."""
    from molselect.featurize import _cache, featurize

    env, folder = _cache_env()
    with env:
        smiles = ["CCO", "c1ccccc1"]
        expected = featurize(smiles)
        (path,) = (folder / "ogb_graphs").glob("*.npz")
        with np.load(path) as npz:
            arrays = {k: npz[k] for k in npz.files if k not in ("edge_attr", "__molselect_meta__")}
        _cache._write(path, path.stem, arrays)
        return [expect_warning("no edge_attr", lambda: featurize(smiles),
                               needles=["missing array"], category=RuntimeWarning,
                               check=lambda g: np.array_equal(g.edge_attr, expected.edge_attr))]


@probe(91)
def probe_91():
    """good: under umask 022 a cache file is 0644 (shareable), and a file that cannot be
    read is reported as unreadable, not 'corrupted'.  (Reading as another user is
    simulated by a PermissionError: this script does not switch users.)"""
    import stat

    from molselect.featurize import _cache

    env, folder = _cache_env()
    build = lambda: {"a": np.arange(3)}  # noqa: E731
    with env:
        previous = os.umask(0o022)
        try:
            _cache.load_or_build("probe", ["CCO"], build)
        finally:
            os.umask(previous)
        (path,) = (folder / "probe").glob("*.npz")
        mode = stat.S_IMODE(path.stat().st_mode)

        def denied(*args):
            raise PermissionError(13, "Permission denied")

        with patched(_cache, "_read", denied):
            att = attempt(lambda: _cache.load_or_build("probe", ["CCO"], build))
    texts = _warning_texts(att, RuntimeWarning)
    unreadable = any("cannot be read" in t for t in texts) and \
        not any("corrupted" in t for t in texts)
    return [Check("mode", "good" if mode == 0o644 else "unclear", f"file mode {oct(mode)}"),
            Check("unreadable", "good" if unreadable and att.error is None else "unclear",
                  f"PermissionError on read: {texts or 'no warning'}")]


@probe(92)
def probe_92():
    """good: the cache's location (MOLSELECT_CACHE) and how to clear it are documented in
    the user guide, and it can be limited or cleared by molselect itself.  Documented but
    with no size limit and no clear command stays 'missing' (what the review asked for)."""
    import molselect.cli as cli_module

    guide = " ".join((REPO / "docs" / "user_guide" / "datasets.rst").read_text().split())
    documented = "MOLSELECT_CACHE" in guide and "delete the folder to clear it" in guide
    command = any(c.NAME == "cache" for c in cli_module.COMMANDS)
    from molselect.featurize import _cache

    limit = any(name in Path(_cache.__file__).read_text() for name in
                ("MOLSELECT_CACHE_SIZE", "max_bytes", "size_limit"))
    verdict = "good" if documented and (command or limit) else "missing"
    return [Check("cache", verdict,
                  f"user guide documents MOLSELECT_CACHE and clearing: {documented}; a "
                  f"`molselect cache` command: {command}; a size limit: {limit}")]


def _data_home(name, payload):
    folder = workdir()
    (folder / f"{name}.csv.gz").write_bytes(payload)
    return folder


@probe(93)
def probe_93():
    """good: a truncated data-home file raises a ValueError naming it and the remedy."""
    from molselect.datasets import load_dataset

    data = gzip.compress(small()["bbbp_text"].encode())
    home = _data_home("bbbp", data[: len(data) // 2])
    return [expect_error("truncated bbbp", lambda: load_dataset("bbbp", data_home=home),
                         needles=[r"bbbp\.csv\.gz", "truncated", "Delete"])]


@probe(94)
def probe_94():
    """good: a non-gzip or empty data-home file raises a ValueError naming it and the remedy."""
    from molselect.datasets import load_dataset

    esol = _data_home("esol", b"no gzip here")
    lipo = _data_home("lipo", b"")
    return [expect_error("non-gzip esol", lambda: load_dataset("esol", data_home=esol),
                         needles=[r"esol\.csv\.gz", "gzip", "Delete"]),
            expect_error("empty lipo", lambda: load_dataset("lipo", data_home=lipo),
                         needles=[r"lipo\.csv\.gz", "empty"])]


@probe(95)
def probe_95():
    """good: a data-home hiv.csv.gz cut to 49 rows loads with a warning giving both counts."""
    from molselect.datasets import load_dataset

    shared = os.environ.get("MOLSELECT_DATA")
    source = Path(shared) / "hiv.csv.gz" if shared else None
    if source is not None and source.exists():
        name, text = "hiv", pd.read_csv(source, nrows=49).to_csv(index=False)
    else:  # without the shared data home, the same check on bbbp
        name, text = "bbbp", "\n".join(small()["bbbp_text"].splitlines()[:50]) + "\n"
    home = _data_home(name, gzip.compress(text.encode()))
    expected = {"hiv": "41127", "bbbp": "2039"}[name]
    return [expect_warning(f"{name} cut to 49 rows", lambda: load_dataset(
        name, data_home=home), needles=["has 49 rows", expected])]


@probe(98)
def probe_98():
    """good: a selection killed in round 2 resumes from its checkpoint with the same result
    (test_killed_selection_resumes_from_its_checkpoint_with_the_same_result), and the CLI
    has --checkpoint."""
    code, out, _, _ = cli("select", "--help")
    option = "--checkpoint" in out
    check = run_test("test_killed_selection_resumes_from_its_checkpoint_with_the_same_result",
                     "resume")
    if check.verdict == "silent":
        check.verdict = "missing"
    if not option:
        check = Check("resume", "missing", check.happened + "; no --checkpoint in the CLI")
    else:
        check.happened += "; `molselect select --checkpoint FILE` exists"
    return [check]


@probe(100)
def probe_100():
    """good: after SIGTERM during featurize(n_jobs=2) no worker process is left
    (test_sigterm_during_parallel_featurization_leaves_no_workers)."""
    return [run_test("test_sigterm_during_parallel_featurization_leaves_no_workers", "SIGTERM")]


@probe(104)
def probe_104():
    """good: after a KeyboardInterrupt in a refit on new candidates, the selector has no
    selected_ / affinity_ left from the previous fit."""
    from molselect.selectors import MolGroupSelector, molgroup

    d = small()
    sel = MolGroupSelector(n_rounds=1, epochs=2, top_k=1, random_state=0, **TINY)
    sel.fit(d["target"], {"esol": d["pool"]["esol"]})
    before = list(sel.selected_)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    with patched(molgroup, "train", interrupted):
        try:
            sel.fit(d["target"], {"bace": d["pool"]["bace"]})
            raised = False
        except KeyboardInterrupt:
            raised = True
    stale = [a for a in ("selected_", "affinity_", "feature_names_in_") if hasattr(sel, a)]
    return [Check("refit", "good" if raised and not stale else "silent",
                  f"first fit selected {before}; interrupted refit: KeyboardInterrupt "
                  f"{'raised' if raised else 'not raised'}, attributes left: {stale or 'none'}")]


@probe(108)
def probe_108():
    """good: rc 2 and a message saying no such file exists."""
    return [expect_cli("./missing_file", ["select", "--target", "./missing_file",
                                          "--candidates", "bace"], needles=["No file"])]


@probe(112)
def probe_112():
    """good: rc 2 naming --threshold, before loading any data."""
    return [expect_cli(f"--threshold {t}", ["select", "--target", "bbbp", "--candidates",
                                            "bace", "--threshold", t],
                       needles=["--threshold"], before_data=True) for t in ("2", "nan")]


@probe(113)
def probe_113():
    """good: rc 2 naming --seed, before loading any data."""
    return [expect_cli("--seed -1", ["select", "--target", "bbbp", "--candidates", "bace",
                                     "--seed", "-1"], needles=["--seed"], before_data=True)]


@probe(114)
def probe_114():
    """good: rc 2 naming --device for nonsense (cuda without CUDA: rc 2 too)."""
    import torch

    checks = [expect_cli("--device nonsense", ["select", "--target", "bbbp", "--candidates",
                                               "bace", "--device", "nonsense"],
                         needles=["--device"], before_data=True)]
    if not torch.cuda.is_available():
        checks.append(expect_cli("--device cuda", ["select", "--target", "bbbp",
                                                   "--candidates", "bace", "--device", "cuda"],
                                 needles=["CUDA"]))
    return checks


@probe(115)
def probe_115():
    """good: rc 2, the file named as truncated, no traceback."""
    path = _truncated(workdir() / "t.csv.gz")
    return [expect_cli("truncated target", ["select", "--target", path, "--candidates",
                                            "bace"], needles=[r"t\.csv\.gz", "truncated"])]


@probe(116)
def probe_116():
    """good: rc 2 and the file named, for a non-gzip .csv.gz and a latin-1 byte."""
    folder = workdir()
    fake = folder / "fake.csv.gz"
    fake.write_text("no gzip here\n")
    latin = folder / "latin.csv"
    latin.write_bytes("smiles,y\nCCO,1\nCC\xe9,0\n".encode("latin-1"))
    return [expect_cli("non-gzip", ["select", "--target", fake, "--candidates", "bace"],
                       needles=[r"fake\.csv\.gz", "gzip"]),
            expect_cli("latin-1", ["select", "--target", latin, "--candidates", "bace"],
                       needles=[r"latin\.csv", "UTF-8"])]


@probe(119)
def probe_119():
    """good: a bad --out (under a file, a directory, /proc) fails with rc 2 naming --out
    and the path, before loading any data."""
    folder = workdir()
    (folder / "small.csv").write_text("x\n")
    base = ["select", "--target", "bbbp", "--candidates", "bace", "--method", "fingerprint",
            "--max-molecules", "30", "--quiet", "--out"]
    return [expect_cli(label, base + [out], needles=["--out", re.escape(str(out))],
                       before_data=True)
            for label, out in (("under a file", folder / "small.csv" / "r.json"),
                               ("a directory", folder), ("/proc", "/proc/r.json"))]


@probe(120)
def probe_120():
    """good: `evaluate --out /proc/e.json` fails with rc 2 naming --out before training."""
    return [expect_cli("/proc", ["evaluate", "--target", "bbbp", "--max-molecules", "30",
                                 "--epochs", "1", "--hidden-dim", "16", "--num-layers", "2",
                                 "--seeds", "0", "--device", "cpu", "--quiet",
                                 "--out", "/proc/e.json"],
                       needles=["--out"], before_data=True)]


@probe(121)
def probe_121():
    """good: rc 2 naming the malformed JSON file."""
    path = workdir() / "sel.json"
    path.write_text('{"selected": ["bace",}')
    return [expect_cli("malformed", ["evaluate", "--target", "bbbp", "--with", path],
                       needles=[r"sel\.json", "JSON"])]


@probe(123)
def probe_123():
    """good: rc 2 saying `selected` must be a list (not 'unknown dataset 'b'')."""
    path = workdir() / "sel.json"
    path.write_text(json.dumps({"selected": "bace"}))
    return [expect_cli("'selected': 'bace'", ["evaluate", "--target", "bbbp", "--with", path],
                       needles=["list"])]


@probe(127)
def probe_127():
    """good: `select` in one folder with a relative CSV candidate, then `evaluate --with`
    the JSON from another folder, finds the CSV (rc 0)."""
    from molselect.datasets import load_dataset

    folder = workdir()
    run_dir, elsewhere = folder / "run", folder / "elsewhere"
    run_dir.mkdir()
    elsewhere.mkdir()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        load_dataset("esol").full.to_frame().iloc[:200].to_csv(run_dir / "esol200.csv",
                                                                index=False)
    cwd = os.getcwd()
    try:
        os.chdir(run_dir)
        code, _, err, _ = cli("select", "--target", "bbbp", "--candidates", "esol200.csv,bace",
                              "--method", "fingerprint", "--max-molecules", "30", "--top-k",
                              "2", "--quiet", "--out", "r.json")
        if code != 0:
            return [Check("select", "crash" if "Traceback" in err else "unclear",
                          f"select: rc {code}, {_short(err)}")]
        selected = json.loads((run_dir / "r.json").read_text())["selected"]
        os.chdir(elsewhere)
        code, _, err, _ = cli("evaluate", "--target", "bbbp", "--with", run_dir / "r.json",
                              "--max-molecules", "30", "--epochs", "1", "--hidden-dim", "16",
                              "--num-layers", "2", "--seeds", "0", "--device", "cpu",
                              "--quiet")
    finally:
        os.chdir(cwd)
    verdict = "good" if code == 0 else ("crash" if "Traceback" in err else "unclear")
    last = _short(err.strip().splitlines()[-1]) if err.strip() else "nothing on stderr"
    return [Check("relative CSV", verdict, f"select chose {selected}; evaluate --with the "
                  f"JSON from another folder: rc {code}, {last}")]


@probe(131)
def probe_131():
    """good: scoring a classifier on regression labels says the task type / tasks differ
    (not sklearn's 'continuous format is not supported')."""
    from molselect.datasets import MoleculeDataset
    from molselect.models import GINClassifier

    d = small()
    est = GINClassifier(epochs=1, random_state=0, **TINY).fit(d["target"])
    renamed = MoleculeDataset(d["esol_valid"].ids, d["esol_valid"].y, tasks=d["target"].tasks,
                              task_types="regression")
    checks = [expect_error("esol valid", lambda: est.score(d["esol_valid"]),
                           needles=["task"]),
              expect_error("esol labels as p_np", lambda: est.score(renamed),
                           needles=["task types", "fitted on"])]
    for c in checks:
        if "continuous format" in c.happened:
            c.verdict = "unclear"
    return checks


@probe(136)
def probe_136():
    """good: an eval_set that cannot score in any epoch (all NaN, or one class) warns that
    the last epoch is kept."""
    from molselect.datasets import MoleculeDataset
    from molselect.models import GINClassifier

    d = small()
    valid = d["valid"]
    blank = MoleculeDataset(valid.ids, np.full(len(valid), np.nan),
                            task_types="classification", tasks=["p_np"])
    single = MoleculeDataset(valid.ids, np.zeros(len(valid)), task_types="classification",
                             tasks=["p_np"])
    return [expect_warning(label, lambda data=data: GINClassifier(
                epochs=1, random_state=0, **TINY).fit(d["target"], eval_set=data),
                needles=["could not choose the best epoch"])
            for label, data in (("all NaN", blank), ("one class", single))]


@probe(137)
def probe_137():
    """good: the message names the real cause: the eval_set has no labels, so its task
    type was inferred (not 'tasks ['p_np'] do not match ['p_np']')."""
    from molselect.datasets import MoleculeDataset
    from molselect.models import GINClassifier

    d = small()
    empty = MoleculeDataset(d["valid"].ids, np.full(len(d["valid"]), np.nan), tasks=["p_np"])
    return [expect_error("all-NaN eval_set", lambda: GINClassifier(epochs=1, **TINY).fit(
        d["target"], eval_set=empty), needles=["no labels at all"])]


# How a probe was run, where that matters for reading its verdict (whatever the verdict).
CAVEATS = {
    71: "good rests on the documentation (the review's complaint): MolGroup's affinities "
        "still change with the candidates' order",
    76: "good rests on the documentation and on the opt-in match='skeleton'; the default "
        "guard still keeps stereo variants",
    77: "as 76, for salt and hydrate forms",
    91: "reading as another user is simulated by a PermissionError from the reader: the "
        "script does not switch users",
    95: "uses hiv.csv.gz from MOLSELECT_DATA when it is there (as the review), else bbbp",
    98: "run as the test (a killed subprocess); only MolGroupSelector has a checkpoint "
        "(`--checkpoint` is refused for the other methods)",
    100: "run as the test (a subprocess featurizing 200,000 SMILES with n_jobs=2, SIGTERM)",
}


# -- table ------------------------------------------------------------------------------------
def run_probe(number):
    with Stopwatch() as clock:
        try:
            checks = PROBES[number]()
        except Exception as exc:  # noqa: BLE001 - a probe that breaks is itself a finding
            checks = [Check("probe", "crash", f"the probe itself failed: {_error_text(exc)}")]
    verdict = max((c.verdict for c in checks), key=SEVERITY.__getitem__)
    happened = "; ".join(c.happened for c in checks)
    if _DATA.get("tmp"):  # the temporary folder's name changes on every run
        happened = happened.replace(str(_DATA["tmp"]), "$TMP")
    happened = re.sub(r"[0-9a-f]{64}\.npz", "<key>.npz", happened)  # cache file names
    return {"probe": number, "what": OLD[number][0], "old": OLD[number][1], "new": verdict,
            "happened": happened, "seconds": clock.seconds}


def check_against_review(path):
    """The embedded old verdicts must be the review's (when the review file is at hand)."""
    if not path.exists():
        return f"The review file {path} was not found: old verdicts as embedded"
    verdict_of = {"good": "good", "unclear message": "unclear", "silent": "silent",
                  "crash": "crash", "missing feature": "missing"}
    review = {}
    for line in path.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 5 and cells[0].isdigit():
            review[int(cells[0])] = verdict_of[cells[-1].strip("*").strip()]
    bad = {n: v for n, v in review.items() if v != "good"}
    if len(review) != N_PROBES or bad != {n: v for n, (_, v) in OLD.items()}:
        raise SystemExit(f"the embedded old verdicts differ from {path}")
    return f"The old verdicts were checked against {path.name}"


def counts(rows):
    new = dict(OLD_COUNTS)
    for row in rows:
        new[row["old"]] -= 1
        new[row["new"]] += 1
    return new


def markdown(rows, note, seconds):
    def cell(text):
        return str(text).replace("|", "\\|").replace("\n", " ")

    new = counts(rows)
    lines = [
        "# Reliability probes of issue 14, re-run",
        "",
        f"`python benchmarks/studies/reliability_probes.py` re-ran the {len(rows)} probes of the "
        f"review (`reliability-probes.md`, {N_PROBES} probes at {REVIEWED_AT}) whose verdict "
        "was not \"good\", against the current code, on bundled or synthetic data with tiny "
        f"models ({seconds:.0f} s in all). The {OLD_COUNTS['good']} probes that were good "
        "count as good (they were not re-run). Each probe's rule for its verdict is the "
        "docstring of its function; a probe of several checks takes the worst verdict. "
        f"{note}.",
        "",
        "| verdict | old | new |",
        "|---|---|---|",
    ]
    lines += [f"| {v} | {OLD_COUNTS[v]} | {new[v]} |" for v in VERDICTS]
    lines += [f"| total | {sum(OLD_COUNTS.values())} | {sum(new.values())} |", "",
              "| # | what | old verdict | new verdict | what happened now |",
              "|---|---|---|---|---|"]
    for row in rows:
        new_verdict = row["new"] if row["new"] == "good" else f"**{row['new']}**"
        lines.append(f"| {row['probe']} | {cell(row['what'])} | {row['old']} | {new_verdict} "
                     f"| {cell(row['happened'])} |")
    still = [r for r in rows if r["new"] != "good"]
    lines += ["", "Still not good: " + (", ".join(f"{r['probe']} ({r['new']})" for r in still)
                                        if still else "none") + ".", "", "Caveats:", ""]
    lines += [f"- {n}: {text}." for n, text in CAVEATS.items()
              if n in {r["probe"] for r in rows}]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", help="comma-separated probe numbers (no file is written)")
    parser.add_argument("--review", type=Path, default=REVIEW,
                        help="the review's table, to check the embedded old verdicts")
    args = parser.parse_args(argv)
    assert sorted(PROBES) == sorted(OLD), sorted(set(OLD) ^ set(PROBES))
    note = check_against_review(args.review)
    numbers = sorted(OLD) if not args.only else [int(n) for n in args.only.split(",")]

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch

    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory(prefix="molselect-probes-") as tmp:
        _DATA["tmp"] = tmp
        # A private feature cache: the probes damage cache files on purpose.
        os.environ["MOLSELECT_CACHE"] = str(Path(tmp) / "cache")
        rows = []
        with Stopwatch() as clock:
            for number in numbers:
                row = run_probe(number)
                rows.append(row)
                print(f"{number:>4} {row['old']:>8} -> {row['new']:<8} {row['seconds']:5.1f} s  "
                      f"{_short(row['happened'], 150)}", flush=True)
        seconds = clock.seconds
    new = counts(rows)
    print("\n" + "  ".join(f"{v}: {OLD_COUNTS[v]} -> {new[v]}" for v in VERDICTS))
    if not args.only:
        write_results(REPORT, None, markdown(rows, note, seconds))
        print(f"wrote {REPORT.relative_to(REPO)}")


if __name__ == "__main__":
    main()
