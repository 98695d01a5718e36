"""molselect._files: output files that never destroy anything (issue 22, part 2)."""

import gzip
import os
import stat
import time

import pytest

from molselect._files import atomic_write_text, check_writable


def test_a_regular_file_is_replaced_atomically(tmp_path):
    path = tmp_path / "out.json"
    path.write_text("old")
    atomic_write_text(path, "new\n")
    assert path.read_text() == "new\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]  # no temporary file left


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


def test_a_device_is_written_through_and_its_write_error_raised(tmp_path):
    null, full = _device_copies(tmp_path)
    check_writable(null)
    atomic_write_text(null, "discarded")
    with pytest.raises(OSError):
        atomic_write_text(full, "x" * 10)
    for device in (null, full):
        assert stat.S_ISCHR(os.stat(device).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fakefull", "fakenull"]


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


def test_a_gz_name_is_compressed(tmp_path):
    path = tmp_path / "gains.csv.gz"
    atomic_write_text(path, "a,b\n1,2\n")
    with gzip.open(path, "rt") as handle:
        assert handle.read() == "a,b\n1,2\n"
    first = path.read_bytes()
    atomic_write_text(path, "a,b\n1,2\n")
    assert path.read_bytes() == first        # reproducible bytes


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
