"""The selection file: the JSON ``molselect select --out`` writes and ``evaluate --with`` reads.

Written and read here only.  The record (:func:`selection_result`) holds the
target, the method, the selection, the ranking and scores, the selector's
parameters, the run's settings and, under ``sources``, where each candidate
was read from: a registry name as given, or a CSV path relative to the JSON's
folder (an absolute path stays absolute), so that the file can move with its
data.  :func:`read_selection` returns the selected candidates' sources, CSV
paths resolved against the file's folder.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

__all__ = ["selection_result", "selection_text", "read_selection", "source_for",
           "verification_record"]

#: Fitted attributes a selection record carries when the selector has them, each under
#: its name without the trailing underscore.
_OPTIONAL_ATTRIBUTES = ("task_affinity_", "structure_affinity_", "round_dropped_",
                        "affinity_std_")


def _is_csv_path(spec):
    return str(spec).lower().endswith((".csv", ".csv.gz"))


def selection_result(selector, *, target, method, sources=None, **run):
    """The record of a selection as plain JSON types (what ``select --out`` writes).

    Parameters
    ----------
    selector : BaseAuxiliarySelector
        A fitted selector.
    target : str
        The target dataset's name.
    method : str
        The selection method's name (e.g. ``"molgroup"``).
    sources : dict, optional
        Candidate name -> where it was read from (a registry name or a CSV path);
        ``molselect evaluate --with FILE.json`` reads the candidates back from it.
    **run
        Further entries describing the run (e.g. ``preset``, ``seed``,
        ``elapsed_s``), recorded after the selector's parameters in the order given.

    Returns
    -------
    dict
        ``target``, ``method``, ``selected``, ``ranking``, ``affinity``, ``table`` (the
        rows of :func:`~molselect.reporting.selection_table`), ``sources``,
        ``parameters``, the ``run`` entries, ``molselect_version``, then
        ``task_affinity``, ``structure_affinity``, ``round_dropped`` and
        ``affinity_std`` where the selector has them.  ``json.dumps`` writes it as
        it is.
    """
    from . import __version__
    from .reporting import selection_table, to_jsonable

    result = {
        "target": target,
        "method": method,
        "selected": list(selector.selected_),
        "ranking": list(selector.ranking_),
        "affinity": to_jsonable(selector.affinity_.to_dict()),
        "table": to_jsonable(selection_table(selector).reset_index().to_dict(orient="records")),
        "sources": dict(sources or {}),
        "parameters": to_jsonable(selector.get_params()),
        **{key: to_jsonable(value) for key, value in run.items()},
        "molselect_version": __version__,
    }
    for attr in _OPTIONAL_ATTRIBUTES:
        if hasattr(selector, attr):
            result[attr.rstrip("_")] = to_jsonable(getattr(selector, attr).to_dict())
    if hasattr(selector, "verdict_"):
        result.update(verification_record(selector))
    return result


def verification_record(selector):
    """The verification's entries of a selection file (a fitted VerifiedSelector's).

    Parameters
    ----------
    selector : VerifiedSelector
        Fitted.

    Returns
    -------
    dict
        ``verdict``, ``gain`` (a fraction of the alone score, positive means helps),
        ``gain_interval`` (two fractions), ``n_fits``, ``detectable_gain`` (a
        fraction; None when the budget would not find even a doubling of the score),
        ``group`` (the verified group's name or None) and ``groups``.
    """
    from .reporting import to_jsonable

    return to_jsonable({
        "verdict": selector.verdict_, "gain": selector.gain_,
        "gain_interval": list(selector.gain_interval_), "n_fits": selector.n_fits_,
        # inf (not even a doubling of the score would be found) is not JSON: null.
        "detectable_gain": (selector.detectable_gain_
                            if np.isfinite(selector.detectable_gain_) else None),
        "group": selector.group_,
        "groups": selector.groups_,
    })


def selection_text(selector, path, *, target, method, specs, **run):
    """The text of the selection file ``path``: the record as indented JSON.

    Parameters
    ----------
    selector : BaseAuxiliarySelector
        A fitted selector.
    path : path-like
        Where the file will be written (the CSV sources are recorded relative to
        its folder).
    target, method : str
        As for :func:`selection_result`.
    specs : dict
        Candidate name -> how it was given (a registry name or a CSV path, relative
        to the current folder).
    **run
        As for :func:`selection_result`.

    Returns
    -------
    str
    """
    sources = {name: source_for(spec, path) for name, spec in specs.items()}
    result = selection_result(selector, target=target, method=method, sources=sources, **run)
    return json.dumps(result, indent=2) + "\n"


def source_for(spec, out):
    """How a candidate is recorded in the selection file ``out``.

    A registry name or an absolute path as given; a relative CSV path relative to
    the JSON's folder (where :func:`read_selection` resolves it), not to the folder
    of this run.

    Parameters
    ----------
    spec : str
        The candidate as given: a registry name or a CSV path.
    out : path-like
        The selection file.

    Returns
    -------
    str
    """
    if not (_is_csv_path(spec) or Path(spec).is_file()) or Path(spec).is_absolute():
        return spec
    path = Path(spec).resolve()
    try:
        return Path(os.path.relpath(path, Path(out).resolve().parent)).as_posix()
    except ValueError:  # pragma: no cover - another drive on Windows
        return str(path)


def read_selection(path, option=None):
    """The selected candidates of a selection file, as registry names or CSV paths.

    Parameters
    ----------
    path : path-like
        A file written by ``molselect select --out``.
    option : str, optional
        The command-line option that named the file, to start the message of an
        unreadable file with.

    Returns
    -------
    list of str
        The ``selected`` candidates in order, each replaced by its recorded source;
        relative CSV paths resolved against the file's folder.

    Raises
    ------
    FileNotFoundError
        When there is no such file.
    ValueError
        When it is not JSON, has no ``selected`` list of names, or names a CSV
        file that is not found.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such selection file: {path}")
    try:
        result = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{option + ' ' if option else ''}{path}: not a valid JSON file "
                         f"({exc}); pass the file written by `molselect select --out`") from None
    if not isinstance(result, dict) or "selected" not in result:
        raise ValueError(f"{path} has no 'selected' list; write it with "
                         "`molselect select --out`")
    selected = result["selected"]
    if not isinstance(selected, list) or not all(isinstance(n, str) for n in selected):
        raise ValueError(f"{path}: 'selected' must be a list of dataset names, got "
                         f"{selected!r}; write it as [\"name\", ...] (as `molselect "
                         "select --out` does)")
    sources = result.get("sources", {})
    if not isinstance(sources, dict):
        sources = {}
    return [_resolve_source(sources.get(n, n), path) for n in selected]


def _resolve_source(spec, selection_file):
    """A CSV named in a selection file: relative paths are relative to the file's folder."""
    if not _is_csv_path(spec) or Path(spec).is_absolute():
        return spec
    beside = selection_file.parent / spec
    if beside.is_file():
        return str(beside)
    raise ValueError(f"{spec} (a candidate recorded in {selection_file}) was not found: "
                     f"relative paths in a selection file are resolved against its folder "
                     f"{selection_file.parent}")
