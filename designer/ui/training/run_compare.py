"""Two runs side by side: outcome, training settings, dataset and graph, the differences highlighted.

The comparison itself is :func:`designer.training.run_diff.diff_runs` (no Qt, no
torch); this dialog shows its rows under one heading per section, one column per
run, with changed rows on a tinted background in bold, and can hide the rows
that agree. A run folder that cannot be read is said in the dialog.
"""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from designer.graph.errors import GraphError
from designer.training.run_diff import ADDED, CHANGED, REMOVED, SECTIONS, DiffRow, RunDiff, diff_runs
from designer.ui import theme

CHANGE_WORDS = {CHANGED: "changed", ADDED: "only in the right-hand run", REMOVED: "only in the left-hand run"}


class RunCompareDialog(QDialog):
    """``left`` and ``right`` run folders compared; ``diff`` is None when one could not be read.

    ``labels`` head the two columns (what the runs list calls the runs); without them a
    run's own name does, or its folder's when both runs have the same name.
    """

    def __init__(self, left: str | Path, right: str | Path, parent: QWidget | None = None,
                 labels: tuple[str, str] | None = None) -> None:
        super().__init__(parent)
        self.labels = labels
        self.setWindowTitle("Compare runs")
        self.diff: RunDiff | None = None
        self.header = QLabel()
        self.header.setWordWrap(True)
        self.header.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.only_changes = QCheckBox("Show only differences")
        self.only_changes.toggled.connect(self._apply_filter)
        self.tree = QTreeWidget()
        self.tree.setColumnCount(3)
        self.tree.setUniformRowHeights(True)
        self.tree.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addWidget(self.only_changes)
        layout.addWidget(self.tree, 1)
        layout.addWidget(buttons)
        self.resize(760, 600)
        self._load(Path(left), Path(right))

    def _load(self, left: Path, right: Path) -> None:
        try:
            diff = diff_runs(left, right)
        except (GraphError, OSError) as exc:
            self.tree.setHeaderLabels(("Setting", left.name, right.name))
            self.header.setText(theme.span(f"Cannot compare: {html.escape(str(exc))}", theme.ERROR_TEXT))
            return
        self.diff = diff
        same_name = diff.left_name == diff.right_name  # runs are named after their project by default
        names = (diff.left.name, diff.right.name) if same_name else (diff.left_name, diff.right_name)
        names = self.labels or names
        header = self.tree.headerItem()
        self.tree.setHeaderLabels(("Setting", *names))
        header.setToolTip(1, str(diff.left))
        header.setToolTip(2, str(diff.right))
        count = len(diff.causes)
        self.header.setText(f"<b>{html.escape(diff.left.name)}</b> (left) and "
                            f"<b>{html.escape(diff.right.name)}</b> (right): {count} "
                            f"difference{'' if count == 1 else 's'} in settings, data and graph")
        self._fill(diff)

    def _fill(self, diff: RunDiff) -> None:
        bold = QFont()
        bold.setBold(True)
        for section in SECTIONS:
            rows = diff.section(section)
            if not rows:
                continue
            heading = QTreeWidgetItem([section, "", ""])
            heading.setFont(0, bold)
            heading.setFirstColumnSpanned(True)
            self.tree.addTopLevelItem(heading)
            for row in rows:
                heading.addChild(_item(row, bold))
            heading.setExpanded(True)

    def _headings(self) -> list[tuple[QTreeWidgetItem, list[QTreeWidgetItem]]]:
        out = []
        for i in range(self.tree.topLevelItemCount()):
            heading = self.tree.topLevelItem(i)
            if heading is not None:
                children = [heading.child(j) for j in range(heading.childCount())]
                out.append((heading, [child for child in children if child is not None]))
        return out

    def _apply_filter(self, only_changes: bool) -> None:
        for heading, children in self._headings():
            shown = 0
            for child in children:
                hide = only_changes and not child.data(0, Qt.ItemDataRole.UserRole)
                child.setHidden(hide)
                shown += not hide
            heading.setHidden(shown == 0)

    def shown_rows(self) -> list[tuple[str, str, str, str, bool]]:
        """What the user sees: (section, setting, left, right, highlighted) for each visible row."""
        out = []
        for heading, children in self._headings():
            for child in children:
                if not heading.isHidden() and not child.isHidden():
                    highlighted = child.background(0).style() != Qt.BrushStyle.NoBrush
                    out.append((heading.text(0), child.text(0), child.text(1), child.text(2), highlighted))
        return out


def _item(row: DiffRow, bold: QFont) -> QTreeWidgetItem:
    item = QTreeWidgetItem([row.key, row.left, row.right])
    item.setData(0, Qt.ItemDataRole.UserRole, row.changed)
    if row.changed:
        brush = QBrush(QColor(theme.current().highlights[row.change]))
        for column in range(3):
            item.setBackground(column, brush)
            item.setFont(column, bold)
            item.setToolTip(column, CHANGE_WORDS[row.change])
    return item
