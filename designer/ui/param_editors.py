"""Typed editors for block parameters, one per parameter kind.

An editor turns what the user types or picks into a candidate value and emits
:attr:`ParamEditor.edited`; it does not judge the value. The inspector hands
the candidate to the model, which applies it or refuses it with a
:class:`~designer.graph.errors.ParamError` whose reason is shown under the
field. Qt's own range checks keep most bad input out; a number typed below the
range is passed on so that the model can say why it is refused.
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QToolButton,
    QWidget,
)

from designer.graph import shapes
from designer.graph.errors import ParamError
from designer.graph.params import (
    BoolParam,
    ChoiceParam,
    FloatParam,
    IntParam,
    IntsParam,
    PairParam,
    Param,
    ShapeParam,
)

FLOAT_LIMIT = 1e15
SIZE_MODE, AUTO_MODE = "size", "auto"


class ParamEditor(QWidget):
    """Base: ``value()``, ``set_value()`` (silent), and ``edited(value)`` on user input.

    Editors whose half-typed text would be a different valid value (a shape
    ``1`` on the way to ``1, 28, 28``) emit ``typing(value)`` as you type, for
    checking only, and ``edited`` when the text is committed.
    """

    edited = Signal(object)
    typing = Signal(object)

    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.param = param
        self.setToolTip(param.help)
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(4)

    def value(self) -> Any:
        raise NotImplementedError

    def set_value(self, value: Any) -> None:
        raise NotImplementedError

    def field(self) -> QWidget:
        """The widget to type into first."""
        return self


def _int_text(text: str) -> int | None:
    try:
        return int(text.strip())
    except ValueError:
        return None


class _IntSpin(QSpinBox):
    """A spin box over a parameter's range that reports typed numbers outside it."""

    out_of_range = Signal(int)

    def __init__(self, low: int, high: int) -> None:
        super().__init__()
        self.setRange(low, high)
        self.setKeyboardTracking(True)
        self.setMinimumWidth(48)  # not as wide as the largest value: the inspector is narrow
        self.lineEdit().textEdited.connect(self._on_text_edited)

    def _on_text_edited(self, text: str) -> None:
        number = _int_text(text)
        if number is not None and not self.minimum() <= number <= self.maximum():
            self.out_of_range.emit(number)


class _SpinEditor(ParamEditor):
    """A number in a spin box; a typed value out of range still reaches the model, to be refused."""

    def __init__(self, param: IntParam | FloatParam, spin: _IntSpin | FloatSpin,
                 parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.spin = spin
        self.spin.setValue(param.default)
        self._layout.addWidget(self.spin)
        self.spin.valueChanged.connect(self.edited.emit)
        self.spin.out_of_range.connect(self.edited.emit)

    def value(self) -> Any:
        return self.spin.value()

    def set_value(self, value: Any) -> None:
        if value != self.spin.value():
            self.spin.blockSignals(True)
            self.spin.setValue(value)
            self.spin.blockSignals(False)

    def field(self) -> QWidget:
        return self.spin


class IntEditor(_SpinEditor):
    def __init__(self, param: IntParam, parent: QWidget | None = None) -> None:
        super().__init__(param, _IntSpin(param.low, param.high), parent)


class FloatSpin(QDoubleSpinBox):
    """A double spin box that shows ``1e-05`` as such and keeps twelve decimals."""

    out_of_range = Signal(float)

    def __init__(self, low: float, high: float) -> None:
        super().__init__()
        self.setDecimals(12)
        self.setRange(max(low, -FLOAT_LIMIT), min(high, FLOAT_LIMIT))
        self.setStepType(QDoubleSpinBox.StepType.AdaptiveDecimalStepType)
        self.setKeyboardTracking(True)
        self.setMinimumWidth(48)
        self.lineEdit().textEdited.connect(self._on_text_edited)

    def textFromValue(self, value: float) -> str:
        return f"{value:g}"

    def valueFromText(self, text: str) -> float:
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int) -> tuple[QValidator.State, str, int]:
        return self._state(text), text, pos

    def _state(self, text: str) -> QValidator.State:
        try:
            number = float(text)
        except ValueError:
            return QValidator.State.Intermediate if len(text) < 40 else QValidator.State.Invalid
        if not math.isfinite(number) or not self.minimum() <= number <= self.maximum():
            return QValidator.State.Intermediate  # kept as typed, for the model to say why
        return QValidator.State.Acceptable

    def _on_text_edited(self, text: str) -> None:
        try:
            number = float(text)
        except ValueError:
            return
        if not self.minimum() <= number <= self.maximum():
            self.out_of_range.emit(number)


