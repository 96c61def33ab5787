"""uvicorn's HTTP protocol, sending each response's head and body in one write.

uvicorn writes the status line and headers of a response, then its body, as two writes to
the socket. On a small answer (a feature by id is about 1 KB) that is two system calls where
one would do, and two wake-ups of the client, which reads a response in two halves. Holding
what is written during one turn of the event loop and sending it together at the end of the
turn halves both. A response whose body follows later (a stream) only waits for the end of
the turn in which its head was written; a big body (a page) goes out at once, uncopied.

Measured with the coalesced reads of :mod:`api.batch` (bench/bench_api.py, feature by id,
scale 1): about 12k requests/s before, 15-17k after, with the server's CPU per request down from
about 80 to 60 microseconds.

The protocol also drops a connection that does not finish a request's headers within
``GIS_REGISTRY_API_HEADER_TIMEOUT_S`` (10 s) of its opening or of the request's first byte:
uvicorn itself waits for ever for a client that opens a connection and sends nothing, or half a
request line (its keep-alive timeout only runs between requests).
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

# uvicorn's own protocol class, not public API: pyproject.toml pins uvicorn to the minor release
# this was written against, and tests/api/test_protocol.py checks what is used of it
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

COALESCE_MAX = 16 * 1024  # bytes; a bigger write is sent at once rather than copied into a join


class CoalescingTransport:
    """A transport that sends what is written during one turn of the loop in one write."""

    __slots__ = ("_transport", "_loop", "_pending")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes) -> None:
        """Hold ``data`` until the end of this turn of the loop; a big write goes out now."""
        if len(data) > COALESCE_MAX:
            self.flush()
            self._transport.write(data)
            return
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(bytes(data))  # the caller may reuse its buffer

    def flush(self) -> None:
        """Send what is held, in one write."""
        if self._pending:
            data = b"".join(self._pending)
            self._pending.clear()
            if not self._transport.is_closing():
                self._transport.write(data)

    def get_write_buffer_size(self) -> int:
        """Bytes not yet sent: the socket's buffer and what is held (for flow control)."""
        return self._transport.get_write_buffer_size() + sum(map(len, self._pending))

    def close(self) -> None:
        """Send what is held, then close: as with any transport, what was written goes out."""
        self.flush()
        self._transport.close()

    def write_eof(self) -> None:
        """Send what is held, then end the sending side."""
        self.flush()
        self._transport.write_eof()

    def abort(self) -> None:
        """Close at once, dropping what is held (as a transport's abort drops its buffer)."""
        self._pending.clear()
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:  # everything else is the socket's transport
        return getattr(self._transport, name)


@functools.cache
def header_timeout_s() -> float:
    """``GIS_REGISTRY_API_HEADER_TIMEOUT_S``, read once per process (uvicorn builds the protocol
    from its class name, in every worker, so the setting cannot be handed to it)."""
    from api.settings import ApiSettings

    return ApiSettings().header_timeout_s


class HttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol over a :class:`CoalescingTransport`, with a header timeout.

    The timeout costs nothing per request: no parser callback is overridden (each would be a
    Python call on every request, measurable on the fast read path). Instead one timer per
    connection looks, every quarter of the timeout, at whether the connection is waiting for a
    request's headers, which uvicorn's own state tells: nothing received yet (no ``scope``), or
    a request begun (a new ``scope``) that no cycle serves yet. A wait seen for the timeout
    closes the connection, so a client stalling its headers is dropped between 1 and 1.25
    timeouts after it began.
    """

    _waiting: tuple[int, float] | None = None  # (id of the scope awaited, since when)
    _watch: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """uvicorn's connection_made, on the socket's transport wrapped to coalesce writes;
        the first request's headers are awaited from now."""
        super().connection_made(CoalescingTransport(transport, self.loop))  # type: ignore[arg-type]
        self._waiting = (id(None), self.loop.time())
        self._watch = self.loop.call_later(header_timeout_s() / 4, self._check_headers)

    def connection_lost(self, exc: Exception | None) -> None:
        """uvicorn's connection_lost, and the timer stopped."""
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None
        super().connection_lost(exc)

    def _awaited_scope(self) -> int | None:
        """The id of the scope whose headers are awaited (``id(None)`` before the first
        request), or None when no headers are awaited (a request being served, or an idle
        keep-alive connection, which uvicorn's keep-alive timeout watches)."""
        if self.scope is None:
            return id(None)
        if self.cycle is None or self.cycle.scope is not self.scope:
            return id(self.scope)
        return None

    def _check_headers(self) -> None:
        self._watch = None
        if self.transport.is_closing():
            return
        timeout = header_timeout_s()
        now = self.loop.time()
        awaited = self._awaited_scope()
        if awaited is None:
            self._waiting = None
        elif self._waiting is None or self._waiting[0] != awaited:
            self._waiting = (awaited, now)  # begun since the last look
        elif now - self._waiting[1] >= timeout:
            self.transport.close()  # nothing to answer: no request was read
            return
        self._watch = self.loop.call_later(timeout / 4, self._check_headers)
