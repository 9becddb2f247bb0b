"""Use Designer as a person would, in a real X11 window, and keep screenshots of what they would see.

A developer's tool, not part of CI. It starts Xvfb and openbox (installing the
Debian packages ``xvfb openbox xdotool imagemagick libxcb-icccm4 libxcb-keysyms1
libxcb-cursor0 x11-utils`` when missing and run as root), opens the app with settings of its
own, and drives it with xdotool: it wires a small network by dragging from port
to port, edits a parameter in the inspector, drags a block in from the palette
and undoes it, trains on the built-in digits, opens Plots and Runs, opens
ResNet-18 and Inception, and switches to the dark theme. Every step saves a
screenshot into ``--out``: look at each one.

Where to click comes from a probe: the same window built on the same display,
with the same fonts, settings and size, asked where its widgets are. The clicks
and drags themselves are real X events on the real app.

    .venv/bin/python tools/real_window.py --out shots
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PACKAGES = {"Xvfb": "xvfb", "openbox": "openbox", "xdotool": "xdotool", "import": "imagemagick",
            "xwininfo": "x11-utils"}
LIBRARIES = ("libxcb-icccm4", "libxcb-keysyms1", "libxcb-cursor0")
SIZE = (1600, 960)  # the window's client area on a 1600×1000 screen, below openbox's title bar
REPO = Path(__file__).resolve().parent.parent
DESIGNER = [sys.executable, "-m", "designer"]

# Input -> Conv2d -> ReLU -> Flatten -> Linear, unwired: the session wires it by hand.
TINY = {
    "format": "designer-project", "version": 1, "name": "tiny", "description": "wired by hand",
    "nodes": [
        {"name": "input", "type": "Input", "params": {"shape": [1, 8, 8]}, "position": [0, 0]},
        {"name": "conv", "type": "Conv2d", "params": {"out_channels": 8, "kernel_size": 3, "padding": 1},
         "position": [260, 0]},
        {"name": "relu", "type": "ReLU", "params": {}, "position": [520, 0]},
        {"name": "flatten", "type": "Flatten", "params": {}, "position": [780, 0]},
        {"name": "fc", "type": "Linear", "params": {"out_features": 10}, "position": [1040, 0]},
    ],
    "edges": [],
    "training": {"epochs": 3, "batch_size": 64},
    "dataset": {"name": "digits"},
}
CHAIN = ("input", "conv", "relu", "flatten", "fc")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="real-window-shots", help="folder for the screenshots")
    parser.add_argument("--display", default=":77", help="the X display to start Xvfb on")
    parser.add_argument("--probe", help=argparse.SUPPRESS)  # internal: where the widgets of SRC are
    args = parser.parse_args(argv)
    if args.probe:
        return _probe(args.probe)
    _ensure_packages()
    with Session(args.display, Path(args.out)) as session:
        session.run()
    print(f"screenshots in {Path(args.out).resolve()}")
    return 0


def _ensure_packages() -> None:
    missing = [package for tool, package in PACKAGES.items() if shutil.which(tool) is None]
    missing += [lib for lib in LIBRARIES if subprocess.run(["dpkg", "-s", lib], capture_output=True).returncode]
    if not missing:
        return
    if os.geteuid() != 0:
        sys.exit(f"install first: sudo apt-get install -y {' '.join(missing)}")
    subprocess.run(["apt-get", "update"], check=True)
    subprocess.run(["apt-get", "install", "-y", *missing], check=True)


class Session:
    """Xvfb, openbox and the app, each started here and stopped here, by process id."""

    def __init__(self, display: str, out: Path) -> None:
        self.display, self.out = display, out
        self.home = Path(tempfile.mkdtemp(prefix="designer-real-window-"))
        self.env = {**os.environ, "DISPLAY": display, "HOME": str(self.home),
                    "XDG_CONFIG_HOME": str(self.home / "config"), "XDG_DATA_HOME": str(self.home / "data")}
        self.env.pop("QT_QPA_PLATFORM", None)
        self.processes: list[subprocess.Popen[bytes]] = []
        self.app: subprocess.Popen[bytes] | None = None
        self.count = 0

    def __enter__(self) -> Session:
        self.out.mkdir(parents=True, exist_ok=True)
        self._start(["Xvfb", self.display, "-screen", "0", "1600x1000x24"])
        time.sleep(1.0)
        self._start(["openbox"])
        time.sleep(1.0)
        return self

    def __exit__(self, *exc: object) -> None:
        for process in reversed(self.processes):
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(self.home, ignore_errors=True)

    def _start(self, command: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(command, env=env or self.env, cwd=REPO, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        self.processes.append(process)
        return process

    # -- the session --------------------------------------------------------------------------

    def run(self) -> None:
        project = self.home / "tiny.json"
        project.write_text(json.dumps(TINY), encoding="utf-8")
        places = self.open(str(project))
        self.shot("unwired")
        for source, target in itertools.pairwise(CHAIN):
            self.drag(places[f"out:{source}"], places[f"in:{target}"])
        self.shot("wired")
        self.click(places["block:conv"])
        self.click(places["field:out_channels"], clicks=3)
        self.type("16\n")
        self.shot("inspector-edit")
        self.drag(places["palette:Dropout"], places["canvas:empty"])
        self.shot("palette-drop")
        self.key("ctrl+z")
        self.click(places["tab:Training"])
        self.shot("training-panel")
        self.click(places["find_lr"])  # before a run: the panel is laid out as the probe saw it
        time.sleep(10)
        self.shot("lr-finder")
        self.key("Escape")
        self.click(places["start"])
        time.sleep(4)
        self.shot("training-running")
        time.sleep(12)
        self.click(places["tab:Plots"])
        self.shot("plots")
        self.click(places["tab:Runs"])
        self.shot("runs")
        self.close()
        for template in ("resnet18", "inception", "alexnet"):
            self.open(template)
            self.shot(template)
            self.close()
        self.open("resnet18")
        self.key("alt+v", "t", "d")  # View ▸ Theme ▸ Dark
        time.sleep(1)
        self.shot("resnet18-dark")
        self.close()

    def open(self, src: str) -> dict[str, tuple[int, int]]:
        """Open ``src`` in the app, place its window, and say where its widgets are."""
        # Each window gets a data folder of its own: a window closed with unsaved work leaves an
        # autosave that would make the next one ask about it first.
        data = self.home / f"data-{self.count}"
        self.app = self._start([*DESIGNER, "open", src], {**self.env, "XDG_DATA_HOME": str(data)})
        window = self._wait_for_window()
        subprocess.run(["xdotool", "windowmove", window, "0", "0", "windowsize", window, *map(str, SIZE)],
                       env=self.env, check=True)
        time.sleep(2.0)
        origin = self._origin(window)
        probe = subprocess.run([sys.executable, __file__, "--probe", src], env=self.env, cwd=REPO,
                               capture_output=True, text=True, timeout=120)
        places = json.loads(probe.stdout.strip().splitlines()[-1]) if probe.returncode == 0 else {}
        return {name: (origin[0] + x, origin[1] + y) for name, (x, y) in places.items()}

    def close(self) -> None:
        if self.app is not None:
            self.app.terminate()
            try:
                self.app.wait(5)
            except subprocess.TimeoutExpired:
                self.app.kill()
                self.app.wait()
            self.processes.remove(self.app)
            self.app = None

    def _wait_for_window(self) -> str:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            found = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", "Designer"],
                                   env=self.env, capture_output=True, text=True)
            if found.stdout.strip():
                return found.stdout.split()[-1]
            time.sleep(0.5)
        raise SystemExit("the app's window did not appear within three minutes")

    def _origin(self, window: str) -> tuple[int, int]:
        """Where the window's client area is on the screen (xdotool's answer is off by the frame)."""
        info = subprocess.run(["xwininfo", "-id", window], env=self.env, capture_output=True, text=True,
                              check=True).stdout
        values = {line.split(":")[0].strip(): line.split(":")[1].strip() for line in info.splitlines()
                  if line.strip().startswith("Absolute upper-left")}
        return int(values["Absolute upper-left X"]), int(values["Absolute upper-left Y"])

    # -- a person's hands -----------------------------------------------------------------------

    def xdo(self, *args: str) -> None:
        subprocess.run(["xdotool", *args], env=self.env, check=True)

    def click(self, at: tuple[int, int], clicks: int = 1) -> None:
        self.xdo("mousemove", str(at[0]), str(at[1]))
        time.sleep(0.2)
        self.xdo("click", "--repeat", str(clicks), "--delay", "80", "1")
        time.sleep(0.5)

    def drag(self, start: tuple[int, int], end: tuple[int, int], steps: int = 12) -> None:
        self.xdo("mousemove", str(start[0]), str(start[1]))
        time.sleep(0.2)
        self.xdo("mousedown", "1")
        for i in range(1, steps + 1):
            x = start[0] + (end[0] - start[0]) * i // steps
            y = start[1] + (end[1] - start[1]) * i // steps
            self.xdo("mousemove", str(x), str(y))
            time.sleep(0.04)
        self.xdo("mouseup", "1")
        time.sleep(0.5)

    def key(self, *keys: str) -> None:
        for key in keys:
            self.xdo("key", key)
            time.sleep(0.3)

    def type(self, text: str) -> None:
        self.xdo("type", "--delay", "60", text)
        time.sleep(0.5)

    def shot(self, name: str) -> None:
        self.count += 1
        path = self.out / f"{self.count:02d}-{name}.png"
        subprocess.run(["import", "-window", "root", str(path)], env=self.env, check=True)


# -- the probe: the same window, asked where its widgets are -----------------------------------------


def _probe(src: str) -> int:
    from PySide6.QtCore import QPoint
    from PySide6.QtWidgets import QApplication, QTabBar, QWidget

    from designer.ui.app import first_window

    app = QApplication.instance() or QApplication([])
    window = first_window(src, ask_restore=lambda leftover: False)
    window.show()
    window.resize(*SIZE)
    for _ in range(20):
        app.processEvents()
        time.sleep(0.05)
    places: dict[str, tuple[int, int]] = {}

    def put(name: str, widget: QWidget, point: QPoint) -> None:
        mapped = widget.mapTo(window, point)
        places[name] = (mapped.x(), mapped.y())

    view = window.view
    scene = view.graph_scene
    for name in scene.graph.nodes:
        block = scene.item_for_node(name)
        put(f"block:{name}", view.viewport(), view.mapFromScene(block.sceneBoundingRect().center()))
        put(f"out:{name}", view.viewport(), view.mapFromScene(block.output_port.scenePos()))
        port = block.input_port(0) if scene.graph.node(name).spec.max_inputs else None
        if port is not None:
            put(f"in:{name}", view.viewport(), view.mapFromScene(port.scenePos()))
    viewport = view.viewport().rect()
    put("canvas:empty", view.viewport(), QPoint(viewport.center().x(), viewport.bottom() - 60))
    tree = window.palette_panel.tree
    item = window.palette_panel.item_for("Dropout")
    tree.scrollToItem(item)
    put("palette:Dropout", tree.viewport(), tree.visualItemRect(item).center())
    if "conv" in scene.graph.nodes:
        window.select_node("conv")
        app.processEvents()
        field = window.inspector.editor("out_channels")
        put("field:out_channels", field, field.rect().center())
    for bar in window.findChildren(QTabBar):
        for i in range(bar.count()):
            if bar.isVisible():
                put(f"tab:{bar.tabText(i)}", bar, bar.tabRect(i).center())
    window.training_dock.raise_()
    app.processEvents()
    start = window.training_panel.start_button
    put("start", start, start.rect().center())
    find = window.training_panel.find_lr_button
    put("find_lr", find, find.rect().center())
    print(json.dumps(places))
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
