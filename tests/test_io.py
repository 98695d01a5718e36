"""User data (molselect.datasets' from_csv / from_frame / from_smiles): labels, SMILES, files,
splits, bad inputs of every kind, DeepChem datasets."""

import gzip
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from molselect.datasets import MoleculeDataset, as_dataset, from_csv, from_frame, from_smiles
from molselect.models import GINClassifier

from conftest import TEN_SMILES, TINY, bbbp_csv_text, refused_quickly


@pytest.fixture
def frame(small_smiles):
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "smiles": small_smiles,
        "active": rng.integers(0, 2, len(small_smiles)),
        "logp": rng.normal(size=len(small_smiles)),
    })


def test_from_frame_defaults(frame):
    data = from_frame(frame, name="mine")
    assert data.tasks == ["active", "logp"]
    assert data.task_types == ["classification", "regression"]
    assert data.name == "mine" and len(data) == 20
    assert data.dropped_rows.size == 0


def test_from_frame_task_cols_and_types(frame):
    data = from_frame(frame, task_cols="logp", metric="mae")
    assert data.tasks == ["logp"] and data.metric == "mae"
    data = from_frame(frame, task_cols=["active"], task_types="regression")
    assert data.task_types == ["regression"]


def test_from_csv_roundtrip_and_missing_labels(tmp_path, frame):
    frame.loc[3, "logp"] = np.nan
    path = tmp_path / "mine.csv.gz"
    frame.to_csv(path, index=False)
    data = from_csv(path)
    assert data.name == "mine"
    assert np.isnan(data.y[3, 1]) and data.w[3, 1] == 0
    np.testing.assert_array_equal(data.ids, frame["smiles"].to_numpy())


@pytest.mark.probe("CSV-08", "CSV-09")
@pytest.mark.parametrize("file, name", [("assay.v1.csv", "assay.v1"),
                                         ("assay.v2.csv.gz", "assay.v2"),
                                         ("batch.2024.tsv", "batch.2024"),
                                         ("plain", "plain"), (".csv", ".csv")])
def test_from_csv_names_the_dataset_by_the_file_without_its_type(tmp_path, frame, file, name):
    # Only the type and compression suffixes go: versions in a file name tell datasets
    # apart, and a file named only a suffix keeps its whole name rather than ''.
    path = tmp_path / file
    frame.to_csv(path, index=False, sep="\t" if ".tsv" in file else ",")
    assert from_csv(path).name == name


