"""molselect.featurize: OGB parity, batching, the cache (files, damage, pruning), MACCS, the
parallel path and its clean exit on SIGTERM, molecules too large to featurize."""

import os
import re
import stat
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from molselect.featurize import (
    ATOM_FEATURE_DIMS,
    BOND_FEATURE_DIMS,
    MolGraphs,
    cache_dir,
    featurize,
    load_or_build,
    maccs_fingerprints,
)
from molselect.datasets import from_frame, load_dataset
from molselect.featurize import _cache
from molselect.featurize._cache import cache_key

from conftest import fake_cache_entry, refused_quickly

# Charged, aromatic, chiral, E/Z, ion pair, single atom, radical, isotope/explicit H,
# hypervalent, dummy atom, metal complex, empty.
PARITY_SMILES = [
    "C", "[Na+].[Cl-]", "C[C@H](N)C(=O)O", "C[C@@H](O)c1ccccc1", "c1ccc2[nH]ccc2c1",
    "C[N+](C)(C)C", "[O-][N+](=O)c1ccccc1", "F/C=C/F", "F/C=C\\Cl", "[CH3]", "[2H]OC",
    "OS(=O)(=O)O", "FS(F)(F)(F)(F)F", "*c1ccccc1", "[Fe+2].[O-]C=O", "C#N", "",
    "CC(=O)Oc1ccccc1C(=O)O", "[NH4+]", "c1ccncc1", "O=C1CCCC1", "[Cu]",
    # syntax that decides between the kernel's fast path and its full enum path
    "N->[Pt+2]<-N", "[Cu]$[Cu]", "[C-]#[O+]", "CC=CC |c:1|", "CC=CC |t:1|", "CC=CC |w:1.0|",
    "C[C@@H](O)C(C)=CC |&1:1|", "[H][H]",
]


def _ogb_reference(smi):
    """smiles2graph from OGB itself when installed, else None."""
    ogb_mol = pytest.importorskip("ogb.utils.mol")
    return ogb_mol.smiles2graph(smi)


def test_feature_dims_match_ogb():
    assert ATOM_FEATURE_DIMS == [119, 5, 12, 12, 10, 6, 6, 2, 2]
    assert BOND_FEATURE_DIMS == [5, 6, 2]


def test_known_feature_rows():
    # Rows computed with ogb 1.3.6's smiles2graph (kept here so the test runs without ogb).
    g = featurize(["C[C@H](N)O", "[Na+].[Cl-]", "c1ccccc1", "C"], cache=False)
    assert g.x[:4].tolist() == [[5, 0, 4, 5, 3, 0, 2, 0, 0], [5, 2, 4, 5, 1, 0, 2, 0, 0],
                                [6, 0, 3, 5, 2, 0, 2, 0, 0], [7, 0, 2, 5, 1, 0, 2, 0, 0]]
    assert g.x[4:6].tolist() == [[10, 0, 0, 6, 0, 0, 5, 0, 0], [16, 0, 0, 4, 0, 0, 2, 0, 0]]
    assert g.x[6].tolist() == [5, 0, 3, 5, 1, 0, 1, 1, 1]
    assert g.x[12].tolist() == [5, 0, 4, 5, 4, 0, 2, 0, 0]
    assert g.edge_index[:, :6].tolist() == [[0, 1, 1, 2, 1, 3], [1, 0, 2, 1, 3, 1]]
    assert g.edge_attr[6:8].tolist() == [[3, 0, 1], [3, 0, 1]]
    assert g.num_nodes.tolist() == [4, 2, 6, 1]
    assert g.num_edges.tolist() == [6, 0, 12, 0]
    # stereo set by CXSMILES without '/' and a dative bond: both need the enum path
    g = featurize(["CC=CC |c:1|", "N->[Pt+2]<-N"], cache=False)
    assert g.edge_attr[2].tolist() == [1, 1, 0] and g.edge_attr[6].tolist() == [4, 0, 0]


