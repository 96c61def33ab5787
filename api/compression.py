"""Answers are gzipped for clients that ask (GDAL, QGIS and browsers do): a page of roads
shrinks about twenty times (620 KB to 28 KB for 1,000 features). Small answers, such as one
feature, go as they are: compressing them would cost more than it saves.

One class for the routes (as middleware) and the fast path (around a response), so both answer
alike.
"""

from __future__ import annotations

from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp

MINIMUM_SIZE = 4096  # bytes
# zlib level 5: within 2% of level 9's size at about half its time (3.8 ms for 620 KB here);
# level 1 is twice as fast again but 25% bigger. Bodies over 128 KiB are compressed in a
# worker thread (Starlette), so the event loop keeps serving.
LEVEL = 5


class Compression(GZipMiddleware):
    """``app`` (an ASGI app, a Response included) with its answer gzipped when the client
    accepts gzip and the body is big enough."""

    def __init__(self, app: ASGIApp) -> None:
        super().__init__(app, minimum_size=MINIMUM_SIZE, compresslevel=LEVEL)
