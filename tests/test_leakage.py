"""molselect.datasets' leakage helpers: canonical and skeleton keys, find_overlap, and the
leakage guard they drive."""

import numpy as np
import pytest

from molselect.datasets import MoleculeDataset, canonical_keys, find_overlap, load_dataset


def test_canonical_keys():
    keys = canonical_keys(["CCO", "OCC", "C(C)O", "c1ccccc1", "C1=CC=CC=C1", "nope", ""])
    assert keys[0] == keys[1] == keys[2] == "LFQSCWFLJHTTHZ-UHFFFAOYSA-N"
    assert keys[3] == keys[4] != keys[0]
    assert keys[5] is None and keys[6] is None


def test_find_overlap_matches_spellings():
    reference = ["OCC", "c1ccccc1", "invalid("]
    other = ["CCO", "CCN", "C1=CC=CC=C1", "invalid(", "CCCO", "OCC"]
    mask = find_overlap(reference, other)
    assert mask.tolist() == [True, False, True, False, False, True]
    assert find_overlap(reference, other, return_indices=True).tolist() == [0, 2, 5]
    assert not find_overlap([], other).any()


def test_find_overlap_with_datasets(tmp_path, monkeypatch):
    monkeypatch.delenv("MOLSELECT_DATA", raising=False)
    bbbp = load_dataset("bbbp", data_home=tmp_path)
    mask = find_overlap(bbbp.test, bbbp.full)
    # Every test molecule occurs in full (some may also appear as duplicates elsewhere).
    assert mask[bbbp.indices["test"]].all()
    assert mask.sum() >= len(bbbp.test)


# -- stereo variants and salt forms --------------------------------------------------------
def test_skeleton_leakage_guard_removes_stereo_and_salt_forms(bbbp_tiny):
    """Probes 76-77: stereo variants and salt forms of test molecules passed the guard."""
    from molselect.datasets import find_overlap
    from molselect.selectors import AllAuxiliariesSelector

    held_out = ["C[C@H](N)C(=O)O", "C/C=C/C", "CCN"]
    variants = ["C[C@@H](N)C(=O)O", "CC(N)C(=O)O", "C/C=C\\C", "CCN.Cl", "CCN.O",
                "CC(=O)[O-]", "c1ccccc1"]
    assert not find_overlap(held_out, variants).any()
    assert find_overlap(held_out, variants, match="skeleton").tolist() == [
        True, True, True, True, True, False, False]
    target, _, _, _ = bbbp_tiny
    test = MoleculeDataset(held_out, [0.0, 1.0, 0.0], task_types="classification",
                           tasks=target.tasks)
    aux = MoleculeDataset(variants, np.arange(7.0), name="aux")
    with pytest.warns(UserWarning, match="leakage guard removed 5"):
        union = AllAuxiliariesSelector(leakage_guard="skeleton").fit_transform(
            target, {"aux": aux}, eval_set=test)
    assert list(union["aux"].ids) == ["CC(=O)[O-]", "c1ccccc1"]
    with pytest.raises(ValueError, match="leakage_guard must be"):
        AllAuxiliariesSelector(leakage_guard="loose").fit(target, {"aux": aux})


@pytest.mark.probe("CHEM-05")
def test_isotopically_labelled_copies_are_other_molecules_unless_skeleton():
    """As the user guide says: a deuterated or 13C-labelled copy of a held-out molecule is
    another molecule to the default guard, and the same one to ``match="skeleton"``."""
    held_out = ["CCO", "c1ccccc1C(=O)O"]
    labelled = ["[2H]OCC", "c1ccccc1[13C](=O)O"]
    assert not find_overlap(held_out, labelled).any()
    assert find_overlap(held_out, labelled, match="skeleton").all()
