"""The hyperparameter form: every training setting with a typed editor, saved in the project.

The form shows the project's ``training`` section (``graph.meta["training"]``).
An edit builds the whole section anew with :meth:`TrainingConfig.from_json`; a
value it refuses stays where it was typed, with TrainingConfig's message under
it (``training.lr: must be a number > 0, got 0``), and changes nothing. A
value it accepts goes to the project through :meth:`Document.set_meta`, an
undoable command; the form follows ``meta_changed``, so undo shows up here.

Every row comes from :data:`designer.training.settings.SETTINGS`: the editor
its kind and range call for, the help as tooltip, its section; rows of settings
that do not apply (:meth:`Setting.applies`: momentum for Adam, patience for a
cosine schedule) are hidden. The editors are the inspector's
(:mod:`designer.ui.param_editors`). Nothing here imports torch; the device list
comes in through :meth:`TrainingForm.set_devices` once the panel has asked for it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QWidget

from designer.graph.errors import GraphError
from designer.graph.params import BoolParam, ChoiceParam, FloatParam, IntParam, Param
from designer.training.config import TrainingConfig
from designer.training.errors import ConfigError
from designer.training.settings import MAIN, SECTIONS, SETTINGS, Setting, device_choices
from designer.ui import theme
from designer.ui.document import Document
from designer.ui.inspector import ParamRow
from designer.ui.param_editors import FloatSpin, ParamEditor, editor_for
from designer.ui.training.subscriptions import GraphSubscriptions

if TYPE_CHECKING:
    from designer.training.settings import FoundDevice

DEFAULT = TrainingConfig()
MAX_SPIN_INT = 2**31 - 1  # a QSpinBox holds a C int
FIRST = ("epochs", "batch_size")  # what a newcomer sets first: how long and how big, then how (optimizer, lr)


def _in_form_order(settings: Sequence[Setting]) -> list[Setting]:
    """By section; within one, ``FIRST`` first, then the schema's order."""
    def place(setting: Setting) -> tuple[int, int]:
        first = FIRST.index(setting.key) if setting.key in FIRST else len(FIRST)
        return SECTIONS.index(setting.section), first

    return sorted(settings, key=place)


FORM_ORDER = _in_form_order(SETTINGS)


def tooltip(setting: Setting) -> str:
    return f"{setting.label}: {setting.help}"


def editor_param(setting: Setting) -> Param:
    """The inspector's schema for the setting's editor: its kind and range, its tooltip."""
    key, default, tip = setting.key, setting.default, tooltip(setting)
    if setting.kind == "number":  # an open bound is let in by the spin box and refused with the config's words
        return FloatParam(key, default, tip, low=setting.low, high=setting.high)
    if setting.kind == "whole":
        return IntParam(key, default, tip, low=int(setting.low), high=int(min(setting.high, MAX_SPIN_INT)))
    if setting.kind == "choice":
        return ChoiceParam(key, default, tip, choices=setting.choices)
    if setting.kind == "flag":
        return BoolParam(key, default, tip)
    return Param(key, default, tip)  # a pair or the device: editors of their own, below