class FloatEditor(_SpinEditor):
    def __init__(self, param: FloatParam, parent: QWidget | None = None) -> None:
        super().__init__(param, FloatSpin(param.low, param.high), parent)


class BoolEditor(ParamEditor):
    def __init__(self, param: BoolParam, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.check = QCheckBox()
        self.check.setChecked(bool(param.default))
        self._layout.addWidget(self.check)
        self._layout.addStretch()
        self.check.toggled.connect(self.edited.emit)

    def value(self) -> bool:
        return self.check.isChecked()

    def set_value(self, value: Any) -> None:
        self.check.blockSignals(True)
        self.check.setChecked(bool(value))
        self.check.blockSignals(False)

    def field(self) -> QWidget:
        return self.check


class ChoiceEditor(ParamEditor):
    def __init__(self, param: ChoiceParam, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.combo = QComboBox()
        self.combo.addItems(list(param.choices))
        self.combo.setCurrentText(param.default)
        self._layout.addWidget(self.combo)
        self.combo.currentTextChanged.connect(self.edited.emit)

    def value(self) -> str:
        return self.combo.currentText()

    def set_value(self, value: Any) -> None:
        self.combo.blockSignals(True)
        self.combo.setCurrentText(str(value))
        self.combo.blockSignals(False)

    def field(self) -> QWidget:
        return self.combo


class PairEditor(ParamEditor):
    """``[h, w]`` as two spin boxes; "=" links them (one number for both).

    Parameters that also take words (padding ``same``) or nothing (a pooling
    stride that follows the kernel) get a mode box in front.
    """

    def __init__(self, param: PairParam, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.mode: QComboBox | None = None
        if param.words or param.optional:
            self.mode = QComboBox()
            self.mode.addItems([SIZE_MODE, *param.words, *([AUTO_MODE] if param.optional else [])])
            if param.optional:
                self.mode.setItemData(self.mode.count() - 1, "follow the kernel size",
                                      Qt.ItemDataRole.ToolTipRole)
            self._layout.addWidget(self.mode)
            self.mode.currentTextChanged.connect(self._on_mode_changed)
        self.h_spin = _IntSpin(param.low, param.high)
        self.w_spin = _IntSpin(param.low, param.high)
        self.link = QToolButton()
        self.link.setText("=")
        self.link.setCheckable(True)
        self.link.setToolTip("Use one number for height and width")
        self.h_spin.setToolTip("height")
        self.w_spin.setToolTip("width")
        self._layout.addWidget(self.h_spin, 1)
        self._layout.addWidget(QLabel("×"))
        self._layout.addWidget(self.w_spin, 1)
        self._layout.addWidget(self.link)
        self.set_value(param.default)
        self.h_spin.valueChanged.connect(self._on_h_changed)
        self.w_spin.valueChanged.connect(self._on_w_changed)
        self.h_spin.out_of_range.connect(lambda n: self.edited.emit(self._compose(h=n)))
        self.w_spin.out_of_range.connect(lambda n: self.edited.emit(self._compose(w=n)))
        self.link.toggled.connect(self._on_link_toggled)

    def _compose(self, h: int | None = None, w: int | None = None) -> Any:
        if self.mode is not None and self.mode.currentText() != SIZE_MODE:
            word = self.mode.currentText()
            return None if word == AUTO_MODE else word
        h = self.h_spin.value() if h is None else h
        if self.link.isChecked():
            return h
        return (h, self.w_spin.value() if w is None else w)

    def value(self) -> Any:
        return self._compose()

    def set_value(self, value: Any) -> None:
        if value == self.value() and type(value) is type(self.value()):
            return
        widgets = (self.h_spin, self.w_spin, self.link, *([self.mode] if self.mode else []))
        for widget in widgets:
            widget.blockSignals(True)
        try:
            if value is None or isinstance(value, str):
                if self.mode is not None:
                    self.mode.setCurrentText(AUTO_MODE if value is None else value)
            else:
                if self.mode is not None:
                    self.mode.setCurrentText(SIZE_MODE)
                h, w = value if isinstance(value, tuple) else (value, value)
                self.h_spin.setValue(h)
                self.w_spin.setValue(w)
                self.link.setChecked(not isinstance(value, tuple))
            self._enable_spins()
        finally:
            for widget in widgets:
                widget.blockSignals(False)

    def _enable_spins(self) -> None:
        sized = self.mode is None or self.mode.currentText() == SIZE_MODE
        self.h_spin.setEnabled(sized)
        self.w_spin.setEnabled(sized and not self.link.isChecked())
        self.link.setEnabled(sized)

    def _on_mode_changed(self, text: str) -> None:
        self._enable_spins()
        self.edited.emit(self.value())

    def _on_h_changed(self, value: int) -> None:
        if self.link.isChecked():
            self.w_spin.blockSignals(True)
            self.w_spin.setValue(value)
            self.w_spin.blockSignals(False)
        self.edited.emit(self.value())

    def _on_w_changed(self, value: int) -> None:
        self.edited.emit(self.value())

    def _on_link_toggled(self, linked: bool) -> None:
        self._enable_spins()
        if linked:  # unlinking changes nothing until height or width does
            self.w_spin.blockSignals(True)
            self.w_spin.setValue(self.h_spin.value())
            self.w_spin.blockSignals(False)
            self.edited.emit(self.value())

    def field(self) -> QWidget:
        return self.h_spin


def parse_shape(text: str) -> Any:
    """``"3, 227, 227"`` or ``3×227×227`` as a list of ints; other text as it is, for the model to refuse."""
    try:
        return list(shapes.parse_shape(text, ranks=range(1, 9)))
    except ValueError:
        return text


class ShapeEditor(ParamEditor):
    def __init__(self, param: ShapeParam | IntsParam, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.line = QLineEdit()
        self.line.setPlaceholderText(self.placeholder())
        self._layout.addWidget(self.line)
        self.set_value(param.default)
        self.line.textEdited.connect(lambda text: self.typing.emit(parse_shape(text)))
        self.line.editingFinished.connect(lambda: self.edited.emit(self.value()))

    def placeholder(self) -> str:
        return "C, H, W  or  features"

    def value(self) -> Any:
        return parse_shape(self.line.text())

    def set_value(self, value: Any) -> None:
        if self.value() != list(value):
            self.line.setText(", ".join(str(v) for v in value))

    def field(self) -> QWidget:
        return self.line


class IntsEditor(ShapeEditor):
    """Axes or sizes as a line of numbers (``0, 2, 3, 1``, ``-1, 768``), read by the parameter itself."""

    def placeholder(self) -> str:
        return ", ".join(str(v) for v in self.param.default)

    def value(self) -> Any:
        try:
            return list(self.param.coerce(self.line.text()))
        except ParamError:
            return self.line.text()  # for the model to refuse in its own words


EDITORS: dict[str, type[ParamEditor]] = {
    "int": IntEditor,
    "float": FloatEditor,
    "bool": BoolEditor,
    "choice": ChoiceEditor,
    "pair": PairEditor,
    "shape": ShapeEditor,
    "ints": IntsEditor,
}


def editor_for(param: Param, parent: QWidget | None = None) -> ParamEditor:
    return EDITORS[param.kind](param, parent)
