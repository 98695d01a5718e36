"""molselect._files: output files that never destroy anything."""

import gzip
import os
import stat
import time

import pytest

from molselect._files import atomic_write, atomic_write_text, check_writable, file_mode


def test_a_regular_file_is_replaced_atomically(tmp_path):
    path = tmp_path / "out.json"
    path.write_text("old")
    atomic_write_text(path, "new\n")
    assert path.read_text() == "new\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]  # no temporary file left


@pytest.mark.probe("CLI-09")
def test_a_symlink_is_written_through_and_kept(tmp_path):
    real = tmp_path / "real.json"
    real.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    check_writable(link)
    atomic_write_text(link, "new")
    assert link.is_symlink() and real.read_text() == "new"
    dangling = tmp_path / "dangling.json"
    dangling.symlink_to(tmp_path / "sub" / "made.json")
    (tmp_path / "sub").mkdir()
    atomic_write_text(dangling, "x")
    assert dangling.is_symlink() and (tmp_path / "sub" / "made.json").read_text() == "x"


@pytest.mark.probe("CLI-08", "CLI-09")
def test_a_pipe_is_written_through_not_replaced(tmp_path):
    # A FIFO stands for the device nodes (/dev/null, /dev/stdout) that need root to make.
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    read_fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        check_writable(fifo)
        atomic_write_text(fifo, "through the pipe\n")
        assert os.read(read_fd, 100) == b"through the pipe\n"
    finally:
        os.close(read_fd)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    link = tmp_path / "stdout"          # like /dev/stdout -> /proc/self/fd/1
    link.symlink_to(fifo)
    read_fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        atomic_write_text(link, "via link")
        assert os.read(read_fd, 100) == b"via link"
    finally:
        os.close(read_fd)
    assert link.is_symlink()


def _device_copies(folder):
    """Private copies of /dev/null and /dev/full (never the system's own: a regression run
    as root would replace them for every process)."""
    null, full = folder / "fakenull", folder / "fakefull"
    try:
        os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        os.mknod(full, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
    except (PermissionError, OSError) as exc:
        pytest.skip(f"cannot make device nodes here ({exc})")
    return null, full


@pytest.mark.probe("CLI-08")
def test_a_device_is_written_through_and_its_write_error_raised(tmp_path):
    null, full = _device_copies(tmp_path)
    check_writable(null)
    atomic_write_text(null, "discarded")
    with pytest.raises(OSError):
        atomic_write_text(full, "x" * 10)
    for device in (null, full):
        assert stat.S_ISCHR(os.stat(device).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fakefull", "fakenull"]


@pytest.mark.probe("CLI-11")
def test_an_input_file_is_never_overwritten(tmp_path):
    data = tmp_path / "esol.csv"
    data.write_text("smiles,y\nCCO,1\n")
    with pytest.raises(FileExistsError, match="one of this run's input files"):
        check_writable(tmp_path / "." / "esol.csv", inputs=[str(data)])
    link = tmp_path / "out.csv"
    link.symlink_to(data)
    with pytest.raises(FileExistsError, match="input"):
        atomic_write_text(link, "gains", inputs=[data, None])
    assert data.read_text() == "smiles,y\nCCO,1\n"
    atomic_write_text(tmp_path / "gains.csv", "gains", inputs=[data])


@pytest.mark.probe("CLI-10")
def test_a_gz_name_is_compressed(tmp_path):
    path = tmp_path / "gains.csv.gz"
    atomic_write_text(path, "a,b\n1,2\n")
    with gzip.open(path, "rt") as handle:
        assert handle.read() == "a,b\n1,2\n"
    first = path.read_bytes()
    atomic_write_text(path, "a,b\n1,2\n")
    assert path.read_bytes() == first        # reproducible bytes


def test_a_failing_binary_writer_leaves_the_old_file_and_no_temporary(tmp_path):
    """atomic_write serves binary writers too (the feature cache, downloads)."""
    path = tmp_path / "arrays.npz"
    path.write_bytes(b"old")

    def half_then_fail(handle):
        handle.write(b"\x00partial")
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError, match="interrupted"):
        atomic_write(path, half_then_fail)
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["arrays.npz"]
    atomic_write(path, lambda handle: handle.write(b"\x00\x01new"))
    assert path.read_bytes() == b"\x00\x01new"
    assert stat.S_IMODE(path.stat().st_mode) == file_mode()  # the umask's mode, not 0600


def test_the_feature_cache_and_downloads_use_the_one_writer(tmp_path, monkeypatch):
    """A cache file and a normalised download are written by _files.atomic_write."""
    import numpy as np
    import pandas as pd

    from molselect import _files
    from molselect.datasets import _download
    from molselect.featurize import _cache

    written = []
    real = _files.atomic_write
    monkeypatch.setattr(_cache, "atomic_write", lambda p, w: written.append(p) or real(p, w))
    monkeypatch.setattr(_download, "atomic_write", lambda p, w: written.append(p) or real(p, w))
    monkeypatch.setenv("MOLSELECT_CACHE", str(tmp_path / "cache"))
    arrays = _cache.load_or_build("fp", ["k"], lambda: {"x": np.arange(3.0)})
    assert np.array_equal(arrays["x"], np.arange(3.0))
    frame = pd.DataFrame({"smiles": ["C", "CC"], "y": [1.0, np.nan]})
    target = tmp_path / "home" / "t.csv.gz"
    _download._write_normalised(frame, target, _download.get_dataset_info("bace"))
    assert pd.read_csv(target).to_dict("list")["smiles"] == ["C", "CC"]
    assert [p.suffix for p in written] == [".npz", ".gz"]
    assert sorted(p.name for p in (tmp_path / "home").iterdir()) == ["t.csv.gz"]


def test_stale_temporaries_are_removed_fresh_ones_kept(tmp_path):
    from molselect._files import remove_stale_temporaries

    old = tmp_path / ".key.json.abc.tmp"
    fresh = tmp_path / ".other.json.def.tmp"
    keep = tmp_path / "key.json"
    for path in (old, fresh, keep):
        path.write_text("{}")
    hour_ago = time.time() - 3600
    os.utime(old, (hour_ago, hour_ago))
    os.utime(keep, (hour_ago, hour_ago))
    assert remove_stale_temporaries(tmp_path) == 1
    assert not old.exists() and fresh.exists() and keep.exists()
    assert remove_stale_temporaries(tmp_path / "absent") == 0
