"""The server's HTTP protocol (api.protocol): what one turn of the event loop writes goes out as
one write, in order, and nothing written is lost on close; over a real connection, every
response arrives whole."""

from __future__ import annotations

import asyncio
import gzip
import json
import socket

import httpx

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
    assert answers[3][1] == answers[1][1]
    assert "conformsTo" in answers[4][1]
