"""molselect.datasets' registry, loaders and MoleculeDataset: bundled data, qm8/qm9 samples,
invalid SMILES, the full data home and damaged files in it, the dataset's own checks."""

import gzip
import hashlib
import time
import warnings

import numpy as np
import pandas as pd
import pytest

import molselect.datasets as md
from molselect.datasets import (DatasetInfo, MoleculeDataset, get_dataset_info, list_datasets,
                                load_dataset)
from molselect.datasets._registry import DATA_DIR
from molselect.models import GINRegressor

from conftest import TEN_SMILES, TINY, bbbp_csv_text

ALL = ["hiv", "pcba", "tox21", "bace", "bbbp", "clintox", "muv", "sider", "toxcast",
       "chembl", "esol", "freesolv", "lipo", "qm8", "qm9"]
BUNDLED = ["bace", "bbbp", "clintox", "sider", "tox21", "toxcast", "esol", "freesolv",
           "lipo", "qm8", "qm9"]
TOX21_BAD_ROWS = [1322, 2290, 2297, 3558, 4565, 4649, 5538, 6723]
HIV_BAD_ROWS = [137, 987, 12882, 18293, 30784, 30785, 35728]


@pytest.fixture
def empty_home(tmp_path, monkeypatch):
    monkeypatch.delenv("MOLSELECT_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    home = tmp_path / "empty"
    home.mkdir()
    return home


def test_registry_has_the_15_paper_datasets():
    assert md._registry.dataset_names() == ALL
    metrics = {n: get_dataset_info(n).metric for n in ALL}
    assert {n for n, m in metrics.items() if m == "average_precision"} == {"pcba", "muv"}
    assert {n for n, m in metrics.items() if m == "rmse"} == {"esol", "freesolv", "lipo",
                                                              "chembl"}
    assert {n for n, m in metrics.items() if m == "mae"} == {"qm8", "qm9"}
    assert {n for n in ALL if get_dataset_info(n).split == "random"} == {"qm8", "qm9"}
    pcba = get_dataset_info("pcba")
    assert pcba.n_tasks == 128 and pcba.tasks[0] == "PCBA-1030" and pcba.n_rows == 437929
    assert len(set(pcba.tasks)) == 128
    assert get_dataset_info("toxcast").n_tasks == 617
    assert get_dataset_info("chembl").task_type == "regression"
    bbbp = get_dataset_info("BBBP")
    assert isinstance(bbbp, DatasetInfo) and bbbp.tasks == ("p_np",)
    assert bbbp.url == "https://deepchemdata.s3-us-west-1.amazonaws.com/datasets/BBBP.csv"
    with pytest.raises(Exception):
        bbbp.name = "x"  # frozen
    assert hash(bbbp)


def test_unknown_name_suggests():
    with pytest.raises(ValueError, match=r"unknown dataset 'tox12'.*Did you mean 'tox21'.*"
                                         r"Known datasets: hiv, pcba"):
        load_dataset("tox12")


def test_register_requires_overwrite():
    with pytest.raises(ValueError, match="already registered"):
        md._registry.register(get_dataset_info("bbbp"))
    with pytest.raises(TypeError):
        md._registry.register({"name": "x"})


def test_list_datasets(empty_home):
    table = list_datasets(data_home=empty_home)
    assert isinstance(table, pd.DataFrame)
    assert table["name"].tolist() == ALL
    assert {"name", "molecules", "tasks", "task_type", "metric", "split", "bundled",
            "available"} <= set(table.columns)
    assert set(table.loc[table["bundled"], "name"]) == set(BUNDLED)
    assert table["available"].tolist() == table["bundled"].tolist()


def test_bundled_copies_match_manifest_checksums():
    for name in BUNDLED[:-2]:
        digest = hashlib.sha256((DATA_DIR / f"{name}.csv.gz").read_bytes()).hexdigest()
        assert digest == get_dataset_info(name).csv_sha256, name
    size = sum(p.stat().st_size for p in DATA_DIR.iterdir())
    assert size < 1_100_000


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_loads_without_data_home(name, empty_home):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tox21's dropped SMILES are tested below
        splits = load_dataset(name, data_home=empty_home)
    info = get_dataset_info(name)
    assert splits.source == "bundled"
    assert splits.full.name == splits.train.name == splits.test.name == name
    assert splits.train.tasks == list(info.tasks)
    assert splits.train.metric == info.metric
    n = len(splits.train) + len(splits.valid) + len(splits.test)
    assert n == len(splits.full)
    assert len(splits.train) == pytest.approx(0.8 * n, abs=max(2, 0.05 * n))
    train, valid, test = splits  # unpacks like a tuple
    assert train is splits.train
    assert list(empty_home.iterdir()) == []  # nothing written


def test_default_data_home_is_used(empty_home, tmp_path):
    # MOLSELECT_DATA unset, no argument: the user cache folder is searched,
    # and bundled data needs no data home at all.
    splits = load_dataset("esol")
    assert splits.source == "bundled" and len(splits.full) == 1128
    assert md.get_data_home() == tmp_path / "xdg" / "molselect"


def test_pool_by_name(empty_home):
    pool = {n: load_dataset(n, data_home=empty_home).train for n in ["esol", "freesolv"]}
    group = md.DatasetGroup({"bbbp": load_dataset("bbbp", data_home=empty_home).train, **pool})
    assert list(group) == ["bbbp", "esol", "freesolv"]
    assert [d.name for d in group.values()] == ["bbbp", "esol", "freesolv"]


def test_tox21_invalid_smiles_reported(empty_home):
    with pytest.warns(UserWarning, match=r"tox21: dropped 8 SMILES.*rows 1322, 2290"):
        splits = load_dataset("tox21", data_home=empty_home)
    assert splits.full.dropped_rows.tolist() == TOX21_BAD_ROWS
    assert len(splits.full) == 7831 - 8
    assert not set(splits.source_rows) & set(TOX21_BAD_ROWS)
    assert (len(splits.train), len(splits.valid), len(splits.test)) == (6258, 782, 783)


def test_qm9_bundled_sample_is_seeded_3000(empty_home):
    a = load_dataset("qm9", data_home=empty_home)
    assert len(a.full) == 3000 and a.split == "random"
    assert (len(a.train), len(a.valid), len(a.test)) == (2400, 300, 300)
    b = load_dataset("qm9", data_home=empty_home)
    np.testing.assert_array_equal(a.test.ids, b.test.ids)
    with pytest.warns(UserWarning, match="changes only the split"):
        c = load_dataset("qm9", data_home=empty_home, random_state=1)
    np.testing.assert_array_equal(np.sort(c.full.ids), np.sort(a.full.ids))
    assert not np.array_equal(c.test.ids, a.test.ids)
    with pytest.warns(UserWarning, match="only the bundled 3000-molecule sample"):
        load_dataset("qm8", data_home=empty_home, max_molecules=None)
    small = load_dataset("qm8", data_home=empty_home, max_molecules=100)
    assert len(small.full) == 100


def test_qm_sample_from_full_file_matches_bundle(data_home, empty_home):
    for name in ("qm8", "qm9"):
        full = load_dataset(name, data_home=data_home)
        bundled = load_dataset(name, data_home=empty_home)
        assert full.source == "data_home" and len(full.full) == 3000
        np.testing.assert_array_equal(full.full.ids, bundled.full.ids)
        np.testing.assert_array_equal(full.full.y, bundled.full.y)
        np.testing.assert_array_equal(full.test.ids, bundled.test.ids)
    other = load_dataset("qm9", data_home=data_home, random_state=1)
    assert len(other.full) == 3000
    assert len(set(other.full.ids) & set(bundled.full.ids)) < 500
    everything = load_dataset("qm8", data_home=data_home, max_molecules=None)
    assert len(everything.full) == 21786


@pytest.mark.slow
def test_all_available_datasets_match_manifest(data_home):
    """Every dataset in the data home loads with MANIFEST's rows and tasks.

    hiv, muv and chembl use the random split: their scaffold split costs
    ~10-30 s more on two busy cores and is the same code as for the others.
    """
    manifest = pd.read_csv(data_home / "MANIFEST.tsv", sep="\t").set_index("name")
    assert set(manifest.index) == set(ALL) - {"pcba"}
    timings = {}
    for name, row in manifest.iterrows():
        start = time.perf_counter()
        split = "random" if name in ("hiv", "muv", "chembl") else None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            splits = load_dataset(name, data_home=data_home, split=split,
                                  max_molecules=None)
        timings[name] = round(time.perf_counter() - start, 1)
        failures = int(row["rdkit_parse_failures"])
        assert splits.source == "data_home"
        assert len(splits.full) == row["rows"] - failures, name
        assert len(splits.full.dropped_rows) == failures, name
        assert splits.full.n_tasks == row["n_tasks"], name
        assert set(splits.full.task_types) == {row["task_type"]}, name
        assert sum(len(p) for p in splits) == len(splits.full)
        dropped_warnings = [w for w in caught if "cannot parse" in str(w.message)]
        assert len(dropped_warnings) == (1 if failures else 0), name
        if name == "hiv":
            assert splits.full.dropped_rows.tolist() == HIV_BAD_ROWS
            assert "hiv: dropped 7 SMILES" in str(dropped_warnings[0].message)
        if name == "tox21":
            assert splits.full.dropped_rows.tolist() == TOX21_BAD_ROWS
    print("load times (s):", timings)


def test_sample_is_seeded_ordered_and_capped():
    data = load_dataset("bace").train
    a, b = data.sample(50, random_state=3), data.sample(50, random_state=3)
    assert len(a) == 50 and list(a.ids) == list(b.ids)
    positions = [list(data.ids).index(i) for i in a.ids]
    assert positions == sorted(positions)
    assert list(data.sample(10 * len(data)).ids) == list(data.ids)
    rng = np.random.default_rng(0)
    assert list(data.sample(20, random_state=rng).ids) != list(data.sample(20, random_state=rng).ids)


# -- MoleculeDataset's own checks ----------------------------------------------------------
def test_dataset_built_directly_or_duck_typed_refuses_inf():
    """Probe 36: GINRegressor trained to NaN on an inf label of a dataset built by hand."""
    with pytest.raises(ValueError, match=r"dataset 'd': column 'task0'.*row 2"):
        MoleculeDataset(TEN_SMILES[:4], [1.0, 2.0, np.inf, 3.0], name="d")

    class Duck:
        ids = np.array(TEN_SMILES[:4], dtype=object)
        y = np.array([[1.0], [np.inf], [2.0], [3.0]])

    with pytest.raises(ValueError, match="non-finite"):
        GINRegressor(epochs=1, **TINY).fit(Duck())


def test_weights_with_the_wrong_row_count_are_a_value_error():
    """Probe 41: w with n-1 rows raised an internal IndexError."""
    with pytest.raises(ValueError, match=r"w has shape \(3, 1\).*one weight row per molecule"):
        MoleculeDataset(TEN_SMILES[:4], np.ones(4), w=np.ones((3, 1)), name="d")


# -- a damaged or cut data-home file -------------------------------------------------------
@pytest.mark.parametrize("damage", ["truncated", "empty", "not_gzip"])
def test_damaged_data_home_file_says_to_delete_it(damage, tmp_path, monkeypatch):
    """Probes 93-94: a damaged data-home file raised an error without the file or a fix."""
    monkeypatch.delenv("MOLSELECT_DATA", raising=False)
    path = tmp_path / "bbbp.csv.gz"
    data = gzip.compress(bbbp_csv_text().encode())
    path.write_bytes({"truncated": data[: len(data) // 2], "empty": b"",
                      "not_gzip": b"no gzip here"}[damage])
    with pytest.raises(ValueError, match=r"bbbp\.csv\.gz.*Delete .*bundled copy"):
        load_dataset("bbbp", data_home=tmp_path)


def test_data_home_file_with_fewer_rows_than_the_registry_warns(tmp_path, monkeypatch):
    """Probe 95: hiv.csv.gz cut to 49 rows loaded silently."""
    monkeypatch.delenv("MOLSELECT_DATA", raising=False)
    path = tmp_path / "bbbp.csv.gz"
    path.write_bytes(gzip.compress(bbbp_csv_text(49).encode()))
    with pytest.warns(UserWarning, match=r"has 49 rows but the registry's .* has 2039"):
        load_dataset("bbbp", data_home=tmp_path)


@pytest.mark.probe("EVAL-12")
def test_a_split_dataset_passed_whole_is_refused_with_the_fix():
    """``load_dataset`` returns train / valid / test; passing it whole where one dataset
    goes says to pass its ``.train``."""
    from molselect.evaluation import transfer_gains
    from molselect.models import GINClassifier
    from molselect.selectors import FingerprintSimilaritySelector

    bace = load_dataset("bace")
    with pytest.raises(TypeError, match=r"pass its \.train"):
        GINClassifier().fit(bace)
    with pytest.raises(TypeError, match=r"pass its \.train"):
        FingerprintSimilaritySelector().fit(bace, {"bbbp": load_dataset("bbbp").train})
    with pytest.raises(TypeError, match=r"pass its \.train"):
        transfer_gains(bace.train, {"bbbp": load_dataset("bbbp")}, GINClassifier(),
                       eval_set=bace.valid, test_set=bace.test)
