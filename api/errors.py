"""One exception -> status mapping and one handler: every error is RFC 7807
``application/problem+json`` with an OGC exception ``code``."""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any

import orjson
import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Scope

from gis_registry.auth import NotAuthenticated, PermissionDenied
from gis_registry.deadline import Cancelled
from gis_registry.errors import (
    ConstraintViolation,
    DatabaseUnavailable,
    GisRegistryError,
    InvalidParameter,  # a library error; re-exported here for the routers that raise it
    NotFound,
    ValidationError,
)

log = logging.getLogger("api")
PROBLEM = "application/problem+json"
DATABASE_DOWN = "the database is unavailable; try again shortly"
REQUEST_ID = "gis_registry.request_id"  # scope keys: the request's id (request_id), and the
HANDLED = "gis_registry.handled"  # error handle() answered (api.edge need not close for it)
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,64}")
RETRY_AFTER_S = 5  # Retry-After of a 503 or 429 that does not say better


class ApiError(GisRegistryError):
    """An HTTP-level refusal raised by the API itself (bad parameter, precondition...)."""


class InvalidBody(ApiError):
    """A request body that is not the JSON/GeoJSON expected."""


class PreconditionRequired(ApiError):
    """A write without If-Match."""


class PreconditionFailed(ApiError):
    """If-Match does not match the current ETag."""


class NotAcceptable(ApiError):
    """No representation the client accepts."""


class UnsupportedMediaType(ApiError):
    """A request body in a media type the route does not read."""


class AnalysisTimeout(ApiError):
    """An analysis ran past its statement timeout."""


class PayloadTooLarge(ApiError):
    """A request body over its route's limit (:mod:`api.edge` refuses it while receiving it)."""


class ServiceUnavailable(ApiError):
    """The database or a dependency is missing, or busy: ``retry_after_s`` (the Retry-After
    header) says when to try again."""

    def __init__(self, message: str, *, retry_after_s: int | None = None):
        super().__init__(message)
        self.retry_after_s = retry_after_s


class TooManyRequests(ApiError):
    """A client asked for more at once than it may (429, with Retry-After)."""

    def __init__(self, message: str, *, retry_after_s: int | None = None):
        super().__init__(message)
        self.retry_after_s = retry_after_s


# (exception class, HTTP status, OGC code, title); the first match wins, so subclasses first.
MAPPING: list[tuple[type[BaseException], int, str, str]] = [
    (NotAuthenticated, 401, "NotAuthenticated", "Authentication required"),
    (PermissionDenied, 403, "Forbidden", "Not allowed"),
    (InvalidParameter, 400, "InvalidParameterValue", "Invalid parameter"),
    (InvalidBody, 400, "InvalidBody", "Invalid request body"),
    (PreconditionRequired, 428, "PreconditionRequired", "If-Match required"),
    (PreconditionFailed, 412, "PreconditionFailed", "The feature changed"),
    (NotAcceptable, 406, "NotAcceptable", "Not acceptable"),
    (UnsupportedMediaType, 415, "UnsupportedMediaType", "Unsupported media type"),
    (PayloadTooLarge, 413, "PayloadTooLarge", "Request body too large"),
    (AnalysisTimeout, 504, "Timeout", "The analysis took too long"),
    (ServiceUnavailable, 503, "ServiceUnavailable", "Service unavailable"),
    (TooManyRequests, 429, "TooManyRequests", "Too many requests"),
    (Cancelled, 504, "Timeout", "The analysis took too long"),
    (PoolTimeout, 503, "ServiceUnavailable", "All database connections are busy"),
    (NotFound, 404, "NotFound", "Not found"),
    (ConstraintViolation, 422, "ConstraintViolation", "The registry refused the change"),
    (ValidationError, 400, "InvalidValue", "Invalid value"),
    (DatabaseUnavailable, 503, "ServiceUnavailable", "Database unavailable"),
    (psycopg.errors.QueryCanceled, 504, "Timeout", "The query took too long"),
    (psycopg.OperationalError, 503, "ServiceUnavailable", "Database unavailable"),
    (psycopg.errors.DataException, 400, "InvalidParameterValue", "Invalid value"),
    (psycopg.DataError, 400, "InvalidValue", "Invalid value"),
    (GisRegistryError, 400, "InvalidParameterValue", "Invalid request"),
]
_HTTP_CODES = {
    400: "InvalidParameterValue",
    401: "NotAuthenticated",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    415: "UnsupportedMediaType",
}


