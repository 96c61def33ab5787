"""The server's HTTP protocol (api.protocol): what one turn of the event loop writes goes out as
one write, in order, and nothing written is lost on close; over a real connection, every
response arrives whole."""

from __future__ import annotations

import asyncio
import gzip
import json
import socket

import httpx
import pytest

from api.protocol import COALESCE_MAX, CoalescingTransport


class RecordingTransport(asyncio.Transport):
    """The socket end: records each write it is given."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False
        self.aborted = False

    def write(self, data) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed or self.aborted

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True

    def get_write_buffer_size(self) -> int:
        return 0


def turns(*steps):
    """Run each step in a turn of its own of a fresh loop; return the socket end."""

    async def main():
        sock = RecordingTransport()
        transport = CoalescingTransport(sock, asyncio.get_running_loop())
        for step in steps:
            step(transport, sock)
            await asyncio.sleep(0)  # the end of the turn
            await asyncio.sleep(0)
        return sock

    return asyncio.run(main())


def test_writes_of_one_turn_go_out_as_one_write_at_its_end():
    seen_during_turn = []

    def respond(t, sock):
        t.write(b"HTTP/1.1 200 OK\r\n\r\n")
        t.write(bytearray(b"body"))
        assert t.get_write_buffer_size() == len(b"HTTP/1.1 200 OK\r\n\r\nbody")
        seen_during_turn.extend(sock.writes)

    def again(t, sock):
        t.write(b"second")

    sock = turns(respond, again)
    assert seen_during_turn == []  # held until the end of the turn
    assert sock.writes == [b"HTTP/1.1 200 OK\r\n\r\nbody", b"second"]


def test_a_big_write_goes_out_at_once_after_what_was_held():
    big = b"x" * (COALESCE_MAX + 1)
    sock = turns(lambda t, s: (t.write(b"head"), t.write(big), t.write(b"tail")))
    assert sock.writes == [b"head", big, b"tail"]


def test_close_sends_what_was_held_first_and_abort_drops_it():
    sock = turns(lambda t, s: (t.write(b"last words"), t.close()))
    assert sock.writes == [b"last words"] and sock.closed
    sock = turns(lambda t, s: (t.write(b"dropped"), t.abort()))
    assert sock.writes == [] and sock.aborted


def http_exchange(base: str, requests: list[bytes]) -> bytes:
    """Send raw HTTP/1.1 requests on one connection (pipelined) and read until it closes."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(b"".join(requests))
        chunks = []
        while data := conn.recv(65536):
            chunks.append(data)
    return b"".join(chunks)


def test_pipelined_responses_arrive_whole_and_in_order(live_server):
    """Small, big (over COALESCE_MAX), error and gzipped answers on one keep-alive connection:
    each arrives complete, in the order asked, and the last closes the connection."""
    feature = httpx.get(f"{live_server}/collections/roads/items?limit=1").json()["features"][0]

    def get(path: str, *headers: str) -> bytes:
        lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", *headers]
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    paths = [
        get(f"/collections/roads/items/{feature['id']}"),
        get("/collections/roads/items?limit=200"),
        get("/collections/no_such_layer"),
        get("/collections/roads/items?limit=200", "Accept-Encoding: gzip"),
        get("/conformance", "Connection: close"),
    ]
    raw = http_exchange(live_server, paths)
    answers = []
    while raw:
        head, _, rest = raw.partition(b"\r\n\r\n")
        status = int(head.split(b" ")[1])
        fields = dict(
            line.decode().lower().split(": ", 1) for line in head.split(b"\r\n")[1:] if line
        )
        length = int(fields["content-length"])
        body, raw = rest[:length], rest[length:]
        assert len(body) == length
        if fields.get("content-encoding") == "gzip":
            body = gzip.decompress(body)
        answers.append((status, json.loads(body)))
    assert [status for status, _ in answers] == [200, 200, 404, 200, 200]
    assert answers[0][1]["id"] == feature["id"]
    assert len(answers[1][1]["features"]) == answers[1][1]["numberReturned"] > 1
    assert len(json.dumps(answers[1][1]).encode()) > COALESCE_MAX
    assert answers[2][1]["status"] == 404

    # the same page, gzipped; timeStamp may fall on either side of a second's boundary
    def same_page(answer: dict) -> dict:
        return {k: v for k, v in answer.items() if k != "timeStamp"}

    assert same_page(answers[3][1]) == same_page(answers[1][1])
    assert "conformsTo" in answers[4][1]


# -- the contract with uvicorn's private protocol class ----------------------------------------
# api/protocol.py subclasses uvicorn.protocols.http.httptools_impl.HttpToolsProtocol, which is not
# public API: pyproject.toml pins uvicorn to the minor release it was written against. These tests
# say which part of the class moved when a new uvicorn breaks that contract.

# What uvicorn's protocol (and the helpers it hands the transport to) may call on the transport.
# CoalescingTransport holds writes, so a new way of writing (writelines, say) would bypass it and
# send bytes out of order: it must be added to CoalescingTransport before being allowed here.
TRANSPORT_CALLS = {
    "write",
    "close",
    "is_closing",
    "set_protocol",
    "get_extra_info",
    "pause_reading",
    "resume_reading",
    "abort",
    "write_eof",
    "get_write_buffer_size",
}