@pytest.mark.parametrize("smi", PARITY_SMILES)
def test_matches_ogb_smiles2graph(smi):
    ref = _ogb_reference(smi)
    g = featurize([smi], cache=False)
    np.testing.assert_array_equal(g.x, ref["node_feat"].reshape(-1, 9))
    np.testing.assert_array_equal(g.edge_index, ref["edge_index"])
    np.testing.assert_array_equal(g.edge_attr, ref["edge_feat"])
    assert g.num_nodes[0] == ref["num_nodes"]


def test_store_layout(small_smiles):
    g = featurize(small_smiles + ["[Na+].[Cl-]", "C", ""], cache=False)
    n = len(small_smiles) + 3
    assert len(g) == n and g.smiles.dtype == object and list(g.smiles[-3:]) == ["[Na+].[Cl-]", "C", ""]
    assert g.node_ptr.shape == g.edge_ptr.shape == (n + 1,)
    assert g.x.shape == (g.node_ptr[-1], 9) and g.edge_attr.shape == (g.edge_ptr[-1], 3)
    assert g.edge_index.shape == (2, g.edge_ptr[-1])
    assert g.num_nodes[-3:].tolist() == [2, 1, 0] and g.num_edges[-3:].tolist() == [0, 0, 0]
    assert (g.x.max(axis=0) < np.array(ATOM_FEATURE_DIMS)).all()
    for i in range(n):  # local indices stay inside their molecule
        ei = g.edge_index[:, g.edge_ptr[i]:g.edge_ptr[i + 1]]
        assert ei.size == 0 or (ei.min() >= 0 and ei.max() < g.num_nodes[i])


def test_batch_equals_from_data_list(small_smiles):
    from torch_geometric.data import Batch, Data

    smiles = small_smiles + ["[Na+].[Cl-]", "C", ""]
    g = featurize(smiles, cache=False)
    idx = [3, 20, 0, 22, 3, 15, 21]
    datas = []
    for i in idx:
        single = featurize([smiles[i]], cache=False)
        datas.append(Data(x=torch.from_numpy(single.x.astype(np.int64)),
                          edge_index=torch.from_numpy(single.edge_index.astype(np.int64)),
                          edge_attr=torch.from_numpy(single.edge_attr.astype(np.int64)),
                          num_nodes=int(single.num_nodes[0])))
    ref = Batch.from_data_list(datas)
    b = g.batch(np.array(idx))
    for key in ("x", "edge_index", "edge_attr", "batch", "ptr"):
        assert getattr(b, key).dtype == torch.long, key
        assert torch.equal(getattr(b, key), getattr(ref, key)), key
    assert b.num_graphs == len(idx) == ref.num_graphs
    for got, want in zip(b.to_data_list(), datas):
        assert torch.equal(got.x, want.x) and torch.equal(got.edge_index, want.edge_index)
    # torch index tensors and negative indices are accepted too
    assert torch.equal(g.batch(torch.tensor([-1, 0])).ptr, torch.tensor([0, 0, 3]))


def test_subset_and_getitem(small_smiles):
    g = featurize(small_smiles, cache=False)
    sub = g.subset([5, 1, 5])
    assert len(sub) == 3 and list(sub.smiles) == [small_smiles[5], small_smiles[1], small_smiles[5]]
    assert torch.equal(sub.to_pyg().x, g.batch([5, 1, 5]).x)
    assert torch.equal(sub.to_pyg().edge_index, g.batch([5, 1, 5]).edge_index)
    d = g[4]
    assert d.num_nodes == g.num_nodes[4] and d.smiles == small_smiles[4]
    assert len(g[2:6]) == 4
    both = MolGraphs.concat([g.subset([0, 1]), g.subset([2])])
    np.testing.assert_array_equal(both.x, g.subset([0, 1, 2]).x)


