"""write_atomic: regular files are replaced whole, special files are streamed into or refused, never replaced.

Also: read-only files are kept unless the caller says to replace them, a
message names the real path and cause, and temporary files that a killed
writer left behind are cleaned up on the next write to the same folder, never
one that a live writer still holds.
"""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from designer.graph.files import ReadOnlyError, WriteError, make_folder, write_atomic

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="FIFOs, devices and signals are POSIX")


def make_node(path: Path, kind: int, device: tuple[int, int]) -> Path:
    try:
        os.mknod(path, kind | 0o666, os.makedev(*device))
    except (PermissionError, AttributeError):
        pytest.skip("making device nodes needs root (CAP_MKNOD)")
    return path


def read_fifo_during(path: Path, action: Callable[[], object]) -> bytes:
    """Run ``action`` (which writes to the FIFO ``path``) in a thread while reading the FIFO; returns what came.

    The read end is opened first (without waiting for a writer), so that the
    writer finds a reader however the two threads are scheduled.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    errors: list[BaseException] = []

    def act() -> None:
        try:
            action()
        except BaseException as exc:  # reported by the test, not lost in the thread
            errors.append(exc)

    writer = threading.Thread(target=act, daemon=True)
    writer.start()
    got = bytearray()
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            try:
                chunk = os.read(fd, 1 << 16)
            except BlockingIOError:  # the writer is there but has sent nothing yet
                chunk = None
            if chunk:
                got += chunk
            elif not writer.is_alive():
                break
            else:
                time.sleep(0.005)
    finally:
        os.close(fd)
    writer.join(5)
    if errors:
        raise errors[0]
    return bytes(got)


def write_to_fifo(path: Path, data: bytes) -> bytes:
    return read_fifo_during(path, lambda: write_atomic(path, data))


# -- special files -------------------------------------------------------------------------


@posix_only
def test_a_fifo_without_a_reader_is_refused_at_once(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    started = time.monotonic()
    with pytest.raises(WriteError) as caught:
        write_atomic(fifo, b"data")
    assert time.monotonic() - started < 2
    assert str(caught.value) == (f"{fifo}: is a named pipe (FIFO) that no program is reading; "
                                 "start the reader first")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


@posix_only
def test_a_fifo_with_a_reader_gets_the_data_and_stays_a_fifo(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert write_to_fifo(fifo, b"x" * 200_000) == b"x" * 200_000  # more than a pipe's buffer
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["pipe"]


@posix_only
def test_a_link_to_a_fifo_follows_the_same_rule(tmp_path):
    fifo, link = tmp_path / "pipe", tmp_path / "link"
    os.mkfifo(fifo)
    link.symlink_to(fifo)
    with pytest.raises(WriteError, match="no program is reading"):
        write_atomic(link, b"data")
    assert write_to_fifo(link, b"data") == b"data"
    assert link.is_symlink() and stat.S_ISFIFO(os.stat(fifo).st_mode)


@posix_only
def test_a_character_device_is_written_into_and_stays_a_device(tmp_path):
    null = make_node(tmp_path / "null", stat.S_IFCHR, (1, 3))
    write_atomic(null, b"data")
    assert stat.S_ISCHR(os.lstat(null).st_mode)
    write_atomic(Path(os.devnull), b"data")
    assert stat.S_ISCHR(os.lstat(os.devnull).st_mode)


@posix_only
@pytest.mark.skipif(not os.path.exists("/dev/stdout"), reason="no /dev/stdout on this system")
def test_dev_stdout_into_a_pipe_is_written_through(tmp_path):
    """/dev/stdout -> /proc/self/fd/1 -> "pipe:[…]": a link whose target has no path of its own."""
    child = subprocess.run([sys.executable, "-m", "designer", "export", "lenet5", "-f", "python",
                            "-o", "/dev/stdout"], capture_output=True, timeout=120, check=False)
    assert child.returncode == 0, child.stderr
    assert child.stdout.startswith(b'"""lenet5: a network exported from Designer.')
    assert b"class Lenet5(nn.Module):" in child.stdout


def test_a_block_device_is_refused(tmp_path):
    disk = make_node(tmp_path / "disk", stat.S_IFBLK, (7, 0))
    with pytest.raises(WriteError, match="is a block device; only a regular file, a named pipe or a character"):
        write_atomic(disk, b"data")
    assert stat.S_ISBLK(os.lstat(disk).st_mode)


