"""The HTTP edge: what every request meets before the fast read path and FastAPI.

- **Bodies are bounded while they are received.** A feature write (POST, PUT or PATCH under
  ``/collections/``) may send ``max_body_bytes`` (20 MiB), every other request
  ``max_small_body_bytes`` (64 KiB). A declared Content-Length over the limit is refused with a
  413 problem at once, before the body is read, parsed or its sender authenticated; a chunked
  body is counted as it arrives and refused as soon as it passes the limit. What the client
  still sends is discarded by the server as it arrives, never kept.
- **An error the handler answered does not close the connection.** Starlette's
  ServerErrorMiddleware sends the 500 problem, then raises the error again "so that servers may
  log it"; uvicorn then closes the keep-alive connection without a ``Connection: close``, and a
  client's next request on it is reset. :func:`api.errors.handle` has logged it already (with
  its traceback), so the edge lets it go there.
- **Links**: the configured public URL is put in the scope for :mod:`api.links`.

A request without a body (every read) costs a scan of its headers and nothing else: no
wrapper of ``receive`` or ``send``, no allocation.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import HANDLED, PayloadTooLarge, problem, request_id
from api.links import PUBLIC_BASE, public_base
from api.settings import ApiSettings

_WRITES = ("POST", "PUT", "PATCH")


def size_text(n: int) -> str:
    """``n`` bytes as people say it: 20 MiB, 64 KiB, 1000 bytes."""
    for unit, size in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if n >= size and n % size == 0:
            return f"{n // size} {unit}"
    return f"{n} bytes"


def feature_write(scope: Scope) -> bool:
    """Whether the request adds or changes features (POST, PUT, PATCH under /collections/)."""
    path: str = scope["path"]
    root = scope.get("root_path", "")
    if root and path.startswith(root):  # uvicorn's path includes the root path
        path = path[len(root) :]
    return scope["method"] in _WRITES and path.startswith("/collections/")


class Edge:
    """ASGI layer in front of the whole service (see the module).

    Parameters
    ----------
    app
        The service behind it (the fast read path, then FastAPI).
    settings
        ``max_body_bytes``, ``max_small_body_bytes`` and ``public_url`` are read once, here;
        a ``public_url`` that is not an http(s) URL raises ValueError.
    """

    __slots__ = ("app", "max_body", "max_small_body", "public")

    def __init__(self, app: ASGIApp, settings: ApiSettings) -> None:
        self.app = app
        self.max_body = settings.max_body_bytes
        self.max_small_body = settings.max_small_body_bytes
        self.public = public_base(settings.public_url)

    def limit(self, scope: Scope) -> int:
        """The largest body the request may send."""
        return self.max_body if feature_write(scope) else self.max_small_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse a body over its limit, or pass the request on."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.public is not None:
            scope[PUBLIC_BASE] = self.public
        length = None
        chunked = False
        for name, value in scope["headers"]:
            if name == b"content-length":
                length = value
            elif name == b"transfer-encoding":
                chunked = True
        if chunked:
            await self._counted(scope, receive, send, self.limit(scope))
            return
        if length is not None and length != b"0":
            limit = self.limit(scope)
            try:
                declared = int(length)
            except ValueError:  # the server's parser refuses these; a test client may not
                declared = limit + 1
            if declared > limit:
                await self.refuse(scope, receive, send, limit)
                return
        try:
            await self.app(scope, receive, send)
        except Exception as exc:
            if scope.get(HANDLED) is not exc:
                raise

    async def refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        """Answer 413: the body is over ``limit`` bytes."""
        what = "a feature write" if feature_write(scope) else "this request"
        response = problem(
            413,
            "PayloadTooLarge",
            "Request body too large",
            f"the body is larger than {size_text(limit)}, the limit of {what}",
            instance=scope["path"],
            request_id=request_id(scope),
        )
        await response(scope, receive, send)

    async def _counted(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        """The request with its body counted as it is received (a chunked body)."""
        received = 0
        started = False
        refused = False

        async def counting_receive() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    if not started and not refused:
                        refused = True
                        await self.refuse(scope, receive, send, limit)
                    raise PayloadTooLarge(f"the body is larger than {size_text(limit)}")
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:  # the 413 went out: what the application answers then is dropped
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception as exc:
            if not refused and scope.get(HANDLED) is not exc:
                raise
