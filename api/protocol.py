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
"""

from __future__ import annotations

import asyncio
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


class HttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol over a :class:`CoalescingTransport`."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """uvicorn's connection_made, on the socket's transport wrapped to coalesce writes."""
        super().connection_made(CoalescingTransport(transport, self.loop))  # type: ignore[arg-type]