@posix_only
def test_a_socket_is_refused(tmp_path):
    path = tmp_path / "s"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        with pytest.raises(WriteError, match="s: is a socket; only a regular file"):
            write_atomic(path, b"data")
    assert stat.S_ISSOCK(os.lstat(path).st_mode)


def test_a_link_to_a_regular_file_replaces_the_file_and_stays_a_link(tmp_path):
    target, link = tmp_path / "real.json", tmp_path / "link.json"
    target.write_bytes(b"old")
    link.symlink_to(target)
    write_atomic(link, b"new")
    assert link.is_symlink() and target.read_bytes() == b"new"


def test_a_folder_is_refused(tmp_path):
    with pytest.raises(WriteError, match="is a folder, not a file"):
        write_atomic(tmp_path, b"data")


# -- read-only files -------------------------------------------------------------------------


def test_a_read_only_file_is_kept_unless_replacing_it_is_asked_for(tmp_path):
    path = tmp_path / "model.py"
    path.write_bytes(b"old")
    path.chmod(0o444)
    with pytest.raises(ReadOnlyError) as caught:
        write_atomic(path, b"new")
    assert str(caught.value) == f"{path}: is read-only, so it was not replaced"
    assert path.read_bytes() == b"old"
    write_atomic(path, b"new", replace_read_only=True)
    assert path.read_bytes() == b"new" and stat.S_IMODE(path.stat().st_mode) == 0o444


# -- messages name the real path and cause ---------------------------------------------------


def test_a_path_under_a_file_names_the_file(tmp_path):
    (tmp_path / "somefile.txt").write_text("")
    target = tmp_path / "somefile.txt" / "out.py"
    with pytest.raises(WriteError) as caught:
        write_atomic(target, b"data")
    assert str(caught.value) == f"{tmp_path / 'somefile.txt'}: is a file, not a folder"


def test_a_missing_folder_is_named(tmp_path):
    target = tmp_path / "a" / "b" / "out.py"
    with pytest.raises(WriteError) as caught:
        write_atomic(target, b"data")
    assert str(caught.value) == f"{tmp_path / 'a'}: no such folder"
    with pytest.raises(WriteError, match=r"somefile.txt: is a file, not a folder"):
        (tmp_path / "somefile.txt").write_text("")
        make_folder(tmp_path / "somefile.txt" / "run")
    make_folder(tmp_path / "a" / "b")
    assert (tmp_path / "a" / "b").is_dir()


# -- temporary files of writers that died ------------------------------------------------------

WRITER = """
import os, sys, time
from pathlib import Path
from designer.graph import files

def hang(src, dst):  # the rename never comes: the writer is killed or stays stuck here
    print(src, flush=True)
    time.sleep(60)

os.replace = hang
files.write_atomic(Path(sys.argv[1]), b"x" * 100_000)
"""


def start_writer(target: Path) -> tuple[subprocess.Popen[str], Path]:
    """A real process stopped inside write_atomic, after its temporary file is written."""
    child = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    temp = Path(child.stdout.readline().strip())
    assert temp.parent == target.parent and temp.name.startswith(f".{target.name}.") and temp.is_file()
    return child, temp


def age(path: Path, seconds: float = 120) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


@posix_only
def test_a_killed_writers_temporary_file_goes_on_the_next_write_to_the_folder(tmp_path):
    child, temp = start_writer(tmp_path / "project.json")
    child.kill()  # SIGKILL: nothing of ours runs
    child.wait(5)
    assert temp.exists()
    write_atomic(tmp_path / "other.json", b"{}")
    assert temp.exists()  # too young to tell from a writer that has not locked its file yet
    age(temp)
    write_atomic(tmp_path / "other.json", b"{}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.json"]


@posix_only
def test_a_live_writers_temporary_file_is_kept_however_old(tmp_path):
    child, temp = start_writer(tmp_path / "project.json")
    try:
        age(temp)
        write_atomic(tmp_path / "other.json", b"{}")
        assert temp.exists()
    finally:
        child.kill()
        child.wait(5)


def test_other_files_that_look_alike_are_kept(tmp_path):
    kept = [tmp_path / ".project.json.tmp", tmp_path / "project.json.0123abcd.tmp",
            tmp_path / ".project.json.0123ABCD.tmp"]
    for path in kept:
        path.write_text("")
        age(path)
    write_atomic(tmp_path / "other.json", b"{}")
    assert all(path.exists() for path in kept)
