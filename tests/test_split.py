"""molselect.datasets' splits: scaffold split = official OGB split files; random and
cluster splits; scaffolds of long molecules."""

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from molselect.datasets import load_dataset, random_split, scaffold_split
from molselect.datasets._registry import DATA_DIR

OGB = Path(__file__).parent / "fixtures" / "ogb_splits"


def _ogb(name, part):
    return pd.read_csv(OGB / name / f"{part}.csv.gz", header=None)[0].to_numpy()


@pytest.mark.parametrize("name", ["bace", "bbbp", "esol", "freesolv"])
def test_scaffold_split_reproduces_ogb(name):
    # The bundled copies are byte-identical to the OGB mapping files.
    smiles = pd.read_csv(DATA_DIR / f"{name}.csv.gz")["smiles"].tolist()
    parts = scaffold_split(smiles)
    for got, part in zip(parts, ("train", "valid", "test")):
        np.testing.assert_array_equal(got, _ogb(name, part))
        assert got.dtype.kind == "i"


@pytest.mark.parametrize("name", ["bbbp", "freesolv"])
def test_load_dataset_uses_ogb_split(name, tmp_path, monkeypatch):
    monkeypatch.delenv("MOLSELECT_DATA", raising=False)
    splits = load_dataset(name, data_home=tmp_path)
    for part in ("train", "valid", "test"):
        np.testing.assert_array_equal(splits.indices[part], _ogb(name, part))
        np.testing.assert_array_equal(getattr(splits, part).ids,
                                      splits.full.ids[_ogb(name, part)])


def test_scaffold_split_groups_never_straddle(small_smiles):
    train, valid, test = scaffold_split(small_smiles)
    assert sorted(np.concatenate([train, valid, test]).tolist()) == list(range(20))
    from molselect.datasets._split import murcko_scaffolds
    scaffolds = np.array(murcko_scaffolds(small_smiles), dtype=object)
    assert not set(scaffolds[train]) & set(scaffolds[test])


def test_scaffold_split_accepts_dataset_and_rejects_invalid(small_smiles):
    train, _, _ = scaffold_split(load_dataset("freesolv", data_home="/nonexistent").full)
    assert len(train) == 513
    with pytest.raises(ValueError, match=r"1 SMILES cannot be parsed.*1 \('C1CC'\)"):
        scaffold_split(["CCO", "C1CC", "CCN"])
    with pytest.raises(ValueError, match="fractions"):
        scaffold_split(small_smiles, 0.8, 0.1, 0.2)


def test_random_split():
    train, valid, test = random_split(100, (0.8, 0.1, 0.1), random_state=0)
    assert (len(train), len(valid), len(test)) == (80, 10, 10)
    assert sorted(np.concatenate([train, valid, test]).tolist()) == list(range(100))
    assert np.all(np.diff(train) > 0)
    again = random_split(list(range(100)), random_state=0)
    for a, b in zip((train, valid, test), again):
        np.testing.assert_array_equal(a, b)
    other = random_split(100, random_state=1)
    assert not np.array_equal(other[0], train)
    with pytest.raises(ValueError):
        random_split(10, (0.5, 0.5, 0.5))


def test_scaffold_cache_speeds_up_repeat_split(data_home):
    # A 5k slice keeps this quick; the full hiv timing is in the lead's report.
    smiles = pd.read_csv(data_home / "hiv.csv.gz")["smiles"].tolist()[:5000]
    from molselect.datasets._io import parse_smiles
    from molselect.datasets._split import _SCAFFOLD_CACHE
    mols, invalid = parse_smiles(smiles)
    valid = [s for s, bad in zip(smiles, invalid) if not bad]
    for s in valid:
        _SCAFFOLD_CACHE.pop(s, None)
    start = time.perf_counter()
    first = scaffold_split(valid, mols=[m for m in mols if m is not None])
    elapsed = time.perf_counter() - start
    start = time.perf_counter()
    second = scaffold_split(valid)
    assert time.perf_counter() - start < elapsed
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


def _congeneric():
    """95 disubstituted benzenes and 5 other ring systems (a congeneric series)."""
    chains = ["C", "CC", "CCC", "CO", "CCO", "CN", "CCN", "C(=O)O", "C(=O)N", "OC", "Cl", "F",
              "Br", "C(F)(F)F", "N", "O", "CC(C)C", "C#N", "S", "C=O"]
    series = list(dict.fromkeys(f"c1cc({a})ccc1{b}" for a in chains for b in chains[:6]))[:95]
    return series + ["C1CCCCC1C", "c1ccncc1C", "C1CCOC1C", "c1ccc2ccccc2c1C", "C1CC1CC"]


@pytest.mark.probe("SPLIT-01")
def test_cluster_split_keeps_similar_molecules_together_and_is_seeded():
    from molselect.datasets import cluster_split
    from molselect.datasets._split import butina_clusters

    smiles = _congeneric()
    parts = cluster_split(smiles, random_state=0)
    assert [len(p) for p in parts] == [80, 10, 10]
    assert all(np.array_equal(a, b) for a, b in zip(parts, cluster_split(smiles,
                                                                          random_state=0)))
    where = np.empty(100, dtype=int)
    for k, part in enumerate(parts):
        where[part] = k
    for cluster in butina_clusters(smiles):
        assert len(set(where[list(cluster)])) == 1


def test_butina_clusters_match_rdkit():
    from rdkit import DataStructs
    from rdkit.ML.Cluster import Butina

    from molselect.datasets._split import _morgan_fingerprints, butina_clusters

    smiles = _congeneric()[::3]
    fps = _morgan_fingerprints(smiles)
    dists = [1 - s for i in range(1, len(fps))
             for s in DataStructs.BulkTanimotoSimilarity(fps[i], fps[:i])]
    for threshold in (0.3, 0.4, 0.6):
        assert tuple(butina_clusters(smiles, threshold)) == Butina.ClusterData(
            dists, len(fps), threshold, isDistData=True)


# -- scaffolds of long molecules -----------------------------------------------------------
def test_scaffold_of_a_long_acyclic_molecule_is_immediate():
    """Probe 10: RDKit's Murcko decomposition is cubic: a 2,000-atom chain took 40 s."""
    import time

    from rdkit import Chem
    from rdkit.Chem.Scaffolds import MurckoScaffold

    from molselect.datasets import MAX_SMILES_LENGTH
    from molselect.datasets._split import murcko_scaffolds

    start = time.perf_counter()
    scaffolds = murcko_scaffolds(["C" * MAX_SMILES_LENGTH, "CC(C)(C)" * 600, "c1ccccc1CC"])
    assert time.perf_counter() - start < 5.0
    assert scaffolds == ["", "", "c1ccccc1"]
    # The shortcut gives what RDKit gives for every acyclic molecule.
    for name in ("esol", "freesolv"):
        for smiles in load_dataset(name).full.ids:
            mol = Chem.MolFromSmiles(smiles)
            if mol.GetRingInfo().NumRings() == 0:
                assert MurckoScaffold.MurckoScaffoldSmiles(mol=mol, includeChirality=True) == ""
