"""User data: from_csv / from_frame, bad inputs, DeepChem datasets."""

import numpy as np
import pandas as pd
import pytest

from molselect.datasets import as_dataset, from_csv, from_frame


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
