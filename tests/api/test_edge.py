"""The HTTP edge: request bodies bounded while they are received (413 before parsing and before
authentication), an unexpected error that leaves its keep-alive connection usable, header and
idle timeouts, one log line per refused request during an outage with no internal address in
the answer, and links built from the configured public URL rather than the Host header."""

from __future__ import annotations

import json
import logging
import os
import socket
import sys
import time
from collections.abc import Iterator

import pytest

from api.app import Service
from gis_registry.server import free_port
from tests.api.conftest import JWT_SECRET, ROOT, auth, make_client
from tests.fixtures.servers import serving

pytestmark = pytest.mark.db

MIB = 1024 * 1024
HEADER_TIMEOUT_S = 1.0
KEEP_ALIVE_S = 1.0


def app_with_a_fault() -> Service:
    """The service (its database from the environment) with one more route, ``/fault``, that
    fails the way no handler expects: the server the keep-alive test runs."""
    from api.app import create_app
    from api.settings import ApiSettings

    app = create_app(ApiSettings(jwt_secret=JWT_SECRET))

    def fault() -> None:
        raise RuntimeError("an error no handler maps")

    app.add_api_route("/fault", fault)
    return app


@pytest.fixture(scope="module")
def edge_server(api_url) -> Iterator[tuple[str, int, int]]:
    """``python -m api.serve`` on the API world, with short header and idle timeouts; yields
    (host, port, the server's process id)."""
    port = free_port()
    env = {
        **os.environ,
        "GIS_REGISTRY_DATABASE_URL": api_url,
        "GIS_REGISTRY_API_HEADER_TIMEOUT_S": str(HEADER_TIMEOUT_S),
        "GIS_REGISTRY_API_KEEP_ALIVE_S": str(KEEP_ALIVE_S),
    }
    command = [sys.executable, "-m", "api.serve", "--port", str(port)]
    with serving(
        [*command, "--app", "tests.api.test_edge:app_with_a_fault"],
        ready_url=f"http://127.0.0.1:{port}/conformance",
        what="the API server",
        env=env,
        cwd=ROOT,
    ) as proc:
        yield "127.0.0.1", port, proc.pid


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 response with a Content-Length: (status, headers, body)."""
    raw = b""
    while b"\r\n\r\n" not in raw:
        data = sock.recv(65536)
        if not data:
            raise ConnectionError(f"closed before a response was complete: {raw!r}")
        raw += data
    head, _, body = raw.partition(b"\r\n\r\n")
    fields = dict(line.decode().lower().split(": ", 1) for line in head.split(b"\r\n")[1:])
    length = int(fields["content-length"])
    while len(body) < length:
        data = sock.recv(65536)
        if not data:
            raise ConnectionError("closed in the middle of a body")
        body += data
    return int(head.split(b" ")[1]), fields, body


def peak_rss(pid: int) -> int:
    """The process' peak resident memory so far (VmHWM), in bytes."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def closed_within(sock: socket.socket, seconds: float) -> float | None:
    """How long until the server closes ``sock`` (None if it is still open after ``seconds``)."""
    start = time.monotonic()
    sock.settimeout(seconds)
    try:
        while sock.recv(65536):
            pass
    except TimeoutError:
        return None
    except ConnectionResetError:
        pass
    return time.monotonic() - start


# -- bodies ------------------------------------------------------------------------------------


def test_a_declared_huge_body_is_refused_at_once_unread_and_unauthenticated(edge_server):
    """An anonymous POST declaring 200 MB to /admin/users gets its 413 without the server
    waiting for (or keeping) the body; the server's memory does not grow."""
    host, port, pid = edge_server
    head = (
        "POST /admin/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {200 * MIB}\r\n\r\n"
    ).encode()

    def post(megabytes: int) -> tuple[int, dict[str, str], bytes, float]:
        with socket.create_connection((host, port), timeout=5) as sock:
            start = time.monotonic()
            sock.sendall(head)
            for _ in range(megabytes * 16):  # this much of it really sent
                sock.sendall(b"x" * 65536)
            return (*read_response(sock), time.monotonic() - start)

    post(0)  # the first refusal warms the code path up
    before = peak_rss(pid)
    status, fields, body, took = post(4)
    assert status == 413, body
    assert fields["content-type"] == "application/problem+json"
    problem = json.loads(body)
    assert problem["code"] == "PayloadTooLarge" and "64 KiB" in problem["detail"]
    assert took < 3
    assert peak_rss(pid) - before < 4 * MIB


