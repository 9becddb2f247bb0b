"""File ▸ Open Recent, File ▸ Export and File ▸ Export Diagram, driven through the real menu actions."""

from __future__ import annotations

import ast
import importlib.util
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import QCoreApplication, QEvent, Qt
from PySide6.QtGui import QGuiApplication, QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QPlainTextEdit

from designer.graph.summary import totals
from designer.ui.export_dialog import CodePreviewDialog
from designer.ui.main_window import MainWindow
from designer.ui.python_highlighter import default_formats
from tests.ui.test_fonts import assert_monospaced

LEFT = Qt.MouseButton.LeftButton


class Recorder:
    """Stands in for a question to the user: records what was asked and gives a fixed answer."""

    def __init__(self, answer: object = None) -> None:
        self.answer = answer
        self.calls: list[tuple[object, ...]] = []

    def __call__(self, *args: object) -> object:
        self.calls.append(args)
        return self.answer


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """An empty folder for exports."""
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


@pytest.fixture
def errors(window: MainWindow) -> Recorder:
    recorder = Recorder()
    window.show_error = recorder  # type: ignore[method-assign]
    return recorder


def answer_path(window: MainWindow, path: Path | str) -> Recorder:
    recorder = Recorder(str(path))
    window.ask_export_path = recorder  # type: ignore[method-assign]
    return recorder


def save_as(window: MainWindow, path: Path) -> None:
    window.ask_save_path = lambda suggested: str(path)  # type: ignore[method-assign]
    window.menu_actions.save_as.trigger()


def recent_texts(window: MainWindow) -> list[str]:
    return [action.text() for action in window.menu_actions.recent.files]


def recent_tips(window: MainWindow) -> list[str]:
    return [action.toolTip() for action in window.menu_actions.recent.files]


def preview(window: MainWindow) -> CodePreviewDialog:
    """The code preview the last export opened, shown over the window."""
    dialogs = [d for d in window.findChildren(CodePreviewDialog) if d.isVisible()]
    assert len(dialogs) == 1
    return dialogs[0]


def flush_deletes() -> None:
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    QApplication.processEvents()


def menu_titles(window: MainWindow, *path: str) -> list[str]:
    """The entries of a menu reached by its title, e.g. ("&File", "&Export"), without mnemonic marks."""
    actions = window.menuBar().actions()
    for title in path:
        menu = next(a.menu() for a in actions if a.text() == title)
        actions = menu.actions()
    return [a.text().replace("&", "") for a in actions if not a.isSeparator()]


# -- Open Recent ------------------------------------------------------------------------------


def test_file_menu_offers_open_recent_export_and_diagram(window):
    file_menu = menu_titles(window, "&File")
    assert file_menu.index("Open Recent") == file_menu.index("Open…") + 1
    assert "Export" in file_menu and "Export Diagram…" in file_menu
    assert menu_titles(window, "&File", "&Export") == [
        "Python Code…", "Training Script…", "ONNX…", "PyTorch ExportedProgram (.pt2)…", "Initial Weights…"]
    assert menu_titles(window, "&File", "Open &Recent") == ["No recent files", "Clear Recent"]


def test_saved_files_are_listed_most_recent_first_and_shared_by_a_second_window(make_window, tmp_path):
    first = make_window("lenet5")
    a, b = tmp_path / "a.json", tmp_path / "b&c.json"
    save_as(first, a)
    save_as(first, b)
    save_as(first, a)  # saved again: back to the top, listed once
    assert recent_tips(first) == [str(a), str(b)]
    assert recent_texts(first)[1] == f"&2 b&&c.json  {tmp_path}"  # the file's & is not a mnemonic

    second = make_window("alexnet")  # on the same settings file, as a later session would be
    assert recent_tips(second) == [str(a), str(b)]
    second.menu_actions.recent.files[1].trigger()
    assert second.windowTitle() == "b&c.json — Designer"
    assert recent_tips(second) == [str(b), str(a)], "opening a file moves it to the top"
    first.menu_actions.recent.menu.aboutToShow.emit()  # the first window's menu, as it opens
    assert recent_tips(first) == [str(b), str(a)]