def test_to_pyg_feeds_gin(small_smiles):
    from torch_geometric.nn import GINEConv, global_add_pool

    g = featurize(small_smiles + ["C"], cache=False)
    b = g.to_pyg()
    atom_emb = torch.nn.ModuleList(torch.nn.Embedding(d, 16) for d in ATOM_FEATURE_DIMS)
    bond_emb = torch.nn.ModuleList(torch.nn.Embedding(d, 16) for d in BOND_FEATURE_DIMS)
    h = sum(emb(b.x[:, i]) for i, emb in enumerate(atom_emb))
    e = sum(emb(b.edge_attr[:, i]) for i, emb in enumerate(bond_emb))
    conv = GINEConv(torch.nn.Sequential(torch.nn.Linear(16, 16), torch.nn.ReLU()))
    out = global_add_pool(conv(h, b.edge_index, e), b.batch, size=b.num_graphs)
    assert out.shape == (len(small_smiles) + 1, 16) and torch.isfinite(out).all()


def test_invalid_smiles_error_names_position():
    with pytest.raises(ValueError, match=r"2 invalid SMILES.*1: 'C1CC'.*3: 'not_a_smiles'"):
        featurize(["CCO", "C1CC", "CC", "not_a_smiles"], cache=False)
    with pytest.raises(ValueError, match="1: 'xyz'"):
        maccs_fingerprints(["C", "xyz"], cache=False)


def test_cache_hit_returns_equal_arrays(small_smiles):
    first = featurize(small_smiles, cache=True)
    files = list((cache_dir() / "ogb_graphs").glob("*.npz"))
    assert files
    calls = []
    again = featurize(small_smiles, cache=True, verbose=False)
    for key in ("x", "edge_index", "edge_attr", "node_ptr", "edge_ptr"):
        np.testing.assert_array_equal(getattr(again, key), getattr(first, key))
        assert getattr(again, key).dtype == getattr(first, key).dtype
    # load_or_build does not call build on a hit
    load_or_build("unit", ["a", "b"], lambda: {"v": np.arange(3)})
    out = load_or_build("unit", ["a", "b"], lambda: calls.append(1) or {"v": np.zeros(3)})
    assert calls == [] and out["v"].tolist() == [0, 1, 2]
    # key parts are unambiguous
    out = load_or_build("unit", ["ab"], lambda: {"v": np.ones(1)})
    assert out["v"].tolist() == [1.0]


