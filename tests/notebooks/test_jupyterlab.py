"""`make notebooks`: JupyterLab serves the studies offline and its kernels reach the registry.

The script `make notebooks` runs is started as a user would, with no browser; the test talks to
the server over its REST and websocket API as JupyterLab's front end does: it lists the
notebooks, starts a kernel (whose working directory is notebooks/) and runs a cell there.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websocket

from tests.notebooks.test_notebooks import EXPECTED

pytestmark = pytest.mark.db

ROOT = Path(__file__).parents[2]
START_TIMEOUT_S = 60


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def lab(settings) -> Iterator[tuple[str, str]]:
    """(base URL, token) of JupyterLab started by scripts/notebooks.sh."""
    port, token = _free_port(), secrets.token_hex(16)
    # the environment as is: with the embedded cluster, the script must find it by itself
    env = dict(os.environ)
    proc = subprocess.Popen(
        [
            str(ROOT / "scripts" / "notebooks.sh"),
            "--no-browser",
            f"--port={port}",
            f"--IdentityProvider.token={token}",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                if httpx.get(f"{base}/api/status", params={"token": token}).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise AssertionError(f"JupyterLab did not start: {proc.stderr.read().decode()}")
            time.sleep(0.3)
        yield base, token
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_lab_page_and_the_five_notebooks(lab):
    base, token = lab
    page = httpx.get(f"{base}/lab", params={"token": token})
    assert page.status_code == 200 and "JupyterLab" in page.text
    listing = httpx.get(f"{base}/api/contents", params={"token": token}).json()
    assert sorted(item["name"] for item in listing["content"] if item["type"] == "notebook") == [
        *EXPECTED
    ]


def _execute(base: str, token: str, kernel_id: str, code: str) -> str:
    """Run ``code`` in the kernel over the Jupyter messaging protocol; its stdout."""
    ws = websocket.create_connection(
        f"{base.replace('http', 'ws')}/api/kernels/{kernel_id}/channels?token={token}",
        timeout=120,
    )
    msg_id = uuid.uuid4().hex
    ws.send(
        json.dumps(
            {
                "header": {
                    "msg_id": msg_id,
                    "msg_type": "execute_request",
                    "username": "test",
                    "session": uuid.uuid4().hex,
                    "version": "5.3",
                },
                "parent_header": {},
                "metadata": {},
                "channel": "shell",
                "content": {"code": code, "silent": False, "store_history": False},
            }
        )
    )
    out: list[str] = []
    try:
        while True:
            msg = json.loads(ws.recv())
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                out.append(content["text"])
            elif kind == "error":
                raise AssertionError("\n".join(content["traceback"]))
            elif kind == "status" and content["execution_state"] == "idle":
                return "".join(out)
    finally:
        ws.close()


def test_a_kernel_of_the_lab_reaches_the_registry(lab):
    base, token = lab
    # as JupyterLab opens a notebook: a session for its path, whose kernel runs beside it
    session = httpx.post(
        f"{base}/api/sessions",
        params={"token": token},
        json={"path": EXPECTED[1], "type": "notebook", "kernel": {"name": "python3"}},
    ).json()
    try:
        printed = _execute(
            base,
            token,
            session["kernel"]["id"],
            "import os\n"
            "from gis_registry import Registry\n"
            "reg = Registry.connect()\n"
            "print(os.path.basename(os.getcwd()), type(reg.local_bodies()).__name__)\n",
        )
    finally:
        httpx.delete(f"{base}/api/sessions/{session['id']}", params={"token": token})
    assert printed.split() == ["notebooks", "GeoDataFrame"]