def test_from_csv_custom_column_and_sep(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("mol;y\nCCO;1.5\nc1ccccc1;2.0\n")
    data = from_csv(path, smiles_col="mol", sep=";")
    assert data.tasks == ["y"] and data.y[:, 0].tolist() == [1.5, 2.0]


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        from_csv(tmp_path / "nope.csv")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(ValueError, match="empty.csv.*empty"):
        from_csv(path)


def test_header_only_file(tmp_path):
    path = tmp_path / "header.csv"
    path.write_text("smiles,y\n")
    with pytest.raises(ValueError, match="header.csv.*no rows"):
        from_csv(path)


def test_missing_smiles_column_lists_available(tmp_path):
    path = tmp_path / "cols.csv"
    path.write_text("SMILES,y\nCCO,1\n")
    with pytest.raises(KeyError, match=r"cols.csv.*'smiles'.*\['SMILES', 'y'\]"):
        from_csv(path)


def test_missing_task_column(frame):
    with pytest.raises(KeyError, match=r"\['pIC50'\] not found.*available columns"):
        from_frame(frame, task_cols=["pIC50"])
    # Also a ValueError, so a caller catching bad input broadly sees it.
    with pytest.raises(ValueError):
        from_frame(frame, task_cols=["pIC50"])


def test_non_numeric_label_names_column_and_row(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("smiles,y,z\nCCO,1,0\nCCN,active,0\nCCC,0,1\n")
    with pytest.raises(ValueError, match=r"labels.csv.*'y'.*'active' at row 1"):
        from_csv(path)


def test_zero_task_columns(tmp_path):
    path = tmp_path / "only.csv"
    path.write_text("smiles\nCCO\nCCN\n")
    with pytest.raises(ValueError, match="only.csv.*no task columns"):
        from_csv(path)


def test_empty_smiles(tmp_path):
    path = tmp_path / "blank.csv"
    path.write_text("smiles,y\nCCO,1\n,0\n  ,1\nCCN,0\n")
    with pytest.raises(ValueError, match=r"blank.csv.*2 empty SMILES.*rows.*1, 2"):
        from_csv(path)
    with pytest.warns(UserWarning, match="dropped 2"):
        data = from_csv(path, on_invalid="drop")
    assert data.dropped_rows.tolist() == [1, 2] and len(data) == 2


def test_invalid_smiles_raise_names_rows_and_smiles(frame):
    frame.loc[2, "smiles"] = "C1CC"      # unclosed ring
    frame.loc[7, "smiles"] = "Xx"        # not an element
    with pytest.raises(ValueError, match=r"2 SMILES could not be parsed.*2 \('C1CC'\), "
                                         r"7 \('Xx'\).*on_invalid='drop'"):
        from_frame(frame)


def test_invalid_smiles_drop(frame, capfd):
    frame.loc[2, "smiles"] = "C1CC"
    with pytest.warns(UserWarning, match="dropped 1 SMILES.*rows 2"):
        data = from_frame(frame, on_invalid="drop")
    assert len(data) == 19 and data.dropped_rows.tolist() == [2]
    assert "C1CC" not in set(data.ids)
    # RDKit's own error log is silenced.
    assert "SMILES Parse Error" not in capfd.readouterr().err


def test_bad_on_invalid(frame):
    with pytest.raises(ValueError, match="on_invalid"):
        from_frame(frame, on_invalid="ignore")


def test_from_frame_type_error():
    with pytest.raises(TypeError, match="DataFrame"):
        from_frame({"smiles": ["CCO"]})


def test_deepchem_numpy_dataset_is_accepted(small_smiles):
    dc = pytest.importorskip("deepchem")
    rng = np.random.default_rng(0)
    y = np.column_stack([rng.integers(0, 2, 20), rng.normal(size=20)])
    w = np.ones_like(y)
    w[0, 0] = 0
    ds = dc.data.NumpyDataset(X=np.zeros((20, 1)), y=y, w=w, ids=np.array(small_smiles))
    data = as_dataset(ds, name="dc")
    assert data.name == "dc" and len(data) == 20
    assert data.task_types == ["classification", "regression"]
    assert np.isnan(data.y[0, 0])
    assert data.metric == "rmse"


# -- the user's own data: saved index, splits, separators, SDF, encodings, duplicates ---
CHAINS = ["C", "CC", "CCC", "CO", "CCO", "CN", "CCN", "C(=O)O", "C(=O)N", "OC", "Cl", "F",
          "Br", "C(F)(F)F", "N", "O", "CC(C)C", "C#N", "S", "C=O"]


def _congeneric():
    """95 disubstituted benzenes and 5 other ring systems (the probe's series)."""
    series = list(dict.fromkeys(f"c1cc({a})ccc1{b}" for a in CHAINS for b in CHAINS[:6]))[:95]
    return series + ["C1CCCCC1C", "c1ccncc1C", "C1CCOC1C", "c1ccc2ccccc2c1C", "C1CC1CC"]


@pytest.mark.probe("CSV-07")
def test_saved_row_index_is_dropped_with_a_warning(tmp_path, frame):
    path = tmp_path / "idx.csv"
    frame.sample(15, random_state=0).to_csv(path)     # index=True: pandas' default
    with pytest.warns(UserWarning, match=r"\['Unnamed: 0'\] look like a saved row index"):
        data = from_csv(path)
    assert data.tasks == ["active", "logp"]
    # Named explicitly, it is a task again; an unnamed column of labels stays a task.
    assert from_csv(path, task_cols=["Unnamed: 0", "logp"]).tasks == ["Unnamed: 0", "logp"]
    frame[""] = np.random.default_rng(1).normal(size=len(frame))
    assert "" in from_frame(frame).tasks


def test_split_option_returns_checked_parts(frame):
    from molselect.datasets import DatasetSplits

    for split in ("scaffold", "random", "cluster"):
        parts = from_frame(frame[["smiles", "logp"]], name="mine", split=split,
                           fracs=(0.6, 0.2, 0.2), random_state=1)
        assert isinstance(parts, DatasetSplits) and parts.split == split
        train, valid, test = parts
        assert len(train) + len(valid) + len(test) == 20 and parts.info is None
        assert "DatasetSplits('mine'" in repr(parts)
    with pytest.raises(ValueError, match="split must be"):
        from_frame(frame, split="stratified")


@pytest.mark.probe("SPLIT-01", "SPLIT-02", "CSV-04")
def test_degenerate_scaffold_split_says_why_and_what_works(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "congeneric.csv"
    pd.DataFrame({"smiles": _congeneric(), "pIC50": rng.normal(6, 1, 100)}).to_csv(
        path, index=False)
    from molselect.datasets import DegenerateSplitError

    with pytest.warns(UserWarning, match="conflicting labels"), \
            pytest.raises(DegenerateSplitError, match=r"5/0/95: valid has 0 molecule.*95 of the "
                          r"100 molecules share the scaffold 'c1ccccc1'.*split='random'"):
        from_csv(path, split="scaffold")
    acyclic = ["C" * k for k in range(1, 41)] + ["C" * k + "O" for k in range(1, 41)]
    with pytest.raises(ValueError, match=r"0/0/80.*have no ring"):
        from_frame(pd.DataFrame({"smiles": acyclic, "y": np.arange(80.0)}), split="scaffold")


@pytest.mark.probe("SPLIT-04")
def test_single_class_part_is_refused_and_an_impossible_one_says_so(frame):
    labels = np.zeros(20)
    labels[[0, 1]] = 1
    frame["active"] = labels
    with pytest.raises(ValueError, match=r"one class only \(0\).*no scaffold, random or "
                                         "cluster split"):
        from_frame(frame[["smiles", "active"]], split="random")


@pytest.mark.probe("CSV-10")
def test_tsv_and_sep(tmp_path):
    path = tmp_path / "esol.tsv"
    path.write_text("smiles\tlogS\nCCO\t1.5\nc1ccccc1\t2.0\n")
    assert from_csv(path).tasks == ["logS"]
    wrong = tmp_path / "esol.txt"
    wrong.write_text(path.read_text())
    with pytest.raises(KeyError, match=r"tab-separated: pass sep='\\t'"):
        from_csv(wrong)
    assert from_csv(wrong, sep="\t").tasks == ["logS"]
    semi = tmp_path / "semi.csv"
    semi.write_text("smiles;y\nCCO;1\n")
    with pytest.raises(KeyError, match="semicolon-separated: pass sep=';'"):
        from_csv(semi)


@pytest.mark.probe("CSV-11")
def test_sdf_is_read_with_rdkit(tmp_path):
    from rdkit import Chem

    path = tmp_path / "mols.sdf"
    writer = Chem.SDWriter(str(path))
    for i, smi in enumerate(["CCO", "c1ccccc1", "CCN"]):
        mol = Chem.MolFromSmiles(smi)
        mol.SetProp("_Name", f"cmpd {i}")
        mol.SetProp("name", f"cmpd {i}")
        mol.SetProp("logS", str(i * 0.5))
        writer.write(mol)
    writer.close()
    with pytest.warns(UserWarning, match=r"not numbers left out.*\['name'\]"):
        data = from_csv(path)
    assert data.name == "mols" and data.tasks == ["logS"]
    assert list(data.ids) == ["CCO", "c1ccccc1", "CCN"] and data.y[:, 0].tolist() == [0, .5, 1]


@pytest.mark.probe("CSV-12")
@pytest.mark.parametrize("suffix", [".xlsx", ".parquet", ".smi"])
def test_other_formats_are_refused_by_name(tmp_path, suffix):
    path = tmp_path / f"data{suffix}"
    path.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(ValueError, match="molselect reads CSV, TSV and SDF"):
        from_csv(path)


@pytest.mark.probe("CSV-12", "CSV-13")
def test_utf16_and_zip_get_the_right_advice(tmp_path):
    path = tmp_path / "utf16.csv"
    path.write_bytes("smiles,y\nCCO,1\n".encode("utf-16"))
    with pytest.raises(ValueError, match="UTF-16.*encoding='utf-16'"):
        from_csv(path)
    assert from_csv(path, encoding="utf-16").tasks == ["y"]
    zipped = tmp_path / "book.csv"
    zipped.write_bytes(b"PK\x03\x04\x14\x00\x00\x00\x00\x00\xcd\xff" * 10)
    with pytest.raises(ValueError, match="zip archive"):
        from_csv(zipped)


@pytest.mark.probe("CSV-04")
def test_conflicting_duplicates_are_reported(tmp_path):
    path = tmp_path / "dups.csv"
    path.write_text("smiles,p_np\nCCO,1\nOCC,0\nCCN,1\nCCN,1\nc1ccccc1,0\nCCC,1\n")
    with pytest.warns(UserWarning, match=r"1 molecule\(s\) occur in several rows with "
                                         r"conflicting labels \(of 2 .*'CCO' at rows 0, 1 "
                                         r"\(p_np: 1 / 0\)"):
        data = from_csv(path)
    assert len(data) == 6


@pytest.mark.probe("SPLIT-03", "SPLIT-04")
@settings(max_examples=25, deadline=None)
@given(labels=st.lists(st.sampled_from([0.0, 1.0, np.nan]), min_size=20, max_size=20),
       split=st.sampled_from(["scaffold", "random", "cluster"]),
       seed=st.integers(0, 3))
def test_a_split_is_checked_or_refused_with_its_reason(labels, split, seed):
    from molselect.datasets import DegenerateSplitError
    from molselect.datasets._user_split import MIN_PART_SIZE

    smiles = [f"C1CCC1{a}" for a in CHAINS[:10]] + [f"c1ccccc1{a}" for a in CHAINS[10:]]
    frame = pd.DataFrame({"smiles": smiles, "active": labels})
    try:
        parts = from_frame(frame, split=split, random_state=seed, fracs=(0.5, 0.25, 0.25),
                           task_types="classification")
    except DegenerateSplitError as exc:
        assert f"the {split} split of 20 molecules" in str(exc) and "passes" in str(exc)
        return
    for part in parts:
        y = part.y[~np.isnan(part.y)]
        assert len(part) >= MIN_PART_SIZE and set(y) == {0.0, 1.0}


# -- from_smiles: scikit-learn's X (SMILES) and y (labels) ---------------------------------------

def test_from_smiles_builds_the_dataset_from_frame_would(frame):
    data = from_smiles(frame["smiles"], frame["active"].to_numpy())
    assert data.tasks == ["task0"] and data.task_types == ["classification"]
    assert data.metric == "roc_auc" and list(data.ids) == list(frame["smiles"])
    two = from_smiles(list(frame["smiles"]), frame[["active", "logp"]].to_numpy(), name="mine",
                      tasks=["active", "logp"], metric="mae")
    same = from_frame(frame, name="mine", metric="mae")
    assert (two.tasks, two.task_types, two.name) == (same.tasks, same.task_types, same.name)
    np.testing.assert_array_equal(two.y, same.y)
    y = frame["logp"].to_numpy().copy()
    y[3] = np.nan
    data = from_smiles(tuple(frame["smiles"]), y, task_types="regression")
    assert np.isnan(data.y[3, 0]) and data.w[3, 0] == 0 and data.metric == "rmse"


def test_from_smiles_errors(frame):
    smiles, y = list(frame["smiles"]), frame["active"].to_numpy()
    smiles[5] = "C1CC"
    with pytest.raises(ValueError, match=r"SMILES: 1 SMILES could not be parsed.*5 \('C1CC'\)"):
        from_smiles(smiles, y)
    with pytest.warns(UserWarning, match="dropped 1 SMILES"):
        assert from_smiles(smiles, y, on_invalid="drop").dropped_rows.tolist() == [5]
    with pytest.raises(ValueError, match=r"mine: y has shape \(19,\) but there are 20 SMILES"):
        from_smiles(frame["smiles"], y[1:], source="mine")
    with pytest.raises(ValueError, match="non-numeric label 'a' at row 0"):
        from_smiles(frame["smiles"], ["a"] + list(y[1:]))
    with pytest.raises(ValueError, match="2 task names for 1 label columns"):
        from_smiles(frame["smiles"], y, tasks=["a", "b"])
    with pytest.raises(TypeError, match="labels y must be an array-like"):
        from_smiles(frame["smiles"], None)
    with pytest.raises(TypeError, match="1-D sequence of SMILES strings"):
        from_smiles("CCO", [1])


# -- labels that are not finite, not binary, or not numbers --------------------------------
@pytest.mark.parametrize("bad", [np.inf, -np.inf, 1e300])
def test_from_frame_refuses_non_finite_or_float32_overflowing_labels(bad):
    """Probes 33-35: one inf or 1e300 label was accepted (and flipped 0/1 to regression)."""
    frame = pd.DataFrame({"smiles": TEN_SMILES, "y": [0, 1] * 4 + [bad, 1]})
    with pytest.raises(ValueError, match=r"column 'y'.*at row 8"):
        from_frame(frame, name="t")


def test_from_csv_names_file_column_and_row_of_an_overflowing_label(tmp_path):
    """Probe 34: a CSV label 1e309 (inf once read) in a candidate poisoned every affinity."""
    path = tmp_path / "esol_big.csv"
    path.write_text("smiles,logS\n" + "".join(f"{s},{i}\n" for i, s in enumerate(TEN_SMILES[:5]))
                    + "CCCC,1e309\n")
    with pytest.raises(ValueError, match=r"esol_big.csv: column 'logS'.*at row 5"):
        from_csv(path)


@pytest.mark.parametrize("labels", [[0, 1, 2] * 3 + [1], [0, 0.5] * 5])
def test_forced_classification_on_non_binary_labels_is_refused(labels):
    """Probe 32: from_frame accepted task_types='classification' on 0/1/2 or 0.5."""
    frame = pd.DataFrame({"smiles": TEN_SMILES, "y": labels})
    with pytest.raises(ValueError, match="'y' is classification but has labels other"):
        from_frame(frame, task_types="classification")


def test_integer_labels_inferred_as_regression_warn():
    """Probe 31: 0/1/2 labels silently became a regression task."""
    frame = pd.DataFrame({"smiles": TEN_SMILES, "y": [0, 1, 2] * 3 + [1]})
    with pytest.warns(UserWarning, match="'y' has only the integer labels 0, 1, 2"):
        data = from_frame(frame)
    assert data.task_types == ["regression"]


def test_empty_string_labels_are_missing_with_the_str_dtype():
    """Probe 45: pandas 3's 'str' dtype made '' a 'non-numeric label'."""
    frame = pd.DataFrame({"smiles": TEN_SMILES[:3], "y": pd.Series(["0", "1", ""], dtype="str")})
    data = from_frame(frame)
    assert np.isnan(data.y[2, 0]) and data.y[:2, 0].tolist() == [0.0, 1.0]


def test_complex_and_datetime_labels_are_refused():
    """Probe 46: complex and datetime labels were cast silently."""
    with pytest.raises(ValueError, match="complex"):
        from_frame(pd.DataFrame({"smiles": TEN_SMILES[:2], "y": [1 + 2j, 3]}))
    with pytest.raises(ValueError, match="dates or times"):
        from_frame(pd.DataFrame({"smiles": TEN_SMILES[:2],
                                 "y": pd.to_datetime(["2020-01-01", "2021-01-01"])}))


# -- damaged files -------------------------------------------------------------------------
def test_truncated_gz_names_the_file(tmp_path):
    """Probe 26: EOFError without the file name (and a traceback in the CLI)."""
    path = tmp_path / "t.csv.gz"
    data = gzip.compress(bbbp_csv_text(200).encode())
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"t\.csv\.gz: the compressed file is truncated"):
        from_csv(path)


def test_non_gzip_and_latin1_files_name_the_file(tmp_path):
    """Probes 24-25: BadGzipFile / UnicodeDecodeError without the file name."""
    fake = tmp_path / "fake.csv.gz"
    fake.write_text("not gzip at all\n")
    with pytest.raises(ValueError, match=r"fake\.csv\.gz: the file is not valid gzip"):
        from_csv(fake)
    latin = tmp_path / "latin.csv"
    latin.write_bytes("smiles,y\nCCO,1\nCC\xe9,0\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"latin\.csv: the file is not UTF-8.*encoding="):
        from_csv(latin)


# -- SMILES that are not molecules: named by row, never read as something else -------------
def test_lone_surrogate_smiles_is_an_invalid_smiles_with_its_row():
    """Probe 16: UnicodeEncodeError without a row, and on_invalid='drop' did not drop it."""
    frame = pd.DataFrame({"smiles": ["CCO", "C\udcffC", "CCN"], "y": [0, 1, 0]})
    with pytest.raises(ValueError, match="rows .*1 "):
        from_frame(frame)
    with pytest.warns(UserWarning, match="dropped 1"):
        data = from_frame(frame, on_invalid="drop")
    assert data.dropped_rows.tolist() == [1] and len(data) == 2


def test_non_string_smiles_are_not_called_empty():
    """Probe 7: integer or bytes SMILES were reported as 'empty SMILES'."""
    frame = pd.DataFrame({"smiles": ["CCO", 42, b"CCN"], "y": [0, 1, 0]})
    with pytest.raises(ValueError, match=r"2 value\(s\).*are not strings.*42 \(int\)"):
        from_frame(frame)


def test_non_ascii_and_empty_smiles_are_invalid_everywhere():
    """Probes 15 and 43: '☃CC' was read as ethane, '' trained and predicted as 0 atoms."""
    from molselect.featurize import featurize

    frame = pd.DataFrame({"smiles": ["CCO", "☃CC", "\x00C", "CCN"], "y": [0, 1, 0, 1]})
    with pytest.raises(ValueError, match=r"2 SMILES could not be parsed.*rows .*1 .*2 "):
        from_frame(frame)
    with pytest.raises(ValueError, match="invalid SMILES"):
        featurize(["CCO", "☃CC"])
    with pytest.raises(ValueError, match="target dataset 'd': 1 empty SMILES at positions 1"):
        GINClassifier(epochs=1, **TINY).fit(
            MoleculeDataset(["CCO", "", "CCN", "CCC"], [0, 1, 0, 1], name="d"))
    est = GINClassifier(epochs=1, **TINY).fit(
        MoleculeDataset(["CCO", "CCC", "CCN", "CCCC"], [0, 1, 0, 1], name="d"))
    with pytest.raises(ValueError, match="empty SMILES"):
        est.predict(["", "CCO"])


def test_non_ascii_smiles_message_does_not_blame_rdkit_alone():
    frame = pd.DataFrame({"smiles": ["CC", "\u2603CC"], "y": [0.0, 1.0]})
    with pytest.raises(ValueError, match=r"not printable ASCII.*rows .*1 ") as info:
        from_frame(frame, smiles_col="smiles", task_cols=["y"], name="d")
    assert "could not be parsed by RDKit" not in str(info.value)


def test_row_numbers_of_a_frame_with_its_own_index_say_they_are_positions():
    """Probe 19: with index 100..103 the message said row 2 for the label 102."""
    frame = pd.DataFrame({"smiles": ["CCO", "CCN", "xx", "CCC"], "y": [0, 1, 0, 1]},
                         index=[100, 101, 102, 103])
    with pytest.raises(ValueError, match="positions, not index labels.*rows.* 2 "):
        from_frame(frame)


def test_huge_smiles_is_refused_before_parsing_naming_row_size_and_limit(tmp_path):
    """Probe 10: 'C' * 100000 ran for minutes (quadratic featurization and keys), no message."""
    from molselect.datasets import MAX_SMILES_LENGTH

    huge = "C" * 100_000
    frame = pd.DataFrame({"smiles": ["CCO", "CCN", huge, "CCC"], "y": [0, 1, 0, 1]})
    message = refused_quickly(lambda: from_frame(frame, name="big"))
    assert message.startswith("dataset 'big': 1 SMILES too long")
    assert "rows (0-based, header excluded) 2 (" in message
    assert "(100,000 characters)" in message and len(message) < 1000  # not the whole SMILES
    assert f"MAX_SMILES_LENGTH = {MAX_SMILES_LENGTH:,} characters" in message
    assert "square or the cube of its size" in message  # why
    assert "could not be parsed by RDKit" not in message  # it was never parsed
    path = tmp_path / "big.csv"
    frame.to_csv(path, index=False)
    assert "big.csv: 1 SMILES too long" in refused_quickly(lambda: from_csv(path))


def test_huge_smiles_is_dropped_with_a_warning_like_other_invalid_rows():
    """Probe 10: with on_invalid='drop' the huge molecule is dropped and counted."""
    frame = pd.DataFrame({"smiles": ["CCO", "C" * 100_000, "xx", "CCC"], "y": [0, 1, 0, 1]})
    with pytest.warns(UserWarning, match=r"dropped 1 SMILES longer than MAX_SMILES_LENGTH "
                                         r"= 5,000 characters \(rows 1\) and 1 SMILES that "
                                         r"RDKit cannot parse \(rows 2\)"):
        data = from_frame(frame, on_invalid="drop")
    assert data.dropped_rows.tolist() == [1, 2] and list(data.ids) == ["CCO", "CCC"]


# -- property-based: every failure of from_frame / from_csv is documented ------------------
_TOKENS = st.sampled_from(["C", "c", "N", "O", "(", ")", "=", "1", "[", "]", "+", "Cl", "@",
                           "\udcff", "☃", " ", "", "\x00"])


_SMILES = st.one_of(
    st.lists(_TOKENS, max_size=8).map("".join),
    st.text(max_size=8),
    st.sampled_from(TEN_SMILES),
    st.none(), st.integers(), st.just(float("nan")),
)


_LABEL = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True), st.integers(-5, 5),
    st.sampled_from(["", " ", "0", "1", "a", "1e309", "nan", "-inf"]), st.none(),
)


def _documented(exc):
    assert isinstance(exc, (ValueError, TypeError)), repr(exc)
    message = str(exc)
    assert "row" in message or "column" in message, message


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(st.tuples(_SMILES, _LABEL), min_size=1, max_size=8),
       task_types=st.sampled_from([None, "classification", "regression"]),
       on_invalid=st.sampled_from(["raise", "drop"]))
