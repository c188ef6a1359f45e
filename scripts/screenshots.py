"""Render the designer offscreen with specs/dcgan.yaml into docs/screenshots/*.png, the
layer graph of specs/pix2pix.yaml (layers.png), the canvas (canvas-*.png: a DCGAN being built
from the Layer Library, pix2pix's U-Net drawn as a U), two short real training runs compared
in the Runs view (training*.png) and an InfoGAN code traversal (training-infogan.png).

Usage: QT_QPA_PLATFORM=offscreen python scripts/screenshots.py [--canvas | --legible]
(--canvas: only the canvas-*.png shots, which need no training; --legible: only CycleGAN's
data flow at its fitted, readable scale (flow-cyclegan.png) and the dashboard during a short
run with the values under the mouse shown (dashboard-training.png))
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

if "--xvfb" not in sys.argv:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QPointF, QSettings, Qt  # noqa: E402
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from gui.main_window import MainWindow  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
# A shape error: D's last convolution gets a kernel larger than its 4x4 input.
ERROR = ("- conv: {out: 1, kernel: 4, stride: 1, padding: 0, bias: false}",
         "- conv: {out: 1, kernel: 8, stride: 1, padding: 0, bias: false}")

# A DCGAN small enough to learn 16x16 digits in a minute on a laptop CPU.
TRAIN_EDITS = [("  nz: 100 ", "  nz: 32 "), ("  ngf: 64 ", "  ngf: 32 "),
               ("  ndf: 64 ", "  ndf: 32 "), ("  image_size: 32 ", "  image_size: 16 "),
               ("  log_every: 25", "  log_every: 5"), ("  sample_every: 250", "  sample_every: 50"),
               ("  checkpoint_every: 500", "  checkpoint_every: 200")]


def settle(app: QApplication, window: MainWindow, timeout: float = 60.0) -> None:
    """Process events until the newest text has been checked and summarized."""
    end = time.monotonic() + timeout
    while not window.validator.is_idle() and time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)
    for _ in range(20):
        app.processEvents()


def wait_for(app: QApplication, done, timeout: float) -> None:
    end = time.monotonic() + timeout
    while not done() and time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def _train_small_dcgan(app: QApplication, window: MainWindow, tmp: Path, width: int,
                       steps: int) -> None:
    """Open a small DCGAN (TRAIN_EDITS), train it with the training dock `width` px wide until
    `steps`, and show its losses smoothed."""
    import torch

    torch.set_num_threads(1)  # leave the GUI thread a core
    text = (ROOT / "specs" / "dcgan.yaml").read_text(encoding="utf-8")
    for old, new in TRAIN_EDITS:
        text = text.replace(old, new)
    spec = tmp / "dcgan.yaml"
    spec.write_text(text, encoding="utf-8")
    window.open_file(spec, ask=False)
    settle(app, window)
    window.start_training()
    window.resizeDocks([window.training_dock], [width], Qt.Orientation.Horizontal)
    window.resizeDocks([window.training_dock, window.graph_dock], [720, 120],
                       Qt.Orientation.Vertical)
    wait_for(app, lambda: window.training.step >= steps, 300)
    window.plots.set_smoothing(0.6)
    window.train_tabs.setCurrentWidget(window.plots)
    settle(app, window, 1)


def train(app: QApplication, window: MainWindow, tmp: Path) -> None:
    """A short real run of a small DCGAN on 16x16 digits: plots, samples, latent explorer."""
    _train_small_dcgan(app, window, tmp, 760, 600)
    window.grab().save(str(OUT / "training.png"))
    window.train_tabs.setCurrentWidget(window.samples)
    window.samples.show_index(len(window.samples.grids) // 2)
    settle(app, window, 1)
    window.training_dock.grab().save(str(OUT / "training-samples.png"))
    window.training.stop()
    wait_for(app, lambda: not window.training.active, 60)
    window.train_tabs.setCurrentWidget(window.explorer)
    window.explorer.seed_a.setValue(2)
    window.explorer.seed_b.setValue(9)
    window.explorer.frames.setValue(8)
    window.explorer.interpolate()
    settle(app, window, 1)
    window.training_dock.grab().save(str(OUT / "training-explorer.png"))
    compare_runs(app, window)


def compare_runs(app: QApplication, window: MainWindow) -> None:
    """The same DCGAN again with least-squares losses, then both runs in the Runs view."""
    text = window.editor.toPlainText().replace("gan_loss: bce", "gan_loss: lsgan")
    window.editor.setPlainText(text)
    settle(app, window)
    window.start_training()
    wait_for(app, lambda: window.training.step >= 600, 300)
    window.training.stop()
    wait_for(app, lambda: not window.training.active, 60)
    window.editor.document().setModified(False)
    window.show_runs()
    window.runs.set_metric("acc/D/real")
    window.runs.smooth_slider.setValue(60)
    window.runs.set_step(300)
    settle(app, window, 1)
    window.training_dock.grab().save(str(OUT / "training-runs.png"))


def infogan(app: QApplication, window: MainWindow, tmp: Path) -> None:
    """specs/infogan.yaml trained in full, then its categorical code traversed: each column
    one value of c, each row one noise."""
    spec = tmp / "infogan.yaml"
    spec.write_text((ROOT / "specs" / "infogan.yaml").read_text(encoding="utf-8"),
                    encoding="utf-8")
    window.open_file(spec, ask=False)
    settle(app, window)
    window.start_training()
    wait_for(app, lambda: not window.training.active, 900)
    window.train_tabs.setCurrentWidget(window.explorer)
    window.explorer.set_checkpoint(window.training.last_checkpoint)
    window.explorer.seed_a.setValue(0)
    window.explorer.code_rows.setValue(6)
    window.explorer.traverse()
    settle(app, window, 1)
    window.training_dock.grab().save(str(OUT / "training-infogan.png"))


def _library_drag(window: MainWindow, kind: str, position: int, drop: bool) -> None:
    """Drag the Layer Library's `kind` entry over the gap before layer `position` of the
    layer canvas (the drop indicator shows), and drop it there when `drop`."""
    view = window.layer_graph.view
    key = {p: k for k, p in view.positions.items()}
    a = view.items[key[position - 1]].sceneBoundingRect()
    b = view.items[key[position]].sceneBoundingRect()
    at = view.mapFromScene(QPointF(a.center().x(), (a.bottom() + b.top()) / 2))
    data = window.library.tree.mimeData([window.library.item(kind)])
    args = (Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier)
    events = [QDragEnterEvent(at, *args), QDragMoveEvent(at, *args)]
    if drop:
        events.append(QDropEvent(QPointF(at), *args))
    for event in events:
        QApplication.sendEvent(view.viewport(), event)


def canvas(app: QApplication, window: MainWindow, tmp: Path) -> None:
    """A DCGAN critic being built on the canvas (a conv dragged from the library, then a
    dropout dropped and a skip wired), and pix2pix's U-Net generator drawn as a U."""
    spec = tmp / "dcgan.yaml"
    spec.write_text((ROOT / "specs" / "dcgan.yaml").read_text(encoding="utf-8"),
                    encoding="utf-8")
    window.open_file(spec, ask=False)
    settle(app, window)
    window.library_dock.show()
    window.layer_graph_dock.show()
    window.layer_graph_dock.raise_()
    window.resizeDocks([window.library_dock, window.layer_graph_dock], [190, 620],
                       Qt.Orientation.Horizontal)
    window.resizeDocks([window.architecture_dock, window.layer_graph_dock], [230, 640],
                       Qt.Orientation.Vertical)
    window.layer_graph.show_network("D")
    settle(app, window, 1)
    window.library.tree.setCurrentItem(window.library.item("dropout"))
    _library_drag(window, "dropout", 1, True)
    settle(app, window)
    window.layer_graph.view.connect_ports("networks.D.layers[0]", "networks.D.layers[3]")
    settle(app, window)
    window.library.tree.setCurrentItem(window.library.item("conv"))
    _library_drag(window, "conv", 2, False)
    settle(app, window, 1)
    window.grab().save(str(OUT / "canvas-dcgan-building.png"))
    _library_drag(window, "conv", 2, True)
    settle(app, window)
    window.grab().save(str(OUT / "canvas-dcgan-inserted.png"))
    window.editor.setPlainText(window.editor.toPlainText().replace(*ERROR))
    settle(app, window)
    window.layer_graph.view.select_path(("networks", "D", "layers", 11))
    settle(app, window, 1)
    window.layer_graph_dock.grab().save(str(OUT / "canvas-invalid-node.png"))
    window.editor.document().setModified(False)

    window.open_file(ROOT / "specs" / "pix2pix.yaml", ask=False)
    settle(app, window)
    dock = window.layer_graph_dock
    dock.setFloating(True)  # room for both arms of the U
    dock.resize(1000, 1750)
    dock.show()
    window.layer_graph.show_network("G")
    settle(app, window, 1)
    window.layer_graph.view.fit()
    settle(app, window, 1)
    dock.grab().save(str(OUT / "canvas-pix2pix-unet.png"))
    dock.setFloating(False)


