"""`designer` where Qt's xcb plugin cannot load (issue 13 D18): the packages to install, not Qt's abort."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from designer.ui.platform_check import debian_package

MISSING = "libxcb-designertest.so.7"  # a library no system has: the plugin below needs it


@pytest.fixture
def broken_plugins(tmp_path: Path) -> Path:
    """A folder whose libqxcb.so links to a library that is not there, as on a fresh desktop."""
    if shutil.which("gcc") is None or shutil.which("ldd") is None:
        pytest.skip("building a plugin with a missing library needs gcc and ldd")
    source = tmp_path / "empty.c"
    source.write_text("int designer_test_symbol(void) { return 0; }\n")
    libs = tmp_path / "libs"
    libs.mkdir()
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(libs / MISSING), f"-Wl,-soname,{MISSING}",
                    str(source)], check=True)
    plugins = tmp_path / "platforms"
    plugins.mkdir()
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(plugins / "libqxcb.so"), str(source),
                    "-Wl,--no-as-needed", f"-L{libs}", f"-l:{MISSING}"], check=True)
    (libs / MISSING).unlink()  # gone, as a package not installed
    return plugins


def test_a_missing_library_is_named_with_its_package_and_the_app_exits(broken_plugins, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env.update(QT_QPA_PLATFORM="xcb", QT_QPA_PLATFORM_PLUGIN_PATH=str(broken_plugins), DISPLAY=":0")
    done = subprocess.run([sys.executable, "-m", "designer", "open", "lenet5"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr == (
        "designer: error: the window cannot open: Qt's xcb platform plugin needs system libraries that are "
        f"missing ({MISSING}); on Debian or Ubuntu install them with: sudo apt install libxcb-designertest7\n")
    assert "Traceback" not in done.stderr and done.stdout == ""


@pytest.mark.parametrize(("library", "package"), [
    ("libxcb-icccm.so.4", "libxcb-icccm4"),
    ("libxcb-keysyms.so.1", "libxcb-keysyms1"),
    ("libxcb-cursor.so.0", "libxcb-cursor0"),
    ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0"),
    ("libX11-xcb.so.1", "libx11-xcb1"),
])
def test_libraries_map_to_debian_packages(library, package):
    assert debian_package(library) == package


def test_xcb_without_a_display_says_so(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("WAYLAND_DISPLAY", "DISPLAY")}
    env["QT_QPA_PLATFORM"] = "xcb"
    done = subprocess.run([sys.executable, "-m", "designer"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.startswith("designer: error: the window cannot open: there is no X display")
