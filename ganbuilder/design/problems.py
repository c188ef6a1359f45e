"""Where the designer shows a spec's problems: marked lines of the text, and a "where" column."""

from __future__ import annotations

from ganbuilder.errors import Problem


def problem_marks(problems: list[Problem], file: str) -> dict[int, list[str]]:
    """1-based lines of `file` that problems point at, each with its messages
    (`spec.path: message`) in the order given; problems elsewhere mark nothing."""
    marks: dict[int, list[str]] = {}
    for problem in problems:
        loc = problem.location
        if loc is not None and loc.file == file:
            marks.setdefault(loc.line, []).append(
                f"{problem.path}: {problem.message}" if problem.path else problem.message)
    return marks


def problem_where(problem: Problem, file: str) -> str:
    """`line:col` for a problem in `file`, `other.yaml:line:col` in another file, else `—`."""
    loc = problem.location
    if loc is None:
        return "—"
    if loc.file == file:
        return f"{loc.line}:{loc.col}"
    return f"{loc.file}:{loc.line}:{loc.col}"


def count_problems(count: int) -> str:
    """`1 problem`, `3 problems`."""
    return f"{count} problem{'s' * (count != 1)}"


__all__ = ["count_problems", "problem_marks", "problem_where"]
