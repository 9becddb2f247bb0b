"""Autosave: the open project is copied to the user data folder shortly after each burst of edits.

Each running app writes its own file, named after its process id, and removes
it when the project is saved or closed cleanly. A file whose process is gone
is what a crash left behind: the next start offers it back (see
:mod:`designer.ui.app`). The copy is a project file with an extra
``"autosave"`` section naming the file it belongs to.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QTimer

from designer.graph.files import write_atomic
from designer.graph.project import dumps, graph_from_dict
from designer.ui.data_dir import DATA_DIR_VARIABLE, doubled_data_dir, user_data_dir
from designer.ui.document import Document

DELAY_MS = 1500  # after the last edit of a burst


def autosave_folder() -> Path:
    return user_data_dir() / "autosave"


class Autosaver(QObject):
    """Writes the watched document's graph to one file while it has unsaved changes."""

    def __init__(self, folder: Path | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.folder = folder if folder is not None else autosave_folder()
        self.path = self.folder / f"{os.getpid()}-{id(self):x}.json"
        self.document: Document | None = None
        self._timer = QTimer(self, singleShot=True, interval=DELAY_MS)
        self._timer.timeout.connect(self.save_now)

    def watch(self, document: Document) -> None:
        if self.document is not None:
            self.document.undo_stack.indexChanged.disconnect(self._schedule)
            self.document.undo_stack.cleanChanged.disconnect(self._on_clean_changed)
        self.document = document
        document.undo_stack.indexChanged.connect(self._schedule)
        document.undo_stack.cleanChanged.connect(self._on_clean_changed)
        if document.dirty:
            self.save_now()  # a restored document: keep it safe at once
        else:
            self.discard()

    def _schedule(self, *args: object) -> None:
        self._timer.start()

    def _on_clean_changed(self, clean: bool) -> None:
        if clean:
            self._timer.stop()
            self.discard()

    def save_now(self) -> None:
        document = self.document
        if document is None or not document.dirty:
            return
        data = json.loads(dumps(document.graph))
        data["autosave"] = {"path": str(document.path) if document.path else None, "time": time.time()}
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            write_atomic(self.path, json.dumps(data, ensure_ascii=False).encode("utf-8"))
        except OSError:
            pass  # autosave is a safety net: a full disk must not interrupt editing

    def discard(self) -> None:
        self._timer.stop()
        with contextlib.suppress(OSError):
            self.path.unlink(missing_ok=True)


@dataclass(frozen=True)
class Leftover:
    """An autosave file whose app is no longer running."""

    file: Path
    original: Path | None
    time: float

    @property
    def label(self) -> str:
        name = self.original.name if self.original else "an unsaved project"
        return f"{name}, autosaved {time.strftime('%Y-%m-%d %H:%M', time.localtime(self.time))}"


def leftovers(folder: Path | None = None) -> list[Leftover]:
    """What crashed sessions left behind, newest first; unreadable files are skipped."""
    folders = [folder] if folder is not None else [autosave_folder()]
    if folder is None and not os.environ.get(DATA_DIR_VARIABLE):
        folders.append(doubled_data_dir() / "autosave")  # where earlier versions saved
    found = []
    files = [f for place in dict.fromkeys(folders) if place.is_dir() for f in place.glob("*.json")]
    for file in files:
        pid = file.name.split("-", 1)[0]
        if pid.isdigit() and _running(int(pid)):
            continue
        try:
            meta = json.loads(file.read_text(encoding="utf-8"))["autosave"]
            original = Path(meta["path"]) if meta.get("path") else None
            found.append(Leftover(file, original, float(meta["time"])))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return sorted(found, key=lambda leftover: leftover.time, reverse=True)


def restore(leftover: Leftover) -> Document:
    """The autosaved project as an unsaved document of its original file; the leftover is removed."""
    data = json.loads(leftover.file.read_text(encoding="utf-8"))
    data.pop("autosave", None)
    document = Document(graph_from_dict(data), leftover.original)
    document.undo_stack.resetClean()  # unsaved until the user saves
    leftover.file.unlink(missing_ok=True)
    return document


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True
