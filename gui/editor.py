"""The YAML editor: line numbers, highlighting, find, comment toggle, completion, error marks."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QRect, QSize, QStringListModel, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QFontDatabase,
    QKeyEvent,
    QKeySequence,
    QPainter,
    QPaintEvent,
    QResizeEvent,
    QShortcut,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextFormat,
)
from PySide6.QtWidgets import (
    QCompleter,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QToolButton,
    QToolTip,
    QWidget,
)

from ganbuilder.design.completion import context_words, word_before
from ganbuilder.design.text_edits import TextEdit, plan_toggle_comment
from ganbuilder.design.yaml_help import return_indent
from gui.highlighter import YamlHighlighter
from gui.library import LAYER_MIME

_CURRENT_LINE = QColor("#f3f6fb")
_ERROR_LINE = QColor("#fde8e8")
_ERROR_WAVE = QColor("#d32f2f")


def _utf16(text: str) -> int:
    """The length of `text` in Qt's text positions (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


class _LineNumbers(QWidget):
    def __init__(self, editor: SpecEditor):
        super().__init__(editor)
        self.editor = editor

    def sizeHint(self) -> QSize:
        return QSize(self.editor.line_number_width(), 0)

    def paintEvent(self, event: QPaintEvent) -> None:
        self.editor.paint_line_numbers(event)