def test_a_streamed_body_is_refused_once_past_the_limit_and_memory_stays_flat(edge_server):
    """A chunked body (no length declared) is counted as it arrives: 32 MB sent to
    /admin/users get a 413, and the server's peak memory does not move."""
    host, port, pid = edge_server

    def post_chunked(megabytes: int) -> tuple[int, bytes]:
        with socket.create_connection((host, port), timeout=10) as sock:
            sock.sendall(
                b"POST /admin/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n"
            )
            chunk = b"%x\r\n" % 65536 + b"x" * 65536 + b"\r\n"
            for _ in range(megabytes * 16):
                sock.sendall(chunk)
            sock.sendall(b"0\r\n\r\n")
            status, _, body = read_response(sock)
            return status, body

    post_chunked(1)  # the first refusal warms the code path up
    before = peak_rss(pid)
    status, body = post_chunked(32)
    assert status == 413, body
    assert json.loads(body)["code"] == "PayloadTooLarge"
    assert peak_rss(pid) - before < 4 * MIB


def test_a_feature_write_over_20_mib_is_413_and_under_it_is_read(client, keys, world):
    """Feature writes keep their 20 MiB: one byte more is a 413 (it was a 400), declared or
    streamed; a body within the limit reaches validation as before."""
    headers = {**auth(keys["editor_sao"]), "Content-Type": "application/geo+json"}
    r = client.post("/collections/roads/items", content=b" " * (20 * MIB + 1), headers=headers)
    assert r.status_code == 413, r.text
    assert r.json()["code"] == "PayloadTooLarge" and "20 MiB" in r.json()["detail"]

    def stream() -> Iterator[bytes]:
        for _ in range(21):
            yield b" " * MIB

    r = client.post("/collections/roads/items", content=stream(), headers=headers)
    assert r.status_code == 413, r.text
    r = client.post("/collections/roads/items", content=b"{" + b" " * MIB, headers=headers)
    assert r.status_code == 400 and r.json()["code"] == "InvalidBody"


def test_small_bodies_still_work(client):
    """The small limit leaves ordinary bodies alone: a bad key still gets its 401 (not 413)."""
    r = client.post(
        "/auth/token",
        data={"grant_type": "client_credentials", "client_secret": "not-a-key"},
    )
    assert r.status_code in (400, 401), r.text


# -- errors and connections --------------------------------------------------------------------


def test_an_unexpected_error_keeps_the_keep_alive_connection_usable(edge_server):
    """An unmapped error is a 500 problem+json, and the next request on the same keep-alive
    connection is answered (it used to be reset: the server closed without saying so)."""
    host, port, _ = edge_server
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(b"GET /fault HTTP/1.1\r\nHost: x\r\n\r\n")
        status, fields, body = read_response(sock)
        assert status == 500 and fields["content-type"] == "application/problem+json"
        problem = json.loads(body)
        assert problem["code"] == "ServerError" and problem["request_id"]
        assert "an error no handler maps" not in body.decode()
        if fields.get("connection") == "close":  # the other honest answer: say so, then close
            return
        sock.sendall(b"GET /conformance HTTP/1.1\r\nHost: x\r\n\r\n")
        status, _, body = read_response(sock)
        assert status == 200 and "conformsTo" in json.loads(body)