def test_the_list_keeps_the_ten_latest_with_numbered_mnemonics(window, tmp_path):
    paths = [tmp_path / f"net{i}.json" for i in range(12)]
    for path in paths:
        save_as(window, path)
    assert recent_tips(window) == [str(p) for p in reversed(paths[2:])]
    texts = recent_texts(window)
    assert texts[0].startswith("&1 net11.json") and texts[9].startswith("1&0 net2.json")


def test_a_missing_recent_file_is_dropped_with_a_message(window, tmp_path, errors):
    gone, kept = tmp_path / "gone.json", tmp_path / "kept.json"
    save_as(window, gone)
    save_as(window, kept)
    gone.unlink()
    window.menu_actions.recent.files[1].trigger()
    assert recent_tips(window) == [str(kept)]
    assert window.statusBar().currentMessage() == f"{gone} no longer exists; removed it from Open Recent"
    assert errors.calls == [] and window.windowTitle() == "kept.json — Designer"


def test_clear_recent_empties_the_menu(window, tmp_path):
    save_as(window, tmp_path / "net.json")
    clear = window.menu_actions.recent.clear
    assert clear.isEnabled()
    assert menu_titles(window, "&File", "Open &Recent") == [f"1 net.json  {tmp_path}", "Clear Recent"]
    clear.trigger()
    assert recent_tips(window) == [] and not clear.isEnabled()
    assert menu_titles(window, "&File", "Open &Recent") == ["No recent files", "Clear Recent"]
    assert window.settings.value("recent_files") is None


def test_opening_a_project_through_file_open_lists_it(window, tmp_path):
    path = tmp_path / "net.json"
    save_as(window, path)
    window.menu_actions.recent.clear.trigger()
    window.ask_open_path = lambda: str(path)  # type: ignore[method-assign]
    window.menu_actions.open.trigger()
    assert recent_tips(window) == [str(path)]


# -- Python code, through the preview -----------------------------------------------------------


def keyword_formats(editor: QPlainTextEdit, word: str) -> list[str]:
    """The colours the highlighter laid over ``word`` where it first starts a line."""
    block = editor.document().firstBlock()
    while block.isValid() and not block.text().startswith(word + " "):
        block = block.next()
    assert block.isValid(), word
    return [r.format.foreground().color().name() for r in block.layout().formats()
            if r.start == 0 and r.length == len(word)]


