"""Before the window opens on Linux: can Qt's xcb platform plugin load, and if not, what to install.

When a system library the xcb plugin links to is missing, Qt aborts with a
message that names at most one of them (often one that is present). Here
``ldd`` on the plugin lists every missing one first, and the error names the
Debian/Ubuntu packages that hold them (a library's package is its name and
version, by Debian's rule: ``libxcb-icccm.so.4`` is in ``libxcb-icccm4``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

PLUGIN = "libqxcb.so"
_NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found", re.MULTILINE)
_SONAME = re.compile(r"^lib(?P<name>.+)\.so\.(?P<version>\d+)")


class PlatformPluginError(OSError):
    """Qt's platform plugin cannot load; the message says what to install."""


def uses_xcb(environ: os._Environ[str] | dict[str, str] = os.environ) -> bool:
    """Whether Qt will load the xcb plugin: asked for by name, or X11 with no Wayland on offer."""
    if not sys.platform.startswith("linux"):
        return False
    platform = environ.get("QT_QPA_PLATFORM", "")
    if platform:
        return platform.split(":")[0].split(";")[0] == "xcb"
    return bool(environ.get("DISPLAY")) and not environ.get("WAYLAND_DISPLAY")


def plugin_path(environ: os._Environ[str] | dict[str, str] = os.environ) -> Path:
    """The xcb plugin Qt tries first: the one in ``QT_QPA_PLATFORM_PLUGIN_PATH`` when there is one."""
    folder = environ.get("QT_QPA_PLATFORM_PLUGIN_PATH")
    if folder and (Path(folder) / PLUGIN).is_file():
        return Path(folder) / PLUGIN
    from PySide6.QtCore import QLibraryInfo

    return Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)) / "platforms" / PLUGIN


def missing_libraries(plugin: Path) -> list[str]:
    """The shared libraries ``plugin`` needs that the system lacks ([] when ldd is not there to ask)."""
    ldd = shutil.which("ldd")
    if ldd is None or not plugin.is_file():
        return []
    try:
        done = subprocess.run([ldd, str(plugin)], capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.SubprocessError):
        return []
    return list(dict.fromkeys(_NOT_FOUND.findall(done.stdout)))


def debian_package(library: str) -> str:
    """The Debian/Ubuntu package that holds ``library``: libxcb-icccm.so.4 → libxcb-icccm4."""
    match = _SONAME.match(library)
    if match is None:
        return library
    name, version = match["name"].lower(), match["version"]
    joiner = "-" if name[-1].isdigit() else ""  # libxkbcommon-x11.so.0 → libxkbcommon-x11-0
    return f"lib{name}{joiner}{version}"


def check_platform(environ: os._Environ[str] | dict[str, str] = os.environ) -> None:
    """Raise :class:`PlatformPluginError` naming the packages to install when the xcb plugin cannot load."""
    if not uses_xcb(environ):
        return
    if not environ.get("DISPLAY"):
        raise PlatformPluginError(
            "the window cannot open: there is no X display (DISPLAY is not set); run designer in a desktop "
            "session, or use its commands (designer --help) without a window")
    missing = missing_libraries(plugin_path(environ))
    if not missing:
        return
    packages = " ".join(dict.fromkeys(debian_package(lib) for lib in missing))
    raise PlatformPluginError(
        f"the window cannot open: Qt's xcb platform plugin needs system libraries that are missing "
        f"({', '.join(missing)}); on Debian or Ubuntu install them with: sudo apt install {packages}")
