"""How long ``python -m designer`` takes from launch to a painted window.

Run: ``.venv/bin/python benchmarks/app_start.py [--runs 10]``

Each run launches ``python -m designer`` offscreen (``QT_QPA_PLATFORM=offscreen``)
with ``DESIGNER_REPORT_SHOWN=1``, which makes the app print the wall-clock time
at which its window's canvas first finished painting, then ends it. The time
to a painted window is that moment minus the moment just before launch (the
parent's clock, so the interpreter's own start-up counts). Settings and
autosaves go to a temporary folder, so no earlier session's leftovers are
offered back. Target: ≤ 1 s.

References from the same runs, interleaved: ``python -c pass`` (the
interpreter's start alone) and ``python -c "import PySide6.QtWidgets"`` (Qt's
libraries alone). What the app adds is the difference.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHOWN = re.compile(r"window shown ([0-9.]+) s after the process started \(at ([0-9.]+)\)")


def environment(folder: Path) -> dict[str, str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", DESIGNER_REPORT_SHOWN="1",
               XDG_CONFIG_HOME=str(folder / "config"), XDG_DATA_HOME=str(folder / "data"),
               HOME=str(folder), DESIGNER_DATA_DIR=str(folder / "designer"))
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    return env


def app_start(env: dict[str, str]) -> tuple[float, float]:
    """Seconds from launch to the painted window, by the parent's clock and by the app's own."""
    start = time.time()
    proc = subprocess.Popen([sys.executable, "-m", "designer"], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            found = SHOWN.search(line)
            if found:
                return float(found.group(2)) - start, float(found.group(1))
        raise RuntimeError("the app ended without reporting its window")
    finally:
        proc.kill()
        proc.wait()


def command(env: dict[str, str], code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    samples: dict[str, list[float]] = {"python -c pass": [], "import PySide6.QtWidgets": [],
                                       "designer: launch → window painted": [],
                                       "  (the app's own count from its process start)": []}
    with tempfile.TemporaryDirectory(prefix="designer-start-") as folder:
        env = environment(Path(folder))
        app_start(env)  # warm the file cache and the bytecode
        for _ in range(args.runs):
            samples["python -c pass"].append(command(env, "pass"))
            samples["import PySide6.QtWidgets"].append(command(env, "import PySide6.QtWidgets"))
            outside, inside = app_start(env)
            samples["designer: launch → window painted"].append(outside)
            samples["  (the app's own count from its process start)"].append(inside)
    print(f"{'case':<48} {'median s':>9} {'min s':>7} {'max s':>7}")
    for case, values in samples.items():
        print(f"{case:<48} {statistics.median(values):>9.3f} {min(values):>7.3f} {max(values):>7.3f}")


if __name__ == "__main__":
    main()
