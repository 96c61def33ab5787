"""Field and value mapping: how a file's columns become a layer's fields, without code.

A mapping names, for each field of the layer, where its value comes from:

- ``columns``: a column of the file (``name_th: ADM3_TH``);
- ``constants``: the same value for every record (``kind: sao``);
- ``values``: a value map applied after the column is read (Thai surface names to codes);
- ``derived``: a small expression: ``from`` a column or a ``template`` of columns
  (``"อบต.{ADM3_TH}"``), then ``strip_prefix``, ``strip_suffix``, ``replace``, ``upper``,
  ``lower``, ``values``, ``multiply``, ``default``; or ``point_on_surface`` of a geometry (an
  office point inside a tambon polygon).

The same mapping comes from a YAML file (``--mapping``, see ``data/mappings/``) and from the
command line (``--map FIELD=COLUMN``, ``--set FIELD=VALUE``), the command line winning.
"""

from __future__ import annotations

import functools
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis_registry.errors import GisRegistryError

# The operations a derived field may use, in the order they apply.
_STEPS = ("strip_prefix", "strip_suffix", "replace", "upper", "lower", "values", "multiply")
_SOURCES = ("from", "template", "point_on_surface")
# The text operations of a derived field, in the order they apply (a subset of _STEPS).
_TEXT_STEPS: dict[str, Callable[[str, Any], str]] = {
    "strip_prefix": lambda text, prefix: text.removeprefix(str(prefix)),
    "strip_suffix": lambda text, suffix: text.removesuffix(str(suffix)),
    "replace": lambda text, pairs: functools.reduce(
        lambda t, pair: t.replace(str(pair[0]), str(pair[1])), dict(pairs).items(), text
    ),
    "upper": lambda text, on: text.upper() if on else text,
    "lower": lambda text, on: text.lower() if on else text,
}
_KEYS = {"layer", "description", "columns", "constants", "values", "derived", "ignore_extra"}


def read_yaml(path: Path, what: str) -> Any:
    """The parsed YAML file at ``path``; a missing or unreadable file is a GisRegistryError
    naming ``what`` ("mapping file") and the path."""
    import yaml

    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GisRegistryError(f"{what} not found: {path}") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        first = str(exc).strip().splitlines()[0]
        raise GisRegistryError(f"cannot read {what} {path}: {first}") from None