def broken(what: str) -> str:
    import uvicorn

    return (
        f"api/protocol.py relies on uvicorn's private HttpToolsProtocol, and {what} "
        f"(uvicorn {uvicorn.__version__}): adapt api/protocol.py, or keep uvicorn within the range "
        "pinned in pyproject.toml"
    )


def private_protocol_class() -> type:
    try:
        from uvicorn.protocols.http import httptools_impl
    except ImportError as exc:
        pytest.fail(broken(f"uvicorn.protocols.http.httptools_impl no longer imports: {exc}"))
    cls = getattr(httptools_impl, "HttpToolsProtocol", None)
    if not (isinstance(cls, type) and issubclass(cls, asyncio.Protocol)):
        pytest.fail(broken("httptools_impl.HttpToolsProtocol is gone or no asyncio.Protocol"))
    return cls


def test_uvicorn_private_protocol_has_what_api_protocol_relies_on():
    import inspect
    import re

    from uvicorn.protocols import utils
    from uvicorn.protocols.http import flow_control, httptools_impl

    from api.protocol import HttpProtocol

    cls = private_protocol_class()
    assert issubclass(HttpProtocol, cls), broken("api.protocol.HttpProtocol no longer extends it")
    init = list(inspect.signature(cls.__init__).parameters)
    assert init[:5] == ["self", "config", "server_state", "app_state", "_loop"], broken(
        f"its __init__ now takes {init}"
    )
    made = inspect.signature(cls.connection_made)
    assert list(made.parameters) == ["self", "transport"], broken(
        f"connection_made now takes {list(made.parameters)}"
    )
    # the header timeout (api.protocol) reads uvicorn's per-request state and stops its timer in
    # connection_lost: a new ``scope`` at each request's first byte, a cycle serving that scope
    # once its headers are in
    lost = getattr(cls, "connection_lost", None)
    assert callable(lost), broken("it no longer has connection_lost")
    assert list(inspect.signature(lost).parameters) == ["self", "exc"], broken(
        "connection_lost changed its parameters"
    )
    assert re.search(r"self\.scope\s*=", inspect.getsource(cls.on_message_begin)), broken(
        "on_message_begin no longer sets self.scope"
    )
    headers_complete = inspect.getsource(cls.on_headers_complete)
    assert re.search(r"self\.cycle\s*=\s*RequestResponseCycle\(", headers_complete), broken(
        "on_headers_complete no longer sets self.cycle"
    )
    assert "scope=self.scope" in headers_complete, broken("the cycle no longer takes self.scope")
    for name in ("scope", "cycle"):
        assert re.search(rf"self\.{name}\b.*=\s*None", inspect.getsource(cls.__init__)), broken(
            f"its __init__ no longer starts self.{name} as None"
        )
    # self.loop, which CoalescingTransport schedules its flush on, is set in __init__
    assert re.search(r"self\.loop\s*=", inspect.getsource(cls.__init__)), broken(
        "its __init__ no longer sets self.loop"
    )
    calls = set()
    for module in (httptools_impl, flow_control, utils):
        calls |= set(re.findall(r"transport\.(\w+)\(", inspect.getsource(module)))
    assert calls <= TRANSPORT_CALLS, broken(
        f"it now calls transport.{', transport.'.join(sorted(calls - TRANSPORT_CALLS))}, "
        "which CoalescingTransport does not handle"
    )


def test_our_protocol_answers_through_the_coalescing_transport():
    """HttpProtocol, built the way uvicorn builds it, answers a request in one write."""
    from uvicorn.config import Config
    from uvicorn.server import ServerState

    from api.protocol import HttpProtocol

    async def app(scope, receive, send):
        headers = [(b"content-length", b"5")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"hello"})

    class Socket(RecordingTransport):
        def get_extra_info(self, name, default=None):
            return {"peername": ("127.0.0.1", 50000), "sockname": ("127.0.0.1", 8000)}.get(
                name, default
            )

        def pause_reading(self) -> None:
            pass

        def resume_reading(self) -> None:
            pass

    async def main():
        config = Config(app, http="api.protocol:HttpProtocol", lifespan="off", log_level="error")
        config.load()
        assert config.http_protocol_class is HttpProtocol, broken(
            "uvicorn's Config no longer loads http='api.protocol:HttpProtocol'"
        )
        loop = asyncio.get_running_loop()
        sock = Socket()
        try:
            protocol = HttpProtocol(
                config=config, server_state=ServerState(), app_state={}, _loop=loop
            )
        except TypeError as exc:
            pytest.fail(broken(f"it can no longer be built as uvicorn builds it: {exc}"))
        assert protocol.loop is loop, broken("self.loop is not the server's loop")
        protocol.connection_made(sock)
        assert isinstance(protocol.transport, CoalescingTransport), broken(
            "connection_made no longer keeps the transport it is given"
        )
        protocol.data_received(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        for _ in range(50):
            await asyncio.sleep(0.01)
            if sock.closed:
                break
        return sock

    sock = asyncio.run(main())
    assert len(sock.writes) == 1, broken(f"a response went out in {len(sock.writes)} writes")
    head, _, body = sock.writes[0].partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and body == b"hello"