def legible(app: QApplication, window: MainWindow, tmp: Path) -> None:
    """CycleGAN's data flow as the dock shows it after a fit, and the training dashboard of a
    small DCGAN while it trains, hovered halfway along the losses."""
    window.open_file(ROOT / "specs" / "cyclegan.yaml", ask=False)
    settle(app, window)
    dock = window.graph_dock
    dock.setFloating(True)  # as a user enlarges it: the whole iteration at a readable scale
    dock.resize(1300, 760)
    dock.show()
    settle(app, window, 1)
    window.graph.fit_all()
    settle(app, window, 1)
    dock.grab().save(str(OUT / "flow-cyclegan.png"))
    dock.setFloating(False)

    _train_small_dcgan(app, window, tmp, 820, 400)
    window.plots.flush()
    vb = window.plots.plots["loss/"].vb
    window.plots._hover(vb.mapViewToScene(vb.viewRect().center()))
    settle(app, window, 1)
    window.training_dock.grab().save(str(OUT / "dashboard-training.png"))
    window.training.stop()
    wait_for(app, lambda: not window.training.active, 60)


def _in_background(app: QApplication, steps) -> None:
    """Run `steps` (mouse moves through xdotool, `import` captures) in a thread while the
    event loop runs, as a user's hand would while the app keeps drawing."""
    worker = threading.Thread(target=steps)
    worker.start()
    wait_for(app, lambda: not worker.is_alive(), 120)