def test_a_connection_that_never_finishes_its_headers_is_dropped(edge_server):
    """Half a request line, or nothing at all: closed after the header timeout."""
    host, port, _ = edge_server
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(b"GET /conformance HT")
        took = closed_within(sock, HEADER_TIMEOUT_S + 3)
    assert took is not None and took < HEADER_TIMEOUT_S + 1.5
    with socket.create_connection((host, port), timeout=5) as sock:
        took = closed_within(sock, HEADER_TIMEOUT_S + 3)
    assert took is not None and took < HEADER_TIMEOUT_S + 1.5
    # a second request on a kept-alive connection gets the same deadline
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(b"GET /conformance HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_response(sock)[0] == 200
        sock.sendall(b"GET /conformance HTTP/1.1\r\nHo")
        took = closed_within(sock, HEADER_TIMEOUT_S + 3)
    assert took is not None and took < HEADER_TIMEOUT_S + 1.5


def test_a_slow_but_steady_client_is_not_cut_off_before_the_header_timeout(edge_server):
    """Headers arriving in pieces within the timeout are answered."""
    host, port, _ = edge_server
    with socket.create_connection((host, port), timeout=5) as sock:
        for piece in (b"GET /confor", b"mance HTTP/1.1\r\n", b"Host: x\r\n", b"\r\n"):
            sock.sendall(piece)
            time.sleep(HEADER_TIMEOUT_S / 8)
        assert read_response(sock)[0] == 200


def test_an_idle_keep_alive_connection_is_closed_after_the_configured_time(edge_server):
    host, port, _ = edge_server
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(b"GET /conformance HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_response(sock)[0] == 200
        took = closed_within(sock, KEEP_ALIVE_S + 4)
    assert took is not None and took < KEEP_ALIVE_S + 1.5


# -- outages -----------------------------------------------------------------------------------


@pytest.fixture()
def outage_client():
    """The service on a database that is not there (a closed port)."""
    port = free_port()
    with make_client(f"postgresql://registry@127.0.0.1:{port}/registry") as c:
        yield c, port


def test_an_outage_logs_one_line_per_refused_request_and_tells_no_address(
    outage_client, caplog, keys
):
    client, port = outage_client
    requests = [
        ("/collections/roads/items?limit=2", {}),  # the fast read path
        ("/collections/roads/items/1", {}),
        ("/collections/roads", {}),
        ("/auth/me", auth(keys["admin"])),  # authentication's own engine
    ]
    caplog.set_level(logging.INFO)
    for n, (path, headers) in enumerate(requests):
        caplog.clear()
        r = client.get(path, headers={**headers, "X-Request-ID": f"outage-{n}"})
        assert r.status_code == 503, (path, r.text)
        problem = r.json()
        assert problem["request_id"] == f"outage-{n}" == r.headers["x-request-id"]
        for leak in (str(port), "127.0.0.1", "registry@", "psycopg", "connection to server"):
            assert leak not in r.text, (path, r.text)
        assert "retry-after" in r.headers
        records = [rec for rec in caplog.records if rec.levelno >= logging.WARNING]
        assert len(records) == 1, (path, [rec.getMessage() for rec in records])
        line = records[0].getMessage()
        assert records[0].exc_info is None and "\n" not in line
        assert f"request_id=outage-{n}" in line and "status=503" in line, line


def test_a_request_id_is_made_when_none_is_given_and_a_bad_one_is_not_echoed(outage_client):
    client, _ = outage_client
    r = client.get("/collections/roads")
    made = r.json()["request_id"]
    assert made and r.headers["x-request-id"] == made
    r = client.get("/collections/roads", headers={"X-Request-ID": "bad id" + "x" * 300})
    made = r.json()["request_id"]
    assert not made.startswith("bad") and 0 < len(made) <= 64 and r.headers["x-request-id"] == made


def test_a_real_fault_is_a_500_logged_with_its_traceback(api_url, caplog):
    with make_client(api_url) as client:
        app: Service = client.app  # type: ignore[assignment]

        def fault() -> None:
            raise RuntimeError("an error no handler maps")

        app.add_api_route("/fault", fault)
        caplog.set_level(logging.INFO)
        r = client.get("/fault", headers={"X-Request-ID": "fault-1"})
    assert r.status_code == 500 and r.json()["request_id"] == "fault-1"
    errors = [rec for rec in caplog.records if rec.levelno >= logging.ERROR]
    assert len(errors) == 1 and errors[0].exc_info is not None
    assert "fault-1" in errors[0].getMessage()


# -- links -------------------------------------------------------------------------------------


def all_hrefs(value) -> list[str]:
    if isinstance(value, dict):
        return [h for k, v in value.items() for h in ([v] if k == "href" else all_hrefs(v))]
    if isinstance(value, list):
        return [h for v in value for h in all_hrefs(v)]
    return []


@pytest.fixture(scope="module")
def public_client(api_url):
    with make_client(api_url, public_url="https://registry.example.org/gis/") as c:
        yield c


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/collections",
        "/collections/roads",
        "/collections/roads/items?limit=2&offset=2",
        "/collections/roads/items?limit=2&offset=2&f=json",
    ],
)
def test_links_come_from_the_public_url_not_the_host_header(public_client, path):
    r = public_client.get(path, headers={"Host": "evil.example"})
    assert r.status_code == 200, r.text
    hrefs = all_hrefs(r.json())
    assert hrefs and all(h.startswith("https://registry.example.org/gis/") for h in hrefs), hrefs
    assert not any("evil" in h for h in hrefs)


def test_a_feature_by_id_links_to_the_public_url(public_client):
    fid = public_client.get("/collections/roads/items?limit=1").json()["features"][0]["id"]
    r = public_client.get(f"/collections/roads/items/{fid}", headers={"Host": "evil.example"})
    hrefs = all_hrefs(r.json())
    assert hrefs and all(h.startswith("https://registry.example.org/gis/") for h in hrefs), hrefs


def test_without_a_public_url_an_invalid_host_header_is_not_trusted(client):
    for host in ('evil.example/"><script>', "evil.example:99999", "a b"):
        r = client.get("/collections/roads/items?limit=1", headers={"Host": host})
        assert r.status_code in (200, 400), r.text
        if r.status_code == 200:
            hrefs = all_hrefs(r.json())
            assert hrefs and not any("evil" in h or "script" in h for h in hrefs), hrefs
    r = client.get("/", headers={"Host": "registry.local:8080"})
    assert all(h.startswith("http://registry.local:8080/") for h in all_hrefs(r.json()))


def test_a_public_url_that_is_not_one_stops_the_service_at_start(api_url):
    with pytest.raises(ValueError, match="public_url"):
        make_client(api_url, public_url="registry.example.org")
