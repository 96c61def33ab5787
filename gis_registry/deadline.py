"""Cooperative cancellation of long work: a :class:`Deadline` the caller sets, that the long
loops of the library (the network build, routing, siting) look at with :func:`check`.

A thread cannot be killed, so an analysis that passed its time stops where it next calls
:func:`check` (a :class:`Cancelled` error), and the SQL it is waiting on is cancelled by the
hooks registered with :meth:`Deadline.hook` (e.g. the connection's ``cancel``)::

    deadline = Deadline(30.0)
    with running(deadline), deadline.hook(dbapi_connection.cancel):
        work()          # calls check() in its loops; raises Cancelled past 30 s
    ...
    deadline.cancel()   # from another thread: check() raises, the running query is cancelled

Without a deadline set (the CLI, a notebook) :func:`check` does nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from gis_registry.errors import GisRegistryError


class Cancelled(GisRegistryError):
    """The work passed its deadline or was cancelled; it stopped where it was."""


class Deadline:
    """A point in time (``seconds`` from now; None: never) after which the work should stop,
    and a flag another thread may raise earlier with :meth:`cancel`.

    Parameters
    ----------
    seconds
        Time allowed from now; None for no time limit (only :meth:`cancel` stops the work).
    """

    def __init__(self, seconds: float | None = None) -> None:
        self.seconds = seconds
        self.at = None if seconds is None else time.monotonic() + seconds
        self._cancelled = threading.Event()
        self._lock = threading.Lock()
        self._hooks: list[Callable[[], object]] = []

    @property
    def cancelled(self) -> bool:
        """Whether :meth:`cancel` was called."""
        return self._cancelled.is_set()

    def expired(self) -> bool:
        """Whether the work should stop: cancelled, or past its time."""
        return self._cancelled.is_set() or (self.at is not None and time.monotonic() >= self.at)

    def remaining(self) -> float | None:
        """Seconds left (0 when expired), None without a time limit."""
        if self._cancelled.is_set():
            return 0.0
        return None if self.at is None else max(0.0, self.at - time.monotonic())

    def check(self) -> None:
        """Raise :class:`Cancelled` if the work should stop."""
        if self.expired():
            limit = f" of {self.seconds:g} s" if self.seconds is not None else ""
            raise Cancelled(f"the work was stopped: it passed its time limit{limit}")

    def cancel(self) -> None:
        """Stop the work: :func:`check` raises from now on, and every hook registered (and not
        yet removed) runs once, e.g. to cancel the query the work is waiting on. Thread-safe;
        a hook's error is ignored (the work may have just finished)."""
        with self._lock:
            self._cancelled.set()
            hooks, self._hooks = self._hooks, []
            for hook in hooks:
                try:
                    hook()
                except Exception:  # noqa: BLE001 - a connection closing under us is fine
                    pass

    @contextmanager
    def hook(self, action: Callable[[], object]) -> Iterator[None]:
        """Run ``action`` if the deadline is cancelled while the block runs (never after it:
        a connection's cancel must not reach the next user of the connection)."""
        with self._lock:
            if self._cancelled.is_set():
                action_now = True
            else:
                action_now = False
                self._hooks.append(action)
        if action_now:
            try:
                action()
            except Exception:  # noqa: BLE001
                pass
        try:
            yield
        finally:
            with self._lock:
                if action in self._hooks:
                    self._hooks.remove(action)


_current: ContextVar[Deadline | None] = ContextVar("gis_registry_deadline", default=None)


def current() -> Deadline | None:
    """The deadline of the work running in this context, if any."""
    return _current.get()


@contextmanager
def running(deadline: Deadline | None) -> Iterator[Deadline | None]:
    """Make ``deadline`` the one :func:`check` looks at, for the block (in this thread)."""
    token = _current.set(deadline)
    try:
        yield deadline
    finally:
        _current.reset(token)


def check() -> None:
    """Raise :class:`Cancelled` when the current work passed its deadline or was cancelled;
    nothing without a deadline. Cheap: call it once per round of a long loop."""
    deadline = _current.get()
    if deadline is not None:
        deadline.check()