def _xdo(*args: object) -> None:
    subprocess.run(["xdotool", *map(str, args)], check=True)
    time.sleep(0.15)


def _capture(name: str) -> None:
    subprocess.run(["import", "-window", "root", str(OUT / name)], check=True)


def _drag_with_mouse(start, end, before_release: str, after_release: str) -> None:
    """Press at `start`, move to `end` in steps, capture, release, capture."""
    _xdo("mousemove", start.x(), start.y())
    _xdo("mousedown", 1)
    for f in (0.1, 0.3, 0.5, 0.7, 0.9, 1.0):
        _xdo("mousemove", int(start.x() + (end.x() - start.x()) * f),
             int(start.y() + (end.y() - start.y()) * f))
    time.sleep(0.8)
    _capture(before_release)
    _xdo("mouseup", 1)
    time.sleep(3)
    _capture(after_release)


def real_canvas(app: QApplication, window: MainWindow, tmp: Path) -> None:
    """Under an X server: drag the library's conv between D's first two nodes (a real QDrag),
    undo, drag D's leaky_relu above its conv, undo, wire a skip from the conv's port; then
    pix2pix's U-Net in a floating layer graph."""
    spec = tmp / "dcgan.yaml"
    spec.write_text((ROOT / "specs" / "dcgan.yaml").read_text(encoding="utf-8"),
                    encoding="utf-8")
    window.move(0, 0)
    window.open_file(spec, ask=False)
    settle(app, window)
    window.library_dock.show()
    window.layer_graph_dock.show()
    window.layer_graph_dock.raise_()
    window.resizeDocks([window.architecture_dock, window.layer_graph_dock], [230, 640],
                       Qt.Orientation.Vertical)
    window.layer_graph.show_network("D")
    settle(app, window, 1)
    view = window.layer_graph.view

    def on_screen(key: str, where: str = "center"):
        rect = view.items[key].sceneBoundingRect()
        point = {"center": rect.center(), "top": QPointF(rect.center().x(), rect.top() + 3),
                 "below": QPointF(rect.center().x(), rect.bottom() + 8)}[where]
        return view.viewport().mapToGlobal(view.mapFromScene(point))

    entry = window.library.item("conv")
    window.library.tree.scrollToItem(entry)
    source = window.library.tree.viewport().mapToGlobal(
        window.library.tree.visualItemRect(entry).center())
    original = window.editor.toPlainText()
    gap = on_screen("networks.D.layers[0]", "below")
    _in_background(app, lambda: _drag_with_mouse(source, gap, "canvas-xvfb-dragging.png",
                                                 "canvas-xvfb-dropped.png"))
    window.editor.undo()
    settle(app, window)
    node, top = on_screen("networks.D.layers[1]"), on_screen("networks.D.layers[0]", "top")
    _in_background(app, lambda: _drag_with_mouse(node, top, "canvas-xvfb-reordering.png",
                                                 "canvas-xvfb-reordered.png"))
    window.editor.undo()
    settle(app, window)
    port = next(c for c in view.items["networks.D.layers[0]"].childItems()
                if type(c).__name__ == "PortItem")
    start = view.viewport().mapToGlobal(view.mapFromScene(port.sceneBoundingRect().center()))
    target = on_screen("networks.D.layers[2]")
    _in_background(app, lambda: _drag_with_mouse(start, target, "canvas-xvfb-wiring.png",
                                                 "canvas-xvfb-wired.png"))
    window.editor.undo()
    if window.editor.toPlainText() != original:
        print("warning: undo did not restore the text", file=sys.stderr)
    window.editor.document().setModified(False)

    window.open_file(ROOT / "specs" / "pix2pix.yaml", ask=False)
    settle(app, window)
    dock = window.layer_graph_dock
    dock.setFloating(True)
    dock.resize(860, 940)
    dock.move(540, 0)
    dock.show()
    window.layer_graph.show_network("G")
    view.fit_all()
    settle(app, window, 2)
    _in_background(app, lambda: (time.sleep(1), _capture("canvas-xvfb-pix2pix-unet.png")))
    dock.setFloating(False)


