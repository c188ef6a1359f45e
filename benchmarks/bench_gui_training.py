"""Training from the app against `ganbuilder run`: throughput and event-loop latency (issue 5).

What is compared
    headless  `ganbuilder run SPEC --out DIR --quiet`, the CLI itself.
    gui       the designer window (offscreen) training the same spec text with Train > Start:
              the same Trainer on a QThread, its events queued to the GUI thread, plots redrawn
              as they come, every sample grid added to the samples view.
Each run is a fresh process (a process that already ran torch on another thread keeps that
thread's OpenMP team, which slows the next thread's training by up to 20 %: not what a user
sees). Throughput is read the same way for both from the run's metrics.jsonl: steps over the
sum of the trainer's own `time/step` x steps per record, which covers everything the loop does
between two logged steps (samples, checkpoints, events) and leaves out start-up.

Event-loop latency
    While the GUI side trains, a 25 ms repeating QTimer on the GUI thread records how late each
    timeout fires (the interval minus 25 ms): the time a click or a repaint would wait.
    Reported: median, p95 and max over all GUI runs.

Protocol
    `--rounds` rounds, each running one headless and one GUI run, the side that goes first
    switching every round. Reported: steps/s of every run, the GUI/headless ratio of the median
    rates, and the latency. The last line reads
    `gui training: throughput ratio X.XX (target >= 0.90), event-loop p95 Y ms (target < 50)`.
    The exit code is 0 whatever the figures: this is a measurement, not a test.

Run
    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_gui_training.py
    .venv/bin/python benchmarks/bench_gui_training.py --steps 300 --rounds 2
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PROBE_MS = 25


def steps_per_second(run_dir: Path) -> float:
    """Throughput from the trainer's own timings in the run's metrics.jsonl."""
    steps, seconds, previous = 0, 0.0, None
    with (run_dir / "metrics.jsonl").open(encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            if previous is not None:  # the first interval holds the warm-up
                n = record["step"] - previous
                steps += n
                seconds += record["time/step"] * n
            previous = record["step"]
    return steps / seconds


def headless(spec_path: Path, run_dir: Path) -> float:
    """`ganbuilder run` in its own process; its steps per second."""
    subprocess.run([sys.executable, "-m", "ganbuilder", "run", str(spec_path), "--out",
                    str(run_dir), "--quiet"], check=True)
    return steps_per_second(run_dir)


def gui(spec_path: Path, run_dir: Path) -> tuple[float, list[float]]:
    """The window training in its own process; its steps per second and the lateness of the
    event-loop probe in ms."""
    lateness = run_dir.with_suffix(".json")
    subprocess.run([sys.executable, __file__, "--child", str(spec_path), str(run_dir),
                    str(lateness)], check=True, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    return steps_per_second(run_dir), json.loads(lateness.read_text())


def child(spec_path: Path, run_dir: Path, lateness: Path) -> None:
    """Train `spec_path` from the designer window into `run_dir`, probing the event loop."""
    from PySide6.QtCore import QEventLoop, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from gui.main_window import MainWindow
    from gui.training import IDLE

    app = QApplication([])
    settings = QSettings(str(run_dir.with_suffix(".ini")), QSettings.Format.IniFormat)
    window = MainWindow(settings)
    window.show()
    window.open_file(spec_path, ask=False)
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
    if not window.start_training(run_dir=run_dir):
        raise SystemExit("the window refused to start training")
    timer.start()
    last[0] = time.perf_counter()
    loop.exec()
    timer.stop()
    if "Finished" not in window.train_banner.text():
        raise SystemExit(f"the GUI run did not finish: {window.train_banner.text()}")
    lateness.write_text(json.dumps(late))
    window.close()
    app.processEvents()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", type=Path, default=ROOT / "specs" / "dcgan.yaml")
    parser.add_argument("--set", action="append", default=None, metavar="PATH=VALUE",
                        help="spec override (default: params.ngf=32, params.ndf=32)")
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", nargs=3, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(*args.child)
        return
    from ganbuilder.spec import load_spec

    overrides = args.set if args.set is not None else ["params.ngf=32", "params.ndf=32"]
    overrides = [*overrides, f"training.steps={args.steps}"]
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        spec_path = tmp / args.spec.name
        spec_path.write_text(load_spec(args.spec, overrides).text(), encoding="utf-8")
        rates: dict[str, list[float]] = {"headless": [], "gui": []}
        late: list[float] = []
        for r in range(args.rounds):
            order = ("headless", "gui") if r % 2 == 0 else ("gui", "headless")
            for side in order:
                run_dir = tmp / f"{side}{r}"
                if side == "headless":
                    rate = headless(spec_path, run_dir)
                else:
                    rate, samples = gui(spec_path, run_dir)
                    late += samples
                rates[side].append(rate)
                print(f"round {r + 1} {side:8s} {rate:6.2f} steps/s", flush=True)
    ratio = statistics.median(rates["gui"]) / statistics.median(rates["headless"])
    p50, p95 = percentile(late, 0.5), percentile(late, 0.95)
    print(f"event-loop lateness over {len(late)} probes: median {p50:.1f} ms, p95 {p95:.1f} ms, "
          f"max {max(late):.1f} ms")
    print(f"load average {os.getloadavg()[0]:.2f}")
    print(f"gui training: throughput ratio {ratio:.2f} (target >= 0.90), "
          f"event-loop p95 {p95:.0f} ms (target < 50)")


if __name__ == "__main__":
    main()
