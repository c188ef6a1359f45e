"""Designer responsiveness on a ~5,000-line spec: keystroke -> problems list, and event-loop lag.

What is measured
    A valid spec of about `--lines` lines is generated from specs/dcgan.yaml: G and D each get a
    long run of constant-size stages (a 3x3 conv written one key per line, batch norm and an
    activation, every third stage a residual block), with a comment per stage and `${...}`
    expressions for the channel counts, so the loader, the schema, shape inference and
    `ganbuilder summary`'s meta-device build all have thousands of nodes to go through. The
    spec is checked with `load_spec` before the window opens (`ganbuilder validate` accepts it
    too: `--write-spec` keeps a copy to try).

    The designer's MainWindow (offscreen, real debounce delay, 300 ms unless `--delay-ms`) opens
    the file and the first check is awaited. Then, `--reps` times, in the running Qt event loop:
      error  the cursor is put at the end of a `- relu` line in the middle of G and the key `x`
             is sent with QTest.keyClick (keyPressEvent, completion, highlighter, textChanged,
             the window's handler that restarts the debounce timer: the normal typing path);
             `relux` is no layer, so the problems list must show one problem.
      fix    Backspace, the same way; the problems list must become empty, and afterwards the
             architecture panel and graph are rebuilt from the summary (`summarized`).
    For each keystroke:
      keystroke block   how long QTest.keyClick itself ran: the event loop was blocked for that
                        long, i.e. the typing freeze a user would feel.
      to problems       keystroke -> the window's `checked` handler has put the result in the
                        problems list (a slot connected after the window's own one records
                        the time, then `problems_list.rows()` is checked). Includes the
                        debounce delay; also reported minus the delay (the check itself,
                        the queued signal and the GUI update).
      to summarized     (fix only) keystroke -> the architecture panel shows the new totals.
    GUI-thread handlers: time spent in MainWindow._on_checked / _on_summarized (problems list,
    editor marks, architecture tree, graph), timed by a subclass that wraps them: this work
    runs on the GUI thread and blocks typing while it runs. The `of which` rows time the view
    calls by wrapping them as instance attributes; PySide looks a connected method up by name
    when the signal fires, so they also count calls made through signals (_on_cursor_line runs
    on every cursor line change, e.g. the Down/Up keys).
    Event-loop lag: a 10 ms QTimer runs the whole time; lateness = time between two firings
    minus 10 ms. Reported over all samples and over those taken while a check was in flight
    (the worker thread is busy: it holds the GIL most of the time).
    Typing during a check (`--burst`): a check is started at once (no debounce), 20 ms later
    `--burst` spaces are typed at the end of the `- relu` line (still valid YAML), 60 ms
    apart, then as many Backspaces; each keystroke is timed: typing while the worker runs.
    Cursor moves: Down then Up after each repetition (no text change, the line changes).
    Off-GUI profile: load_spec_text split into YAML parsing, ${} substitution + blocks,
    schema validation, semantic/shape analysis, then summarize, each timed `--profile-reps`
    times (median), in this process, on the main thread with the event loop not running.

PySide6 None leak: if void Qt calls lose a reference to None (see none_leak), None's count is
padded so the run can finish, and the references lost during the run are reported.

Output: a table with median and p95 (and max) of each figure, then one summary line starting
with `designer latency:`. The exit code is 0 whatever the figures (a measurement, not a test);
it is 1 only if the spec does not validate or a result never arrives.

Run
    QT_QPA_PLATFORM is set to offscreen by the script.
    .venv/bin/python benchmarks/bench_designer_latency.py
    .venv/bin/python benchmarks/bench_designer_latency.py --reps 10 --lines 5000 --delay-ms 300
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QEventLoop, QSettings, Qt, QTimer
from PySide6.QtGui import QTextCursor
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from ganbuilder.spec import load_spec, load_spec_text
from gui.main_window import MainWindow

ROOT = Path(__file__).resolve().parents[1]
TICK_MS = 10
# See none_leak(): references to None that keep a leaking binding from freeing it.
_NONE_PAD: list = []


def none_leak() -> float:
    """References to None lost per call of a void Qt method (QTimer.stop); 0 when all is well.

    Some PySide6/shiboken6 builds (seen: 6.12.0, cp310-abi3, on CPython 3.11) return None from
    void methods without a new reference. On CPython < 3.12 None is not immortal, so every such
    call takes one from None's count, and the process aborts with `Fatal Python error:
    none_dealloc` once it reaches zero: a few hundred thousand calls, i.e. a few rebuilds of a
    large architecture tree. The benchmark then pads None's count so it can finish, and says so.
    """
    timer = QTimer()
    before = sys.getrefcount(None)
    for _ in range(1000):
        timer.stop()
    return (before - sys.getrefcount(None)) / 1000


# -- the spec ------------------------------------------------------------------------------
def _stage(i: int, ch: str, act: str, residual: bool) -> list[str]:
    """One constant-size stage of a network's layer list, 6-space indented, one key a line."""
    conv = [
        "- conv:",
        f"    out: \"{ch}\"",
        "    kernel: 3",
        "    stride: 1",
        "    padding: 1",
        "    bias: false",
    ]
    lines = [f"# stage {i}: 3x3 conv, batch norm, {act}" + (" (residual)" if residual else "")]
    if residual:
        lines.append("- residual:")
        lines += ["    " + line for line in conv]
        lines += ["    - batch_norm", f"    - {act}"]
    else:
        lines += [*conv, "- batch_norm", f"- {act}"]
    return ["      " + line for line in lines]


def make_spec(target_lines: int) -> str:
    """specs/dcgan.yaml with G and D lengthened to about `target_lines` lines in all."""
    base = (ROOT / "specs" / "dcgan.yaml").read_text(encoding="utf-8").split("\n")
    per_stage = (len(_stage(0, "", "relu", False)) * 2 + len(_stage(0, "", "relu", True))) / 3
    n = max(1, round((target_lines - len(base)) / per_stage / 2))
    nets = base.index("networks:")
    g_at = base.index("      - relu", base.index("  G:", nets)) + 1
    d_at = base.index("      - leaky_relu: 0.2", base.index("  D:", nets)) + 1
    g = [line for i in range(n)
         for line in _stage(i, "${ngf * 2**depth}", "relu", i % 3 == 2)]
    d = [line for i in range(n)
         for line in _stage(i, "${ndf}", "leaky_relu: 0.2", i % 3 == 2)]
    out = base[:g_at] + g + base[g_at:d_at] + d + base[d_at:]
    return "\n".join(out)


# -- statistics ----------------------------------------------------------------------------
def pct(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of `values`."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def row(name: str, values: list[float]) -> str:
    if not values:
        return f"  {name:<44} {'-':>9} {'-':>9} {'-':>9} {0:>5}"
    return (f"  {name:<44} {statistics.median(values):9.1f} {pct(values, 95):9.1f} "
            f"{max(values):9.1f} {len(values):5d}")


# -- the window ----------------------------------------------------------------------------
class TimedWindow(MainWindow):
    """MainWindow whose result handlers record how long they ran on the GUI thread, and the
    calls they make to the views (instance attributes wrap the bound methods, so the handlers'
    `self.x.y(...)` calls go through the wrappers; signal connections made earlier do not)."""

    PARTS = (("problems_list", "set_problems"), ("editor", "set_problem_marks"),
             ("architecture", "show_problems"), ("architecture", "show_spec"),
             ("graph", "show_spec"), (None, "_on_cursor_line"), (None, "_show_form"))

    def __init__(self, *args, **kwargs):
        self.handler_ms: dict[str, list[float]] = {"_on_checked": [], "_on_summarized": []}
        self.part_ms: dict[str, list[float]] = {}
        super().__init__(*args, **kwargs)
        for owner, name in self.PARTS:
            target = self if owner is None else getattr(self, owner)
            label = name if owner is None else f"{owner}.{name}"
            setattr(target, name, self._timed(label, getattr(target, name)))

    def _timed(self, label: str, fn):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.part_ms.setdefault(label, []).append((time.perf_counter() - start) * 1e3)

        return wrapper

    def _on_checked(self, result) -> None:
        start = time.perf_counter()
        super()._on_checked(result)
        self.handler_ms["_on_checked"].append((time.perf_counter() - start) * 1e3)

    def _on_summarized(self, result) -> None:
        start = time.perf_counter()
        super()._on_summarized(result)
        self.handler_ms["_on_summarized"].append((time.perf_counter() - start) * 1e3)


class Bench:
    def __init__(self, win: TimedWindow, timeout_s: float):
        self.win = win
        self.timeout_s = timeout_s
        self.loop = QEventLoop()
        self.checked_at: float | None = None
        self.summarized_at: float | None = None
        self.check_started_at: float | None = None
        # Connected after the window's own handlers, so these run once the views are updated.
        win.validator.checked.connect(self._checked)
        win.validator.summarized.connect(self._summarized)
        self.lateness: list[tuple[float, bool]] = []  # (ms late, a check was in flight)
        self._last_tick: float | None = None
        self.ticker = QTimer()
        self.ticker.setTimerType(Qt.TimerType.PreciseTimer)
        self.ticker.setInterval(TICK_MS)
        self.ticker.timeout.connect(self._tick)

    def _checked(self, _result) -> None:
        self.checked_at = time.perf_counter()

    def _summarized(self, _result) -> None:
        self.summarized_at = time.perf_counter()

    def _tick(self) -> None:
        now = time.perf_counter()
        if self._last_tick is not None:
            busy = self.win.validator._pool.activeThreadCount() > 0
            self.lateness.append(((now - self._last_tick) * 1e3 - TICK_MS, busy))
        self._last_tick = now

    def run_until(self, condition, what: str) -> None:
        """Run the Qt event loop (the real one, not a polling loop) until condition() holds."""
        deadline = time.perf_counter() + self.timeout_s
        poll = QTimer()
        poll.setInterval(1)

        def check() -> None:
            if condition() or time.perf_counter() > deadline:
                self.loop.quit()

        poll.timeout.connect(check)
        poll.start()
        check()
        if not condition():
            self.loop.exec()
        poll.stop()
        if not condition():
            raise TimeoutError(f"no {what} after {self.timeout_s:.0f} s")

    def pause(self, ms: int) -> None:
        end = time.perf_counter() + ms / 1e3
        self.run_until(lambda: time.perf_counter() >= end, "pause")

    def key(self, key) -> tuple[float, float]:
        """Send one key to the editor; (time sent, ms the call blocked)."""
        self.checked_at = self.summarized_at = None
        start = time.perf_counter()
        QTest.keyClick(self.win.editor, key)
        return start, (time.perf_counter() - start) * 1e3


def cursor_to_end_of(win: MainWindow, line: int) -> None:
    block = win.editor.document().findBlockByNumber(line - 1)
    cursor = QTextCursor(block)
    cursor.movePosition(QTextCursor.MoveOperation.EndOfBlock)
    win.editor.setTextCursor(cursor)


def error_line(text: str) -> int:
    """1-based line of the `- relu` in the middle of G's stages."""
    lines = text.split("\n")
    g = lines.index("  G:")
    d = lines.index("  D:", g)
    relus = [i for i in range(g, d) if lines[i].strip() == "- relu"]
    return relus[len(relus) // 2] + 1


# -- off-GUI profile -----------------------------------------------------------------------
def profile(text: str, base: Path, reps: int) -> list[tuple[str, float]]:
    """Median ms of each stage of load_spec_text (as in ganbuilder.spec._finish) + summarize,
    and of load_spec_text on the text with the benchmark's error (an unknown layer)."""
    import ganbuilder.spec as S  # the same functions _finish calls, in its order
    from ganbuilder.summary import summarize

    lines = text.split("\n")
    at = error_line(text) - 1
    bad = "\n".join([*lines[:at], lines[at] + "x", *lines[at + 1:]])
    times: dict[str, list[float]] = {}

    def timed(name: str, fn, *args):
        start = time.perf_counter()
        out = fn(*args)
        times.setdefault(name, []).append((time.perf_counter() - start) * 1e3)
        return out

    for _ in range(reps):
        total = time.perf_counter()
        tree = timed("yaml parse (tree_from_text)", S.tree_from_text, text, "<bench>", base)
        S.apply_overrides(tree, [])
        problems: list = []

        def subst(tree=tree, problems=problems):
            env = S.substitute_params(tree, problems)
            S.expand_blocks(tree, env, problems)

        timed("${} substitution + blocks", subst)
        locations = timed("locations index", S.Locations, tree)
        values = timed("plain values", S.plain, tree)
        found = timed("schema validation", S.schema_problems, values, locations)
        analysis = timed("semantic + shape inference", S.analyse, values, locations, base)
        assert not problems and not found and not analysis.problems
        times.setdefault("= load_spec_text (sum of the above)", []).append(
            (time.perf_counter() - total) * 1e3)
        start = time.perf_counter()
        spec = load_spec_text(text, "<bench>", base)
        times.setdefault("  load_spec_text, called as such", []).append(
            (time.perf_counter() - start) * 1e3)
        timed("summarize (meta-device build)", summarize, spec)
        start = time.perf_counter()
        failed = False
        try:
            S.load_spec_text(bad, "<bench>", base)
        except S.SpecError:
            failed = True
        assert failed, "the text with `relux` loaded"
        times.setdefault("load_spec_text of the text with `relux`", []).append(
            (time.perf_counter() - start) * 1e3)
    return [(name, statistics.median(v)) for name, v in times.items()]


# -- main ----------------------------------------------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=5000, help="spec size to generate (5000)")
    parser.add_argument("--reps", type=int, default=10, help="error/fix repetitions (10)")
    parser.add_argument("--delay-ms", type=int, default=300,
                        help="validation debounce delay, as in the app (300)")
    parser.add_argument("--burst", type=int, default=10,
                        help="keys typed while a check runs, per repetition (10; 0: none)")
    parser.add_argument("--profile-reps", type=int, default=3,
                        help="repetitions of the off-GUI stage profile (3; 0: skip)")
    parser.add_argument("--timeout", type=float, default=120.0,
                        help="seconds to wait for any one result before giving up (120)")
    parser.add_argument("--none-pad", type=int, default=20_000_000,
                        help="references to None added when the None leak is detected (20M)")
    parser.add_argument("--write-spec", type=Path, help="also save the generated spec here")
    args = parser.parse_args()

    text = make_spec(args.lines)
    n_lines = text.count("\n") + 1
    tmp = Path(tempfile.mkdtemp(prefix="bench_designer_"))
    path = tmp / "dcgan_5k.yaml"
    path.write_text(text, encoding="utf-8")
    if args.write_spec:
        args.write_spec.write_text(text, encoding="utf-8")
    start = time.perf_counter()
    spec = load_spec(path)
    load_ms = (time.perf_counter() - start) * 1e3
    n_layers = sum(_count(p.layers) for p in spec.analysis.networks.values())
    print(f"spec: {n_lines} lines, {len(text):,} characters, {n_layers} layers "
          f"(G+D, nested included); load_spec {load_ms:.0f} ms; valid")
    try:
        load = os.getloadavg()
        print(f"machine: {os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f} "
              f"{load[2]:.2f} at start")
    except OSError:
        pass

    app = QApplication.instance() or QApplication(sys.argv)
    leak = none_leak()
    none_start = sys.getrefcount(None)
    if leak > 0.5:
        _NONE_PAD.extend([None] * args.none_pad)
        print(f"WARNING: this PySide6 loses {leak:.2f} reference to None per void call "
              f"(None refcount {none_start:,}; it aborts the process at 0): padded by "
              f"{args.none_pad:,} so the benchmark can finish")
    settings = QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat)
    win = TimedWindow(settings=settings, delay_ms=args.delay_ms)
    win.show()
    bench = Bench(win, args.timeout)
    t0 = time.perf_counter()
    win.open_file(path, ask=False)
    open_ms = (time.perf_counter() - t0) * 1e3
    try:
        bench.run_until(win.validator.is_idle, "first check")
    except TimeoutError as exc:
        print(f"error: {exc}")
        return 1
    first_ms = (time.perf_counter() - t0) * 1e3
    if win.problems_list.rows():
        print(f"error: the generated spec has problems in the window: {win.problems_list.rows()}")
        return 1
    print(f"window: open_file blocked {open_ms:.0f} ms; first check + summary done after "
          f"{first_ms:.0f} ms (debounce {args.delay_ms} ms included)")
    app.processEvents()

    line = error_line(win.editor.toPlainText())
    block_err, block_fix, block_burst, block_nav = [], [], [], []
    to_err, to_clear, to_summary = [], [], []
    bench.ticker.start()
    bench.pause(200)
    try:
        for _ in range(args.reps):
            cursor_to_end_of(win, line)
            win.editor.setFocus()
            bench.pause(50)
            sent, blocked = bench.key(Qt.Key.Key_X)
            block_err.append(blocked)
            bench.run_until(lambda: bench.checked_at is not None and win.validator.is_idle(),
                            "problem")
            rows = win.problems_list.rows()
            if len(rows) != 1 or "relux" not in rows[0][2]:
                print(f"error: expected one `relux` problem, got {rows}")
                return 1
            to_err.append((bench.checked_at - sent) * 1e3)
            bench.pause(100)

            sent, blocked = bench.key(Qt.Key.Key_Backspace)
            block_fix.append(blocked)
            bench.run_until(lambda: bench.checked_at is not None, "empty problems list")
            if win.problems_list.rows():
                print(f"error: expected no problems, got {win.problems_list.rows()}")
                return 1
            to_clear.append((bench.checked_at - sent) * 1e3)
            bench.run_until(lambda: bench.summarized_at is not None and win.validator.is_idle(),
                            "summary")
            to_summary.append((bench.summarized_at - sent) * 1e3)
            bench.pause(100)

            # Moving the cursor to another line (no text change): Down, then Up.
            for key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                _, blocked = bench.key(key)
                block_nav.append(blocked)
                bench.pause(60)

            if args.burst:
                # Start a check right away, wait until the worker runs it, then keep typing.
                win.validator.request(win.editor.toPlainText(), immediately=True)
                bench.pause(20)
                for _ in range(args.burst):
                    _, blocked = bench.key(Qt.Key.Key_Space)
                    block_burst.append(blocked)
                    bench.pause(60)
                for _ in range(args.burst):
                    _, blocked = bench.key(Qt.Key.Key_Backspace)
                    block_burst.append(blocked)
                    bench.pause(60)
                bench.run_until(win.validator.is_idle, "check after the burst")
                bench.pause(100)
    except TimeoutError as exc:
        print(f"error: {exc}")
        return 1
    bench.ticker.stop()
    lost = none_start + len(_NONE_PAD) - sys.getrefcount(None)
    win.editor.document().setModified(False)
    win.validator.wait(int(args.timeout * 1000))

    delay = args.delay_ms
    late_all = [late for late, _ in bench.lateness]
    late_busy = [late for late, busy in bench.lateness if busy]
    print()
    print(f"designer latency, {n_lines}-line spec, {args.reps} repetitions, debounce {delay} ms"
          f" (all in ms)")
    print(f"  {'':<44} {'median':>9} {'p95':>9} {'max':>9} {'n':>5}")
    print(row("keystroke block: error key (x)", block_err))
    print(row("keystroke block: fix key (Backspace)", block_fix))
    print(row("keystroke block: typing during a check", block_burst))
    print(row("keystroke block: Down/Up (cursor changes line)", block_nav))
    print(row("keystroke -> problem shown", to_err))
    print(row(f"  minus debounce ({delay} ms)", [v - delay for v in to_err]))
    print(row("keystroke -> problems list empty", to_clear))
    print(row(f"  minus debounce ({delay} ms)", [v - delay for v in to_clear]))
    print(row("keystroke -> architecture/graph updated", to_summary))
    print(row("GUI thread: _on_checked (problems, marks)", win.handler_ms["_on_checked"]))
    print(row("GUI thread: _on_summarized (tree, graph)", win.handler_ms["_on_summarized"]))
    for label, values in win.part_ms.items():
        print(row(f"  of which {label}", values))
    print(row(f"event-loop lateness, {TICK_MS} ms timer, all", late_all))
    print(row("event-loop lateness, while a check ran", late_busy))
    print(f"  event-loop lateness p50 all / busy: {pct(late_all, 50):.1f} / "
          f"{pct(late_busy, 50):.1f} ms")

    if args.profile_reps:
        print()
        print(f"off-GUI profile of one check of the same spec (median of {args.profile_reps}, ms)")
        for name, ms in profile(text, tmp, args.profile_reps):
            print(f"  {name:<44} {ms:9.1f}")
    if leak > 0.5:
        print(f"\nNone references lost (net) in the window: {lost:,} (unpadded count at start "
              f"{none_start:,}: {'it would have aborted' if lost >= none_start else 'enough'})")
    try:
        load = os.getloadavg()
        print(f"\nload average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    except OSError:
        pass
    freeze = block_err + block_fix + block_burst
    nav = (f"; Down/Up key block median {statistics.median(block_nav):.0f} ms"
           if block_nav else "")
    print(f"designer latency: {n_lines} lines; keystroke block median "
          f"{statistics.median(freeze):.1f} ms p95 {pct(freeze, 95):.1f} ms; "
          f"keystroke->problem median {statistics.median(to_err):.0f} ms "
          f"(p95 {pct(to_err, 95):.0f}, {statistics.median(to_err) - delay:.0f} after the "
          f"{delay} ms debounce); keystroke->cleared median {statistics.median(to_clear):.0f} ms; "
          f"event-loop lateness p50 {pct(late_all, 50):.1f} p95 {pct(late_all, 95):.1f} "
          f"max {max(late_all, default=float('nan')):.1f} ms{nav}")
    win.close()
    win.deleteLater()
    app.processEvents()
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


def _count(layers) -> int:
    return sum(1 + _count(layer.children) for layer in layers)


if __name__ == "__main__":
    sys.exit(main())