def test_from_frame_fails_only_with_documented_errors(rows, task_types, on_invalid):
    frame = pd.DataFrame({"smiles": [r[0] for r in rows],
                          "y": pd.Series([r[1] for r in rows], dtype=object)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            data = from_frame(frame, task_types=task_types, on_invalid=on_invalid)
        except Exception as exc:  # noqa: BLE001 - the property is about every exception
            _documented(exc)
            return
    assert np.all(np.isnan(data.y) | (np.abs(data.y) < 3.5e38))


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(body=st.lists(st.tuples(_SMILES, _LABEL), min_size=0, max_size=6),
       compress=st.booleans(), damage=st.sampled_from([None, "truncate", "latin-1"]))
def test_from_csv_fails_only_with_documented_errors(body, compress, damage, tmp_path):
    text = "smiles,y\n" + "".join(f"{s},{y}\n" for s, y in body) + "CCO,1\nCCN,0\n"
    path = tmp_path / ("f.csv.gz" if compress else "f.csv")
    if damage == "latin-1":
        data = (text + "CC\xe9,1\n").encode("latin-1", "replace")
    else:
        data = text.encode("utf-8", "surrogatepass")
    if compress:
        data = gzip.compress(data)
        if damage == "truncate":
            data = data[: len(data) // 2]
    path.write_bytes(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            from_csv(path, on_invalid="drop")
        except Exception as exc:  # noqa: BLE001 - the property is about every exception
            assert isinstance(exc, (ValueError, TypeError)), repr(exc)
            assert "f.csv" in str(exc), str(exc)


# -- CSV dialects a user's file comes in -----------------------------------------------------
@pytest.mark.probe("CSV-01")
def test_a_utf8_byte_order_mark_is_not_part_of_the_header(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffsmiles,y\nCCO,1\nCCN,0\n".encode("utf-8"))
    data = from_csv(path)
    assert data.tasks == ["y"] and list(data.ids) == ["CCO", "CCN"]


@pytest.mark.probe("CSV-02")
@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_crlf_and_cr_line_endings_leave_no_carriage_return(tmp_path, newline):
    path = tmp_path / "lines.csv"
    path.write_bytes(newline.join(["smiles,y", "CCO,1", "CCN,0", ""]).encode())
    data = from_csv(path)
    assert list(data.ids) == ["CCO", "CCN"] and data.y[:, 0].tolist() == [1.0, 0.0]


@pytest.mark.probe("CSV-03")
def test_quoted_commas_in_a_text_column(tmp_path):
    path = tmp_path / "named.csv"
    path.write_text('smiles,name,p_np\nCCO,"cmpd, no. 0",1\nCCN,"cmpd, no. 1",0\n')
    with pytest.raises(ValueError, match=r"column 'name' has a non-numeric label 'cmpd, no. 0' "
                                         r"at row 0 \(2 such value"):
        from_csv(path)
    data = from_csv(path, task_cols="p_np")
    assert data.tasks == ["p_np"] and list(data.ids) == ["CCO", "CCN"]


@pytest.mark.probe("CSV-05")
def test_censored_values_are_refused_and_padded_numbers_read(tmp_path):
    path = tmp_path / "pic50.csv"
    path.write_text("smiles,pIC50\nCCO,<5.0\nCCN,>9\nCCC,7.2\n")
    with pytest.raises(ValueError, match=r"non-numeric label '<5.0' at row 0 \(2 such value"):
        from_csv(path)
    path.write_text("smiles,pIC50\nCCO,7.2 \nCCN, 6.1\nCCC,\t8.0\n")
    assert from_csv(path).y[:, 0].tolist() == [7.2, 6.1, 8.0]


@pytest.mark.probe("CSV-06")
def test_decimal_commas_are_named_and_read_with_decimal(tmp_path):
    path = tmp_path / "european.csv"
    path.write_text("smiles;pIC50\nCCO;7,2\nCCN;6,1\n")
    with pytest.raises(ValueError, match="non-numeric label '7,2' at row 0"):
        from_csv(path, sep=";")
    assert from_csv(path, sep=";", decimal=",").y[:, 0].tolist() == [7.2, 6.1]


@pytest.mark.probe("CSV-14")
def test_missing_label_spellings(tmp_path):
    path = tmp_path / "missing.csv"
    path.write_text("smiles,y\nCCO,NA\nCCN,n/a\nCCC,null\nCCCC,1.5\n")
    y = from_csv(path).y[:, 0]
    assert np.isnan(y[:3]).all() and y[3] == 1.5
    path.write_text("smiles,y\nCCO,1\nCCN,-\nCCC,-\nCCCC,ND\n")
    with pytest.raises(ValueError, match=r"non-numeric label '-' at row 1 \(3 such value"):
        from_csv(path)
