"""A 300-layer network on the layer canvas: how long a redraw, a zoom step and a fit take.

What is measured
    A valid spec is generated: G is `--layers` layers (linear / relu / batch_norm in turn, one
    item per line, every layer a node of its own: no block or repeat that the canvas could
    collapse), D a small critic. It is checked with `load_spec`, then drawn by the designer's
    LayerGraphPanel (offscreen, `--width` x `--height` pixels) as in the app:
      redraw   show_spec with a Spec loaded beforehand in which one layer's width changed
               (what a valid keystroke causes): the canvas model, node items, edges and the
               fit; `load + redraw (same text)` loads the unchanged text and shows it, which
               the panel recognises as the graph already drawn;
      paint    one full repaint of the viewport at the fitted scale (viewport().repaint(),
               synchronous);
      zoom     one wheel step in (`wheel_zoom`, the view's handler) followed by a repaint,
               alternating in and out so the scale stays near the fitted one;
      fit      the Fit button (fit_all) and a repaint.
    Each is repeated `--reps` times; median and p95 in milliseconds are printed, then one
    summary line starting with `canvas:`. The smallest text on screen after the fit is also
    reported as a share of the system font (it must be >= 0.80).

Run
    QT_QPA_PLATFORM is set to offscreen by the script.
    .venv/bin/python benchmarks/bench_canvas.py
    .venv/bin/python benchmarks/bench_canvas.py --layers 300 --reps 20
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def spec_text(layers: int, width: int = 64) -> str:
    """A GAN whose generator has `layers` top-level layers, each written as one item."""
    kinds = [f"      - linear: {width}", "      - batch_norm", "      - relu"]
    body = "\n".join(kinds[i % 3] for i in range(layers - 2))
    return f"""version: 1
name: canvas_bench
data: {{source: ring8, batch_size: 64}}
latent:
  z: {{dist: normal, shape: [8]}}
networks:
  G:
    layers:
      - linear: {width}
{body}
      - linear: 2
  D:
    layers:
      - linear: 32
      - leaky_relu: 0.2
      - linear: 1
forward:
  fake: G(z)
objectives:
  D:
    updates: [D]
    loss:
      - adversarial: {{critic: D, real: real, fake: fake}}
  G:
    updates: [G]
    loss:
      - adversarial: {{critic: D, fake: fake}}
training:
  steps: 10
  optimizer: {{adam: {{lr: 1.0e-3}}}}
"""


def timed(fn, reps: int) -> list[float]:
    out = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--layers", type=int, default=300)
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--width", type=int, default=900)
    parser.add_argument("--height", type=int, default=700)
    args = parser.parse_args(argv)

    from PySide6.QtCore import QPoint, QPointF, Qt
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication, QGraphicsSimpleTextItem

    from ganbuilder.spec import load_spec_text
    from gui.graph_tools import wheel_zoom
    from gui.layer_graph import LayerGraphPanel

    app = QApplication.instance() or QApplication([])
    text = spec_text(args.layers)
    spec = load_spec_text(text, "canvas_bench.yaml", ROOT)
    count = len(spec.analysis.networks["G"].layers)
    panel = LayerGraphPanel()
    panel.resize(args.width, args.height)
    panel.show()
    app.processEvents()
    panel.show_spec(spec)
    app.processEvents()
    view = panel.view
    nodes = len(view.items)

    def redraw_same() -> None:
        panel.show_spec(load_spec_text(text, "canvas_bench.yaml", ROOT))

    widths = iter(range(65, 65 + 10 * args.reps))
    specs = [load_spec_text(text.replace("      - linear: 64\n", f"      - linear: {w}\n", 1),
                            "canvas_bench.yaml", ROOT) for w in [next(widths)
                                                                for _ in range(args.reps)]]
    changed = iter(specs)

    def redraw_changed() -> None:
        panel.show_spec(next(changed))

    def paint() -> None:
        view.viewport().repaint()

    direction = [True]

    def zoom() -> None:
        centre = QPointF(view.viewport().rect().center())
        up = direction[0]
        direction[0] = not up
        event = QWheelEvent(centre, centre, QPoint(), QPoint(0, 120 if up else -120),
                            Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                            Qt.ScrollPhase.NoScrollPhase, False)
        wheel_zoom(view, event)
        view.viewport().repaint()

    def fit() -> None:
        view.fit_all()
        view.viewport().repaint()

    # Parse time is not the canvas's: time the same-text redraw minus loading separately.
    load_ms = timed(lambda: load_spec_text(text, "canvas_bench.yaml", ROOT), args.reps)
    results = {
        "load + redraw (same text)": timed(redraw_same, args.reps),
        "redraw (changed)": [],
        "paint": [],
        "zoom step + paint": [],
        "fit + paint": [],
    }
    results["redraw (changed)"] = timed(redraw_changed, args.reps)
    view.fit_all()
    results["paint"] = timed(paint, args.reps)
    results["zoom step + paint"] = timed(zoom, args.reps)
    results["fit + paint"] = timed(fit, args.reps)
    view.fit_all()
    system = QApplication.font().pointSizeF()
    sizes = [i.font().pointSizeF() for i in view.scene().items()
             if isinstance(i, QGraphicsSimpleTextItem) and i.isVisible()]
    smallest = min(sizes) * view.transform().m11() / system

    def p95(values: list[float]) -> float:
        return sorted(values)[max(0, round(0.95 * len(values)) - 1)]

    print(f"G: {count} layers, {nodes} nodes drawn, {len(view.scene().items())} scene items; "
          f"view {args.width}x{args.height}, {args.reps} reps")
    print(f"{'':26s} {'median ms':>10s} {'p95 ms':>8s}")
    print(f"{'(load_spec_text)':26s} {statistics.median(load_ms):10.1f} {p95(load_ms):8.1f}")
    for name, values in results.items():
        print(f"{name:26s} {statistics.median(values):10.1f} {p95(values):8.1f}")
    print(f"smallest text after fit: {smallest:.2f} of the system font (must be >= 0.80)")
    print(f"canvas: {count} layers · redraw {statistics.median(results['redraw (changed)']):.0f} ms"
          f" · zoom {statistics.median(results['zoom step + paint']):.0f} ms"
          f" · fit {statistics.median(results['fit + paint']):.0f} ms"
          f" · paint {statistics.median(results['paint']):.0f} ms")
    os._exit(0)  # skip Qt's teardown of the scene (slow, and not what is measured)


if __name__ == "__main__":
    sys.exit(main())