def problem(status: int, code: str, title: str, detail: str, **extra: Any) -> Response:
    """An RFC 7807 problem+json response."""
    body: dict[str, Any] = {
        "type": f"https://gis-registry.lampang.example/problems/{code}",
        "title": title,
        "status": status,
        "code": code,
        "detail": detail,
    }
    retry_after = extra.pop("retry_after_s", None)
    body.update({k: v for k, v in extra.items() if v is not None})
    headers = {"WWW-Authenticate": 'Bearer realm="gis-registry"'} if status == 401 else {}
    if status in (429, 503):  # busy or refused for now: say when to come back
        headers["Retry-After"] = str(int(retry_after or RETRY_AFTER_S))
    if body.get("request_id"):
        headers["X-Request-ID"] = body["request_id"]
    return Response(orjson.dumps(body), status_code=status, media_type=PROBLEM, headers=headers)


def request_id(scope: Scope) -> str:
    """The request's id: its X-Request-ID when that is a plain token of at most 64 characters,
    else one made here; the same for every call on one request (kept in its scope)."""
    rid = scope.get(REQUEST_ID)
    if rid is None:
        given = next((v for k, v in scope["headers"] if k == b"x-request-id"), b"")
        text = given.decode("latin-1")
        rid = text if _REQUEST_ID.fullmatch(text) else uuid.uuid4().hex
        scope[REQUEST_ID] = rid
    return rid


def _cause(exc: BaseException) -> str:
    """The root cause of ``exc`` in one line, for the log (never for the client)."""
    seen = {id(exc)}
    while True:
        # ``raise ... from None`` hides the context on purpose (e.g. a CancelledError)
        nxt = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
        if nxt is None or id(nxt) in seen:
            break
        seen.add(id(nxt))
        exc = nxt
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:300]}" if text else type(exc).__name__


def _classify(exc: BaseException) -> tuple[int, str, str, str, dict[str, Any]]:
    """(status, code, title, detail, extra members) of an exception."""
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        exc = exc.orig
    if isinstance(exc, RequestValidationError):
        errors = [
            {
                "parameter": ".".join(str(p) for p in e.get("loc", ())[1:]) or None,
                "in": (e.get("loc") or ("?",))[0],
                "message": e.get("msg"),
            }
            for e in exc.errors()
        ]
        detail = "; ".join(f"{e['in']} {e['parameter']}: {e['message']}" for e in errors)
        return 400, "InvalidParameterValue", "Invalid parameter", detail, {"errors": errors}
    if isinstance(exc, StarletteHTTPException):
        code = _HTTP_CODES.get(exc.status_code, "HTTPError")
        return exc.status_code, code, str(exc.detail), str(exc.detail), {}
    for cls, status, code, title in MAPPING:
        if isinstance(exc, cls):
            extra: dict[str, Any] = {"retry_after_s": getattr(exc, "retry_after_s", None)}
            detail = str(exc)
            if isinstance(exc, PoolTimeout):  # not SQLAlchemy's text, which names the pool
                detail = "all database connections are busy; try again"
            if isinstance(exc, InvalidParameter):
                extra["parameter"] = exc.parameter
            elif isinstance(exc, ValidationError):
                extra["layer"] = exc.layer
                extra["errors"] = [
                    {"record": rec, "field": field, "rule": message}
                    for rec, field, message in exc.problems
                ]
            if isinstance(exc, psycopg.Error):
                detail = (exc.diag.message_primary or title) if exc.diag else title
            if isinstance(exc, (DatabaseUnavailable, psycopg.OperationalError)):
                detail = DATABASE_DOWN  # the driver's text names the server's address
            return status, code, title, detail, extra
    return 500, "ServerError", "Internal server error", "an unexpected error occurred", {}


async def handle(request: Request, exc: Exception) -> Response:
    """Any error as problem+json carrying the request's id (:func:`request_id`).

    An unexpected error (500) is logged with its traceback. A refusal of 500 or more that the
    mapping expects (the database down or busy, a timeout) is logged in one line without one,
    its cause included (the log is the operator's; the problem never names an address), so
    that an outage writes one line per refused request.
    """
    status, code, title, detail, extra = _classify(exc)
    rid = request_id(request.scope)
    request.scope[HANDLED] = exc  # answered: api.edge keeps the connection (see there)
    path = request.url.path
    if code == "ServerError":
        log.error(
            "failed request_id=%s method=%s path=%s status=%d",
            *(rid, request.method, path, status),
            exc_info=exc,
        )
    elif status >= 500:
        log.warning(
            "refused request_id=%s method=%s path=%s status=%d code=%s cause=%s",
            *(rid, request.method, path, status, code, _cause(exc)),
        )
    return problem(status, code, title, detail, instance=path, request_id=rid, **extra)


def install(app: FastAPI) -> None:
    """Route every error through :func:`handle`."""
    for exc_class in (
        RequestValidationError,
        StarletteHTTPException,
        GisRegistryError,
        DBAPIError,
        psycopg.Error,
        Exception,
    ):
        app.add_exception_handler(exc_class, handle)
