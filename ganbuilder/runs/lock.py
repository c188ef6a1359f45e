"""One process owns a run folder while it trains there: `run.lock` holds its pid and host.

A second writer (another `run`, a `run --resume` into the same folder, the app) is refused by
name; a lock left by a process that is gone (killed, crashed) is taken over, with a note.
Nothing here imports torch.
"""

from __future__ import annotations

import contextlib
import os
import socket
import warnings
from pathlib import Path

from ganbuilder.errors import UserError
from ganbuilder.files import ensure_folder, os_error

LOCK_NAME = "run.lock"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's live process
    except OSError:
        return False
    return True


def _read(path: Path) -> tuple[int, str] | None:
    """The (pid, host) a lock file names; None when there is none or it cannot be read."""
    try:
        words = path.read_text(encoding="utf-8").split()
        return int(words[0]), (words[1] if len(words) > 1 else "")
    except (OSError, ValueError, IndexError, UnicodeDecodeError):
        return None


class RunLock:
    """The lock of one run folder: `check` refuses a folder another process trains in,
    `acquire` takes it (creating the folder), `release` gives it back."""

    def __init__(self, run_dir: str | Path):
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / LOCK_NAME
        self.held = False

    def owner(self) -> tuple[int, str] | None:
        """The live process (pid, host) that holds the folder, other than this one."""
        found = _read(self.path)
        if found is None:
            return None
        pid, host = found
        if host and host != socket.gethostname():
            return found  # another machine's process: it cannot be checked from here
        if pid == os.getpid() or not _alive(pid):
            return None
        return found

    def check(self) -> None:
        """Refuse, by name, a folder a live process trains in."""
        found = self.owner()
        if found is not None:
            pid, host = found
            where = f" on {host}" if host and host != socket.gethostname() else ""
            raise UserError(f"{self.run_dir} is in use by another training run (process "
                            f"{pid}{where}, {self.path}): wait for it to finish or stop it, "
                            "or choose another --out (if that process trains nothing, delete "
                            "the lock file)")

    def acquire(self) -> None:
        """Own the folder, or raise UserError naming the process that does."""
        ensure_folder(self.run_dir, "run folder")
        mine = f"{os.getpid()} {socket.gethostname()}\n"
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                self.check()
                stale = _read(self.path)
                if stale is not None and stale[0] != os.getpid():
                    warnings.warn(f"{self.run_dir}: process {stale[0]}, which trained here, "
                                  "is gone; this run takes the folder over", stacklevel=2)
                try:
                    self.path.unlink()
                except FileNotFoundError:
                    pass
                except OSError as exc:
                    raise os_error(exc, "take over the lock", self.path) from None
                continue
            except OSError as exc:
                raise os_error(exc, "create the lock", self.path) from None
            try:
                os.write(fd, mine.encode())
            except OSError as exc:
                os.close(fd)
                self.path.unlink(missing_ok=True)
                raise os_error(exc, "write", self.path) from None
            os.close(fd)
            self.held = True
            return
        self.check()  # lost every race: someone else holds it now
        raise UserError(f"{self.run_dir}: could not take the run folder's lock {self.path}")

    def release(self) -> None:
        """Give the folder back (only a lock this process holds)."""
        if not self.held:
            return
        self.held = False
        found = _read(self.path)
        if found is not None and found[0] == os.getpid():
            # A read-only or vanished folder: a dead pid's lock is taken over later.
            with contextlib.suppress(OSError):
                self.path.unlink()
