"""Training from the app against `ganbuilder run`: throughput and event-loop latency (issue 5).

What is compared
    headless  `Trainer.run` with the CLI's progress printer, as `ganbuilder run` does.
    gui       the designer window (offscreen) training the same spec text with Train > Start:
              the same Trainer on a QThread, its events queued to the GUI thread, the plots
              redrawn at most every 100 ms, every sample grid added to the samples view.
Both train the same spec for `--steps` steps into fresh run folders; throughput is the steps
done between the Started and Finished events divided by the time between them (so building
the networks and importing are left out of both sides; the first and last sample grids and the
final checkpoint are in both).

Event-loop latency
    While the GUI side trains, a 10 ms repeating QTimer on the GUI thread records how late each
    timeout fires (the interval minus 10 ms). That lateness is the time a click or a repaint
    would wait. Reported: median, p95 and max.

Protocol
    `--rounds` rounds, each running one headless and one GUI run, the side that goes first
    switching every round. Reported: steps/s of every run, the GUI/headless ratio of the median
    rates, and the latency over all GUI runs. The last line reads
    `gui training: throughput ratio X.XX (target >= 0.90), event-loop p95 Y ms (target < 50)`.
    The exit code is 0 whatever the figures: this is a measurement, not a test.

Run
    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_gui_training.py
    .venv/bin/python benchmarks/bench_gui_training.py --steps 100 --rounds 1
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QEventLoop, QSettings, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from ganbuilder.progress import Progress  # noqa: E402
from ganbuilder.spec import load_spec  # noqa: E402
from ganbuilder.train.events import Finished, Started  # noqa: E402
from ganbuilder.train.trainer import Trainer  # noqa: E402
from gui.main_window import MainWindow  # noqa: E402
from gui.training import IDLE  # noqa: E402

PROBE_MS = 10


def headless(spec_path: Path, run_dir: Path) -> float:
    """Steps per second of `ganbuilder run` on the spec."""
    spec = load_spec(spec_path)
    times: dict[type, tuple[float, int]] = {}
    progress = Progress(stream=io.StringIO())

    def emit(event) -> None:
        progress(event)
        if isinstance(event, (Started, Finished)):
            step = event.start_step if isinstance(event, Started) else event.step
            times[type(event)] = (time.perf_counter(), step)

    Trainer(spec, run_dir).run(emit)
    (t0, s0), (t1, s1) = times[Started], times[Finished]
    return (s1 - s0) / (t1 - t0)


def gui(app: QApplication, spec_path: Path, settings: Path) -> tuple[float, list[float]]:
    """Steps per second trained from the window, and the probe's lateness samples in ms."""
    window = MainWindow(QSettings(str(settings), QSettings.Format.IniFormat))
    window.show()
    window.open_file(spec_path, ask=False)
    times: dict[str, tuple[float, int]] = {}
    window.training.started.connect(
        lambda e: times.setdefault("start", (time.perf_counter(), e.start_step)))
    window.training.finished.connect(
        lambda e: times.setdefault("end", (time.perf_counter(), e.step)))
    late: list[float] = []
    last = [time.perf_counter()]

    def probe() -> None:
        now = time.perf_counter()
        late.append(max(0.0, (now - last[0]) * 1000 - PROBE_MS))
        last[0] = now

    timer = QTimer()
    timer.setInterval(PROBE_MS)
    timer.timeout.connect(probe)
    loop = QEventLoop()
    window.training.stateChanged.connect(lambda s: loop.quit() if s == IDLE else None)
    if not window.start_training():
        raise SystemExit("the window refused to start training")
    timer.start()
    last[0] = time.perf_counter()
    loop.exec()
    timer.stop()
    if "end" not in times:
        raise SystemExit(f"the GUI run did not finish: {window.train_banner.text()}")
    window.close()
    window.deleteLater()
    app.processEvents()
    (t0, s0), (t1, s1) = times["start"], times["end"]
    return (s1 - s0) / (t1 - t0), late


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", type=Path, default=ROOT / "specs" / "dcgan.yaml")
    parser.add_argument("--set", action="append", default=None, metavar="PATH=VALUE",
                        help="spec override (default: params.ngf=32, params.ndf=32)")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    overrides = args.set if args.set is not None else ["params.ngf=32", "params.ndf=32"]
    overrides = [*overrides, f"training.steps={args.steps}"]

    app = QApplication.instance() or QApplication([])
    import torch

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"load average {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        spec_path = tmp / args.spec.name
        spec_path.write_text(load_spec(args.spec, overrides).text(), encoding="utf-8")
        rates: dict[str, list[float]] = {"headless": [], "gui": []}
        late: list[float] = []
        for r in range(args.rounds):
            order = ("headless", "gui") if r % 2 == 0 else ("gui", "headless")
            for side in order:
                if side == "headless":
                    rate = headless(spec_path, tmp / f"headless{r}")
                else:
                    rate, samples = gui(app, spec_path, tmp / "settings.ini")
                    late += samples
                rates[side].append(rate)
                print(f"round {r + 1} {side:8s} {rate:6.2f} steps/s")
    ratio = statistics.median(rates["gui"]) / statistics.median(rates["headless"])
    p50, p95 = percentile(late, 0.5), percentile(late, 0.95)
    print(f"event-loop lateness over {len(late)} probes: median {p50:.1f} ms, p95 {p95:.1f} ms, "
          f"max {max(late):.1f} ms")
    print(f"load average {os.getloadavg()[0]:.2f}")
    print(f"gui training: throughput ratio {ratio:.2f} (target >= 0.90), "
          f"event-loop p95 {p95:.0f} ms (target < 50)")


if __name__ == "__main__":
    main()
