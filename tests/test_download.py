"""Download path: loopback HTTP / file:// URLs, checksums, normalisation, caching."""

import dataclasses
import gzip
import hashlib
import http.server
import threading
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from molselect.datasets import DownloadError, get_data_home, get_dataset_info, load_dataset
from molselect.datasets import _registry
from molselect.datasets._download import locate, normalise_raw

FIXTURES = Path(__file__).parent / "fixtures"
PCBA_TASKS = ["PCBA-1030", "PCBA-1379", "PCBA-1452", "PCBA-1454"]


def _sha(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


class _Server:
    """A loopback HTTP server over tests/fixtures that counts requests."""

    def __init__(self):
        self.requests = []
        server = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server API
                server.requests.append(self.path)
                super().do_GET()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), partial(Handler, directory=str(FIXTURES)))
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    srv = _Server()
    yield srv
    srv.close()


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.delenv("MOLSELECT_DATA", raising=False)
    return tmp_path / "home"


def _override(monkeypatch, name, **changes):
    # monkeypatch restores the real registry entry after the test.
    info = dataclasses.replace(get_dataset_info(name), **changes)
    monkeypatch.setitem(_registry._REGISTRY, name, info)
    return info


def test_http_download_good_checksum_normalises_and_caches(server, home, monkeypatch):
    raw = FIXTURES / "BBBP_raw.csv"
    _override(monkeypatch, "bbbp", url=server.url + "BBBP_raw.csv", sha256=_sha(raw),
              bundled=None)
    splits = load_dataset("bbbp", data_home=home)
    assert splits.source == "download"
    assert server.requests == ["/BBBP_raw.csv"]
    cached = home / "bbbp.csv.gz"
    assert cached.is_file()
    frame = pd.read_csv(cached)
    assert list(frame.columns) == ["smiles", "p_np"]
    assert frame["smiles"][5] == "CCO"  # whitespace stripped
    assert frame["p_np"].tolist() == [1] * 6 + [0] * 4
    # gzip header bytes 4..8 hold mtime: 0 keeps the cache byte-reproducible.
    assert cached.read_bytes()[4:8] == b"\x00\x00\x00\x00"
    assert len(splits.full) == 10 and splits.full.name == "bbbp"

    again = load_dataset("bbbp", data_home=home)
    assert again.source == "data_home"
    assert server.requests == ["/BBBP_raw.csv"]  # no second download
    np.testing.assert_array_equal(again.full.ids, splits.full.ids)


def test_bad_checksum_is_rejected_and_nothing_cached(server, home, monkeypatch):
    _override(monkeypatch, "bbbp", url=server.url + "BBBP_raw.csv", sha256="0" * 64,
              bundled=None)
    with pytest.raises(ValueError, match="checksum mismatch.*expected sha256 0{64}"):
        load_dataset("bbbp", data_home=home)
    assert not (home / "bbbp.csv.gz").exists()
    assert list(home.iterdir()) == []  # the temporary download folder is gone too


def test_unknown_checksum_warns_with_digest(home, monkeypatch):
    raw = FIXTURES / "pcba_raw.csv.gz"
    _override(monkeypatch, "pcba", url=raw.as_uri(), sha256=None, tasks=tuple(PCBA_TASKS))
    with pytest.warns(UserWarning, match=_sha(raw)):
        splits = load_dataset("pcba", data_home=home, split="random")
    assert splits.info.metric == "average_precision"
    full = splits.full
    assert full.tasks == PCBA_TASKS
    assert full.task_types == ["classification"] * 4
    assert len(full) == 6
    # Missing labels stay missing (NaN, weight 0) through normalisation.
    assert np.isnan(full.y[0, 1]) and full.w[0, 1] == 0
    assert full.y[4].tolist() == [1, 1, 1, 1]
    text = gzip.decompress((home / "pcba.csv.gz").read_bytes()).decode().splitlines()
    assert text[0] == "smiles," + ",".join(PCBA_TASKS)
    assert text[1] == "CCO,1,,0,"


