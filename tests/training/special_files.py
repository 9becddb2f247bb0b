"""Files that must not be read as they are: named pipes, and files of another user.

``fifo`` puts a named pipe in place of a file. Should the code under test open it
anyway, a helper process lets the reader go after a few seconds (it opens the
pipe for writing and closes it, so the reader sees an empty file): a regression
fails the test instead of hanging the suite. A process, not a thread: a reader
stuck in C code (Qt's QPixmap) may hold the interpreter's lock.

``run_unprivileged`` runs the command line as a user who cannot write (or read)
root's files. We run as root here and in CI, and root ignores file permissions,
so as root the child imports what the command needs while it still can (our
Python lives under root's home, which ``nobody`` cannot enter), then drops to
``nobody`` and runs ``designer.cli.main``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

RELEASE_AFTER_S = 5

_AS_NOBODY = """
import encodings.cp437, encodings.utf_8_sig, os, pwd, sys
import torch
import designer.cli, designer.cli_train, designer.cli_output
import designer.data, designer.data.progress, designer.training, designer.training.jobs
import designer.training.trained
designer.cli.build_parser()  # imports every command's module while the tree can still be read (a 0700 clone)
user = pwd.getpwnam("nobody")
os.setgroups([])
os.setgid(user.pw_gid)
os.setuid(user.pw_uid)
sys.exit(designer.cli.main(sys.argv[1:]))
"""


@contextlib.contextmanager
def fifo(path: Path) -> Iterator[Path]:
    """A named pipe at ``path`` for the body of the ``with``; a reader stuck on it is let go."""
    if not hasattr(os, "mkfifo") or shutil.which("sh") is None:
        pytest.skip("this system has no named pipes")
    os.mkfifo(path)
    # Each `: >` waits for a reader to open the pipe, then closes it: that reader reads an empty file.
    releaser = subprocess.Popen(["sh", "-c", f'sleep {RELEASE_AFTER_S}; while :; do : > "$0"; done', str(path)])
    try:
        yield path
    finally:
        releaser.kill()
        releaser.wait()


@contextlib.contextmanager
def shared_folder() -> Iterator[Path]:
    """A temporary folder other users can enter (pytest's tmp_path sits in a folder private to root)."""
    path = Path(tempfile.mkdtemp(prefix="designer-test-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        for folder, _dirs, _files in os.walk(path):  # a read-only tree cannot be emptied by its non-root owner
            Path(folder).chmod(0o755)
        shutil.rmtree(path, ignore_errors=True)


def read_only_tree(root: Path) -> None:
    """Take away write permission from ``root`` and everything under it (read and enter stay)."""
    for folder, _dirs, files in os.walk(root):
        for name in files:
            _drop_write(Path(folder) / name)
        _drop_write(Path(folder))


def _drop_write(path: Path) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    path.chmod((mode | stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
               & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def run_unprivileged(*argv: str, cwd: Path) -> tuple[int, str, str]:
    """``designer ARGV`` in ``cwd`` as a user that file permissions apply to: (exit code, stdout, stderr)."""
    env = {**os.environ, "PYTHONUTF8": "1"}
    if os.geteuid() != 0:
        command = [sys.executable, "-m", "designer", *argv]
    else:
        if not hasattr(os, "setuid"):
            pytest.skip("cannot drop root's privileges on this system")
        import pwd

        try:
            pwd.getpwnam("nobody")
        except KeyError:
            pytest.skip("no user 'nobody' to drop root's privileges to")
        command = [sys.executable, "-c", _AS_NOBODY, *argv]
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd, timeout=120, check=False)
    return done.returncode, done.stdout, done.stderr
