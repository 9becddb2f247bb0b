"""Where runs of an unsaved project go: Designer's own data folder, named once, and the old folder while it
holds runs (issue 13, C16)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from designer.ui.autosave import DATA_DIR_VARIABLE

# As the app starts: the names set (they make the platform's per-application folder), then the runs root.
SCRIPT = """
import sys
from PySide6.QtCore import QCoreApplication
from designer.ui.main_window import APPLICATION, ORGANISATION
from designer.ui.training.session import runs_root
QCoreApplication.setApplicationName(APPLICATION)
QCoreApplication.setOrganizationName(ORGANISATION)
print(runs_root(None))
"""


def _root_for_an_unsaved_project(data_home: Path) -> Path:
    env = {key: value for key, value in os.environ.items() if key != DATA_DIR_VARIABLE}
    env["XDG_DATA_HOME"] = str(data_home)
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, check=True,
                          timeout=60)
    return Path(done.stdout.strip())


def test_runs_of_an_unsaved_project_go_to_a_folder_named_designer_once(tmp_path):
    root = _root_for_an_unsaved_project(tmp_path)

    assert root == tmp_path / "Designer"
    assert "Designer/Designer" not in root.as_posix()


def test_runs_kept_in_the_old_doubled_folder_are_still_found_there(tmp_path):
    old = tmp_path / "Designer" / "Designer"
    run = old / "runs" / "lenet5-20260101-120000"
    run.mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"epochs": 1}))

    assert _root_for_an_unsaved_project(tmp_path) == old


def test_an_empty_old_folder_does_not_keep_new_runs_there(tmp_path):
    (tmp_path / "Designer" / "Designer" / "runs").mkdir(parents=True)

    assert _root_for_an_unsaved_project(tmp_path) == tmp_path / "Designer"


AUTOSAVE_SCRIPT = """
from PySide6.QtCore import QCoreApplication
from designer.ui.main_window import APPLICATION, ORGANISATION
from designer.ui.autosave import autosave_folder, leftovers
QCoreApplication.setApplicationName(APPLICATION)
QCoreApplication.setOrganizationName(ORGANISATION)
print(autosave_folder())
print([leftover.file.name for leftover in leftovers()])
"""


def test_autosaves_go_beside_the_runs_and_those_of_earlier_versions_are_still_offered(tmp_path):
    old = tmp_path / "Designer" / "Designer" / "autosave"
    old.mkdir(parents=True)
    (old / "999999999-lenet5.json").write_text(json.dumps({"autosave": {"path": None, "time": 1.0}}))
    env = {key: value for key, value in os.environ.items() if key != DATA_DIR_VARIABLE}
    env["XDG_DATA_HOME"] = str(tmp_path)
    done = subprocess.run([sys.executable, "-c", AUTOSAVE_SCRIPT], env=env, capture_output=True, text=True,
                          check=True, timeout=60)
    folder, found = done.stdout.strip().splitlines()
    assert Path(folder) == tmp_path / "Designer" / "autosave"
    assert found == "['999999999-lenet5.json']"  # a crash before the upgrade still gets its work back
