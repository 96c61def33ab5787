"""The OpenAPI document served at ``/api``, in OpenAPI 3.0 (the OGC ``oas30`` class).

FastAPI writes 3.1; the differences that matter here are mechanical: ``anyOf`` with a null
type becomes ``nullable``, ``examples`` becomes ``example``, ``const`` an ``enum``, numeric
``exclusiveMinimum``/``Maximum`` the 3.0 booleans.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi


def to_oas30(node: Any) -> Any:
    """A copy of an OpenAPI 3.1 document (or any part of one) rewritten as OpenAPI 3.0.

    Recurses through dicts and lists; the input is not modified.
    """
    if isinstance(node, list):
        return [to_oas30(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: to_oas30(v) for k, v in node.items()}
    for key in ("anyOf", "oneOf"):
        options = out.get(key)
        nulls = ({"type": "null"}, {"nullable": True})
        if isinstance(options, list) and any(o in nulls for o in options):
            rest = [o for o in options if o not in nulls]
            del out[key]
            if len(rest) == 1:
                out.update(rest[0] if "$ref" not in rest[0] else {"allOf": rest})
            else:
                out[key] = rest
            out["nullable"] = True
    if out.get("type") == "null":
        out.pop("type")
        out["nullable"] = True
    if isinstance(out.get("type"), list):
        types = [t for t in out["type"] if t != "null"]
        if len(types) < len(out["type"]):
            out["nullable"] = True
        out["type"] = types[0] if types else "string"
    if "examples" in out and isinstance(out["examples"], list) and "in" not in out:
        examples = out.pop("examples")
        if examples:
            out["example"] = examples[0]
    if "const" in out:
        out["enum"] = [out.pop("const")]
    for bound, base in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        value = out.get(bound)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            out[base] = value
            out[bound] = True
    return out


def install(app: FastAPI) -> None:
    """Make ``app`` serve its OpenAPI document as 3.0.3, built once, when first asked for."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            document = to_oas30(document)
            document["openapi"] = "3.0.3"
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