def test_cache_takes_molecules_without_bonds():
    # Their edge arrays are empty: the cache's checksum must hash them too.
    first = featurize(["C", "[Cl-]", "[Na+]"], cache=True)
    again = featurize(["C", "[Cl-]", "[Na+]"], cache=True)
    assert first.edge_index.shape == (2, 0)
    np.testing.assert_array_equal(again.x, first.x)


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage"])
def test_corrupted_cache_is_rebuilt(damage):
    parts = [f"damage-{damage}"]
    load_or_build("unit_corrupt", parts, lambda: {"v": np.arange(1000, dtype=np.int64)})
    path = cache_dir() / "unit_corrupt" / f"{cache_key('unit_corrupt', parts)}.npz"
    raw = bytearray(path.read_bytes())
    if damage == "truncate":
        raw = raw[: len(raw) // 2]
    elif damage == "flip":  # a payload byte: the zip still opens, the checksum catches it
        pos = raw.index(np.arange(1000, dtype=np.int64)[500:501].tobytes())
        raw[pos] ^= 0xFF
    else:
        raw = bytearray(b"not a zip file at all")
    path.write_bytes(bytes(raw))
    with pytest.warns(RuntimeWarning, match="corrupted"):
        out = load_or_build("unit_corrupt", parts, lambda: {"v": np.arange(1000, dtype=np.int64)})
    np.testing.assert_array_equal(out["v"], np.arange(1000))
    with warnings.catch_warnings():  # rebuilt file is sound again
        warnings.simplefilter("error")
        load_or_build("unit_corrupt", parts, lambda: pytest.fail("should hit the cache"))


def test_cache_files_are_atomic_and_no_tmp_left(small_smiles):
    maccs_fingerprints(small_smiles, cache=True)
    folder = cache_dir() / "maccs"
    assert list(folder.glob("*.npz")) and not list(folder.glob("*.tmp"))


def test_maccs_shape_dtype_and_known_bits():
    from rdkit import Chem
    from rdkit.Chem import MACCSkeys

    smiles = ["CCO", "c1ccccc1", "[Na+].[Cl-]", "C"]
    fp = maccs_fingerprints(smiles, cache=False)
    assert fp.shape == (4, 167) and fp.dtype == np.uint8 and set(np.unique(fp)) <= {0, 1}
    assert fp[0, 139] == 1  # OH
    assert fp[1, 163] == 1  # 6-membered ring
    assert fp[2, 103] == 1 and fp[2, 134] == 1  # Cl, halogen
    assert fp[2, 35] == 1  # group IA metal
    assert fp[:, 0].sum() == 0
    for row, smi in zip(fp, smiles):
        expect = np.array(list(MACCSkeys.GenMACCSKeys(Chem.MolFromSmiles(smi)).ToBitString()),
                          dtype=np.uint8)
        np.testing.assert_array_equal(row, expect)
    assert maccs_fingerprints([], cache=False).shape == (0, 167)


def test_parallel_matches_serial(small_smiles):
    rng = np.random.default_rng(0)
    extra = ["[Na+].[Cl-]", "C", "C[C@H](N)C(=O)O", "F/C=C/F"]
    smiles = list(rng.choice(small_smiles + extra, size=300))
    serial = featurize(smiles, n_jobs=1, cache=False)
    par = featurize(smiles, n_jobs=2, cache=False, parallel_threshold=10)
    auto = featurize(smiles, n_jobs=None, cache=False, parallel_threshold=10)
    for key in ("x", "edge_index", "edge_attr", "node_ptr", "edge_ptr"):
        np.testing.assert_array_equal(getattr(par, key), getattr(serial, key))
        np.testing.assert_array_equal(getattr(auto, key), getattr(serial, key))
    np.testing.assert_array_equal(
        maccs_fingerprints(smiles, n_jobs=2, cache=False, parallel_threshold=10),
        maccs_fingerprints(smiles, n_jobs=1, cache=False))
    with pytest.raises(ValueError, match="150: 'bad'"):
        featurize(smiles[:150] + ["bad"] + smiles[150:], n_jobs=2, cache=False,
                  parallel_threshold=10)


def test_empty_input_and_type_errors():
    g = featurize([], cache=False)
    assert len(g) == 0 and g.x.shape == (0, 9) and g.edge_index.shape == (2, 0)
    assert g.batch([]).num_graphs == 0
    with pytest.raises(TypeError):
        featurize("CCO")
    with pytest.raises(ValueError, match="0: None"):
        featurize([None, "C"], cache=False)


def test_cache_dir_follows_env(tmp_path, monkeypatch):
    monkeypatch.setenv("MOLSELECT_CACHE", str(tmp_path / "here"))
    featurize(["CCO"], cache=True)
    assert Path(tmp_path / "here" / "ogb_graphs").is_dir()


def test_matches_ogb_on_real_datasets(data_home):
    """OGB parity on a random sample of every MoleculeNet file in the data home."""
    import pandas as pd
    from rdkit import Chem, RDLogger

    ogb_mol = pytest.importorskip("ogb.utils.mol")
    RDLogger.DisableLog("rdApp.*")
    rng = np.random.default_rng(0)
    for path in sorted(Path(data_home).glob("*.csv.gz")):
        column = pd.read_csv(path, usecols=["smiles"], dtype=str)["smiles"].dropna()
        sample = [s for s in rng.choice(column.to_numpy(), size=min(150, len(column)), replace=False)
                  if Chem.MolFromSmiles(s) is not None]
        g = featurize(sample, n_jobs=1, cache=False)
        for i, smi in enumerate(sample):
            ref = ogb_mol.smiles2graph(smi)
            e = slice(g.edge_ptr[i], g.edge_ptr[i + 1])
            assert np.array_equal(g.x[g.node_ptr[i]:g.node_ptr[i + 1]],
                                  ref["node_feat"].reshape(-1, 9)), (path.name, smi)
            assert np.array_equal(g.edge_index[:, e], ref["edge_index"]), (path.name, smi)
            assert np.array_equal(g.edge_attr[e], ref["edge_feat"]), (path.name, smi)


# -- cache files: permissions, damage, inspection and pruning ------------------------------
def test_cache_files_follow_the_umask(tmp_path, monkeypatch):
    """Probe 91: cache files were 0600, so a shared cache was 'corrupted' for the others."""
    monkeypatch.setenv("MOLSELECT_CACHE", str(tmp_path))
    previous = os.umask(0o022)
    try:
        _cache.load_or_build("probe", ["CCO"], lambda: {"a": np.arange(3)})
    finally:
        os.umask(previous)
    (path,) = (tmp_path / "probe").glob("*.npz")
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_crafted_cache_metadata_is_rebuilt_not_a_crash(tmp_path, monkeypatch):
    """Probe 84: metadata holding a JSON list raised AttributeError."""
    monkeypatch.setenv("MOLSELECT_CACHE", str(tmp_path))
    build = lambda: {"a": np.arange(3)}  # noqa: E731
    _cache.load_or_build("probe", ["CCO"], build)
    (path,) = (tmp_path / "probe").glob("*.npz")
    np.savez(path, a=np.arange(3),
             __molselect_meta__=np.frombuffer(b'["a list"]', dtype=np.uint8))
    with pytest.warns(RuntimeWarning, match="corrupted"):
        out = _cache.load_or_build("probe", ["CCO"], build)
    np.testing.assert_array_equal(out["a"], np.arange(3))


def test_unreadable_cache_file_is_not_called_corrupted(tmp_path, monkeypatch):
    """Probe 91: 'is corrupted ([Errno 13] Permission denied)' was the wrong diagnosis."""
    monkeypatch.setenv("MOLSELECT_CACHE", str(tmp_path))
    build = lambda: {"a": np.arange(3)}  # noqa: E731
    _cache.load_or_build("probe", ["CCO"], build)

    def denied(*args):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(_cache, "_read", denied)
    with pytest.warns(RuntimeWarning, match="cannot be read") as record:
        _cache.load_or_build("probe", ["CCO"], build)
    assert not any("corrupted" in str(w.message) for w in record)


def test_cache_file_without_a_required_array_is_rebuilt(tmp_path, monkeypatch):
    """Probe 85: a cache file with a valid key and checksum but no edge_attr: KeyError."""
    from molselect.featurize import featurize

    monkeypatch.setenv("MOLSELECT_CACHE", str(tmp_path))
    smiles = ["CCO", "c1ccccc1"]
    expected = featurize(smiles)
    (path,) = (tmp_path / "ogb_graphs").glob("*.npz")
    with np.load(path) as npz:
        arrays = {k: npz[k] for k in npz.files if k not in ("edge_attr", "__molselect_meta__")}
    key = path.stem
    _cache._write(path, key, arrays)
    with pytest.warns(RuntimeWarning, match="missing array"):
        again = featurize(smiles)
    np.testing.assert_array_equal(again.edge_attr, expected.edge_attr)


def test_cache_info_and_pruning_delete_the_least_recently_used_first(tmp_path):
    old = fake_cache_entry(tmp_path, "ogb_graphs", "a", 100, 1_000)
    mid = fake_cache_entry(tmp_path, "maccs", "b", 100, 2_000)
    new = fake_cache_entry(tmp_path, "ogb_graphs", "c", 100, 3_000)
    mine = tmp_path / "notes.txt"  # not molselect's: never counted nor deleted
    mine.write_text("keep")
    info = _cache.cache_info(tmp_path)
    assert (info["files"], info["bytes"]) == (3, 300)
    assert info["kinds"]["ogb_graphs"] == {"files": 2, "bytes": 200}
    assert _cache.clear_cache(max_bytes=150, folder=tmp_path) == {"files": 2, "bytes": 200}
    assert not old.exists() and not mid.exists() and new.exists()
    assert _cache.clear_cache(folder=tmp_path) == {"files": 1, "bytes": 100}
    assert _cache.cache_info(tmp_path)["files"] == 0 and mine.exists()
    with pytest.raises(ValueError, match="max_bytes"):
        _cache.clear_cache(max_bytes=-1, folder=tmp_path)


# -- SIGTERM during parallel featurization -------------------------------------------------
_FEATURIZE_MANY = r'''
import sys
import numpy as np
from molselect.featurize import featurize
smiles = np.array(["CC(=O)Oc1ccccc1C(=O)O", "CN1C=NC2=C1C(=O)N(C(=O)N2C)C", "c1ccc2ccccc2c1",
                   "CCN(CC)CC"] * 50000, dtype=object)
print("start", flush=True)
featurize(smiles, n_jobs=2, cache=False)
print("finished", flush=True)
'''


def _descendants(pid):
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.probe("CLI-21")
@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs /proc to find the workers")
def test_sigterm_during_parallel_featurization_leaves_no_workers(tmp_path):
    """Probe 100: SIGTERM left 2 loky workers and 2 resource trackers behind."""
    import signal
    import subprocess
    import sys
    import time

    proc = subprocess.Popen([sys.executable, "-c", _FEATURIZE_MANY], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "MOLSELECT_CACHE": str(tmp_path)})
    try:
        assert proc.stdout.readline().strip() == "start"
        deadline = time.monotonic() + 120
        workers = []
        while time.monotonic() < deadline and len(workers) < 2 and proc.poll() is None:
            time.sleep(0.2)
            workers = _descendants(proc.pid)
        assert len(workers) >= 2, "the workers never started"
        time.sleep(1.0)
        workers = _descendants(proc.pid)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGTERM
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(_alive(p) for p in workers):
        time.sleep(0.2)
    assert not [p for p in workers if _alive(p)], "worker processes were left behind"


