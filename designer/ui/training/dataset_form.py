"""The dataset picker's form: the source, its path, and the options that apply to it.

:meth:`DatasetForm.read` turns the fields into a DatasetConfig, or says in a
sentence why they do not make one; :meth:`DatasetForm.load` shows a config
without announcing an edit. ``edited`` is emitted for edits by the user only.
Each source remembers its own path while the user switches between them, and a
downloadable source found in the default download folder gets that path.
"""

from __future__ import annotations

from typing import Literal

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from designer.data.config import (
    BUILTIN,
    DEFAULT_SAMPLES,
    DEFAULT_VALIDATION,
    MAX_PADDING,
    Augment,
    DatasetConfig,
)
from designer.data.downloaded import downloaded_path
from designer.data.errors import DataConfigError
from designer.data.fit_report import DISPLAY_NAMES

SOURCES = (("Digits (built in)", "digits"), ("Shapes (generated)", "shapes"), ("CIFAR-10", "cifar10"),
           ("CIFAR-100", "cifar100"), ("MNIST", "mnist"), ("Fashion-MNIST", "fashion_mnist"),
           ("Image folder…", "folder"), (".npz file…", "npz"))
FOLDER_SOURCES = ("folder", "mnist", "fashion_mnist")  # Browse… asks for a folder; the others for a file
MAY_BE_GRAYSCALE = ("digits", "mnist", "fashion_mnist", "folder", "npz")
MAX_SEED = 2**31 - 1  # a QSpinBox holds an int32; larger seeds from a project file are kept (see _seed)
VALIDATION_MODES = (("Automatic", "auto"), ("The source's test split", "given"),
                    ("A share of the training set", "fraction"))
MIN_COMBO_CHARS = 6  # and the arrow: the longest items ("A share of the training set") are elided
GRAYSCALE_TIP = "One channel copied into three, for a network that takes colour images"
_MISSING = {
    "folder": "Choose the image folder (Browse…): one sub-folder of images per class.",
    "npz": "Choose the .npz file (Browse…) that holds arrays x and y.",
}


