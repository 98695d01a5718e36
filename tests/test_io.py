"""User data: from_csv / from_frame, bad inputs, DeepChem datasets."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from molselect.datasets import as_dataset, from_csv, from_frame, from_smiles


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


# -- issue 22: the user's own data -------------------------------------------------------
CHAINS = ["C", "CC", "CCC", "CO", "CCO", "CN", "CCN", "C(=O)O", "C(=O)N", "OC", "Cl", "F",
          "Br", "C(F)(F)F", "N", "O", "CC(C)C", "C#N", "S", "C=O"]


def _congeneric():
    """95 disubstituted benzenes and 5 other ring systems (the probe's series)."""
    series = list(dict.fromkeys(f"c1cc({a})ccc1{b}" for a in CHAINS for b in CHAINS[:6]))[:95]
    return series + ["C1CCCCC1C", "c1ccncc1C", "C1CCOC1C", "c1ccc2ccccc2c1C", "C1CC1CC"]


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


def test_single_class_part_is_refused_and_an_impossible_one_says_so(frame):
    labels = np.zeros(20)
    labels[[0, 1]] = 1
    frame["active"] = labels
    with pytest.raises(ValueError, match=r"one class only \(0\).*no scaffold, random or "
                                         "cluster split"):
        from_frame(frame[["smiles", "active"]], split="random")


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


@pytest.mark.parametrize("suffix", [".xlsx", ".parquet", ".smi"])
def test_other_formats_are_refused_by_name(tmp_path, suffix):
    path = tmp_path / f"data{suffix}"
    path.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(ValueError, match="molselect reads CSV, TSV and SDF"):
        from_csv(path)


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


def test_conflicting_duplicates_are_reported(tmp_path):
    path = tmp_path / "dups.csv"
    path.write_text("smiles,p_np\nCCO,1\nOCC,0\nCCN,1\nCCN,1\nc1ccccc1,0\nCCC,1\n")
    with pytest.warns(UserWarning, match=r"1 molecule\(s\) occur in several rows with "
                                         r"conflicting labels \(of 2 .*'CCO' at rows 0, 1 "
                                         r"\(p_np: 1 / 0\)"):
        data = from_csv(path)
    assert len(data) == 6


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
