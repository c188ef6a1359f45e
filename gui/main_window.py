"""The designer window: YAML editor, problems, architecture and data-flow views, files,
and training with live plots, sample grids and the latent explorer."""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QRect, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QSizePolicy,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ganbuilder.design import TextEdit, TextIndex, schema_words
from ganbuilder.design.fixes import suggested_fix
from ganbuilder.design.graph_search import describe_node
from ganbuilder.design.labels import shorten
from ganbuilder.design.line_map import LineMap
from ganbuilder.design.problems import count_problems, problem_marks
from ganbuilder.design.spec_file import decode_spec, encode_spec
from ganbuilder.design.templates import BLANK, SPECS_DIR, moved_modeline, templates
from ganbuilder.errors import Problem, UserError
from ganbuilder.files import same_file, write_file
from ganbuilder.layers import LAYERS
from ganbuilder.run_setup import run_dir_for
from ganbuilder.spec import Spec, load_spec_text, spec_schema
from ganbuilder.spec.paths import format_path, parse_path
from gui.architecture import ArchitecturePanel
from gui.editor import FindBar, SpecEditor
from gui.forms import PropertyForm
from gui.graph_view import FlowGraphView
from gui.help import HelpDialog
from gui.latent_explorer import LatentExplorer
from gui.layer_graph import LayerGraphPanel
from gui.library import LayerLibrary
from gui.plots import MetricsPlots
from gui.problems import ProblemsList
from gui.runs_view import RunsView
from gui.samples_view import SamplesView
from gui.training import (
    IDLE,
    PAUSED,
    RUNNING,
    STARTING,
    STOPPING,
    TrainingController,
)
from gui.validation import ValidationResult, Validator

MAX_RECENT = 8
UNSAVED = "<unsaved>"
# Bumped when the docks change, so a layout saved by an older version is not restored.
STATE_VERSION = 3
EDITOR_COLUMNS = 60
_MISSING_BASE = re.compile(r"base spec not found: (.+)$")
TRAINING_SHARE = 0.72  # of the right column's height for the training dock while it is shown


def menu_text(text: str) -> str:
    """`text` as a menu shows it: a single `&` marks a shortcut letter in Qt, so a literal one
    is doubled."""
    return text.replace("&", "&&")


def _nearest_folder(path: Path) -> Path:
    """The nearest folder holding `path` that exists."""
    folder = path.parent
    while not folder.is_dir() and folder != folder.parent:
        folder = folder.parent
    return folder


class ScrollingTabs(QTabWidget):
    """Tabs whose pages scroll when the dock is narrower or shorter than a page needs, so a
    page's controls never force the dock, and with it the window, to grow. Pages are
    addressed by their content widget, as with a plain QTabWidget."""

    def add_page(self, widget: QWidget, title: str) -> None:
        area = QScrollArea()
        area.setWidgetResizable(True)
        area.setFrameShape(QFrame.Shape.NoFrame)
        area.setWidget(widget)
        self.addTab(area, title)

    def setCurrentWidget(self, widget: QWidget) -> None:
        for i in range(self.count()):
            page = self.widget(i)
            if page is widget or (isinstance(page, QScrollArea) and page.widget() is widget):
                self.setCurrentIndex(i)
                return