# -- molecules too large to featurize in reasonable time -----------------------------------
def test_huge_smiles_in_featurize_keys_overlap_and_split_is_invalid_not_a_hang():
    """Probe 10: featurize and canonical_keys called directly on a huge SMILES hung."""
    from molselect.datasets import (
        MAX_SMILES_LENGTH, canonical_keys, find_overlap, scaffold_split, skeleton_keys)
    from molselect.featurize import featurize, maccs_fingerprints

    huge = "C" * 100_000
    for call in (lambda: featurize(["CCO", huge], cache=False),
                 lambda: maccs_fingerprints(["CCO", huge], cache=False),
                 lambda: scaffold_split(["CCO", huge, "c1ccccc1"])):
        message = refused_quickly(call)
        assert re.search(r"\b1\W{1,3}'C{30}'\.\.\. \(100,000 characters\)", message)
        assert f"MAX_SMILES_LENGTH = {MAX_SMILES_LENGTH:,}" in message
    # As for an unparsable SMILES: no key, and never a match (not even with itself).
    assert canonical_keys(["CCO", huge, "xx"]).tolist()[1:] == [None, None]
    assert skeleton_keys([huge]).tolist() == [None]
    assert find_overlap(["CCO", huge], [huge, "OCC"]).tolist() == [False, True]
    # A molecule at the limit itself is accepted everywhere.
    at_limit = "C" * MAX_SMILES_LENGTH
    frame = pd.DataFrame({"smiles": ["CCO", at_limit], "y": [0.5, 1.0]})
    assert len(from_frame(frame)) == 2
    assert featurize([at_limit], cache=False).num_nodes.tolist() == [MAX_SMILES_LENGTH]
    assert canonical_keys([at_limit])[0] is not None