class SpecEditor(QPlainTextEdit):
    """A plain-text YAML editor. Undo/redo is QPlainTextEdit's own stack.

    Signals:
        cursorLineChanged(int): the 1-based line of the cursor changed.
    """

    cursorLineChanged = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setPointSize(10)
        self.setFont(font)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setTabChangesFocus(False)
        self.setTabStopDistance(self.fontMetrics().horizontalAdvance(" ") * 2)
        self.highlighter = YamlHighlighter(self.document())
        self._numbers = _LineNumbers(self)
        self._error_lines: dict[int, list[str]] = {}
        self._last_line = 0
        self.blockCountChanged.connect(self._update_margin)
        self.updateRequest.connect(self._update_numbers)
        self.cursorPositionChanged.connect(self._cursor_moved)
        self._update_margin()
        self._refresh_selections()
        self.completer = QCompleter(self)
        self._model = QStringListModel(self.completer)
        self._all_words: list[str] = []
        self._schema: dict | None = None
        self.completer.setWidget(self)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.completer.activated.connect(self._insert_completion)
        QShortcut(QKeySequence("Ctrl+/"), self, self.toggle_comment,
                  context=Qt.ShortcutContext.WidgetShortcut)

    # -- completion ------------------------------------------------------------------------
    def set_completion_words(self, words: list[str], schema: dict | None = None) -> None:
        """Offer `words` where nothing narrower is known; with `schema` (the spec's JSON
        Schema), offer what fits the keys around the cursor (after `conv:`, conv's
        parameters)."""
        self._all_words = words
        self._schema = schema
        self._model = QStringListModel(words, self.completer)
        self.completer.setModel(self._model)

    def completion_words(self) -> list[str]:
        """The words completion offers at the cursor."""
        schema = self._schema
        if schema is not None:
            cursor = self.textCursor()
            lines = self.toPlainText().split("\n")
            found = context_words(schema, lines, cursor.blockNumber() + 1,
                                  cursor.positionInBlock())
            if found is not None:
                return found
        return self._all_words

    def _word_before_cursor(self) -> str:
        cursor = self.textCursor()
        return word_before(cursor.block().text()[: cursor.positionInBlock()])

    def _insert_completion(self, word: str) -> None:
        cursor = self.textCursor()
        prefix = self._word_before_cursor()
        cursor.movePosition(QTextCursor.MoveOperation.Left, QTextCursor.MoveMode.KeepAnchor,
                            len(prefix))
        cursor.insertText(word)
        self.setTextCursor(cursor)

    def complete(self, force: bool = False) -> None:
        """Offer schema names matching the word before the cursor (2+ letters, or forced)."""
        prefix = self._word_before_cursor()
        if not force and len(prefix) < 2:
            self.completer.popup().hide()
            return
        words = self.completion_words()
        if words != self._model.stringList():
            self._model.setStringList(words)
        self.completer.setCompletionPrefix(prefix)
        if self.completer.completionCount() == 0 or (
            self.completer.completionCount() == 1 and self.completer.currentCompletion() == prefix
        ):
            self.completer.popup().hide()
            return
        rect = self.cursorRect()
        rect.setWidth(self.completer.popup().sizeHintForColumn(0)
                      + self.completer.popup().verticalScrollBar().sizeHint().width() + 8)
        self.completer.complete(rect)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        popup = self.completer.popup()
        if popup.isVisible() and event.key() in (
            Qt.Key.Key_Enter, Qt.Key.Key_Return, Qt.Key.Key_Escape, Qt.Key.Key_Tab,
        ):
            event.ignore()
            return
        ctrl = event.modifiers() & Qt.KeyboardModifier.ControlModifier
        if event.key() == Qt.Key.Key_Space and ctrl:
            self.complete(force=True)
            return
        if event.key() == Qt.Key.Key_Tab:
            self.insertPlainText("  ")
            return
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            cursor = self.textCursor()
            indent = return_indent(cursor.block().text()[: cursor.positionInBlock()])
            super().keyPressEvent(event)
            self.insertPlainText(indent)
            return
        super().keyPressEvent(event)
        if event.text() and (event.text().isalnum() or event.text() == "_"):
            self.complete()
        else:
            popup.hide()

    # -- editing commands ------------------------------------------------------------------
    def toggle_comment(self) -> None:
        """Comment or uncomment the selected lines (or the cursor's line), as one undo step."""
        cursor = self.textCursor()
        doc = self.document()
        first = doc.findBlock(cursor.selectionStart()).blockNumber()
        end = cursor.selectionEnd()
        last_block = doc.findBlock(end)
        if (cursor.hasSelection() and end == last_block.position()
                and last_block.blockNumber() > first):
            last_block = last_block.previous()
        last = last_block.blockNumber()
        lines = [doc.findBlockByNumber(n).text() for n in range(last + 1)]
        self.apply_edit(TextEdit.columns(lines, plan_toggle_comment(lines, first + 1, last + 1),
                                         "comment"))

    # -- drops: a library entry is a layer for the canvas, never text -------------------------
    def canInsertFromMimeData(self, source: QMimeData) -> bool:
        return not source.hasFormat(LAYER_MIME) and super().canInsertFromMimeData(source)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasFormat(LAYER_MIME):
            event.ignore()  # no caret, no sideways scroll while a layer passes over the text
            return
        super().dragEnterEvent(event)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if event.mimeData().hasFormat(LAYER_MIME):
            event.ignore()
            return
        super().dragMoveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        if event.mimeData().hasFormat(LAYER_MIME):
            event.ignore()
            QToolTip.showText(self.mapToGlobal(event.position().toPoint()),
                              "Drop a layer on the Layer graph to insert it", self)
            return
        super().dropEvent(event)

    def apply_edit(self, edit: TextEdit) -> None:
        """Apply a text edit (a form field, a canvas gesture, a fix ...) as one undo step: only
        the characters that differ are replaced, so Undo restores the bytes and leaves the view
        near the edit; then the cursor goes where the edit says (the first parameter of a new
        layer, selected, with the focus here to type over it), or stays put when it names no
        line."""
        old = self.toPlainText()
        new = edit.apply(old)
        head, limit = 0, min(len(old), len(new))
        while head < limit and old[head] == new[head]:
            head += 1
        tail = 0
        while tail < limit - head and old[-1 - tail] == new[-1 - tail]:
            tail += 1
        doc = self.document()
        cursor = QTextCursor(doc)
        # positioned before the block begins: Undo puts the editor's cursor back where this
        # one was when the block began, so at the edit rather than at the top of the file
        cursor.setPosition(_utf16(old[:head]))
        cursor.setPosition(_utf16(old[:len(old) - tail]), QTextCursor.MoveMode.KeepAnchor)
        cursor.beginEditBlock()
        cursor.insertText(new[head:len(new) - tail])
        cursor.endEditBlock()
        line, start, end = edit.cursor
        if not line:
            return
        block = doc.findBlockByNumber(max(min(line, doc.blockCount()), 1) - 1)
        text = block.text()
        place = QTextCursor(block)
        place.setPosition(block.position() + _utf16(text[:min(end, len(text))]))
        place.setPosition(block.position() + _utf16(text[:min(start, len(text))]),
                          QTextCursor.MoveMode.KeepAnchor)
        self.setTextCursor(place)
        self.ensureCursorVisible()
        self.setFocus()  # to type over the selected value

    def select_lines(self, first: int, last: int | None = None, col: int = 1) -> None:
        """Select 1-based lines first..last (whole lines) and scroll to them; col places the
        cursor when only a position is wanted (last is None)."""
        doc = self.document()
        start = doc.findBlockByNumber(max(first - 1, 0))
        cursor = QTextCursor(start)
        if last is None:
            cursor.setPosition(start.position() + min(max(col - 1, 0), len(start.text())))
        else:
            end = doc.findBlockByNumber(max(last - 1, 0))
            cursor.setPosition(end.position() + len(end.text()))
            cursor.setPosition(start.position(), QTextCursor.MoveMode.KeepAnchor)
        self.setTextCursor(cursor)
        self.centerCursor()

    # -- problem marks ---------------------------------------------------------------------
    def set_problem_marks(self, marks: dict[int, list[str]]) -> None:
        """Mark 1-based lines with problems (messages show as tool tips)."""
        self._error_lines = marks
        self._refresh_selections()
        self._numbers.update()

    def _refresh_selections(self) -> None:
        selections = []
        current = QTextEdit.ExtraSelection()
        current.format.setBackground(_CURRENT_LINE)
        current.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
        current.cursor = self.textCursor()
        current.cursor.clearSelection()
        selections.append(current)
        doc = self.document()
        for line in self._error_lines:
            block = doc.findBlockByNumber(line - 1)
            if not block.isValid():
                continue
            background = QTextEdit.ExtraSelection()
            background.format.setBackground(_ERROR_LINE)
            background.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
            background.cursor = QTextCursor(block)
            selections.append(background)
            text = block.text()
            indent = len(text) - len(text.lstrip())
            wave = QTextEdit.ExtraSelection()
            wave.format.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
            wave.format.setUnderlineColor(_ERROR_WAVE)
            wave.cursor = QTextCursor(block)
            wave.cursor.setPosition(block.position() + indent)
            wave.cursor.setPosition(block.position() + len(text.rstrip()),
                                    QTextCursor.MoveMode.KeepAnchor)
            selections.append(wave)
        self.setExtraSelections(selections)

    def event(self, event) -> bool:
        if event.type() == event.Type.ToolTip:
            cursor = self.cursorForPosition(event.pos())
            messages = self._error_lines.get(cursor.blockNumber() + 1)
            if messages:
                QToolTip.showText(event.globalPos(), "\n".join(messages), self)
            else:
                QToolTip.hideText()
            return True
        return super().event(event)

    def _cursor_moved(self) -> None:
        self._refresh_selections()
        line = self.textCursor().blockNumber() + 1
        if line != self._last_line:
            self._last_line = line
            self.cursorLineChanged.emit(line)

    # -- line numbers ----------------------------------------------------------------------
    def width_for(self, columns: int) -> int:
        """The editor's width (line numbers, frame and scroll bar included) that shows
        `columns` characters of text."""
        return (self.fontMetrics().horizontalAdvance("x" * columns) + self.line_number_width()
                + 2 * self.frameWidth() + self.verticalScrollBar().sizeHint().width()
                + 2 * round(self.document().documentMargin()))

    def line_number_width(self) -> int:
        digits = max(3, len(str(self.blockCount())))
        return 16 + self.fontMetrics().horizontalAdvance("9") * digits

    def _update_margin(self) -> None:
        self.setViewportMargins(self.line_number_width(), 0, 0, 0)

    def _update_numbers(self, rect: QRect, dy: int) -> None:
        if dy:
            self._numbers.scroll(0, dy)
        else:
            self._numbers.update(0, rect.y(), self._numbers.width(), rect.height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        rect = self.contentsRect()
        self._numbers.setGeometry(QRect(rect.left(), rect.top(), self.line_number_width(),
                                        rect.height()))

    def paint_line_numbers(self, event: QPaintEvent) -> None:
        painter = QPainter(self._numbers)
        painter.fillRect(event.rect(), QColor("#f0f1f4"))
        current = self.textCursor().blockNumber()
        block = self.firstVisibleBlock()
        top = round(self.blockBoundingGeometry(block).translated(self.contentOffset()).top())
        height = self.fontMetrics().height()
        while block.isValid() and top <= event.rect().bottom():
            bottom = top + round(self.blockBoundingRect(block).height())
            if block.isVisible() and bottom >= event.rect().top():
                number = block.blockNumber()
                if number + 1 in self._error_lines:
                    painter.fillRect(0, top, self._numbers.width(), height, QColor("#f6c9c9"))
                    painter.setPen(QColor("#b71c1c"))
                elif number == current:
                    painter.setPen(QColor("#222222"))
                else:
                    painter.setPen(QColor("#9aa0a6"))
                painter.drawText(0, top, self._numbers.width() - 8, height,
                                 Qt.AlignmentFlag.AlignRight, str(number + 1))
            block = block.next()
            top = bottom


class FindBar(QWidget):
    """Ctrl+F search bar for a SpecEditor: Enter finds the next match, Shift+Enter the previous."""

    def __init__(self, editor: SpecEditor, parent: QWidget | None = None):
        super().__init__(parent)
        self.editor = editor
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        layout.addWidget(QLabel("Find:"))
        self.field = QLineEdit()
        self.field.setPlaceholderText("text in the spec")
        self.field.returnPressed.connect(self.find_next)
        self.field.textChanged.connect(lambda _: self.find_next(from_start=True))
        layout.addWidget(self.field, 1)
        self.status = QLabel("")
        self.status.setMinimumWidth(90)
        layout.addWidget(self.status)
        for text, slot in (("▲", self.find_previous), ("▼", self.find_next), ("✕", self.close_bar)):
            button = QToolButton()
            button.setText(text)
            button.setAutoRaise(True)
            button.clicked.connect(slot)
            layout.addWidget(button)
        QShortcut(QKeySequence("Escape"), self, self.close_bar,
                  context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        QShortcut(QKeySequence("Shift+Return"), self.field, self.find_previous,
                  context=Qt.ShortcutContext.WidgetShortcut)
        self.hide()

    def open_bar(self) -> None:
        selected = self.editor.textCursor().selectedText()
        if selected and "\u2029" not in selected:
            self.field.setText(selected)
        self.show()
        self.field.setFocus()
        self.field.selectAll()

    def close_bar(self) -> None:
        self.hide()
        self.editor.setFocus()

    def find_next(self, from_start: bool = False) -> bool:
        return self._find(QTextDocument.FindFlag(0), from_start)

    def find_previous(self) -> bool:
        return self._find(QTextDocument.FindFlag.FindBackward, False)

    def _find(self, flags: QTextDocument.FindFlag, from_start: bool) -> bool:
        needle = self.field.text()
        if not needle:
            self.status.setText("")
            return False
        cursor = self.editor.textCursor()
        if from_start:
            cursor.setPosition(cursor.selectionStart())
        found = self.editor.document().find(needle, cursor, flags)
        if found.isNull():  # wrap around
            start = QTextCursor(self.editor.document())
            if flags & QTextDocument.FindFlag.FindBackward:
                start.movePosition(QTextCursor.MoveOperation.End)
            found = self.editor.document().find(needle, start, flags)
        if found.isNull():
            self.status.setText("no match")
            self.field.setStyleSheet("background: #fde8e8;")
            return False
        self.status.setText(f"line {found.blockNumber() + 1}")
        self.field.setStyleSheet("")
        self.editor.setTextCursor(found)
        return True

