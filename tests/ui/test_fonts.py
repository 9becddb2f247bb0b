"""Code is shown in a font whose characters all have one width, whatever fonts the machine has.

On a machine with Debian's Noto fonts, fontconfig's "monospace" is "Noto Sans Mono", which Qt does
not take as fixed-pitch; elsewhere the alias can land on a proportional family. The second test
builds that situation on purpose with a fontconfig file of its own, in a child process.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from PySide6.QtGui import QFont, QFontDatabase, QFontInfo, QFontMetricsF

from designer.ui.fonts import monospace_font

SAMPLE = "iIl1|.,:;mMW0@_ "


def advances(font: QFont) -> set[float]:
    metrics = QFontMetricsF(font)
    return {metrics.horizontalAdvance(c) for c in SAMPLE}


def assert_monospaced(font: QFont) -> None:
    """What a reader sees: every character as wide as every other; and Qt agrees where it can."""
    assert len(advances(font)) == 1, (QFontInfo(font).family(), advances(font))
    if any(QFontDatabase.isFixedPitch(f) for f in QFontDatabase.families()):
        assert QFontInfo(font).fixedPitch(), QFontInfo(font).family()


def test_the_monospace_font_has_one_width_for_every_character(qapp):
    assert_monospaced(monospace_font())


CHILD = textwrap.dedent("""
    import json, sys
    from PySide6.QtWidgets import QApplication
    from PySide6.QtGui import QFontDatabase, QFontInfo
    app = QApplication([])
    from designer.ui.export_dialog import CodePreviewDialog
    from tests.ui.test_fonts import advances
    system = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    dialog = CodePreviewDialog("Export Python code", {"net.py": "class Net:\\n    pass\\n"})
    font = dialog.editors["net.py"].font()
    print(json.dumps({"system": QFontInfo(system).family(), "system_fixed": QFontInfo(system).fixedPitch(),
                      "system_widths": len(advances(system)), "family": QFontInfo(font).family(),
                      "fixed": QFontInfo(font).fixedPitch(), "widths": len(advances(font))}))
""")


def test_code_stays_monospaced_where_the_monospace_alias_is_a_proportional_font(qapp, tmp_path):
    families = QFontDatabase.families()
    proportional = next((f.split(" [")[0] for f in families  # Qt adds " [foundry]"; fontconfig does not
                         if not QFontDatabase.isFixedPitch(f) and len(advances(QFont(f))) > 1), None)
    if proportional is None or not any(QFontDatabase.isFixedPitch(f) for f in families):
        pytest.skip("needs one proportional and one fixed-pitch font installed")
    # Our alias comes before the system's rules, so "monospace" resolves to the proportional family.
    config = tmp_path / "fonts.conf"
    config.write_text(f"""<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>
        <alias binding="strong"><family>monospace</family>
            <prefer><family>{proportional}</family></prefer></alias>
        <include ignore_missing="yes">/etc/fonts/fonts.conf</include></fontconfig>""", encoding="utf-8")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "FONTCONFIG_FILE": str(config)}
    child = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, env=env,
                           timeout=60, check=False, cwd=os.getcwd())
    assert child.returncode == 0, child.stderr
    import json

    seen = json.loads(child.stdout.strip().splitlines()[-1])
    if seen["system_fixed"] or seen["system_widths"] == 1:
        pytest.skip(f"this fontconfig kept a fixed-pitch monospace ({seen['system']})")
    assert seen["widths"] == 1 and seen["fixed"], seen
