"""Shared fixtures: the large-dataset home, tiny molecule sets, fixed seeds."""

import os
from pathlib import Path

import numpy as np
import pytest

MOLECULENET_FILES = ("hiv", "tox21", "muv", "chembl", "qm9")


@pytest.fixture(scope="session")
def data_home():
    """The folder with the full MoleculeNet ``<name>.csv.gz`` files (``MOLSELECT_DATA``).

    Skips with a clear reason when it is not set up; fails instead when
    ``MOLSELECT_REQUIRE_DATA=1`` (as in CI), so CI can never skip these tests.
    """
    home = os.environ.get("MOLSELECT_DATA")
    missing = None
    if not home:
        missing = "MOLSELECT_DATA is not set"
    else:
        absent = [n for n in MOLECULENET_FILES if not (Path(home) / f"{n}.csv.gz").exists()]
        if absent:
            missing = f"MOLSELECT_DATA={home} lacks {', '.join(absent)}"
    if missing:
        message = (f"{missing}: point it at a folder with the MoleculeNet <name>.csv.gz files "
                   "(e.g. ../shared/data/moleculenet)")
        if os.environ.get("MOLSELECT_REQUIRE_DATA") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return Path(home)


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Keep every test's feature cache out of the user's home."""
    monkeypatch.setenv("MOLSELECT_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


SMALL_SMILES = [
    "CCO", "CCN", "CCC", "c1ccccc1", "c1ccccc1O", "CC(=O)O", "CC(=O)N", "CCCl",
    "C1CCCCC1", "c1ccncc1", "CC(C)O", "OCC(O)CO", "CC#N", "C=CC=C", "c1ccc2ccccc2c1",
    "CC(=O)Oc1ccccc1C(=O)O", "CN1C=NC2=C1C(=O)N(C(=O)N2C)C", "O=C(O)CCC(=O)O",
    "NCCc1ccc(O)c(O)c1", "CC(C)Cc1ccc(cc1)C(C)C(=O)O",
]


@pytest.fixture
def small_smiles():
    """Twenty small, valid SMILES (no data files needed)."""
    return list(SMALL_SMILES)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(scope="session", autouse=True)
def _one_torch_thread_per_worker():
    """One intra-op thread per test process.

    The suite runs on two xdist workers on a 2-core machine; with torch's default
    of one thread per core each, the two workers' spin-waiting slowed tiny fits
    up to 60x (a 6 s test took 363 s).  Tests that need other counts set them.
    """
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
