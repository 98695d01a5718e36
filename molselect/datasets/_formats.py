"""The file formats a user's data comes in: CSV, TSV, SDF; others refused by name."""

from __future__ import annotations

import warnings

__all__ = ["file_format", "dataset_name", "table_separator", "separator_hint", "read_sdf",
           "encoding_advice"]

_SDF_SUFFIXES = (".sdf", ".sd", ".mol", ".sdf.gz", ".sd.gz")
_TAB_SUFFIXES = (".tsv", ".tab", ".tsv.gz", ".tab.gz")
_REFUSED = {
    (".xlsx", ".xlsm", ".xls", ".ods"): "a spreadsheet workbook; save the sheet as "
                                        "'CSV UTF-8' and pass that file",
    (".parquet", ".feather", ".pkl", ".pickle"): "a binary table; write it with "
                                                 "DataFrame.to_csv, or load it with pandas "
                                                 "and pass the frame to from_frame",
    (".smi", ".smiles"): "a SMILES list without a header; add a header line "
                         "(e.g. 'smiles<TAB>name') and read it with sep='\\t' or ' '",
}
#: What a file's name ends with that is no part of the dataset's name: its type, then its
#: compression (``assay.v1.csv.gz`` -> ``assay.v1``).
_TYPE_SUFFIXES = (".csv", ".tsv", ".tab", ".txt", ".sdf", ".sd", ".mol")
_COMPRESSION_SUFFIXES = (".gz", ".bz2", ".xz", ".zst", ".zip")
_SEPARATORS = (("\t", "tab"), (";", "semicolon"), ("|", "pipe"))


def file_format(path):
    """``"sdf"``, ``"table"`` or a ValueError naming a format molselect does not read.

    Parameters
    ----------
    path : pathlib.Path

    Returns
    -------
    str
    """
    name = path.name.lower()
    if name.endswith(_SDF_SUFFIXES):
        return "sdf"
    for suffixes, what in _REFUSED.items():
        if name.endswith(suffixes):
            raise ValueError(f"{path}: molselect reads CSV, TSV and SDF files; this is {what}")
    return "table"


def dataset_name(path):
    """The name of the dataset read from ``path``: its file name without its type suffix.

    Only the last suffixes that say the file's type (``.csv``, ``.tsv``,
    ``.sdf`` ...) and its compression (``.gz`` ...) go, so ``assay.v1.csv``
    and ``assay.v2.csv`` are ``assay.v1`` and ``assay.v2``; a file whose name
    is nothing but such a suffix (``.csv``) keeps its whole name.

    Parameters
    ----------
    path : pathlib.Path
        The file read.

    Returns
    -------
    str
        The name; never empty.
    """
    name = path.name
    for suffixes in (_COMPRESSION_SUFFIXES, _TYPE_SUFFIXES):
        for suffix in suffixes:
            if name.lower().endswith(suffix):
                name = name[:-len(suffix)]
                break
    return name or path.name


def table_separator(path, sep):
    """``sep`` as given, else a tab for ``.tsv`` / ``.tab`` files and a comma otherwise."""
    if sep is not None:
        return sep
    return "\t" if path.name.lower().endswith(_TAB_SUFFIXES) else ","


def separator_hint(frame, sep):
    """A sentence suggesting another ``sep`` when a one-column header holds a separator."""
    if len(frame.columns) != 1:
        return ""
    header = str(frame.columns[0])
    for other, what in _SEPARATORS:
        if other != sep and other in header:
            return (f". The header {header!r} looks {what}-separated: pass sep={other!r}"
                    + (" (a .tsv file is read with tabs)" if other == "\t" else ""))
    return ""


def encoding_advice(raw):
    """What to do about a file that is not UTF-8, from its first bytes (``raw``)."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return ("It is UTF-16 text (what Excel saves as 'Unicode text', usually tab-"
                "separated): pass encoding='utf-16' (and sep='\\t' if it is tab-separated) "
                "to from_csv, or re-save it as 'CSV UTF-8'")
    if raw.startswith(b"PK\x03\x04"):
        return ("It is a zip archive, such as an Excel .xlsx workbook: save the sheet as "
                "'CSV UTF-8' and pass that file")
    return ("Re-save it as UTF-8, or pass encoding='latin-1' (the file's encoding) to "
            "from_csv")


def _open_sdf(path):
    import gzip

    return gzip.open(path, "rb") if path.name.lower().endswith(".gz") else open(path, "rb")


def read_sdf(path, smiles_col="smiles", task_cols=None, on_invalid="raise"):
    """Read an SDF file with RDKit into a frame: a SMILES column, then the properties.

    Parameters
    ----------
    path : pathlib.Path
        The file (``.gz`` is decompressed).
    smiles_col : str, default "smiles"
        Name of the column that receives each record's canonical SMILES (a
        property of that name is replaced by the structure).
    task_cols : sequence of str or None
        With ``None``, properties that are not numbers in every record (names,
        identifiers) are left out with a warning.
    on_invalid : {"raise", "drop"}
        Records RDKit cannot read: an error naming them, or dropped with a
        warning.

    Returns
    -------
    pandas.DataFrame
    """
    import pandas as pd
    from rdkit import Chem
    from rdkit.rdBase import BlockLogs

    rows, bad = [], []
    block = BlockLogs()
    try:
        with _open_sdf(path) as handle:
            for i, mol in enumerate(Chem.ForwardSDMolSupplier(handle)):
                if mol is None:
                    bad.append(i)
                    continue
                props = mol.GetPropsAsDict(includePrivate=False, includeComputed=False)
                props.pop(smiles_col, None)
                rows.append({smiles_col: Chem.MolToSmiles(mol), **props})
    except OSError as exc:
        raise ValueError(f"{path}: could not read the SDF file ({exc})") from exc
    finally:
        del block
    if bad:
        shown = ", ".join(map(str, bad[:10])) + (" ..." if len(bad) > 10 else "")
        if on_invalid == "raise":
            raise ValueError(f"{path}: {len(bad)} SDF record(s) RDKit cannot read, at records "
                             f"(0-based) {shown}. Fix them, or pass on_invalid='drop'")
        warnings.warn(f"{path}: dropped {len(bad)} SDF record(s) RDKit cannot read (records "
                      f"{shown}); row numbers below count the records that were read",
                      UserWarning, stacklevel=3)
    if not rows:
        raise ValueError(f"{path}: no molecule in the SDF file")
    frame = pd.DataFrame(rows)
    if task_cols is None:
        text = [c for c in frame.columns[1:] if not _all_numbers(frame[c])]
        if text:
            warnings.warn(f"{path}: SDF properties that are not numbers left out of the tasks: "
                          f"{text[:10]}; pass task_cols= to choose the label properties",
                          UserWarning, stacklevel=3)
            frame = frame.drop(columns=text)
    return frame


def _all_numbers(column):
    import pandas as pd

    values = column.dropna()
    return bool(len(values)) and bool(pd.to_numeric(values, errors="coerce").notna().all())
