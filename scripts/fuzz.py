"""Seeded fuzzing of `ganbuilder validate` over every spec in specs/.

Each case takes one shipped spec, applies one to three random mutations (keys deleted,
duplicated or renamed; values retyped; numbers out of range or huge; bad names; `${...}`
junk; broken YAML text; alias tricks; tags; `--set` overrides) and runs the CLI's validate
path in-process. A case fails when it raises anything but a clean exit (a traceback), runs
past the time limit, exits with a code other than 0 or 2, or prints an error line that is not
`error: file:line:col: [path: ]message`.

    python scripts/fuzz.py --cases 10000          # `make fuzz`
    python scripts/fuzz.py --replay dcgan.yaml:17 # one case again, with its text

tests/test_fuzz.py runs a few hundred cases of the same generator.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import random
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ganbuilder.cli import main as cli_main  # noqa: E402
from ganbuilder.spec.paths import format_path, plain  # noqa: E402
from ganbuilder.spec.yaml_loader import load_yaml  # noqa: E402

SPECS = sorted((ROOT / "specs").glob("*.yaml"))
LOCATED = re.compile(r"^error: (?P<file>[^:]+):\d+:\d+: .")

NUMBERS = [0, -1, 1, 2, 3, -(10**6), 10**6, 10**9, 2**31, 10**18, 2**63 - 1, -(2**63), 2**63,
           10**30, -(10**30), 10**400, 0.5, -0.5, 1e-320, 1e308, float("inf"), float("-inf"),
           float("nan"), 4096, 1000000]
VALUES = [None, True, False, "", "abc", "relu", [], {}, [1, "x"], {"a": 1}, {"relu": None},
          [[[]]], "true", "1e-4", " ", "\t", "é", "a" * 300]
NAMES = ["", " ", "a b", "1x", "x-y", "ä", "G", "D", "z", "real", "fake", "concat", "input",
         "${x}", "x" * 300, "__class__", "a.b", "[0]", "version"]
EXPRS = ["${", "}", "${}", "${x}", "${1/0}", "${2**2**2**2**2}", "${2**(2**30)}", "${log2(0)}",
         "${log2(-1)}", "${min()}", "${max(1)}", "${int(1e400)}", "${x*}", "${__import__('os')}",
         "${nz * 10**20}", "${(" * 150 + "1" + ")" * 150 + "}", "${" + "-" * 900 + "1}",
         "${ngf * 1000000}", "${image_size * 64}", "${int(nz)}", "${nz / 0.0}", "${nz % 0}",
         "${'a' * 10**9}", "${[1] * 10**9}", "${nz}${nz}", "a${nz}b", "${depth - 100}",
         "${2.5}", "${-1}", "${1e308 * 10}", "${(-8) ** 0.5}", "${0 ** -1}", "${ndf // 0}",
         "${i}", "${log2(image_size) - 30}"]
JUNK_CHARS = [*"{}[]:,&*!|>'\"%@\t#-?\\\n ", "\x00", "\ufeff", "\u2028", "é", "<<"]
ALIAS_TEXT = [
    "x0: &self [*self]\n",
    "lol: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"l{i}: &a{i} [{', '.join([f'*a{i - 1}' if i else '*a'] * 9)}]\n" for i in range(8)),
    "anchor: &m {a: 1}\nmerged: {<<: *m, b: 2}\n",
    "m: &m {a: 1}\nbad: {<<: 5}\n",
    "m: &m {a: 1}\nbad: {<<: [*m, 3]}\n",
    "undefined: *nowhere\n",
    "twice: &t 1\nagain: &t 2\n",
]
TAGS = ["!!int ", "!!str ", "!!float ", "!!bool ", "!!null ", "!!map ", "!!seq ", "!!binary ",
        "!!python/object:os.system ", "!foo ", "!!merge ", "!!timestamp "]


@dataclass
class Case:
    """One mutated spec: which original, which mutations, the text and any --set flags."""

    spec: str
    index: int
    mutations: list[str]
    text: str
    overrides: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.spec}:{self.index}"


@dataclass
class Outcome:
    """What validating a case did; `failure` says why it counts as a bug, if it does."""

    case: Case
    code: int | None
    seconds: float
    stderr: str
    failure: str | None = None


# -- mutations -----------------------------------------------------------------------------------

def _paths(node: Any, path: tuple = ()) -> list[tuple]:
    out = [path] if path else []
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _paths(value, (*path, i))
    return out


def _parent(tree: Any, path: tuple) -> Any:
    for part in path[:-1]:
        tree = tree[part]
    return tree


def _random_value(rng: random.Random, old: Any) -> Any:
    pools = [NUMBERS, VALUES, EXPRS, NAMES]
    if isinstance(old, int | float) and not isinstance(old, bool):
        pools = [NUMBERS, NUMBERS, [old * 1000, -old, old + 0.5, old * 10**12], *pools]
    return rng.choice(rng.choice(pools))


def _tree_mutation(tree: Any, rng: random.Random) -> str:
    """Change the loaded tree in place; returns what it did."""
    paths = _paths(tree)
    path = rng.choice(paths)
    parent, last = _parent(tree, path), path[-1]
    kind = rng.choice(["delete", "retype", "retype", "number", "rename", "copy", "expr",
                       "nest", "empty"])
    where = format_path(path)
    if kind == "delete":
        del parent[last]
    elif kind == "retype":
        parent[last] = _random_value(rng, parent[last])
    elif kind == "number":
        parent[last] = rng.choice(NUMBERS)
    elif kind == "expr":
        parent[last] = rng.choice(EXPRS)
    elif kind == "rename" and isinstance(parent, dict):
        value = parent.pop(last)
        parent[rng.choice([*NAMES, f"{last}x", str(last)[:-1], str(last).upper()])] = value
    elif kind == "copy":  # a subtree pasted somewhere else (a copy: it may be an ancestor)
        other = rng.choice(paths)
        subtree = copy.deepcopy(_parent(tree, other)[other[-1]])
        if isinstance(parent, list):
            parent.insert(last, subtree)
        else:
            parent[rng.choice([*NAMES, "layers", "args", "times", "block", "from", "id"])] = (
                subtree)
    elif kind == "nest":
        parent[last] = rng.choice([[parent[last]], {"repeat": {"times": rng.choice(
            [2, 10**4, 10**9]), "layers": [parent[last]]}}, {"residual": [parent[last]]}])
    else:
        parent[last] = type(parent[last])() if isinstance(parent[last], dict | list) else None
    return f"{kind} {where}"


def _text_mutation(text: str, rng: random.Random) -> tuple[str, str]:
    """Change the spec's text; returns the new text and what was done."""
    lines = text.splitlines(keepends=True) or ["\n"]
    i = rng.randrange(len(lines))
    kind = rng.choice(["char", "char", "delete_line", "duplicate_line", "indent", "truncate",
                       "alias", "tag", "swap"])
    if kind == "char":
        pos = rng.randrange(len(text) + 1)
        if rng.random() < 0.5 and text:
            return text[:pos] + text[pos + 1:], f"delete char {pos}"
        return text[:pos] + rng.choice(JUNK_CHARS) + text[pos:], f"insert char {pos}"
    if kind == "delete_line":
        del lines[i]
    elif kind == "duplicate_line":  # a duplicate key, or a repeated list item
        lines.insert(i, lines[i])
    elif kind == "indent":
        lines[i] = rng.choice(["  ", " ", "\t", "- "]) + lines[i]
    elif kind == "truncate":
        return text[: rng.randrange(len(text) + 1)], "truncate"
    elif kind == "alias":
        extra = rng.choice(ALIAS_TEXT)
        if rng.random() < 0.5:
            lines.insert(0, extra)
        else:  # an alias used inside a section: `key: *a` after `key: &a ...`
            lines[i] = re.sub(r":\s+(\S)", r": &a \1", lines[i], count=1)
            lines.insert(min(i + 1, len(lines)), re.sub(r":.*", ": *a", lines[i], count=1)
                         if ":" in lines[i] else "- *a\n")
    elif kind == "tag":
        lines[i] = re.sub(r"(:\s+|-\s+)", lambda m: m.group(1) + rng.choice(TAGS), lines[i],
                          count=1)
    else:
        j = rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    return "".join(lines), f"{kind} line {i + 1}"


