"""Cooperative pause, resume and stop for a training run, checked between steps."""

from __future__ import annotations

import threading


class Control:
    """Thread-safe switches a UI (or a signal handler) flips while the trainer runs."""

    def __init__(self) -> None:
        self._running = threading.Event()
        self._running.set()
        self._stop = threading.Event()

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def stop(self) -> None:
        self._stop.set()
        self._running.set()  # a paused trainer must wake up to stop

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def wait_while_paused(self, timeout: float | None = None) -> None:
        self._running.wait(timeout)
