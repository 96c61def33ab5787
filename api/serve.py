"""``python -m api.serve``: the service under uvicorn, on the project's coalescing protocol.

``gis-registry serve`` checks the database, then replaces its own process with this one, so
the library never imports the web stack (import-linter holds it to that).

The idle keep-alive timeout is ``GIS_REGISTRY_API_KEEP_ALIVE_S``; the header timeout
(``GIS_REGISTRY_API_HEADER_TIMEOUT_S``) is the protocol's own (:mod:`api.protocol`).
"""

from __future__ import annotations

import argparse

import uvicorn

from api.settings import ApiSettings


def main(argv: list[str] | None = None) -> None:
    """Parse ``--host --port --workers --access-log`` and run uvicorn until stopped."""
    parser = argparse.ArgumentParser(prog="python -m api.serve")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--access-log", action="store_true")
    # another factory of the service (tests add a route to it); not for production use
    parser.add_argument("--app", default="api.app:create_app", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    settings = ApiSettings()
    uvicorn.run(
        args.app,
        host=args.host,
        port=args.port,
        workers=args.workers,
        factory=True,
        access_log=args.access_log,
        http="api.protocol:HttpProtocol",
        timeout_keep_alive=settings.keep_alive_s,  # type: ignore[arg-type]
    )


if __name__ == "__main__":
    main()
