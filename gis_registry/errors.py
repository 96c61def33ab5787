"""Domain errors. Messages are safe to show to users; no HTTP codes here (the API maps them)."""

from __future__ import annotations


class GisRegistryError(Exception):
    """Base of every error the registry raises on purpose."""


class DatabaseUnavailable(GisRegistryError):
    """The embedded cluster cannot start, or the configured database cannot be reached."""


class ServerError(GisRegistryError):
    """The embedded PostgreSQL cluster failed to initialise, start or stop."""


class NotFound(GisRegistryError):
    """A record, layer or name does not exist."""


class ValidationError(GisRegistryError):
    """Input breaks a rule. ``problems`` lists every (record, field, message) found."""

    def __init__(self, layer: str, problems: list[tuple[str | int | None, str, str]]):
        self.layer = layer
        self.problems = problems
        lines = [
            f"{layer} record {rec if rec is not None else '(new)'}: field '{field}': {msg}"
            for rec, field, msg in problems
        ]
        super().__init__("\n".join(lines) if lines else f"{layer}: invalid input")


class ConstraintViolation(ValidationError):
    """The database refused a write; the message names the layer, record and rule."""


class InvalidParameter(ValidationError):
    """A query argument (a filter, a box, a CRS, a layer's field...) that cannot be used.

    ``parameter`` names the argument; the message says what is wrong and, where there is a
    list, the valid choices. ``code`` is the OGC API exception code the web service answers.
    """

    code = "InvalidParameterValue"

    def __init__(self, parameter: str, message: str, *, layer: str | None = None):
        self.parameter = parameter
        self.layer = layer or ""
        self.problems = [(None, parameter, message)]
        # not ValidationError's "layer record ..." wording: this is about a request, not a record
        GisRegistryError.__init__(self, f"parameter '{parameter}': {message}")
