"""Deadlines for the database part of requests, enforced by one sweeper per event loop.

`asyncio.timeout()` arms and cancels a timer per request (about 8 µs here, a tenth of a small request's Python
time). Here a request only notes its deadline in a dict (about 0.2 µs); a sweeper wakes every `tick` seconds and
cancels the tasks past theirs. A deadline is therefore kept to within `tick` (0.1 s), which is plenty for a bound
of seconds. The sweeper runs on the loop's own thread, so it only ever finds a task suspended inside its guarded
region: the cancellation lands there, never after the task has left it."""

from __future__ import annotations

import asyncio
import contextlib


class DeadlineExceeded(TimeoutError):
    """The guarded region ran past its deadline and was cancelled."""


class Deadlines:
    def __init__(self, tick: float = 0.1) -> None:
        self.tick = tick
        self._due: dict[asyncio.Task[object], float] = {}
        self._expired: set[asyncio.Task[object]] = set()
        self._sweeper: asyncio.Task[None] | None = None

    def start(self, task: asyncio.Task[object], seconds: float) -> None:
        """Cancel `task` once `seconds` have passed, unless `stop` comes first."""
        loop = asyncio.get_running_loop()
        self._due[task] = loop.time() + seconds
        if self._sweeper is None or self._sweeper.done():
            self._sweeper = loop.create_task(self._sweep())

    def stop(self, task: asyncio.Task[object]) -> bool:
        """Leave the guarded region; True when the task was cancelled for its deadline (its cancel request is
        withdrawn: the caller raises DeadlineExceeded instead)."""
        self._due.pop(task, None)
        if task in self._expired:
            self._expired.discard(task)
            task.uncancel()
            return True
        return False

    async def _sweep(self) -> None:
        loop = asyncio.get_running_loop()
        while self._due:
            await asyncio.sleep(self.tick)
            now = loop.time()
            for task, due in list(self._due.items()):
                if due <= now:
                    del self._due[task]
                    self._expired.add(task)
                    task.cancel()

    async def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
