"""The downloader against a local HTTP server on 127.0.0.1 that serves fixture files with Range support.

Nothing here reaches the internet: every URL is the local server's.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from designer.data import download as download_module
from designer.data.config import DatasetConfig
from designer.data.download import CATALOG, RemoteDataset, RemoteFile, download_dataset, download_file
from designer.data.errors import ChecksumError, DownloadError
from designer.data.prepare import prepare
from tests.data.writers import write_mnist

PAYLOAD = np.random.default_rng(7).integers(0, 256, 300_000, dtype=np.uint8).tobytes()
PAYLOAD_MD5 = hashlib.md5(PAYLOAD).hexdigest()
PAYLOAD_SHA256 = hashlib.sha256(PAYLOAD).hexdigest()


@dataclass
class ServerState:
    files: dict[str, bytes] = field(default_factory=dict)
    requests: list[tuple[str, str | None]] = field(default_factory=list)
    cut_after: int | None = None  # close the next response after this many body bytes
    ignore_range: bool = False
    wrong_range: bool = False  # answer 206 from byte 0 whatever was asked


class _Handler(BaseHTTPRequestHandler):
    state: ServerState

    def do_GET(self) -> None:
        state = self.server.state  # type: ignore[attr-defined]
        wanted = self.headers.get("Range")
        state.requests.append((self.path, wanted))
        data = state.files.get(self.path)
        if data is None:
            self.send_error(404)
            return
        start = 0
        match = re.fullmatch(r"bytes=(\d+)-", wanted or "")
        if match and not state.ignore_range:
            start = 0 if state.wrong_range else int(match.group(1))
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if state.cut_after is not None:
            body, state.cut_after = body[: state.cut_after], None
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, ServerState]]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.state = ServerState(files={"/data/blob.bin": PAYLOAD})  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", httpd.state  # type: ignore[attr-defined]
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_download_with_progress_and_checksums(server: tuple[str, ServerState], tmp_path: Path) -> None:
    base, state = server
    seen: list[tuple[str, int, int | None]] = []
    dest = tmp_path / "out" / "blob.bin"
    result = download_file(f"{base}/data/blob.bin", dest, md5=PAYLOAD_MD5, sha256=PAYLOAD_SHA256,
                           progress=lambda *args: seen.append(args))
    assert result == dest and dest.read_bytes() == PAYLOAD
    assert not (tmp_path / "out" / "blob.bin.part").exists()
    assert seen[-1] == ("blob.bin", len(PAYLOAD), len(PAYLOAD))
    assert [s[1] for s in seen] == sorted(s[1] for s in seen)
    # Already there with the right checksum: no second request.
    download_file(f"{base}/data/blob.bin", dest, md5=PAYLOAD_MD5)
    assert len(state.requests) == 1


def test_interrupted_download_resumes_with_range(server: tuple[str, ServerState], tmp_path: Path) -> None:
    base, state = server
    state.cut_after = 120_000
    dest = tmp_path / "blob.bin"
    with pytest.raises(DownloadError, match="run the download again to resume"):
        download_file(f"{base}/data/blob.bin", dest, md5=PAYLOAD_MD5)
    part = tmp_path / "blob.bin.part"
    assert not dest.exists() and part.stat().st_size == 120_000
    seen: list[int] = []
    download_file(f"{base}/data/blob.bin", dest, md5=PAYLOAD_MD5,
                  progress=lambda _n, done, _t: seen.append(done))
    assert dest.read_bytes() == PAYLOAD and not part.exists()
    assert state.requests[-1] == ("/data/blob.bin", "bytes=120000-")
    assert seen[0] > 120_000  # counting went on from the partial file


def test_partial_file_from_an_earlier_run_is_resumed(server: tuple[str, ServerState], tmp_path: Path) -> None:
    base, state = server
    (tmp_path / "blob.bin.part").write_bytes(PAYLOAD[:5000])
    download_file(f"{base}/data/blob.bin", tmp_path / "blob.bin", sha256=PAYLOAD_SHA256)
    assert (tmp_path / "blob.bin").read_bytes() == PAYLOAD
    assert state.requests == [("/data/blob.bin", "bytes=5000-")]


def test_server_ignoring_range_restarts_cleanly(server: tuple[str, ServerState], tmp_path: Path) -> None:
    base, state = server
    state.ignore_range = True
    (tmp_path / "blob.bin.part").write_bytes(PAYLOAD[:5000])
    download_file(f"{base}/data/blob.bin", tmp_path / "blob.bin", md5=PAYLOAD_MD5)
    assert (tmp_path / "blob.bin").read_bytes() == PAYLOAD


def test_server_sending_another_range_is_refused(server: tuple[str, ServerState], tmp_path: Path) -> None:
    base, state = server
    state.wrong_range = True
    part = tmp_path / "blob.bin.part"
    part.write_bytes(PAYLOAD[:5000])
    with pytest.raises(DownloadError, match="another range than the 5,000 bytes asked for"):
        download_file(f"{base}/data/blob.bin", tmp_path / "blob.bin", md5=PAYLOAD_MD5)
    assert not part.exists()
    state.wrong_range = False
    download_file(f"{base}/data/blob.bin", tmp_path / "blob.bin", md5=PAYLOAD_MD5)
    assert (tmp_path / "blob.bin").read_bytes() == PAYLOAD


def test_complete_partial_file_gets_416_and_is_kept(server: tuple[str, ServerState], tmp_path: Path) -> None:
    base, _ = server
    (tmp_path / "blob.bin.part").write_bytes(PAYLOAD)
    download_file(f"{base}/data/blob.bin", tmp_path / "blob.bin", md5=PAYLOAD_MD5)
    assert (tmp_path / "blob.bin").read_bytes() == PAYLOAD


def test_checksum_mismatch_deletes_and_raises(server: tuple[str, ServerState], tmp_path: Path) -> None:
    base, _ = server
    dest = tmp_path / "blob.bin"
    with pytest.raises(ChecksumError, match=f"md5 is {PAYLOAD_MD5}, expected 0{{32}}"):
        download_file(f"{base}/data/blob.bin", dest, md5="0" * 32)
    assert not dest.exists() and not (tmp_path / "blob.bin.part").exists()


def test_http_error_and_mirror_fallback(server: tuple[str, ServerState], tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    base, state = server
    with pytest.raises(DownloadError, match="HTTP 404"):
        download_file(f"{base}/missing.bin", tmp_path / "m.bin")
    files = (RemoteFile("blob.bin", PAYLOAD_MD5),)
    spec = RemoteDataset((f"{base}/nowhere/", f"{base}/data/"), files, "blob.bin")
    monkeypatch.setitem(CATALOG, "blob", spec)
    assert download_dataset("blob", tmp_path / "d").read_bytes() == PAYLOAD
    assert [r[0] for r in state.requests[-2:]] == ["/nowhere/blob.bin", "/data/blob.bin"]


def test_cancel_from_progress_keeps_the_partial_file(server: tuple[str, ServerState], tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    base, _ = server
    monkeypatch.setattr(download_module, "_CHUNK", 10_000)

    class Cancelled(Exception):
        pass

    def cancel_midway(_name: str, done: int, _total: int | None) -> None:
        if done >= 50_000:
            raise Cancelled

    with pytest.raises(Cancelled):
        download_file(f"{base}/data/blob.bin", tmp_path / "blob.bin", progress=cancel_midway)
    assert (tmp_path / "blob.bin.part").stat().st_size == 50_000
    download_file(f"{base}/data/blob.bin", tmp_path / "blob.bin", md5=PAYLOAD_MD5)
    assert (tmp_path / "blob.bin").read_bytes() == PAYLOAD


def test_download_dataset_then_prepare(server: tuple[str, ServerState], tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole path: MNIST-format files served locally, downloaded, verified, loaded."""
    base, state = server
    source = write_mnist(tmp_path / "served", train=40, test=10, gz=True)
    files = []
    for path in sorted(source.iterdir()):
        state.files[f"/mnist/{path.name}"] = path.read_bytes()
        files.append(RemoteFile(path.name, hashlib.md5(path.read_bytes()).hexdigest()))
    real = CATALOG["mnist"]
    monkeypatch.setitem(CATALOG, "mnist", RemoteDataset(real.mirrors, tuple(files), real.result))
    folder = download_dataset("mnist", tmp_path / "mnist", base_url=f"{base}/mnist/")
    data = prepare(DatasetConfig(name="mnist", path=str(folder)), (1, 28, 28))
    assert data.info.train_count == 40 and data.info.validation == "given"


def test_catalog_points_at_the_canonical_addresses() -> None:
    assert CATALOG["cifar10"].mirrors[0] + CATALOG["cifar10"].files[0].name == \
        "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    assert CATALOG["cifar10"].files[0].md5 == "c58f30108f718f92721af3b95e74349a"
    assert CATALOG["mnist"].mirrors[0] == "https://ossci-datasets.s3.amazonaws.com/mnist/"
    assert all(f.md5 and len(f.md5) == 32 for spec in CATALOG.values() for f in spec.files)