def _override(tree: Any, rng: random.Random) -> str:
    path = format_path(rng.choice(_paths(tree) or [("name",)]))
    value = rng.choice([str(v) for v in NUMBERS[:20]] + ["", "[", "{a: 1}", "!!int x", "*a",
                                                          "${log2(0)}", "a: &x [*x]", "1e400"])
    return f"{path}={value}" if rng.random() < 0.9 else rng.choice(["=", "x", "[0]=1", "a..b=1"])


def make_case(spec: Path, index: int, seed: int = 0) -> Case:
    """Case `index` of `spec`: the same seed and index give the same case."""
    rng = random.Random(f"{seed}:{spec.name}:{index}")
    text = spec.read_text(encoding="utf-8")
    tree = plain(load_yaml(text, spec.name))
    mutations: list[str] = []
    overrides: list[str] = []
    tree_kinds = 0
    for _ in range(rng.choice([1, 1, 2, 3])):
        roll = rng.random()
        if roll < 0.55:
            mutations.append(_tree_mutation(tree, rng))
            tree_kinds += 1
        elif roll < 0.9:
            if tree_kinds or mutations:  # text mutations apply to the text as it is now
                text = yaml.safe_dump(tree, sort_keys=False, allow_unicode=True)
            text, what = _text_mutation(text, rng)
            mutations.append(what)
            tree = None
            break
        else:
            overrides.append(_override(tree, rng))
            mutations.append(f"--set {overrides[-1]}")
    if tree is not None and tree_kinds:
        text = yaml.safe_dump(tree, sort_keys=False, allow_unicode=True)
    return Case(spec.name, index, mutations, text, overrides)


