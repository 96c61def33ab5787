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


class AmbiguousName(NotFound):
    """A name that several records answer to. ``candidates`` lists each as a dict of ``code``,
    ``name_th`` and ``name_en``; the message names them all, so that a caller (a person, or a
    client of the API) can choose one by its code."""

    SHOWN = 12  # candidates named in the message; ``candidates`` holds them all

    def __init__(self, what: str, name: str, candidates: list[dict[str, str]]):
        self.what = what
        self.name = name
        self.candidates = candidates
        shown = candidates[: self.SHOWN]
        listed = "; ".join(f"{c['code']} {c['name_en']} ({c['name_th']})" for c in shown)
        more = f" and {len(candidates) - len(shown)} more" if len(candidates) > len(shown) else ""
        super().__init__(
            f"'{name}' matches {len(candidates)} {what}: {listed}{more}; "
            "give the code or the full name"
        )

    def listing(self) -> str:
        """The message for a terminal: one candidate a line (at most :attr:`SHOWN`)."""
        n = len(self.candidates)
        lines = [f"'{self.name}' matches {n} {self.what}; give the code or the full name:"]
        shown = self.candidates[: self.SHOWN]
        code_w = max((len(c["code"]) for c in shown), default=0)
        name_w = max((len(c["name_en"]) for c in shown), default=0)
        lines += [
            f"  {c['code']:<{code_w}}  {c['name_en']:<{name_w}}  {c['name_th']}" for c in shown
        ]
        if n > self.SHOWN:
            lines.append(f"  ... and {n - self.SHOWN} more (`gis-registry lgo list` lists them)")
        return "\n".join(lines)


class MissingExtension(GisRegistryError):
    """The database lacks a PostgreSQL extension the registry needs and it cannot be created:
    ``extension`` names it, ``package`` the OS package that provides it (None when it is
    installed but the role may not create it)."""

    def __init__(self, extension: str, message: str, *, package: str | None = None):
        self.extension = extension
        self.package = package
        super().__init__(message)


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