class DatasetForm(QWidget):
    """The fields of a dataset description. Widgets are public for tests to drive.

    The form itself holds the source, its path and its sample count; :attr:`options`
    (validation, seed, normalization, augmentation) is a widget of its own for the
    host to place, so that the training panel can show the hyperparameters between
    the source and its options.
    """

    edited = Signal()
    source_chosen = Signal(str)  # the user picked a source (before ``edited``)
    browse_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._loading = False
        self._seed = 0
        self._paths: dict[str, str] = {}
        self._current = "digits"
        self._build()
        self._connect()
        self._apply_source_rules()
        self._enable_fraction()

    def _build(self) -> None:
        self.source = _combo()
        for text, name in SOURCES:
            self.source.addItem(text, name)
        self.path = QLineEdit()
        self.path.setPlaceholderText("path of the dataset's file or folder")
        self.browse = QPushButton("Browse…")
        self._path_row = QWidget()
        row = QHBoxLayout(self._path_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.path, 1)
        row.addWidget(self.browse)
        self.samples = _spin(1, 10_000_000, DEFAULT_SAMPLES, "How many images to draw")
        self.samples.setGroupSeparatorShown(True)
        self.validation_mode = _combo()
        for text, value in VALIDATION_MODES:
            self.validation_mode.addItem(text, value)
        self.validation_mode.setToolTip("Automatic: the source's own test split where it has one, "
                                        f"else {DEFAULT_VALIDATION:g} of the training set")
        self.fraction = QDoubleSpinBox()
        self.fraction.setRange(0.0, 0.999)
        self.fraction.setDecimals(3)
        self.fraction.setSingleStep(0.05)
        self.fraction.setValue(DEFAULT_VALIDATION)
        self.fraction.setKeyboardTracking(False)
        self.fraction.setToolTip("The share of the training set held out for validation, per class")
        validation = _pair(self.validation_mode, self.fraction)
        self.seed = _spin(0, MAX_SEED, 0, "Seeds the split and whatever is drawn at random")
        # Short texts with the detail in tooltips: the panel is a narrow dock, and a check box does not wrap.
        self.normalize = _check("Normalize each channel", "By the mean and deviation of the training set",
                                checked=True)
        self.crop_padding = _spin(0, MAX_PADDING, 0, "Random crops after padding by this many pixels (0: off)")
        self.crop_padding.setSuffix(" px padding")
        self.hflip = _check("Random horizontal flips", "Each image flipped left to right half of the time")
        self.grayscale = _check("Grayscale to RGB", GRAYSCALE_TIP)
        self._layout = _form(self)
        self._layout.addRow("Dataset", self.source)
        self._layout.addRow("Path", self._path_row)
        self._layout.addRow("Samples", self.samples)
        self.options = QWidget()  # the rest: the picker lays it out, apart from the source
        options = _form(self.options)
        options.addRow("Validation", validation)
        options.addRow("Seed", self.seed)
        options.addRow("", self.normalize)
        options.addRow("Crops", self.crop_padding)
        options.addRow("", self.hflip)
        options.addRow("", self.grayscale)

    def _connect(self) -> None:
        self.source.currentIndexChanged.connect(self._on_source_changed)
        self.path.editingFinished.connect(self._on_path_edited)
        self.browse.clicked.connect(self.browse_requested)
        self.samples.valueChanged.connect(self._on_edit)
        self.validation_mode.currentIndexChanged.connect(self._on_edit)
        self.fraction.valueChanged.connect(self._on_edit)
        self.seed.valueChanged.connect(self._on_seed)
        self.crop_padding.valueChanged.connect(self._on_edit)
        for box in (self.normalize, self.hflip, self.grayscale):
            box.toggled.connect(self._on_edit)

    def insert_below_path(self, widget: QWidget) -> None:
        """A row across the form under the path (the download offer)."""
        self._layout.insertRow(2, widget)

    # -- reading and showing a config ------------------------------------------------------

    def source_name(self) -> str:
        return str(self.source.currentData())

    def read(self) -> tuple[DatasetConfig | None, str | None]:
        """The config the fields describe, or None and the reason why they describe none."""
        name = self.source_name()
        path = None if name in BUILTIN else (self.path.text().strip() or None)
        if name not in BUILTIN and path is None:
            return None, self._missing_path(name)
        samples = self.samples.value() if name == "shapes" else None
        try:
            return DatasetConfig(
                name=name, path=path, samples=None if samples == DEFAULT_SAMPLES else samples, seed=self._seed,
                validation=self._validation(), normalize=self.normalize.isChecked(),
                augment=Augment(self.crop_padding.value(), self.hflip.isChecked()),
                grayscale_to_rgb=self.grayscale.isChecked()), None
        except DataConfigError as exc:
            return None, f"{exc}."

    def load(self, config: DatasetConfig) -> None:
        """Show ``config`` in the fields; emits nothing."""
        self._loading = True
        try:
            self.source.setCurrentIndex(self.source.findData(config.name))
            self._current = config.name
            self.path.setText(config.path or "")
            self.samples.setValue(config.sample_count)
            self._show_validation(config.validation)
            self._seed = config.seed
            self.seed.setValue(min(config.seed, MAX_SEED))
            self.normalize.setChecked(config.normalize)
            self.crop_padding.setValue(config.augment.crop_padding)
            self.hflip.setChecked(config.augment.hflip)
            self.grayscale.setChecked(config.grayscale_to_rgb)
        finally:
            self._loading = False
        self._apply_source_rules()

    def set_path(self, text: str) -> None:
        """Put ``text`` in the path field; emits nothing (the caller announces the change)."""
        self.path.setText(text)
        self._paths[self.source_name()] = text

    def set_busy(self, busy: bool) -> None:
        """While a download runs, the source and its path stay as they are."""
        for widget in (self.source, self.path, self.browse):
            widget.setEnabled(not busy)

    def _validation(self) -> float | Literal["given"] | None:
        mode = self.validation_mode.currentData()
        return self.fraction.value() if mode == "fraction" else "given" if mode == "given" else None

    def _show_validation(self, value: float | str | None) -> None:
        mode = "auto" if value is None else "given" if value == "given" else "fraction"
        self.validation_mode.setCurrentIndex(self.validation_mode.findData(mode))
        if mode == "fraction":
            self.fraction.setValue(float(value))  # type: ignore[arg-type]  # a number, by elimination
        self._enable_fraction()

    def _enable_fraction(self) -> None:
        self.fraction.setEnabled(self.validation_mode.currentData() == "fraction")

    def _missing_path(self, name: str) -> str:
        if name in _MISSING:
            return _MISSING[name]
        where = "the folder of its IDX files" if name in FOLDER_SOURCES else "its .tar.gz"
        return f"{DISPLAY_NAMES[name]} is not on this computer: download it, or Browse… to {where}."

    # -- user edits --------------------------------------------------------------------------

    @Slot()
    def _on_source_changed(self) -> None:
        if self._loading:
            return
        self._paths[self._current] = self.path.text()
        name = self._current = self.source_name()
        remembered = self._paths.get(name)
        found = downloaded_path(name)
        self.path.setText(remembered or (str(found) if found is not None else ""))
        self._apply_source_rules()
        self.source_chosen.emit(name)
        self.edited.emit()

    @Slot()
    def _on_path_edited(self) -> None:
        if self.path.isModified():  # editingFinished also comes on mere focus loss
            self.path.setModified(False)
            self._paths[self.source_name()] = self.path.text()
            self._on_edit()

    @Slot()
    def _on_seed(self) -> None:
        if not self._loading:
            self._seed = self.seed.value()
            self.edited.emit()

    @Slot()
    def _on_edit(self) -> None:
        if not self._loading:
            self._enable_fraction()
            self.edited.emit()

    def _apply_source_rules(self) -> None:
        """Show the options that apply to the chosen source."""
        name = self.source_name()
        self._layout.setRowVisible(self._path_row, name not in BUILTIN)
        self._layout.setRowVisible(self.samples, name == "shapes")
        self.grayscale.setEnabled(name in MAY_BE_GRAYSCALE)
        colour = name not in MAY_BE_GRAYSCALE
        self.grayscale.setToolTip(f"{DISPLAY_NAMES[name]} is in colour already" if colour else GRAYSCALE_TIP)
        self.browse.setToolTip("Choose a folder" if name in FOLDER_SOURCES else "Choose a file")


def _spin(low: int, high: int, value: int, tip: str) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(low, high)
    spin.setValue(value)
    spin.setToolTip(tip)
    spin.setKeyboardTracking(False)  # one edit when the number is complete, not one per digit typed
    return spin


def _combo() -> QComboBox:
    """A combo box that may be narrower than its longest item (its list still shows them whole)."""
    combo = QComboBox()
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(MIN_COMBO_CHARS)
    return combo


def _check(text: str, tip: str, *, checked: bool = False) -> QCheckBox:
    box = QCheckBox(text)
    box.setToolTip(tip)
    box.setChecked(checked)
    return box


def _form(widget: QWidget) -> QFormLayout:
    layout = QFormLayout(widget)
    layout.setContentsMargins(0, 0, 0, 0)
    # Fields take the width the dock gives them, and no more than their text needs when it gives little.
    layout.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    return layout


def _pair(first: QWidget, second: QWidget) -> QWidget:
    box = QWidget()
    row = QHBoxLayout(box)
    row.setContentsMargins(0, 0, 0, 0)
    row.addWidget(first, 1)
    row.addWidget(second)
    return box