def import_file(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_python_code_is_previewed_highlighted_and_saved_as_a_working_model(window, tmp_path, qtbot):
    import torch

    window.menu_actions.export_python.trigger()
    dialog = preview(window)
    assert dialog.windowTitle() == "Export Python code" and dialog.isModal()
    editor = dialog.editors["lenet5.py"]
    assert editor.isReadOnly()
    assert_monospaced(editor.font())
    assert keyword_formats(editor, "class") == [default_formats()["keyword"].foreground().color().name()]

    asked = answer_path(window, tmp_path / "lenet")  # no suffix: .py is added
    QTest.mouseClick(dialog.save_button, LEFT)
    assert asked.calls == [("Export Python code", str(Path.cwd() / "lenet5.py"), "Python files (*.py)")]
    written = tmp_path / "lenet.py"
    assert written.read_text(encoding="utf-8") == editor.toPlainText()
    assert not dialog.isVisible()
    assert window.statusBar().currentMessage() == f"Exported {written}"

    module = import_file(written, "exported_lenet")
    model = module.Lenet5()
    assert sum(p.numel() for p in model.parameters()) == totals(window.graph)["params"] == 61_706
    assert model(torch.zeros(2, 1, 32, 32)).shape == (2, 10)
    flush_deletes()
    assert not shiboken6.isValid(dialog), "a closed preview is deleted"


def test_cancelling_the_path_keeps_the_preview_and_cancel_writes_nothing(window, out, monkeypatch):
    monkeypatch.chdir(out)  # where the path would be suggested
    window.menu_actions.export_python.trigger()
    dialog = preview(window)
    asked = answer_path(window, "")
    QTest.mouseClick(dialog.save_button, LEFT)
    assert len(asked.calls) == 1 and dialog.isVisible()
    QTest.mouseClick(dialog.cancel_button, LEFT)
    assert not dialog.isVisible() and list(out.iterdir()) == []


def test_copy_puts_the_code_on_the_clipboard(window):
    window.menu_actions.export_python.trigger()
    dialog = preview(window)
    QTest.mouseClick(dialog.copy_button, LEFT)
    assert QGuiApplication.clipboard().text() == dialog.editors["lenet5.py"].toPlainText()
    assert dialog.copy_button.text() == "Copied"
    dialog.reject()


def test_a_saved_project_exports_beside_its_file(window, tmp_path):
    save_as(window, tmp_path / "my net.json")
    window.menu_actions.export_python.trigger()
    dialog = preview(window)
    asked = answer_path(window, "")
    QTest.mouseClick(dialog.save_button, LEFT)
    assert asked.calls[0][1] == str(tmp_path / "my_net.py")
    dialog.reject()


# -- the training script ----------------------------------------------------------------------


def test_training_script_shows_both_files_in_tabs_and_saves_the_folder(window, tmp_path, qtbot):
    window.menu_actions.export_train_script.trigger()
    dialog = preview(window)
    tabs = dialog.tabs
    assert tabs is not None and [tabs.tabText(i) for i in range(tabs.count())] == ["train.py", "model.py"]
    assert "CONFIG = {" in dialog.editors["train.py"].toPlainText()
    bar = tabs.tabBar()
    QTest.mouseClick(bar, LEFT, pos=bar.tabRect(1).center())
    assert tabs.currentWidget() is dialog.editors["model.py"]
    QTest.mouseClick(dialog.copy_button, LEFT)
    assert QGuiApplication.clipboard().text().startswith('"""lenet5: a network exported from Designer.')
    assert keyword_formats(dialog.editors["train.py"], "import")

    folder = tmp_path / "out" / "lenet5-training"  # made, parents and all
    asked = answer_path(window, folder)
    QTest.mouseClick(dialog.save_button, LEFT)
    assert asked.calls[0][0] == "Export training script"
    for name in ("train.py", "model.py"):
        text = (folder / name).read_text(encoding="utf-8")
        assert text == dialog.editors[name].toPlainText()
        ast.parse(text)
    assert not dialog.isVisible()
    names = ("model.py", "train.py", "portable.py", "portable_data.py", "digits.npz")
    written = ", ".join(str(folder / name) for name in names)
    assert window.statusBar().currentMessage() == f"Exported {written}"  # the script runs with torch alone


def test_a_training_script_into_a_file_is_refused_in_a_dialog(window, tmp_path, errors):
    (tmp_path / "taken").write_text("x")
    window.menu_actions.export_train_script.trigger()
    dialog = preview(window)
    answer_path(window, tmp_path / "taken")
    QTest.mouseClick(dialog.save_button, LEFT)
    assert errors.calls == [("Cannot export training script",
                             f"{tmp_path / 'taken'}: is a file; a training script is a folder "
                             "(model.py and train.py), give a folder's path")]
    assert dialog.isVisible(), "the preview stays for another try"
    dialog.reject()


# -- files without a preview -----------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".safetensors", ".pt"])
def test_initial_weights_are_the_graphs_state_dict(window, tmp_path, suffix):
    from designer.export import load_weights

    answer_path(window, tmp_path / f"w{suffix}")
    window.menu_actions.export_weights.trigger()
    weights = load_weights(tmp_path / f"w{suffix}")
    model = window.graph.to_torch()
    assert {k: tuple(v.shape) for k, v in weights.items()} == {
        k: tuple(v.shape) for k, v in model.state_dict().items()}


def test_weights_without_a_suffix_are_safetensors_and_a_bad_suffix_is_refused(window, tmp_path, errors):
    asked = answer_path(window, tmp_path / "w")
    window.menu_actions.export_weights.trigger()
    assert (tmp_path / "w.safetensors").is_file()
    assert asked.calls[0][2] == "safetensors (*.safetensors);;PyTorch state_dict (*.pt *.pth)"
    answer_path(window, tmp_path / "w.txt")
    window.menu_actions.export_weights.trigger()
    assert errors.calls[0][0] == "Cannot export initial weights"
    assert "weights are saved as .pt, .pth, .safetensors" in errors.calls[0][1]
    assert not (tmp_path / "w.txt").exists()


def test_exported_program_runs_any_batch_size(window, tmp_path):
    import torch

    answer_path(window, tmp_path / "net.pt2")
    window.menu_actions.export_pt2.trigger()
    program = torch.export.load(str(tmp_path / "net.pt2"))
    assert program.module()(torch.zeros(3, 1, 32, 32)).shape == (3, 10)


def test_onnx_export_writes_a_model_when_the_extra_is_installed(window, tmp_path):
    onnx = pytest.importorskip("onnx")
    pytest.importorskip("onnxscript")
    assert window.menu_actions.export_onnx.isEnabled()
    answer_path(window, tmp_path / "net")
    window.menu_actions.export_onnx.trigger()
    model = onnx.load(str(tmp_path / "net.onnx"))
    assert [i.name for i in model.graph.input] == ["input_"]


def test_onnx_is_disabled_with_the_install_hint_without_the_extra(make_window, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "onnx", None)  # what Python does when a package is not installed
    window = make_window("lenet5")
    action = window.menu_actions.export_onnx
    assert not action.isEnabled()
    assert action.toolTip() == ("ONNX export needs the onnx and onnxscript packages: "
                                "pip install 'designer[onnx]'")
    asked = answer_path(window, tmp_path / "net.onnx")
    action.trigger()
    assert asked.calls == [] and not (tmp_path / "net.onnx").exists()


def test_a_failed_write_is_a_dialog_not_a_traceback(window, tmp_path, errors):
    answer_path(window, tmp_path / "no such folder" / "net.pt2")
    window.menu_actions.export_pt2.trigger()
    assert errors.calls == [("Cannot export ExportedProgram", f"{tmp_path / 'no such folder'}: no such folder")]


# -- a graph with errors -----------------------------------------------------------------------


@pytest.mark.parametrize("action", ["export_python", "export_train_script", "export_onnx", "export_pt2",
                                    "export_weights"])
def test_a_graph_with_errors_is_not_exported_and_the_dialog_names_the_block(window, out, errors, action):
    window.document.set_params("c1", {"kernel_size": 40})
    asked = answer_path(window, out / "net")
    getattr(window.menu_actions, action).trigger()
    assert len(errors.calls) == 1
    title, message = errors.calls[0]
    assert title.startswith("Cannot export")
    assert message.startswith("The graph has errors. c1: kernel 40 is larger than the padded input 32")
    assert asked.calls == [] and not window.findChildren(CodePreviewDialog)
    assert list(out.iterdir()) == []


# -- the diagram ----------------------------------------------------------------------------------


def test_diagram_as_png_and_as_svg(window, tmp_path, errors):
    asked = answer_path(window, tmp_path / "lenet")
    window.menu_actions.export_diagram.trigger()
    assert asked.calls[0][2] == "PNG images (*.png);;SVG pictures (*.svg)"
    image = QImage(str(tmp_path / "lenet.png"))
    assert not image.isNull() and image.width() > 1000

    answer_path(window, tmp_path / "lenet.svg")
    window.menu_actions.export_diagram.trigger()
    text = " ".join(ET.parse(tmp_path / "lenet.svg").getroot().itertext())
    for word in ("c1", "s2", "output", "6×28×28"):
        assert word in text
    assert errors.calls == []


def test_diagram_with_another_suffix_is_refused(window, tmp_path, errors):
    answer_path(window, tmp_path / "lenet.gif")
    window.menu_actions.export_diagram.trigger()
    assert errors.calls == [("Cannot export diagram", "lenet.gif: diagrams are written as .svg or .png; "
                                                      "give the file one of these suffixes")]
    assert not (tmp_path / "lenet.gif").exists()