@dataclass(frozen=True)
class FieldMapping:
    """How the columns of a file become the fields of a layer (see the module docstring).

    Attributes
    ----------
    layer : the layer a mapping file was written for (checked on import), or None
    columns : field -> file column
    constants : field -> value given to every record
    values : field -> {file value: registry value}
    derived : field -> expression (a mapping of the operations above)
    ignore_extra : skip file columns the layer does not have instead of refusing the file
    """

    layer: str | None = None
    columns: dict[str, str] = field(default_factory=dict)
    constants: dict[str, Any] = field(default_factory=dict)
    values: dict[str, dict[Any, Any]] = field(default_factory=dict)
    derived: dict[str, dict[str, Any]] = field(default_factory=dict)
    ignore_extra: bool = False

    @classmethod
    def load(cls, path: str | Path) -> FieldMapping:
        """Read a YAML mapping file, refusing unknown keys and malformed expressions."""
        path = Path(path)
        raw = read_yaml(path, "mapping file")
        if not isinstance(raw, Mapping):
            raise GisRegistryError(f"mapping file {path}: expected a mapping of {sorted(_KEYS)}")
        unknown = set(raw) - _KEYS
        if unknown:
            raise GisRegistryError(
                f"mapping file {path}: unknown key(s) {', '.join(sorted(unknown))}"
                f" (known: {', '.join(sorted(_KEYS))})"
            )
        for key in ("columns", "constants", "values", "derived"):
            if not isinstance(raw.get(key) or {}, Mapping):
                raise GisRegistryError(f"mapping file {path}: '{key}' must be a mapping")
        mapping = cls(
            layer=raw.get("layer"),
            columns={str(k): str(v) for k, v in (raw.get("columns") or {}).items()},
            constants=dict(raw.get("constants") or {}),
            values={str(k): dict(v) for k, v in (raw.get("values") or {}).items()},
            derived={str(k): dict(v) for k, v in (raw.get("derived") or {}).items()},
            ignore_extra=bool(raw.get("ignore_extra", False)),
        )
        mapping.check(where=f"mapping file {path}")
        return mapping

    def with_options(
        self,
        *,
        columns: Mapping[str, str] | None = None,
        constants: Mapping[str, Any] | None = None,
        ignore_extra: bool = False,
    ) -> FieldMapping:
        """This mapping with command-line ``--map``/``--set``/``--ignore-extra`` on top."""
        columns, constants = dict(columns or {}), dict(constants or {})
        merged = replace(
            self,
            columns={k: v for k, v in self.columns.items() if k not in constants} | columns,
            constants={k: v for k, v in self.constants.items() if k not in columns} | constants,
            derived={
                k: v for k, v in self.derived.items() if k not in columns and k not in constants
            },
            ignore_extra=self.ignore_extra or ignore_extra,
        )
        merged.check(where="--map/--set")
        return merged

    def check(self, *, where: str) -> None:
        """Refuse a field given twice or a derived field with unknown operations."""
        seen: dict[str, str] = {}
        for kind in ("columns", "constants", "derived"):
            for name in getattr(self, kind):
                if name in seen:
                    raise GisRegistryError(f"{where}: field '{name}' is in {seen[name]} and {kind}")
                seen[name] = kind
        for name, expression in self.derived.items():
            sources = [s for s in _SOURCES if s in expression]
            unknown = set(expression) - set(_SOURCES) - set(_STEPS) - {"default"}
            if unknown or len(sources) != 1:
                raise GisRegistryError(
                    f"{where}: derived field '{name}' needs exactly one of"
                    f" {', '.join(_SOURCES)} and only the operations"
                    f" {', '.join((*_STEPS, 'default'))}"
                    + (f" (unknown: {', '.join(sorted(unknown))})" if unknown else "")
                )

    @property
    def sources(self) -> set[str]:
        """The file columns this mapping reads (they are never 'extra')."""
        used = set(self.columns.values())
        for expression in self.derived.values():
            if "from" in expression:
                used.add(str(expression["from"]))
            if "template" in expression:
                used |= _template_columns(str(expression["template"]))
            source = expression.get("point_on_surface")
            if source is not None and source not in self.columns:  # else: a mapped field
                used.add(str(source))
        return used

    def apply(
        self, frame: pd.DataFrame, keep: set[str] | frozenset[str] = frozenset()
    ) -> pd.DataFrame:
        """The frame with mapped, constant, value-mapped and derived fields.

        Columns not named by the mapping stay as they are (they may already carry a field's
        name); the columns the mapping read from are dropped unless a field has their name
        (a target of this mapping, or one of ``keep``: the layer's fields).
        Raises :class:`GisRegistryError` naming a column the file does not have.
        """
        missing = sorted(self.sources - set(frame.columns))
        if missing:
            raise GisRegistryError(
                f"the mapping reads column(s) {', '.join(missing)} that the file does not have"
                f" (it has: {', '.join(map(str, frame.columns))})"
            )
        out = frame.copy()
        for name, column in self.columns.items():
            out[name] = frame[column]
        for name, expression in self.derived.items():
            out[name] = _derive(frame, out, expression)
        for name, value in self.constants.items():
            out[name] = value
        for name, table in self.values.items():
            if name in out.columns:
                out[name] = _map_values(out[name], table)
        targets = set(self.columns) | set(self.derived) | set(self.constants)
        drop = [c for c in self.sources if c not in targets | keep and c in out.columns]
        if isinstance(out, gpd.GeoDataFrame) and out.geometry.name in drop:
            out = pd.DataFrame(out)  # the geometry went into a field under another name
        out = out.drop(columns=drop)
        for name in targets:  # a geometry field stays a GeoSeries (the writer reprojects it)
            if isinstance(frame, gpd.GeoDataFrame) and isinstance(
                out[name].dtype, gpd.array.GeometryDtype
            ):
                out[name] = gpd.GeoSeries(out[name], crs=frame.crs)
        return out


def _template_columns(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _map_values(series: pd.Series, table: Mapping[Any, Any]) -> pd.Series:
    """Map the values a table names; the rest pass unchanged (the validator then names them)."""
    lookup = {str(k).strip(): v for k, v in table.items()}
    return series.map(lambda v: lookup.get(str(v).strip(), v) if v is not None else v)


def _derive(frame: pd.DataFrame, out: pd.DataFrame, expr: Mapping[str, Any]) -> Any:
    if "point_on_surface" in expr:
        source = str(expr["point_on_surface"])
        geoms = out[source] if source in out.columns else frame[source]
        points = shapely.point_on_surface(np.asarray(geoms, dtype=object))
        return gpd.GeoSeries(points, index=frame.index, crs=getattr(geoms, "crs", None))
    if "template" in expr:
        template = str(expr["template"])
        columns = sorted(_template_columns(template))
        values = pd.Series(
            [
                template.format(**dict(zip(columns, row, strict=True)))
                for row in zip(*(frame[c].astype(str) for c in columns), strict=True)
            ]
            if columns
            else [template] * len(frame),
            index=frame.index,
            dtype=object,
        )
    else:
        values = frame[str(expr["from"])].copy()
    steps = [step for step in _TEXT_STEPS if step in expr and expr[step] is not False]
    if steps:  # text operations read the value as text (a code typed as a number, too)
        values = values.map(
            lambda v: v if v is None or isinstance(v, float) and np.isnan(v) else str(v)
        )
    for step in steps:
        operation, argument = _TEXT_STEPS[step], expr[step]
        values = values.map(lambda v, f=operation, a=argument: f(v, a) if isinstance(v, str) else v)
    if "values" in expr:
        values = _map_values(values, dict(expr["values"]))
    if "multiply" in expr:
        values = pd.to_numeric(values, errors="coerce") * float(expr["multiply"])
    if "default" in expr:
        values = values.where(values.notna(), expr["default"])
    return values