def test_largest_real_molecule_passes_with_a_wide_margin():
    """Probe 10: the limit must not touch real data (sider's 1,340-character SMILES)."""
    from molselect.datasets import MAX_SMILES_LENGTH, canonical_keys
    from molselect.featurize import featurize

    longest = max(load_dataset("sider").full.ids, key=len)
    assert len(longest) == 1340
    assert MAX_SMILES_LENGTH >= 3 * len(longest)
    frame = pd.DataFrame({"smiles": [longest, "CCO"], "y": [0, 1]})
    assert len(from_frame(frame)) == 2
    assert featurize([longest], cache=False).num_nodes.tolist() == [476]
    assert canonical_keys([longest])[0] is not None


# -- the cache shared, unwritable or unset ---------------------------------------------------
@pytest.mark.probe("CONC-04")
def test_clearing_the_cache_while_featurizing_gives_the_right_arrays(tmp_path, monkeypatch):
    import threading

    monkeypatch.setenv("MOLSELECT_CACHE", str(tmp_path))
    smiles = list(load_dataset("esol").full.ids[:400])
    expected = featurize(smiles, cache=False)
    stop = threading.Event()

    def clear_again_and_again():
        while not stop.is_set():
            _cache.clear_cache(folder=tmp_path)
            time.sleep(0.002)

    cleaner = threading.Thread(target=clear_again_and_again)
    cleaner.start()
    try:
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            for _ in range(6):
                graphs = featurize(smiles)
                np.testing.assert_array_equal(graphs.x, expected.x)
                np.testing.assert_array_equal(graphs.edge_index, expected.edge_index)
    finally:
        stop.set()
        cleaner.join()
    # Never a half-written file read, and never a write broken by the clearing: the
    # temporary file of a write in progress is left alone.
    messages = [str(w.message) for w in record if issubclass(w.category, RuntimeWarning)]
    assert not messages, messages


