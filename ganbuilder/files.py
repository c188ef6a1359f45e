"""Every file a command writes or reads whole goes through here.

Writes: into a uniquely named temporary file in the target's folder, flushed to disk (fsync),
then renamed over the target, so the target is always either the old file or the complete new
one, and two writers never share a temporary name. `check_target` says whether a command may
write a path at all: never over one of its inputs (compared by file identity, device and inode,
so a hard link or a symlink to an input is caught), and over any other existing file only with
`--force`. Errors of the operating system (no space, read-only, not a folder, permission, a
symlink loop) become one UserError naming the file, which the CLI prints as one line, exit 2.

Reads: `read_bounded` takes regular files (and pipes, for `<(...)`) up to a size limit; a
device, a socket or a FIFO in a data folder is never opened, so nothing hangs or reads forever.

Nothing here imports torch, so `validate` stays light; every layer may import this module.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import stat
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO

from ganbuilder.errors import UserError

# What each error number means to a user; the OS's own words (strerror) follow.
_REASONS = {
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EISDIR: "it is a folder",
    errno.ELOOP: "a symlink loop",
    errno.ENAMETOOLONG: "the name is too long",
    errno.ENOENT: "no such file or folder",
    errno.EEXIST: "it exists",
    errno.EFBIG: "the file is too large",
    errno.EIO: "an input/output error",
}


def os_reason(exc: OSError) -> str:
    """The cause of an operating-system error in a user's words."""
    return _REASONS.get(exc.errno or 0) or exc.strerror or str(exc) or type(exc).__name__


def os_error(exc: OSError, action: str, path: str | Path) -> UserError:
    """One located message for an OSError met while `action` (write, read, create) `path`."""
    return UserError(f"cannot {action} {path}: {os_reason(exc)}")


def real_path(path: str | Path) -> Path:
    """`path` absolute with symlinks followed, as far as they go: a symlink loop stays as it
    is (Path.resolve raises RuntimeError there), for the read or write to report."""
    return Path(os.path.realpath(path))


def identity(path: str | Path) -> tuple[int, int] | None:
    """A file's (device, inode), following symlinks; None when it does not exist or cannot
    be reached."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return st.st_dev, st.st_ino


def same_file(path: str | Path, others: Iterable[str | Path]) -> Path | None:
    """The first of `others` that is the same file as `path` (a hard link, a symlink or the
    path itself), else None."""
    mine = identity(path)
    if mine is None:
        return None
    return next((Path(o) for o in others if identity(o) == mine), None)


def check_target(path: str | Path, force: bool, inputs: Iterable[str | Path] = (),
                 flag: str = "--out", command: str = "ganbuilder") -> None:
    """Refuse to write `path` when it is a folder, one of `inputs` (by identity, even with
    `force`), or an existing file without `force`."""
    path = Path(path)
    try:
        if path.is_dir():
            raise UserError(f"{flag} {path} is a folder: name the file to write")
    except OSError as exc:
        raise os_error(exc, "write", path) from None
    hit = same_file(path, inputs)
    if hit is not None:
        same = "" if str(hit) == str(path) else f" (the same file as {hit})"
        raise UserError(f"{flag} {path} is one of the inputs{same}: {command} never writes "
                        "over its inputs")
    if not force and (path.exists() or path.is_symlink()):
        raise UserError(f"{path} exists: pass --force to replace it")


def _blocker(folder: Path) -> Path:
    """The part of `folder` that exists but is no folder (a file, a dangling symlink)."""
    for part in [*reversed(folder.parents), folder]:
        if (part.exists() or part.is_symlink()) and not part.is_dir():
            return part
    return folder


def _not_a_folder(folder: Path) -> str:
    part = _blocker(folder)
    if part.is_symlink() and not part.exists():
        return f"{part} is a symlink that leads nowhere (or round in a loop)"
    return f"{part} is a file, not a folder"


def ensure_folder(folder: str | Path, what: str = "folder", action: str = "") -> Path:
    """Create `folder` (and its parents); an OSError becomes a UserError naming it (and
    `action`, "write x.png", when given)."""
    folder = Path(folder)
    action = action or f"create the {what} {folder}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise UserError(f"cannot {action}: {_not_a_folder(folder)}") from None
    except OSError as exc:
        raise UserError(f"cannot {action}: {os_reason(exc)}") from None
    if not folder.is_dir():
        raise UserError(f"cannot {action}: {_not_a_folder(folder)}")
    return folder


def _write(file: BinaryIO, data: bytes | memoryview, target: Path) -> None:
    """The one place bytes reach a file, on their way to `target` (the fault-injection
    suite, scripts/faults.py, fails it on purpose)."""
    view = memoryview(data)
    while view:  # an unbuffered file may take part of it
        written = file.write(view)
        view = view[written if written is not None else len(view):]


class _Sink:
    """A binary file object for writer functions (PIL, numpy, torch, onnx) whose every
    write goes through `_write`."""

    def __init__(self, file: BinaryIO, target: Path):
        self.file, self.target = file, target

    def write(self, data: bytes) -> int:
        view = memoryview(data).cast("B")
        _write(self.file, data if isinstance(data, bytes) else view.tobytes(), self.target)
        return view.nbytes

    def flush(self) -> None:
        self.file.flush()

    def tell(self) -> int:
        return self.file.tell()

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.file.seek(offset, whence)

    def seekable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    def read(self, size: int = -1) -> bytes:
        raise io.UnsupportedOperation("read")  # (numpy tells files from paths by `read`)

    def fileno(self) -> int:
        raise io.UnsupportedOperation("fileno")  # so that writers (PIL) keep to write()

    def close(self) -> None:
        """Closed by write_file, not by the writer."""

    @property
    def closed(self) -> bool:
        return False


def write_file(path: str | Path,
               content: bytes | memoryview | str | Callable[[BinaryIO], object]) -> Path:
    """Write `content` (bytes, text as UTF-8, or a function writing to a binary file) to
    `path` atomically: a unique temporary file beside it, fsync, rename over `path`. On any
    failure `path` is as it was and the temporary file is gone; an OSError is a UserError."""
    path = Path(path)
    folder = ensure_folder(path.parent, action=f"write {path}")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name[:80]}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise os_error(exc, "write", path) from None
    try:
        with os.fdopen(fd, "wb") as file:
            os.fchmod(file.fileno(), _mode_for(path))
            if callable(content):
                content(_Sink(file, path))
            else:
                _write(file, content.encode("utf-8") if isinstance(content, str) else content,
                       path)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        _remove_quietly(tmp)
        if isinstance(exc, OSError):
            raise os_error(exc, "write", path) from None
        raise
    _sync_folder(folder)
    return path


class Appender:
    """A log file (metrics.jsonl) appended line by line, unbuffered: a line is added whole or
    not at all (a failed write is cut off again), and an OSError is a located UserError."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        ensure_folder(self.path.parent, action=f"write {self.path}")
        try:
            self.file: BinaryIO | None = open(self.path, "ab", buffering=0)  # noqa: SIM115
        except OSError as exc:
            raise os_error(exc, "write", self.path) from None

    def write_line(self, text: str) -> None:
        """Append one line (a newline is added)."""
        assert self.file is not None
        end = self.file.seek(0, os.SEEK_END)
        try:
            _write(self.file, (text + "\n").encode("utf-8"), self.path)
        except OSError as exc:
            with contextlib.suppress(OSError):  # no half line for a reader to trip over
                os.truncate(self.file.fileno(), end)
            raise os_error(exc, "write", self.path) from None

    def close(self) -> None:
        """Close the file; a failure to flush its last line is reported."""
        if self.file is not None:
            file, self.file = self.file, None
            try:
                file.close()
            except OSError as exc:
                raise os_error(exc, "write", self.path) from None