# -- running -------------------------------------------------------------------------------------

class _Hang(BaseException):
    """Raised by the alarm; a BaseException so that no `except Exception` swallows it."""


@contextlib.contextmanager
def _deadline(seconds: float):
    # SIGALRM interrupts pure-Python loops; without it (Windows, a thread) cases are only timed.
    if not hasattr(signal, "setitimer") or threading.current_thread() is not (
            threading.main_thread()):
        yield
        return

    def ring(signum, frame):
        raise _Hang

    previous = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def run_case(case: Case, folder: Path, limit: float = 10.0, slow: float = 3.0,
             validate: Callable[[list[str]], int] = cli_main) -> Outcome:
    """Validate the case's text as `folder/<spec>` (its siblings there, for `extends`)."""
    target = folder / case.spec
    original = target.read_bytes()
    target.write_text(case.text, encoding="utf-8", errors="surrogatepass")
    argv = ["validate", str(target)] + [a for o in case.overrides for a in ("--set", o)]
    out, err = io.StringIO(), io.StringIO()
    failure = None
    code: int | None = None
    start = time.perf_counter()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), _deadline(limit):
            code = validate(argv)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except _Hang:
        failure = f"hang: still running after {limit:g} s"
    except Exception:  # the point of fuzzing: anything escaping is a bug
        failure = "traceback:\n" + traceback.format_exc()
    finally:
        target.write_bytes(original)
    seconds = time.perf_counter() - start
    if failure is None:
        failure = _check_output(code, err.getvalue(), folder, seconds, slow)
    return Outcome(case, code, seconds, err.getvalue(), failure)


def _check_output(code: int | None, stderr: str, folder: Path, seconds: float, slow: float
                  ) -> str | None:
    if seconds > slow:
        return f"slow: {seconds:.2f} s"
    if code not in (0, 2):
        return f"exit code {code}"
    lines = stderr.splitlines()
    if code == 2 and not lines:
        return "exit code 2 without a message"
    for line in lines:
        match = LOCATED.match(line)
        if not match:
            return f"not a located error line: {line[:200]!r}"
        if match["file"] != "<--set>" and Path(match["file"]).parent != folder:
            return f"error located outside the spec's folder: {line[:200]!r}"
    return None