@pytest.mark.probe("CONC-03")
def test_the_temporary_file_of_a_killed_write_is_removed_by_the_next_write(tmp_path,
                                                                          monkeypatch):
    """A write killed midway leaves ``.<key>.npz.<random>.tmp``: the next write to the same
    folder removes it once it is old enough not to be a write in progress; ``clear_cache``
    removes it too, but leaves a fresh one (another process's write) alone."""
    monkeypatch.setenv("MOLSELECT_CACHE", str(tmp_path))
    featurize(["CCO"])
    folder = tmp_path / "ogb_graphs"
    orphan, fresh = folder / ".dead.npz.x1.tmp", folder / ".busy.npz.x2.tmp"
    orphan.write_bytes(b"\0" * 64)
    fresh.write_bytes(b"\0" * 64)
    hour_ago = time.time() - 3600
    os.utime(orphan, (hour_ago, hour_ago))
    featurize(["CCN"])                    # another entry written to the same folder
    assert not orphan.exists() and fresh.exists()
    orphan.write_bytes(b"\0" * 64)
    os.utime(orphan, (hour_ago, hour_ago))
    _cache.clear_cache(folder=tmp_path)
    assert not orphan.exists() and fresh.exists()
    assert not list(folder.glob("*.npz"))


@pytest.mark.probe("CONC-07")
def test_a_cache_that_cannot_be_written_warns_and_the_features_are_right(tmp_path,
                                                                          monkeypatch):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("MOLSELECT_CACHE", str(blocker / "cache"))
    smiles = ["CCO", "c1ccccc1", "CC(=O)[O-].[Na+]"]
    with pytest.warns(RuntimeWarning, match="could not write molselect cache file"):
        graphs = featurize(smiles)
    expected = featurize(smiles, cache=False)
    np.testing.assert_array_equal(graphs.x, expected.x)
    np.testing.assert_array_equal(graphs.edge_attr, expected.edge_attr)


@pytest.mark.probe("CONC-08")
def test_an_empty_molselect_cache_means_the_default_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("MOLSELECT_CACHE", "")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    assert cache_dir() == tmp_path / "home" / ".cache" / "molselect" / "features"
    featurize(["CCO"])
    assert list(work.iterdir()) == []    # nothing written to the working folder
    assert (cache_dir() / "ogb_graphs").is_dir()