def remove_file(path: str | Path) -> None:
    """Delete one file; an OSError is a located UserError."""
    try:
        Path(path).unlink(missing_ok=True)
    except OSError as exc:
        raise os_error(exc, "remove", path) from None


def _mode_for(path: Path) -> int:
    """The permissions a replaced file keeps, or a new file's (0666 less the umask), where
    mkstemp would leave 0600."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        umask = os.umask(0o022)
        os.umask(umask)
        return 0o666 & ~umask


def _remove_quietly(path: str | Path) -> None:
    # Its folder itself may be gone or read-only: the error being raised says why.
    with contextlib.suppress(OSError):
        os.unlink(path)


def _sync_folder(folder: Path) -> None:
    """Flush the rename to disk, where the platform allows opening a folder."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# -- reading -----------------------------------------------------------------------------------

MAX_TEXT_BYTES = 16 * 2**20  # a spec or a list file; a larger "spec" is something else


def is_regular(path: str | Path) -> bool:
    """Whether `path` is a regular file (following symlinks); a FIFO, a device, a socket, a
    folder, a symlink loop or a missing file is not."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def is_pipe(path: str | Path) -> bool:
    """Whether `path` is a pipe (a FIFO, or a shell's `<(...)`)."""
    try:
        return stat.S_ISFIFO(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def read_bounded(path: str | Path, limit: int = MAX_TEXT_BYTES, what: str = "file",
                 pipes: bool = False) -> bytes:
    """The bytes of a regular file (or, with `pipes`, a pipe such as `<(cat spec.yaml)`) of
    at most `limit` bytes; anything else is a UserError that says what the path is."""
    path = Path(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise UserError(f"{what} not found: {path}") from None
    except OSError as exc:
        raise os_error(exc, "read", path) from None
    if stat.S_ISDIR(mode):
        raise UserError(f"{path} is a folder, not a {what}")
    if not (stat.S_ISREG(mode) or (pipes and stat.S_ISFIFO(mode))):
        kind = ("a pipe" if stat.S_ISFIFO(mode) else "a device" if stat.S_ISCHR(mode)
                or stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode) else "special")
        raise UserError(f"{path} is {kind}, not a regular file: cannot read it as a {what}")
    try:
        with open(path, "rb") as f:
            data = f.read(limit + 1)
    except OSError as exc:
        raise os_error(exc, "read", path) from None
    if len(data) > limit:
        raise UserError(f"{path} is larger than {limit // 2**20} MiB: not a {what}")
    return data


__all__ = [
    "MAX_TEXT_BYTES",
    "Appender",
    "check_target",
    "ensure_folder",
    "identity",
    "is_pipe",
    "is_regular",
    "os_error",
    "os_reason",
    "read_bounded",
    "real_path",
    "remove_file",
    "same_file",
    "write_file",
]