class BetasEditor(ParamEditor):
    """Adam's two betas as two number fields."""

    def __init__(self, param: Param, low: float = 0.0, high: float = 1.0,
                 parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.spins = (FloatSpin(low, high), FloatSpin(low, high))
        for spin, tip in zip(self.spins, ("beta 1: first moment", "beta 2: second moment"), strict=True):
            spin.setToolTip(tip)
            self._layout.addWidget(spin, 1)
            spin.valueChanged.connect(lambda _value: self.edited.emit(self.value()))
            spin.out_of_range.connect(lambda _value: self.edited.emit(self._typed()))
        self.set_value(param.default)

    def _typed(self) -> list[float]:
        return [spin.valueFromText(spin.text()) for spin in self.spins]

    def value(self) -> list[float]:
        return [spin.value() for spin in self.spins]

    def set_value(self, value: Any) -> None:
        for spin, number in zip(self.spins, value, strict=True):
            spin.blockSignals(True)
            spin.setValue(number)
            spin.blockSignals(False)

    def field(self) -> QWidget:
        return self.spins[0]


class DeviceEditor(ParamEditor):
    """``auto`` and the devices found here, each named as ``training.device`` takes it."""

    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.combo = QComboBox()
        # As narrow as the dock needs: a GPU's name is long, and the list shows it whole.
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setMinimumContentsLength(6)
        self._layout.addWidget(self.combo)
        self.combo.activated.connect(lambda _index: self.edited.emit(self.value()))
        self.set_devices(())

    def set_devices(self, devices: Sequence[FoundDevice]) -> None:
        current = self.value() if self.combo.count() else self.param.default
        self.combo.blockSignals(True)
        self.combo.clear()
        for value, text in device_choices(devices):
            self.combo.addItem(text, value)
        self.combo.blockSignals(False)
        self.set_value(current)

    def value(self) -> str:
        return str(self.combo.currentData())

    def set_value(self, value: Any) -> None:
        index = self.combo.findData(value)
        self.combo.blockSignals(True)
        if index < 0:  # a device named in the file but not found here: keep it, say so
            self.combo.addItem(f"{value} (not found here)", value)
            index = self.combo.count() - 1
        self.combo.setCurrentIndex(index)
        self.combo.blockSignals(False)

    def field(self) -> QWidget:
        return self.combo


def _editor(setting: Setting) -> ParamEditor:
    param = editor_param(setting)
    if setting.kind == "pair":
        return BetasEditor(param, setting.low, setting.high)
    if setting.kind == "device":
        return DeviceEditor(param)
    return editor_for(param)


def _form_layout(widget: QWidget) -> QFormLayout:
    layout = QFormLayout(widget)
    layout.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    layout.setContentsMargins(0, 0, 0, 0)
    return layout


def config_from_meta(meta: Mapping[str, Any]) -> tuple[TrainingConfig, str | None]:
    """The project's settings, or the defaults and the reason they cannot be read."""
    try:
        return TrainingConfig.from_json(meta.get("training", {})), None
    except ConfigError as exc:
        return DEFAULT, f"The project's training settings are invalid: {exc}"


class TrainingForm(QWidget):
    """Edits the open document's training settings; ``config_changed(config)`` after each change.

    The form shows the main settings (epochs, batch size, optimizer, learning rate);
    :attr:`more` holds the rest, for the host to place.
    """

    config_changed = Signal(object)  # the TrainingConfig now in effect

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document: Document | None = None
        self._rows: dict[str, ParamRow] = {}
        self._devices: Sequence[FoundDevice] | None = None
        self._watch: GraphSubscriptions | None = None
        self._config: TrainingConfig = DEFAULT
        self._problem: str | None = None
        self._layout = _form_layout(self)
        self.more = QWidget()  # every setting past the main ones: the host places it (further down)
        self._more_layout = _form_layout(self.more)
        self.problem_label = QLabel()
        self.problem_label.setWordWrap(True)
        theme.paint_text(self.problem_label, theme.ERROR_TEXT)
        self.problem_label.hide()
        self._layout.addRow(self.problem_label)

    @property
    def rows(self) -> dict[str, ParamRow]:
        """Each setting's editor with the refusal under it, by key (built on first use)."""
        if not self._rows:
            self._build()
        return self._rows

    def showEvent(self, event: QShowEvent) -> None:
        self._build()  # two dozen editors take ~25 ms: made when first seen, not as the window opens
        super().showEvent(event)

    def _build(self) -> None:
        if self._rows:
            return
        section = MAIN
        for setting in FORM_ORDER:
            layout = self._layout_of(setting)
            if setting.section != section:
                section = setting.section
                layout.addRow(QLabel(f"<b>{section}</b>"))
            editor = _editor(setting)
            row = ParamRow(editor)
            label = QLabel(setting.key)  # the key, as the project file and train.py's CONFIG name it
            label.setToolTip(tooltip(setting))
            self._rows[setting.key] = row
            layout.addRow(label, row)
            editor.edited.connect(lambda value, key=setting.key: self._apply(key, value))
        if self._devices is not None:
            self._device_editor().set_devices(self._devices)
        self._show_values()

    # -- what it shows ----------------------------------------------------------------

    def set_document(self, document: Document) -> None:
        if self._watch is not None:
            self._watch.close()
        self.document = document
        self._watch = GraphSubscriptions(document.graph, self, {"meta_changed": self._on_meta_changed})
        self._reload()

    def config(self) -> TrainingConfig:
        """The settings in effect: the project's, or the defaults when those are invalid."""
        return self._config

    def problem(self) -> str | None:
        """Why the project's settings cannot be used, or None."""
        return self._problem

    def editor(self, key: str) -> ParamEditor:
        return self.rows[key].editor

    def error_text(self, key: str) -> str:
        message = self.rows[key].message
        return "" if message.isHidden() else message.text()

    def errors_shown(self) -> dict[str, str]:
        """The refusals under the fields now, by setting."""
        return {key: self.error_text(key) for key in self.rows if self.error_text(key)}

    def set_devices(self, devices: Sequence[FoundDevice]) -> None:
        self._devices = devices
        if self._rows:
            self._device_editor().set_devices(devices)

    def _device_editor(self) -> DeviceEditor:
        editor = self._rows["device"].editor
        assert isinstance(editor, DeviceEditor)
        return editor

    def _on_meta_changed(self, key: str) -> None:
        if key == "training":
            self._reload()

    def _reload(self) -> None:
        meta = self.document.graph.meta if self.document is not None else {}
        self._config, self._problem = config_from_meta(meta)
        self.problem_label.setText(self._problem or "")
        self.problem_label.setVisible(self._problem is not None)
        self._show_values()
        self.config_changed.emit(self._config)

    def _show_values(self) -> None:
        for name, row in self._rows.items():
            row.editor.set_value(getattr(self._config, name))
            row.show_error("")
        for setting in SETTINGS if self._rows else ():
            self._layout_of(setting).setRowVisible(self._rows[setting.key], setting.applies(self._config))

    def _layout_of(self, setting: Setting) -> QFormLayout:
        return self._layout if setting.section == MAIN else self._more_layout

    # -- edits ------------------------------------------------------------------------

    def _apply(self, key: str, value: Any) -> None:
        if self.document is None:
            return
        section = dict(self.document.graph.meta.get("training", {}))
        section[key] = value
        try:
            config = TrainingConfig.from_json(section)
            self.document.set_meta("training", config.to_json())
        except GraphError as exc:  # ConfigError, or DocumentLocked while a run trains
            self._show_error(key, getattr(exc, "key", key), str(exc))
            return
        self.rows[key].show_error("")

    def _show_error(self, edited: str, named: str, message: str) -> None:
        """Under the edited field, or under the one the message names (min_lr after a smaller lr)."""
        self.rows[edited].show_error(message)
        if named != edited and named in self.rows:
            self.rows[named].show_error(message)