def test_normalise_raw_missing_task_column(tmp_path):
    info = dataclasses.replace(get_dataset_info("pcba"), tasks=("PCBA-1030", "PCBA-9999"))
    with pytest.raises(ValueError, match="lacks 1 expected column.*PCBA-9999"):
        normalise_raw(FIXTURES / "pcba_raw.csv.gz", info)


def test_normalise_raw_renames_smiles_column(tmp_path):
    raw = tmp_path / "bace.csv"
    raw.write_text("mol,CID,Class,pIC50\nCCO,a,1,5.0\nc1ccccc1,b,0,4.2\n")
    frame = normalise_raw(raw, "bace")
    assert list(frame.columns) == ["smiles", "Class"]
    assert frame["Class"].tolist() == [1.0, 0.0]


def test_download_failure_says_where_and_how(home, monkeypatch):
    # A closed loopback port fails at once, without touching the network.
    _override(monkeypatch, "hiv", url="http://127.0.0.1:9/HIV.csv")
    with pytest.raises(DownloadError) as err:
        load_dataset("hiv", data_home=home)
    message = str(err.value)
    assert str(home) in message
    assert "hiv.csv.gz" in message and str(home / "raw" / "HIV.csv") in message
    assert "MOLSELECT_DATA" in message
    assert not (home / "hiv.csv.gz").exists()


def test_no_download_flag(home):
    with pytest.raises(DownloadError, match="not bundled"):
        locate("muv", data_home=home, download=False)


def test_raw_file_placed_by_hand_is_verified_and_normalised(home, monkeypatch):
    raw = FIXTURES / "BBBP_raw.csv"
    _override(monkeypatch, "bbbp", url="http://127.0.0.1:9/BBBP.csv", sha256=_sha(raw),
              bundled=None)
    (home / "raw").mkdir(parents=True)
    (home / "raw" / "BBBP.csv").write_bytes(raw.read_bytes())
    splits = load_dataset("bbbp", data_home=home)
    assert splits.source == "download" and len(splits.full) == 10
    assert (home / "bbbp.csv.gz").is_file()
    assert load_dataset("bbbp", data_home=home).source == "data_home"


def test_get_data_home_resolution(tmp_path, monkeypatch):
    monkeypatch.setenv("MOLSELECT_DATA", str(tmp_path / "env"))
    assert get_data_home() == tmp_path / "env"
    assert get_data_home(tmp_path / "arg") == tmp_path / "arg"
    monkeypatch.delenv("MOLSELECT_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert get_data_home() == tmp_path / "xdg" / "molselect"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    assert get_data_home() == tmp_path / "user" / ".cache" / "molselect"


def test_data_home_file_wins_over_bundled(tmp_path, monkeypatch):
    monkeypatch.delenv("MOLSELECT_DATA", raising=False)
    pd.DataFrame({"smiles": ["CCO", "CCN", "c1ccccc1", "CCC", "CCCl"] * 2,
                  "expt": np.arange(10.0)}).to_csv(tmp_path / "freesolv.csv.gz", index=False)
    splits = load_dataset("freesolv", data_home=tmp_path)
    assert splits.source == "data_home" and len(splits.full) == 10


def test_data_home_file_in_wrong_layout(tmp_path):
    pd.DataFrame({"smiles": ["CCO"], "other": [1.0]}).to_csv(tmp_path / "esol.csv.gz",
                                                             index=False)
    with pytest.raises(ValueError, match="normalised layout.*esol"):
        load_dataset("esol", data_home=tmp_path)


@pytest.mark.probe("CONC-08")
def test_an_empty_molselect_data_means_the_default_home(tmp_path, monkeypatch):
    monkeypatch.setenv("MOLSELECT_DATA", "")
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    assert get_data_home() == tmp_path / "user" / ".cache" / "molselect"