def layer_graph(app: QApplication, window: MainWindow) -> None:
    """pix2pix's U-Net generator in the layer graph, drawn as a U with its skips across."""
    window.open_file(ROOT / "specs" / "pix2pix.yaml", ask=False)
    settle(app, window)
    dock = window.layer_graph_dock
    dock.setFloating(True)  # tall enough for the whole U-Net
    dock.resize(620, 1250)
    dock.show()
    window.select_path(("networks", "G", "layers", 27))
    settle(app, window, 1)
    window.layer_graph.view.fit()
    settle(app, window, 1)
    dock.grab().save(str(OUT / "layers.png"))
    dock.setFloating(False)
    window.graph_dock.raise_()


def main() -> int:
    app = QApplication.instance() or QApplication([])
    app.setStyle("Fusion")
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        settings = QSettings(str(Path(tmp) / "settings.ini"), QSettings.Format.IniFormat)
        window = MainWindow(settings=settings, delay_ms=0)
        window.resize(1400, 900)
        window.show()
        if "--legible" in sys.argv:
            legible(app, window, Path(tmp))
            window.close()
            print(f"wrote flow-cyclegan.png and dashboard-training.png to {OUT}")
            return 0
        if "--xvfb" in sys.argv:
            real_canvas(app, window, Path(tmp))
            window.close()
            print(f"wrote the real-window canvas shots to {OUT}")
            return 0
        if "--canvas" in sys.argv:
            canvas(app, window, Path(tmp))
            window.close()
            print(f"wrote the canvas shots to {OUT}")
            return 0
        window.open_file(ROOT / "specs" / "dcgan.yaml", ask=False)
        settle(app, window)
        window.select_path(("networks", "G", "layers", 3))
        settle(app, window, 1)
        window.grab().save(str(OUT / "designer.png"))
        window.graph_dock.grab().save(str(OUT / "graph.png"))
        window.select_path(("networks", "D", "layers", 0))
        window.form_dock.raise_()
        settle(app, window, 1)
        window.form_dock.grab().save(str(OUT / "properties.png"))
        window.graph_dock.raise_()

        text = window.editor.toPlainText()
        line = text[: text.index(ERROR[0])].count("\n") + 1
        cursor = window.editor.textCursor()
        start = text.index(ERROR[0])
        cursor.setPosition(start)
        cursor.setPosition(start + len(ERROR[0]), cursor.MoveMode.KeepAnchor)
        cursor.insertText(ERROR[1])
        window.goto(line, 1)
        settle(app, window)
        window.grab().save(str(OUT / "designer-error.png"))
        window.editor.document().setModified(False)
        layer_graph(app, window)
        canvas(app, window, Path(tmp))
        train(app, window, Path(tmp))
        infogan(app, window, Path(tmp))
        window.close()
    print(f"wrote {', '.join(p.name for p in sorted(OUT.glob('*.png')))} to {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