@dataclass
class Report:
    """Counts over a run and the failing outcomes."""

    outcomes: list[Outcome]

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.failure]

    def count(self, prefix: str) -> int:
        return sum(1 for o in self.failures if o.failure.startswith(prefix))

    def summary(self) -> str:
        worst = max(self.outcomes, key=lambda o: o.seconds)
        rejected = sum(1 for o in self.outcomes if o.code == 2 and not o.failure)
        kinds = {k: self.count(k) for k in ("traceback", "hang", "slow")}
        other = len(self.failures) - sum(kinds.values())
        return (f"{len(self.outcomes)} cases: {rejected} rejected (exit 2), "
                f"{len(self.outcomes) - rejected - len(self.failures)} valid; failures: "
                f"{kinds['traceback']} tracebacks, {kinds['hang']} hangs, {kinds['slow']} "
                f"slow, {other} other; max {worst.seconds:.2f} s ({worst.case.name})")


def describe(outcome: Outcome) -> str:
    """A failure with everything needed to reproduce it."""
    case = outcome.case
    return (f"{case.name} [{'; '.join(case.mutations)}]: {outcome.failure}\n"
            f"  replay: python scripts/fuzz.py --replay {case.name}")


@contextlib.contextmanager
def spec_folder():
    """A temporary folder holding a copy of every spec, so `extends: dcgan.yaml` resolves."""
    with tempfile.TemporaryDirectory(prefix="ganbuilder-fuzz-") as tmp:
        folder = Path(tmp).resolve()
        for spec in SPECS:
            shutil.copy(spec, folder / spec.name)
        yield folder


def fuzz(cases: int, seed: int = 0, limit: float = 10.0, slow: float = 3.0,
         specs: list[Path] | None = None, on_outcome: Callable[[Outcome], None] | None = None,
         ) -> Report:
    """Run `cases` cases spread evenly over `specs` (default: every file in specs/)."""
    specs = specs or SPECS
    outcomes = []
    with spec_folder() as folder:
        for i in range(cases):
            case = make_case(specs[i % len(specs)], i // len(specs), seed)
            outcome = run_case(case, folder, limit, slow)
            outcomes.append(outcome)
            if on_outcome:
                on_outcome(outcome)
    return Report(outcomes)


def _limit_memory(gib: float) -> None:
    try:
        import resource
    except ImportError:  # Windows
        return
    size = int(gib * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (size, size))


def main(argv: list[str] | None = None) -> int:
    """Command line: run the cases, print each failure and a summary; exit 1 on any failure."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=float, default=10.0, help="seconds before a case hangs")
    parser.add_argument("--slow", type=float, default=3.0, help="seconds that count as slow")
    parser.add_argument("--memory", type=float, default=4.0,
                        help="GiB of address space (a bomb fails with MemoryError, not the OOM "
                             "killer)")
    parser.add_argument("--replay", metavar="SPEC:INDEX", help="print and run one case")
    args = parser.parse_args(argv)
    _limit_memory(args.memory)
    if args.replay:
        spec_name, _, index = args.replay.rpartition(":")
        case = make_case(ROOT / "specs" / spec_name, int(index), args.seed)
        print(f"mutations: {case.mutations}\n--- text ---\n{case.text}--- end ---")
        with spec_folder() as folder:
            outcome = run_case(case, folder, args.limit, args.slow)
        print(outcome.stderr, end="")
        print(outcome.failure or f"ok: exit {outcome.code} in {outcome.seconds:.2f} s")
        return 1 if outcome.failure else 0
    done = [0]

    def progress(outcome: Outcome) -> None:
        done[0] += 1
        if outcome.failure:
            print(describe(outcome), flush=True)
        if done[0] % 500 == 0:
            print(f"... {done[0]} cases", file=sys.stderr, flush=True)

    report = fuzz(args.cases, args.seed, args.limit, args.slow, on_outcome=progress)
    print(report.summary())
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