class MainWindow(QMainWindow):
    """One spec, edited as text; every view is derived from the text and nothing else."""

    def __init__(self, settings: QSettings | None = None, delay_ms: int = 300):
        super().__init__()
        self.settings = settings or QSettings("ganbuilder", "ganbuilder")
        self.path: Path | None = None
        self.template = ""  # the template an unsaved spec came from
        self.base_dir = SPECS_DIR
        self._saved_bytes = b""
        self._saved_text = ""
        self._newline = "\n"
        self.spec: Spec | None = None
        self._spec_text = ""  # the text self.spec was checked from
        self._index: TextIndex | None = None
        self._line_map: LineMap | None = None
        self._checked_text = ""  # the text the problems shown were found in
        self.problems: list[Problem] = []
        self._syncing = False

        self.editor = SpecEditor()
        self.editor.set_completion_words(schema_words(spec_schema()), spec_schema())
        self.find_bar = FindBar(self.editor)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.editor)
        layout.addWidget(self.find_bar)
        self.setCentralWidget(central)
        self._keep_editor_columns()
        self.editor.blockCountChanged.connect(lambda _: self._keep_editor_columns())

        self.problems_list = ProblemsList()
        self.architecture = ArchitecturePanel()
        self.graph = FlowGraphView()
        self.layer_graph = LayerGraphPanel()
        self.library = LayerLibrary()
        self.form = PropertyForm()
        self.selected: tuple | None = None
        self.problems_dock = self._dock("Problems", self.problems_list,
                                        Qt.DockWidgetArea.BottomDockWidgetArea)
        self.architecture_dock = self._dock("Architecture", self.architecture,
                                            Qt.DockWidgetArea.RightDockWidgetArea)
        self.graph_dock = self._dock("Data flow", self.graph,
                                     Qt.DockWidgetArea.RightDockWidgetArea)
        self.layer_graph_dock = self._dock("Layer graph", self.layer_graph,
                                           Qt.DockWidgetArea.RightDockWidgetArea)
        # In a scroll area: a short dock scrolls the form rather than squashing its fields.
        form_page = QScrollArea()
        form_page.setWidgetResizable(True)
        form_page.setFrameShape(QFrame.Shape.NoFrame)
        form_page.setWidget(self.form)
        self.form_dock = self._dock("Properties", form_page, Qt.DockWidgetArea.RightDockWidgetArea)
        self.library_dock = self._dock("Layer library", self.library,
                                       Qt.DockWidgetArea.LeftDockWidgetArea)
        # The graphs share the tall top of the right column with the architecture (and the
        # training dock, below); the property form stays in view under them, so a node
        # chosen on the canvas and its fields are seen together.
        self.tabifyDockWidget(self.architecture_dock, self.layer_graph_dock)
        self.tabifyDockWidget(self.architecture_dock, self.graph_dock)
        self.training = TrainingController(parent=self)
        self.plots = MetricsPlots()
        self.samples = SamplesView()
        self.explorer = LatentExplorer()
        self.runs = RunsView()
        self.runs.failed.connect(lambda message: QMessageBox.warning(self, "Cannot open run",
                                                                     message))
        self.training_dock = self._dock("Training", self._training_panel(),
                                        Qt.DockWidgetArea.RightDockWidgetArea)
        self.tabifyDockWidget(self.architecture_dock, self.training_dock)
        self.layer_graph_dock.raise_()
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.resizeDocks([self.architecture_dock], [620], Qt.Orientation.Horizontal)
        self.resizeDocks([self.architecture_dock, self.form_dock], [620, 280],
                         Qt.Orientation.Vertical)
        self.resizeDocks([self.problems_dock], [150], Qt.Orientation.Vertical)

        self.status = QLabel()
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.position = QLabel()
        self.statusBar().addWidget(self.status, 1)
        self.statusBar().addPermanentWidget(self.position)

        self.validator = Validator(delay_ms, self)
        self.validator.checked.connect(self._on_checked)
        self.validator.summarized.connect(self._on_summarized)
        self.validator.busyChanged.connect(self._on_busy)
        self.watcher = QFileSystemWatcher(self)
        self.watcher.fileChanged.connect(self._on_file_changed)
        # What the spec reads besides its own text (the files it extends, and the folders
        # where a missing base may yet appear): a change there checks the text again.
        self.inputs_watcher = QFileSystemWatcher(self)
        self.inputs_watcher.fileChanged.connect(lambda _: self._recheck())
        self.inputs_watcher.directoryChanged.connect(lambda _: self._recheck(missing_only=True))

        self.editor.textChanged.connect(self._on_text_changed)
        self.editor.document().modificationChanged.connect(lambda _: self._update_title())
        self.editor.cursorLineChanged.connect(self._on_cursor_line)
        self.editor.cursorPositionChanged.connect(self._show_position)
        self.problems_list.problemActivated.connect(self.goto)
        self.problems_list.problemChosen.connect(self.show_problem_node)
        self.problems_list.fixRequested.connect(self.apply_edit)
        self.architecture.layerActivated.connect(self.select_path)
        self.graph.nodeActivated.connect(self.select_path)
        self.layer_graph.nodeActivated.connect(self.select_path)
        for view in (self.graph, self.layer_graph.view):
            view.describe = lambda path, lines: describe_node(self.spec, path, lines)
        # canvas gestures: one planned text edit each (gui/layer_graph.py, graph_view.py)
        for canvas in (self.layer_graph, self.graph):
            canvas.editRequested.connect(self.apply_edit)
            canvas.refused.connect(lambda why: self.statusBar().showMessage(why, 8000))
        self.library.entryActivated.connect(self.layer_graph.view.insert_after_selection)
        self.form.editRequested.connect(self.apply_edit)
        self.training.stateChanged.connect(self._on_train_state)
        self.training.started.connect(self._on_train_started)
        self.training.metrics.connect(self._on_train_metrics)
        self.training.sample.connect(self.samples.add)
        self.training.checkpoint.connect(lambda e: self.explorer.set_checkpoint(e.path))
        self.training.paused.connect(self._on_train_paused)
        self.training.finished.connect(self._on_train_finished)
        self.training.failed.connect(self._on_train_failed)

        self._build_menus()
        self._on_train_state(IDLE)
        self._fit_screen()
        self._restore_layout()
        self._update_title()

    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(title)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _training_panel(self) -> QWidget:
        self.train_banner = QLabel()
        self.train_banner.setWordWrap(True)
        self.train_banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.train_banner.setContentsMargins(6, 4, 6, 4)
        # A wrapped label is as wide as its longest word (a run folder's path): it must not
        # widen the dock, and with it the window.
        self.train_banner.setSizePolicy(QSizePolicy.Policy.Ignored,
                                        QSizePolicy.Policy.Preferred)
        self.train_tabs = ScrollingTabs()
        self.train_tabs.add_page(self.plots, "Plots")
        self.train_tabs.add_page(self.samples, "Samples")
        self.train_tabs.add_page(self.explorer, "Latent explorer")
        self.train_tabs.add_page(self.runs, "Runs")
        # The dock shares its column with the property form below (the separator between
        # them is a splitter); this collapses the form while the plots are read.
        self.fill_button = QToolButton()
        self.fill_button.setText("Fill column")
        self.fill_button.setCheckable(True)
        self.fill_button.setToolTip("Give the training dock the whole column (the property "
                                    "form collapses); again to share it")
        self.fill_button.toggled.connect(self._fill_column)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 4, 0)
        top.addWidget(self.train_banner, 1)
        top.addWidget(self.fill_button, 0, Qt.AlignmentFlag.AlignTop)
        panel = QWidget()
        layout = QVBoxLayout(panel)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(top)
        layout.addWidget(self.train_tabs, 1)
        return panel

    def _fill_column(self, fill: bool) -> None:
        """Collapse the property form under the training dock (`fill`), or show it again
        with its share of the column."""
        if fill:
            self.form_dock.hide()
        else:
            self.form_dock.show()
            self._give_training_room()

    # -- menus -----------------------------------------------------------------------------
    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self._action(file_menu, "&New", QKeySequence.StandardKey.New, self.new_blank)
        self.template_menu = file_menu.addMenu("New from &template")
        for template in templates():
            text = template.name + (f" — {shorten(template.description)}"
                                    if template.description else "")
            action = self.template_menu.addAction(menu_text(text))
            action.setToolTip(template.description)
            action.setStatusTip(template.description)
            action.triggered.connect(lambda _=False, p=template.path: self.new_from_template(p))
        self.template_menu.setToolTipsVisible(True)
        self._action(file_menu, "&Open…", QKeySequence.StandardKey.Open, self.open_dialog)
        self.recent_menu = file_menu.addMenu("Open &recent")
        self._fill_recent()
        file_menu.addSeparator()
        self._action(file_menu, "&Save", QKeySequence.StandardKey.Save, self.save)
        self._action(file_menu, "Save &as…", QKeySequence.StandardKey.SaveAs, self.save_as)
        file_menu.addSeparator()
        self._action(file_menu, "Compare r&un folder…", QKeySequence(), self._open_run_dialog)
        self._action(file_menu, "Export as &PyTorch code…", QKeySequence(), self.export_code)
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", QKeySequence.StandardKey.Quit, self.close)

        edit = self.menuBar().addMenu("&Edit")
        self._action(edit, "&Undo", QKeySequence.StandardKey.Undo, self.editor.undo)
        self._action(edit, "&Redo", QKeySequence.StandardKey.Redo, self.editor.redo)
        edit.addSeparator()
        self._action(edit, "&Find…", QKeySequence.StandardKey.Find, self.find)
        self._action(edit, "Toggle &comment", QKeySequence("Ctrl+/"), self.editor.toggle_comment)
        self._action(edit, "Complete", QKeySequence("Ctrl+Space"),
                     lambda: self.editor.complete(force=True))

        layer = self.menuBar().addMenu("&Layer")
        self.insert_menu = layer.addMenu("&Insert after the selected layer")
        self.insert_menu.setToolTipsVisible(True)
        for name, ldef in LAYERS.items():
            action = self.insert_menu.addAction(menu_text(name))
            action.setToolTip(ldef.doc)
            action.triggered.connect(lambda _=False, n=name: self.insert_layer(n))
        layer.addSeparator()
        self._action(layer, "&Delete layer", QKeySequence("Alt+Delete"), self.form.delete_layer)
        self._action(layer, "Move layer &up", QKeySequence("Alt+Up"),
                     lambda: self.form.move_layer(-1))
        self._action(layer, "Move layer do&wn", QKeySequence("Alt+Down"),
                     lambda: self.form.move_layer(1))

        view = self.menuBar().addMenu("&View")
        for dock in (self.problems_dock, self.architecture_dock, self.graph_dock,
                     self.layer_graph_dock, self.form_dock, self.library_dock):
            view.addAction(dock.toggleViewAction())
        view.addAction(self.training_dock.toggleViewAction())
        self._action(view, "&Fit graphs", QKeySequence("Ctrl+0"), self.fit_graphs)

        train = self.menuBar().addMenu("&Train")
        self.start_action = self._action(train, "&Start", QKeySequence("F5"),
                                         lambda: self.start_training())
        self.pause_action = self._action(train, "&Pause", QKeySequence("F6"),
                                         self.training.pause)
        self.resume_action = self._action(train, "&Resume", QKeySequence("F7"),
                                          self.training.resume)
        self.stop_action = self._action(train, "S&top", QKeySequence("Shift+F5"),
                                        self.training.stop)
        train.addSeparator()
        self.continue_action = self._action(train, "&Continue from checkpoint…", QKeySequence(),
                                            self._continue_dialog)
        help_menu = self.menuBar().addMenu("&Help")
        self._action(help_menu, "&Getting started", QKeySequence.StandardKey.HelpContents,
                     self.show_help)
        toolbar = self.addToolBar("Training")
        toolbar.setObjectName("Training")
        for action in (self.start_action, self.pause_action, self.resume_action,
                       self.stop_action):
            toolbar.addAction(action)

    def _action(self, menu, text: str, shortcut, slot) -> QAction:
        action = menu.addAction(text)
        action.setShortcut(QKeySequence(shortcut))
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(slot)
        return action

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        for name in self.recent_files():
            action = self.recent_menu.addAction(menu_text(name))
            action.triggered.connect(lambda _=False, n=name: self.open_file(Path(n)))
        self.recent_menu.setEnabled(bool(self.recent_menu.actions()))

    def recent_files(self) -> list[str]:
        value = self.settings.value("recent_files", [])
        if isinstance(value, str):
            value = [value]
        return [v for v in (value or []) if Path(v).is_file()]

    def _remember(self, path: Path) -> None:
        name = str(path.resolve())
        recent = [name] + [r for r in self.recent_files() if r != name]
        self.settings.setValue("recent_files", recent[:MAX_RECENT])
        self._fill_recent()

    # -- files -----------------------------------------------------------------------------
    def open_dialog(self) -> None:
        if not self.maybe_save():
            return
        start = str(self.path.parent if self.path else SPECS_DIR)
        name, _ = QFileDialog.getOpenFileName(self, "Open spec", start, "Specs (*.yaml *.yml)")
        if name:
            self.open_file(Path(name), ask=False)

    def open_file(self, path: Path, ask: bool = True) -> bool:
        """Load a spec file into the editor; False if the user cancelled or it is unreadable."""
        if ask and not self.maybe_save():
            return False
        try:
            data = path.read_bytes()
            text, newline = decode_spec(data)
        except (OSError, UnicodeDecodeError) as exc:
            QMessageBox.warning(self, "Cannot open", f"{path}: {exc}")
            return False
        if self.path is not None:
            self.watcher.removePath(str(self.path))
        self.path = path.resolve()
        self.base_dir = self.path.parent
        self._saved_bytes, self._newline = data, newline
        self._set_text(text)
        self._saved_text = self.editor.toPlainText()
        self.watcher.addPath(str(self.path))
        self._remember(self.path)
        return True

    def new_from_template(self, template: Path) -> None:
        """A new unsaved spec with a template's text (Save asks where to put it)."""
        self._new(template.read_text(encoding="utf-8"), template.parent, template.stem)

    def new_blank(self) -> None:
        """File > New: the smallest spec that trains, its critic a single layer to build on."""
        self._new(BLANK, SPECS_DIR, "")

    def _new(self, text: str, base_dir: Path, template: str) -> None:
        if not self.maybe_save():
            return
        if self.path is not None:
            self.watcher.removePath(str(self.path))
        self.path = None
        self.template = template
        self.base_dir = base_dir
        self._saved_bytes = b""
        self._saved_text = ""
        self._newline = "\n"
        self._set_text(text)
        # Said every time: a template opened over the same template must not look like nothing.
        what = f"New spec from the {template} template" if template else "New spec"
        if self.isVisible():  # at start-up the title says it (a message would cover the check)
            self.statusBar().showMessage(f"{what}; File > Save chooses its folder", 8000)

    def _set_text(self, text: str) -> None:
        self.validator.file = str(self.path) if self.path else UNSAVED
        self.validator.base_dir = self.base_dir
        self.problems_list.file = self.validator.file
        # Nothing of the previous file may stay on screen: its networks would pass for this one's.
        self.spec, self._spec_text, self._index, self.selected = None, "", None, None
        self._clear_views()
        self.editor.setPlainText(text)
        self.editor.document().setModified(False)
        self._update_title()

    def save(self) -> bool:
        if self.path is None:
            return self.save_as()
        return self._write(self.path)

    def save_as(self) -> bool:
        start = str(self.path or (Path.cwd() / f"{self.spec.name if self.spec else 'spec'}.yaml"))
        name, _ = QFileDialog.getSaveFileName(self, "Save spec as", start, "Specs (*.yaml *.yml)")
        if not name:
            return False
        return self._write(Path(name))

    def export_code(self) -> bool:
        """The spec's networks and training loop as plain PyTorch source, as `ganbuilder eject
        --with-training` writes them; never over the spec itself."""
        if self.spec is None:
            QMessageBox.information(self, "Export as PyTorch code",
                                    "The spec has problems: fix them first (see Problems).")
            return False
        folder = self.path.parent if self.path else Path.cwd()
        name, _ = QFileDialog.getSaveFileName(self, "Export as PyTorch code",
                                              str(folder / f"{self.spec.name}_model.py"),
                                              "Python (*.py)")
        if not name:
            return False
        out = Path(name)
        from ganbuilder.export import eject_source  # torch: only when asked for

        try:
            inputs = self.spec.source_files() | ({self.path.resolve()} if self.path else set())
            if same_file(out, inputs) is not None:  # by identity: hard links included
                raise UserError(f"{out} is the spec or one it extends: choose another file")
            write_file(out, eject_source(self.spec, with_training=True))
        except (UserError, OSError) as exc:
            QMessageBox.warning(self, "Cannot export", str(exc))
            return False
        self.statusBar().showMessage(f"wrote {out}: the networks and their training loop", 8000)
        return True

    def _write(self, path: Path) -> bool:
        lines = self.editor.toPlainText().split("\n")
        modeline = moved_modeline(lines, self.base_dir, path.resolve().parent)
        if modeline is not None:  # the schema comment keeps finding the schema from there
            self.editor.apply_edit(TextEdit.columns(lines, [modeline], "schema path"))
        text = self.editor.toPlainText()
        data = encode_spec(text, self._newline, self._saved_text, self._saved_bytes)
        watching = self.path is not None
        if watching:
            self.watcher.removePath(str(self.path))
        try:  # whole or not at all: a full disk keeps the file as it was
            write_file(path.resolve(), data)
        except UserError as exc:
            QMessageBox.warning(self, "Cannot save", str(exc))
            if watching:
                self.watcher.addPath(str(self.path))
            return False
        moved = self.path != path.resolve()
        self.path = path.resolve()
        self.base_dir = self.path.parent
        self._saved_bytes, self._saved_text = data, text
        self.watcher.addPath(str(self.path))
        self.editor.document().setModified(False)
        self._remember(self.path)
        if moved:
            self.validator.file = self.problems_list.file = str(self.path)
            self.validator.base_dir = self.base_dir
            self.validator.request(text, immediately=True)
        self._update_title()
        return True

    def maybe_save(self) -> bool:
        """Ask about unsaved changes; True when it is fine to drop the current text."""
        if not self.editor.document().isModified():
            return True
        answer = QMessageBox.question(
            self, "Unsaved changes", f"Save the changes to {self._display_name()}?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Save)
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    def _on_file_changed(self, name: str) -> None:
        if self.path is None or Path(name) != self.path:
            return
        if not self.path.exists():  # replaced by an editor's atomic save: look again shortly
            QTimer.singleShot(200, lambda: self._on_file_changed(name))
            return
        self.watcher.addPath(name)
        data = self.path.read_bytes()
        if data == self._saved_bytes:
            return
        if self.editor.document().isModified():
            answer = QMessageBox.question(
                self, "File changed on disk",
                f"{self.path.name} changed on disk. Reload it and lose your edits?")
            if answer != QMessageBox.StandardButton.Yes:
                self._saved_bytes = data
                return
        self.reload(data)

    def reload(self, data: bytes) -> None:
        """Replace the text with the file's new content as one undoable edit."""
        line = self.editor.textCursor().blockNumber() + 1
        text, _ = decode_spec(data)  # the file keeps the line endings it was opened with
        cursor = self.editor.textCursor()
        cursor.beginEditBlock()
        cursor.select(cursor.SelectionType.Document)
        cursor.insertText(text)
        cursor.endEditBlock()
        self._saved_bytes, self._saved_text = data, text
        self.editor.document().setModified(False)
        self.editor.select_lines(min(line, self.editor.blockCount()))
        self.statusBar().showMessage(f"Reloaded {self.path.name}: it changed on disk", 5000)

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.maybe_stop_training() or not self.maybe_save():
            event.ignore()
            return
        self._save_layout()
        self.training.shutdown()
        self.validator.wait(5000)
        event.accept()

    def maybe_stop_training(self) -> bool:
        """Ask before quitting a run in progress; True when there is none or the user agreed
        to stop it (the trainer saves a checkpoint as it stops)."""
        if not self.training.active:
            return True
        answer = QMessageBox.question(
            self, "Training is running",
            f"A run is training in {self.training.run_dir}. Stop it and quit? It saves a "
            "checkpoint as it stops, so it can be continued later.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Yes

    # -- the session: window layout and last file ------------------------------------------
    def _save_layout(self) -> None:
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("window_state", self.saveState(STATE_VERSION))
        self.settings.setValue("last_file", str(self.path) if self.path else "")

    def _keep_editor_columns(self) -> None:
        """The docks share what is left: however they are resized, the text keeps
        EDITOR_COLUMNS characters (the window's own minimum grows instead)."""
        self.centralWidget().setMinimumWidth(self.editor.width_for(EDITOR_COLUMNS))

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._keep_editor_columns()  # the style's scroll bar width is known once shown

    def _fit_screen(self, available: QRect | None = None) -> None:
        """1400 x 900 where the screen (its `available` part) has room; on a smaller one the
        window fills it and the editor gets width first: the panels on the right take at most
        40 % of it."""
        if available is None and self.screen() is not None:
            available = self.screen().availableGeometry()
        width = min(1400, available.width()) if available else 1400
        height = min(900, available.height()) if available else 900
        self.resize(width, height)
        library = 150 if width < 1280 else 180
        self.resizeDocks([self.library_dock], [library], Qt.Orientation.Horizontal)
        # The right-hand docks take the rest once the text has its EDITOR_COLUMNS.
        room = width - library - self.centralWidget().minimumWidth() - 16
        self.resizeDocks([self.architecture_dock], [max(min(660, int(width * 0.45), room), 200)],
                         Qt.Orientation.Horizontal)
        # the graphs on top, the property form under them, seen together
        form = max(180, min(230, int(height * 0.28)))
        self.resizeDocks([self.architecture_dock, self.form_dock],
                         [height - 130 - form, form], Qt.Orientation.Vertical)

    def _restore_layout(self) -> None:
        geometry = self.settings.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        state = self.settings.value("window_state")
        if state is not None:
            self.restoreState(state, STATE_VERSION)

    def restore_last_file(self) -> bool:
        """Open the file the last session ended with; False if there was none or it is gone."""
        name = self.settings.value("last_file", "")
        if not name or not Path(name).is_file():
            return False
        return self.open_file(Path(name), ask=False)

    def fit_graphs(self) -> None:
        """View > Fit graphs: both graphs show as much as their text allows."""
        self.graph.fit_all()
        self.layer_graph.view.fit_all()

    def find(self) -> None:
        """Edit > Find (Ctrl+F): the find field of the graph view that has the focus, else the
        editor's find bar."""
        focus = QApplication.focusWidget()
        for view in (self.graph, self.layer_graph.view):
            if focus is not None and (focus is view or view.isAncestorOf(focus)):
                view.controls.search.setFocus()
                view.controls.search.selectAll()
                return
        self.find_bar.open_bar()

    def show_help(self) -> None:
        """Help > Getting started."""
        if getattr(self, "help_dialog", None) is None:
            self.help_dialog = HelpDialog(self)
        self.help_dialog.show()
        self.help_dialog.raise_()

    def _display_name(self) -> str:
        if self.path:
            return self.path.name
        if self.template:
            return f"untitled (from the {self.template} template)"
        return "untitled spec"

    def _update_title(self) -> None:
        star = "*" if self.editor.document().isModified() else ""
        self.setWindowTitle(f"{self._display_name()}{star} — ganbuilder designer")

    # -- training --------------------------------------------------------------------------
    def start_training(self, resume: Path | None = None, run_dir: Path | None = None) -> bool:
        """Train the editor's spec (continuing `resume`, a checkpoint, if given) into `run_dir`
        (default: the checkpoint's run, or runs/<name>/<timestamp> next to the spec); False
        with the problems shown when the spec is invalid."""
        if self.training.active:
            return False
        text = self.editor.toPlainText()
        try:
            spec = load_spec_text(text, self.validator.file, self.base_dir)
        except UserError as exc:
            self._on_checked(ValidationResult(self.validator.generation, text, None,
                                              list(exc.problems)))
            self.problems_dock.raise_()
            count = len(exc.problems)
            self._banner(f"Cannot start: the spec has {count_problems(count)} "
                         "(see Problems).", error=True)
            return False
        if run_dir is None:
            base = self.path.parent if self.path else Path.cwd()  # runs/ beside the spec
            try:
                run_dir = run_dir_for(spec.name, base, resume=resume)
            except UserError as exc:
                self._banner(f"Cannot start: {exc}", error=True)
                return False
        self.plots.clear()
        self.samples.clear()
        self._banner(f"Starting {spec.name} in {run_dir}…")
        self.show_training()
        self.training.start(spec, run_dir, resume=resume)
        return True

    def _continue_dialog(self) -> None:
        start = str(self.path.parent / "runs" if self.path else Path.cwd())
        name, _ = QFileDialog.getOpenFileName(self, "Continue from checkpoint", start,
                                              "Checkpoints (*.pt)")
        if name:
            self.start_training(Path(name))

    def _open_run_dialog(self) -> None:
        start = str(self.path.parent / "runs" if self.path else Path.cwd())
        name = QFileDialog.getExistingDirectory(self, "Compare run folder", start)
        if name and self.runs.add_run(Path(name)):
            self.show_runs()

    def show_runs(self) -> None:
        self.show_training()
        self.train_tabs.setCurrentWidget(self.runs)

    def show_training(self) -> None:
        """Bring the training dock forward with most of its column's height (the graph docks
        below keep TRAINING_SHARE's rest), so the plots are read, not squashed."""
        self.training_dock.show()
        self.training_dock.raise_()
        self._give_training_room()
        # Once more after the tab switch is laid out (on a real screen it comes later).
        QTimer.singleShot(50, self._give_training_room)

    def _give_training_room(self) -> None:
        below = [d for d in (self.form_dock, self.graph_dock, self.layer_graph_dock)
                 if d.isVisible() and self.dockWidgetArea(d) == self.dockWidgetArea(
                     self.training_dock) and not d.isFloating()]  # the tab shown there
        if below:
            height = self.training_dock.height() + below[0].height()
            self.resizeDocks([self.training_dock, below[0]],
                             [int(height * TRAINING_SHARE), int(height * (1 - TRAINING_SHARE))],
                             Qt.Orientation.Vertical)

    def _banner(self, text: str, error: bool = False) -> None:
        colour = "background:#fdecea;color:#b71c1c" if error else "background:#eef4fb"
        self.train_banner.setStyleSheet(colour)
        self.train_banner.setText(text)
        self.statusBar().showMessage(text.splitlines()[0] if text else "", 10000)

    def _on_train_state(self, state: str) -> None:
        active = state != IDLE
        self.start_action.setEnabled(not active)
        self.continue_action.setEnabled(not active)
        self.pause_action.setEnabled(state in (STARTING, RUNNING))
        self.resume_action.setEnabled(state == PAUSED)
        self.stop_action.setEnabled(active and state != STOPPING)
        if state == PAUSED:
            self._banner(f"Pausing after step {self.training.step}…")
        elif state == RUNNING and self.training.step:
            self._banner(f"Training… step {self.training.step}")
        elif state == STOPPING:
            self._banner("Stopping after this step and saving a checkpoint…")

    def _on_train_started(self, event) -> None:
        self._banner(f"Training {event.spec_name} on {event.device} in {event.run_dir}")

    def _on_train_metrics(self, records: list) -> None:
        self.plots.add(records)
        if self.training.state == RUNNING:
            last = records[-1]
            step_time = last.metrics.get("time/step")
            speed = f" · {1 / step_time:.1f} steps/s" if step_time else ""
            self._banner(f"Training in {self.training.run_dir}: step {last.step}{speed}")

    def _on_train_paused(self, event) -> None:
        self.explorer.set_checkpoint(event.checkpoint)
        if self.training.state == PAUSED:
            self._banner(f"Paused at step {event.step}; the model is saved in "
                         f"{event.checkpoint}. Resume (F7) continues, Stop ends the run.")

    def _on_train_finished(self, event) -> None:
        self.plots.flush()
        self.runs.add_run(event.run_dir)  # ready to compare with the next run
        how = "Stopped" if event.stopped else "Finished"
        self._banner(f"{how} at step {event.step}; checkpoint in {event.run_dir / 'checkpoints'}")

    def _on_train_failed(self, event) -> None:
        self.plots.flush()
        kept = (f"The last checkpoint is {event.last_checkpoint}." if event.last_checkpoint
                else "No checkpoint was saved.")
        self._banner(f"Training failed at step {event.step}: {event.message}\n{kept}",
                     error=True)
        self.training_dock.show()
        self.training_dock.raise_()

    # -- validation results ----------------------------------------------------------------
    def _on_text_changed(self) -> None:
        self._line_map = None
        # Form edits are planned on the last valid text: they stay possible while the selected
        # item's lines are unchanged there (the problem being typed is elsewhere).
        self.form.setEnabled(self._selection_intact())
        self.validator.request(self.editor.toPlainText())

    @property
    def line_map(self) -> LineMap | None:
        """Lines of the text the last valid spec was checked from, followed into the editor's
        text as it is now; None before any text of this file was valid."""
        if self.spec is None:
            return None
        if self._line_map is None:
            self._line_map = LineMap.of_texts(self._spec_text, self.editor.toPlainText())
        return self._line_map

    def _selection_intact(self) -> bool:
        index, lines_map = self.text_index, self.line_map
        if index is None or lines_map is None or self.selected is None:
            return False
        lines = index.lines_of(self.selected)
        return lines is not None and lines_map.intact(*lines)

    def _to_now(self, line: int) -> int | None:
        lines_map = self.line_map
        new = lines_map.to_new(line) if lines_map else None
        if new is None:
            self.statusBar().showMessage("That part of the text changed since it was last "
                                         "valid; fix the problem first", 6000)
        return new

    def insert_layer(self, kind: str) -> None:
        """Layer > Insert: a new `kind` layer after the selected one."""
        if not self.form.insert_layer(kind):
            self.statusBar().showMessage("Put the cursor in a layer first (the text must have "
                                         "been valid there)", 6000)

    def apply_edit(self, edit: TextEdit) -> None:
        """Apply a text edit from a form, the canvas or a fix, moved onto the text as it is now
        (edits elsewhere since it was planned shift its lines); refused, with a word in the
        status bar, when the lines it changes were changed meanwhile."""
        now = edit.rebased(self.editor.toPlainText())
        if now is None:
            self.statusBar().showMessage("That part of the text changed since the edit was "
                                         "planned; it applies again once the text is checked",
                                         8000)
            return
        self.editor.apply_edit(now)
        if " block " in now.summary:  # an edit of a block's definition: say what it reaches
            self.statusBar().showMessage(now.summary[0].upper() + now.summary[1:], 10000)

    def _clear_views(self) -> None:
        self.architecture.clear()
        self.graph.clear()
        self.layer_graph.clear()
        self.form.show_layer(None, None)

    def _on_busy(self, busy: bool) -> None:
        if busy:
            self.status.setText("checking…")

    def _on_checked(self, result: ValidationResult) -> None:
        self.problems = result.problems
        self._checked_text = result.text
        lines = result.text.split("\n")
        fixes = [suggested_fix(p, lines, self.validator.file) for p in result.problems]
        self.problems_list.set_problems(result.problems, fixes)
        self.editor.set_problem_marks(problem_marks(result.problems, self.validator.file))
        count = len(result.problems)
        self.problems_dock.setWindowTitle(f"Problems ({count})" if count else "Problems")
        if result.spec is None:
            self.architecture.show_problems(result.problems)
            self.layer_graph.show_problems(result.problems)
            self.status.setText(f"<span style='color:#c62828'>✗ {count_problems(count)}</span>")
        else:
            self.spec, self._spec_text, self._line_map = result.spec, result.text, None
            self.graph.show_spec(result.spec)
            self.layer_graph.show_spec(result.spec, result.text, self.validator.file)
            self.graph.set_canvas(self.layer_graph.model)
            self.library.show_spec(result.spec, self.layer_graph.model.blocks)
        self._watch_inputs(result)

    def _watch_inputs(self, result: ValidationResult) -> None:
        """Watch the files a valid spec extends, and for each base not found the nearest
        folder on its way that exists (a folder made there checks again, and is watched)."""
        files = ({str(p) for p in result.spec.source_files()
                  if self.path is None or p != self.path.resolve()}
                 if result.spec is not None else set())
        folders = {str(_nearest_folder(Path(m.group(1)))) for p in result.problems
                   if (m := _MISSING_BASE.match(p.message))}
        wanted = {p for p in files | folders if Path(p).exists()}
        now = set(self.inputs_watcher.files()) | set(self.inputs_watcher.directories())
        if now - wanted:
            self.inputs_watcher.removePaths(list(now - wanted))
        if wanted - now:
            self.inputs_watcher.addPaths(list(wanted - now))

    def _recheck(self, missing_only: bool = False) -> None:
        """Check the text again: a file it extends changed, or (missing_only) a folder where
        a base was not found changed."""
        if missing_only and not any(_MISSING_BASE.match(p.message) for p in self.problems):
            return
        self.validator.request(self.editor.toPlainText(), immediately=True)

    def _on_summarized(self, result: ValidationResult) -> None:
        self.spec, self._spec_text, self._line_map = result.spec, result.text, None
        self.architecture.show_spec(result.spec, result.summary)
        self.layer_graph.show_summary(result.summary)
        data = (f" · <span style='color:#b26a00'>⚠ data: {count_problems(len(result.problems))}"
                "</span>" if result.problems else "")
        self.status.setText(f"<span style='color:#2e7d32'>✓ valid</span> · {result.spec.name} · "
                            f"{result.summary['params']:,} parameters{data}")
        self.form.setEnabled(True)
        self._on_cursor_line(self.editor.textCursor().blockNumber() + 1)
        self._show_form(self.selected)

    # -- navigation ------------------------------------------------------------------------
    def show_problem_node(self, problem: Problem) -> None:
        """Bring the layer a problem names into view: the Layer graph forward, its network
        shown, its (red) node selected and scrolled to."""
        try:
            path = parse_path(problem.path) if problem.path else ()
        except ValueError:
            return
        if len(path) < 4 or path[0] != "networks" or path[2] != "layers":
            return
        self.layer_graph_dock.show()
        self.layer_graph_dock.raise_()
        # Drawn once shown: select after this event, when its nodes exist.
        QTimer.singleShot(0, lambda: self.layer_graph.select_path(tuple(path[:4])))

    def goto(self, line: int, col: int) -> None:
        """Put the cursor at a 1-based line:col and focus the editor."""
        self.editor.select_lines(line, None, col)
        self.editor.setFocus()

    @property
    def text_index(self) -> TextIndex | None:
        """Lines <-> spec items of the last valid spec, built on first use for each spec."""
        if self.spec is None:
            return None
        if self._index is None or self._index.spec is not self.spec:
            self._index = TextIndex.of_text(self.spec, self._spec_text, self.validator.file)
        return self._index

    def select_path(self, path: tuple) -> None:
        """Select the YAML lines of a spec path (a layer, network, tensor or loss term)."""
        index = self.text_index
        where = index.where(path) if index else None
        if where is None:
            return
        if where.file != self.validator.file:  # inherited through `extends`
            self.architecture.select_path(path)
            self.statusBar().showMessage(f"{format_path(path)} is written in "
                                         f"{Path(where.file).name}:{where.line}", 8000)
            return
        lines = index.lines_of(path)
        lines_map = self.line_map
        if lines is None or lines_map is None or not lines_map.intact(*lines):
            return
        shift = lines_map.to_new(lines[0]) - lines[0]
        self._syncing = True
        self.editor.select_lines(lines[0] + shift, lines[1] + shift)
        self.architecture.select_path(path)
        self.layer_graph.select_path(tuple(path))
        self._syncing = False
        self._show_form(tuple(path))

    def layer_at(self, line: int) -> tuple | None:
        """The innermost layer, loss term or network whose YAML item holds 1-based `line`."""
        index = self.text_index
        return index.path_at(line) if index else None

    def _on_cursor_line(self, line: int) -> None:
        if not self._syncing:
            lines_map = self.line_map
            old = lines_map.to_old(line) if lines_map else None
            path = self.layer_at(old) if old is not None else None
            self.architecture.select_path(path)
            self.layer_graph.select_path(path)
            if path != self.selected:
                self._show_form(path)

    def _show_form(self, path: tuple | None) -> None:
        self.selected = path
        self.form.setEnabled(self._selection_intact())
        if path and len(path) == 4 and path[0] == "objectives" and path[2] == "loss":
            self.form.show_loss(self.text_index, path)
        else:
            self.form.show_layer(self.text_index, path)

    def _show_position(self) -> None:
        cursor = self.editor.textCursor()
        self.position.setText(f"Ln {cursor.blockNumber() + 1}, Col {cursor.positionInBlock() + 1}")
