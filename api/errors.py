"""One exception -> status mapping and one handler: every error is RFC 7807
``application/problem+json`` with an OGC exception ``code``."""

from __future__ import annotations

import logging
from typing import Any

import orjson
import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from gis_registry.auth import NotAuthenticated, PermissionDenied
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


class ServiceUnavailable(ApiError):
    """The database or a dependency is missing."""


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
    (AnalysisTimeout, 504, "Timeout", "The analysis took too long"),
    (ServiceUnavailable, 503, "ServiceUnavailable", "Service unavailable"),
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
    body.update({k: v for k, v in extra.items() if v is not None})
    headers = {"WWW-Authenticate": 'Bearer realm="gis-registry"'} if status == 401 else None
    return Response(orjson.dumps(body), status_code=status, media_type=PROBLEM, headers=headers)


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
            extra: dict[str, Any] = {}
            detail = str(exc)
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
            return status, code, title, detail, extra
    return 500, "ServerError", "Internal server error", "an unexpected error occurred", {}


async def handle(request: Request, exc: Exception) -> Response:
    """Any error as problem+json (errors of 500 and more are logged)."""
    status, code, title, detail, extra = _classify(exc)
    if status >= 500:
        log.error("%s %s -> %s", request.method, request.url.path, status, exc_info=exc)
    return problem(status, code, title, detail, instance=request.url.path, **extra)


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
