"""Downloading CIFAR and MNIST from their published addresses.

A file is fetched into ``NAME.part``; an interrupted download resumes from there
with an HTTP Range request; the finished file must match its published checksum
and only then is renamed, atomically, to ``NAME``. Nothing downloads on import:
only ``download_file`` and ``download_dataset`` touch the network, and the mirror
can be replaced (``base_url``) to test against a local server.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from designer.data.errors import ChecksumError, DownloadError
from designer.data.paths import downloads_dir

if TYPE_CHECKING:
    import http.client

# (file name, bytes so far, total bytes or None). Raising from it cancels the download;
# the partial file stays, so the next call resumes.
Progress = Callable[[str, int, int | None], None]
_CHUNK = 1 << 16


@dataclass(frozen=True)
class RemoteFile:
    name: str
    md5: str | None = None
    sha256: str | None = None


@dataclass(frozen=True)
class RemoteDataset:
    """Where a dataset is published, its files with their checksums, and what to give back.

    ``result`` is the path, relative to the download folder, to put in a dataset
    description: the archive for CIFAR, the folder itself (".") for MNIST.
    """

    mirrors: tuple[str, ...]
    files: tuple[RemoteFile, ...]
    result: str


def _idx_files(md5s: tuple[str, str, str, str]) -> tuple[RemoteFile, ...]:
    names = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
             "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
    return tuple(RemoteFile(name, md5) for name, md5 in zip(names, md5s))


# Checksums as published by the datasets' authors (CIFAR) and as used by torchvision (MNIST).
CATALOG: dict[str, RemoteDataset] = {
    "cifar10": RemoteDataset(("https://www.cs.toronto.edu/~kriz/",),
                             (RemoteFile("cifar-10-python.tar.gz", "c58f30108f718f92721af3b95e74349a"),),
                             "cifar-10-python.tar.gz"),
    "cifar100": RemoteDataset(("https://www.cs.toronto.edu/~kriz/",),
                              (RemoteFile("cifar-100-python.tar.gz", "eb9058c3a382ffc7106e4002c42a8d85"),),
                              "cifar-100-python.tar.gz"),
    "mnist": RemoteDataset(("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"),
                           _idx_files(("f68b3c2dcbeaaa9fbdd348bbdeb94873", "d53e105ee54ea40749a09fcbcd1e9432",
                                       "9fb629c4189551a2d022fa330f9573f3", "ec29112dd5afa0611ce80d1b7f02629c")),
                           "."),
    "fashion_mnist": RemoteDataset(
        ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
        _idx_files(("8d4fb7e6c68d591d4c3dfef9ec88bf0d", "25c81989df183df01b3e8a0aad5dffbe",
                    "bef4ecab320f06d8554ea6380940ec79", "bb300cfdad3c16e7a12a480ee83cd310")),
        "."),
}


def download_dataset(name: str, folder: Path | None = None, *, base_url: str | None = None,
                     progress: Progress | None = None, timeout: float = 30.0) -> Path:
    """Download ``name``'s files into ``folder`` (default: the user cache) and return the path
    to use as the dataset's ``path``. Files already there with the right checksum are kept.
    """
    if name not in CATALOG:
        raise DownloadError(f"no download for {name!r}: known are {', '.join(CATALOG)}")
    spec = CATALOG[name]
    folder = folder if folder is not None else downloads_dir() / name
    mirrors = (base_url,) if base_url else spec.mirrors
    for file in spec.files:
        _from_mirrors(mirrors, file, folder / file.name, progress, timeout)
    return (folder / spec.result).resolve()


def _from_mirrors(mirrors: tuple[str, ...], file: RemoteFile, dest: Path,
                  progress: Progress | None, timeout: float) -> None:
    """Each mirror in turn until one works; a bad checksum is not a reason to try the next."""
    failures: list[str] = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + file.name
        try:
            download_file(url, dest, md5=file.md5, sha256=file.sha256, progress=progress, timeout=timeout)
            return
        except ChecksumError:
            raise
        except DownloadError as exc:
            failures.append(str(exc))
    raise DownloadError("; ".join(failures))


def download_file(url: str, dest: Path, *, md5: str | None = None, sha256: str | None = None,
                  progress: Progress | None = None, timeout: float = 30.0) -> Path:
    """Fetch ``url`` to ``dest``, resuming ``dest.part``, verifying, then renaming atomically."""
    if dest.is_file() and (md5 or sha256) and _mismatch(dest, md5, sha256) is None:
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    _fetch(url, part, progress, timeout)
    problem = _mismatch(part, md5, sha256)
    if problem:
        part.unlink()
        raise ChecksumError(f"{dest.name} from {url}: {problem}; the download was deleted, try again")
    os.replace(part, dest)
    return dest


def _fetch(url: str, part: Path, progress: Progress | None, timeout: float) -> None:
    # Imported here: with ssl they take 70 ms, and the app imports this module as it starts.
    import http.client
    import urllib.error
    import urllib.request

    have = part.stat().st_size if part.is_file() else 0
    headers = {"User-Agent": "designer", **({"Range": f"bytes={have}-"} if have else {})}
    try:
        response = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:
            return  # nothing left to send: the partial file is whole, the checksum will tell
        raise DownloadError(f"{url}: HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        raise DownloadError(f"{url}: cannot connect ({reason})") from exc
    with response:
        start = _resume_offset(response, have, part, url)
        total = _total(response, start)
        _copy(response, part, start, total, progress, url)


def _resume_offset(response: http.client.HTTPResponse, have: int, part: Path, url: str) -> int:
    """Where the body starts in the file: ``have`` for a 206 that starts there, 0 for a 200."""
    if response.status != 206:
        return 0  # the server sent the whole file: start over
    match = re.match(r"bytes (\d+)-", response.headers.get("Content-Range", ""))
    if not match or int(match.group(1)) != have:
        part.unlink(missing_ok=True)
        raise DownloadError(f"{url}: the server sent another range than the {have:,} bytes asked for; "
                            "the partial file was removed, run the download again")
    return have


def _total(response: http.client.HTTPResponse, start: int) -> int | None:
    length = response.headers.get("Content-Length")
    return start + int(length) if length and length.isdigit() else None


def _copy(response: http.client.HTTPResponse, part: Path, start: int, total: int | None,
          progress: Progress | None, url: str) -> None:
    import http.client  # already imported by _fetch

    done = start
    try:
        with part.open("r+b" if start else "wb") as file:
            file.truncate(start)
            file.seek(start)
            while chunk := response.read(_CHUNK):
                file.write(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(part.name.removesuffix(".part"), done, total)
    except (OSError, http.client.HTTPException) as exc:
        raise DownloadError(f"{url}: interrupted after {done:,} bytes ({exc}); "
                            "run the download again to resume") from exc
    if total is not None and done < total:
        raise DownloadError(f"{url}: the connection closed after {done:,} of {total:,} bytes; "
                            "run the download again to resume")


def _mismatch(path: Path, md5: str | None, sha256: str | None) -> str | None:
    """None if the file matches the checksums given, else what differs."""
    wanted = {"md5": md5, "sha256": sha256}
    hashes = {kind: hashlib.new(kind) for kind, value in wanted.items() if value}
    with path.open("rb") as file:
        while block := file.read(1 << 20):
            for h in hashes.values():
                h.update(block)
    for kind, h in hashes.items():
        expected = str(wanted[kind]).lower()
        if h.hexdigest() != expected:
            return f"{kind} is {h.hexdigest()}, expected {expected}"
    return None
