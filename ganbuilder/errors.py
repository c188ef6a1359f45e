"""User-facing errors: each carries where in the spec (or which file) the problem is."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    """A position in a text file, 1-based line and column."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


_LINE_BREAKS = {ord(c): repr(c)[1:-1] for c in "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a spec: its spec path, its location if known, and the message."""

    path: str
    message: str
    location: Location | None = None
    written: str = ""  # the path as the user wrote it, where block expansion moved it

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        shown = self.written or self.path
        path = f"{shown}: " if shown else ""
        # One problem, one line: a message quoting the user's text may hold line breaks.
        return f"{where}{path}{self.message}".translate(_LINE_BREAKS)


class UserError(Exception):
    """An error caused by the user's input (spec, data, checkpoint, flags): exit code 2."""

    def __init__(self, message: str, path: str = "", location: Location | None = None):
        self.problems = [Problem(path, message, location)]
        super().__init__(str(self.problems[0]))


class SpecError(UserError):
    """One or more problems found in a spec; all of them are reported at once."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(
            problems,
            key=lambda p: (p.location.file, p.location.line, p.location.col)
            if p.location
            else ("~", 0, 0),
        )
        Exception.__init__(self, "\n".join(str(p) for p in self.problems))


class DataError(UserError):
    """Missing, empty or unreadable data; `path` names the spec key that points at it."""


class CheckpointError(UserError):
    """A checkpoint that is missing, corrupt or belongs to another spec."""
