"""The problems list: every error of the current text with line:col, spec path and message,
and a button for those with a known fix (did you mean)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QHeaderView, QPushButton, QTreeWidget, QTreeWidgetItem, QWidget

from ganbuilder.design.fixes import Fix
from ganbuilder.design.problems import problem_where
from ganbuilder.errors import Problem

_LOCATION = Qt.ItemDataRole.UserRole


def _dot(color: str) -> QIcon:
    pixmap = QPixmap(12, 12)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(QColor(color))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.drawEllipse(1, 1, 10, 10)
    painter.end()
    return QIcon(pixmap)


class ProblemsList(QTreeWidget):
    """One row per problem; activating a row asks to jump to its text.

    Signals:
        problemActivated(int, int): the 1-based line and column of the chosen problem.
        problemChosen(object): the chosen Problem itself (its spec path shows its node).
        fixRequested(object): the TextEdit of a fix the user chose.
    """

    problemActivated = Signal(int, int)
    problemChosen = Signal(object)
    fixRequested = Signal(object)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setHeaderLabels(["Where", "Spec path", "Problem", ""])
        self.setRootIsDecorated(False)
        self.setAlternatingRowColors(True)
        self.setUniformRowHeights(True)
        self.setWordWrap(False)
        header = self.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(False)
        self._icon = _dot("#d32f2f")
        self.itemClicked.connect(self._activate)
        self.itemActivated.connect(self._activate)
        self.file = ""
        self.problems: list[Problem] = []
        self.fix_buttons: list[QPushButton] = []

    def set_problems(self, problems: list[Problem], fixes: list[Fix | None] | None = None
                     ) -> None:
        """Show `problems`; `fixes` (one per problem, None where none is known) adds a button
        that applies the fix."""
        self.clear()
        self.problems = list(problems)
        self.fix_buttons = []
        if not problems:
            placeholder = QTreeWidgetItem(["", "", "No problems: the spec is valid"])
            placeholder.setForeground(2, QColor("#2e7d32"))
            placeholder.setFlags(Qt.ItemFlag.NoItemFlags)
            self.addTopLevelItem(placeholder)
        for number, problem in enumerate(problems):
            loc = problem.location
            item = QTreeWidgetItem([problem_where(problem, self.file), problem.path or "—",
                                    problem.message])
            item.setIcon(0, self._icon)
            item.setToolTip(2, problem.message)
            if loc is not None and loc.file == self.file:
                item.setData(0, _LOCATION, (loc.line, loc.col))
            item.setData(1, _LOCATION, number)
            self.addTopLevelItem(item)
            fix = fixes[number] if fixes else None
            if fix is not None:
                button = QPushButton(fix.label)
                button.setToolTip("Apply this fix to the text (Undo takes it back)")
                button.clicked.connect(lambda _=False, e=fix.edit: self.fixRequested.emit(e))
                self.setItemWidget(item, 3, button)
                self.fix_buttons.append(button)

    def rows(self) -> list[tuple[str, str, str]]:
        """(where, path, message) per row, as shown."""
        if not self.problems:
            return []
        return [tuple(self.topLevelItem(i).text(c) for c in range(3))
                for i in range(self.topLevelItemCount())]

    def _activate(self, item: QTreeWidgetItem) -> None:
        where = item.data(0, _LOCATION)
        if where:
            self.problemActivated.emit(*where)
        number = item.data(1, _LOCATION)
        if number is not None and 0 <= number < len(self.problems):
            self.problemChosen.emit(self.problems[number])
