"""The OSM mapping: how OpenStreetMap tags become registry fields (``data/mappings/osm.yaml``).

The file is checked when it is loaded: unknown keys, and any value on the registry's side that
is not in the registry's vocabularies (:mod:`gis_registry.domain`), are refused naming the
entry. Tag values the mapping cannot read on a feature (``lanes=2;3``, ``maxweight=none``) are
left untagged and counted in :class:`Notes`, never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from gis_registry import domain
from gis_registry.errors import GisRegistryError
from gis_registry.io.mapping import read_yaml

DEFAULT_MAPPING = Path(__file__).resolve().parents[3] / "data" / "mappings" / "osm.yaml"

_SECTIONS = {
    "roads": {
        "highway",
        "ref_classes",
        "without_code",
        "excluded",
        "agencies",
        "surface",
        "surface_default",
        "oneway_highway",
        "oneway_junction",
        "unnamed",
    },
    "bridges": {
        "structure",
        "structure_default",
        "material",
        "material_default",
        "unnamed",
    },
    "water_sources": {"rules", "line_kinds", "unnamed"},
}
_THAI = re.compile("[\u0e00-\u0e7f]")
_NUMBER = r"([0-9]+(?:\.[0-9]+)?)"
_TONNES = re.compile(rf"^{_NUMBER}\s*(?:t|tonnes?|tons?)?$", re.IGNORECASE)
_METRES = re.compile(rf"^{_NUMBER}\s*(?:m|metres?|meters?)?$", re.IGNORECASE)
MAX_LAYER = 5  # OSM layers run from -5 to 5


class Notes:
    """Tag values left unread, counted per (field, value kind), with the first OSM ids."""

    def __init__(self) -> None:
        self.counts: dict[str, list[Any]] = {}

    def add(self, what: str, osm_id: str) -> None:
        """Count one feature whose ``what`` (e.g. ``lanes='2;3' not read``) was left unread."""
        entry = self.counts.setdefault(what, [0, []])
        entry[0] += 1
        if len(entry[1]) < 3:
            entry[1].append(osm_id)

    def lines(self) -> list[str]:
        """One sentence per kind of unread value."""
        return [
            f"{what}: {count:,} feature(s), e.g. {', '.join(ids)}"
            for what, (count, ids) in sorted(self.counts.items())
        ]


@dataclass(frozen=True)
class OsmMapping:
    """The tables of ``osm.yaml`` (see the comments there), checked against the vocabularies."""

    highway: dict[str, str]
    ref_classes: tuple[str, ...]
    without_code: str
    excluded: frozenset[str]
    agencies: dict[str, str]
    surface: dict[str, str]
    surface_default: dict[str, str]
    oneway_highway: frozenset[str]
    oneway_junction: frozenset[str]
    road_unnamed: tuple[str, str]
    structure: dict[str, str]
    structure_default: str
    material: dict[str, str]
    material_default: str
    bridge_unnamed: tuple[str, str]
    water_rules: tuple[tuple[dict[str, frozenset[str] | None], str | None], ...]
    line_kinds: frozenset[str]
    water_unnamed: tuple[str, str]
    path: str = field(default=str(DEFAULT_MAPPING))

    @classmethod
    def load(cls, path: str | Path | None = None) -> OsmMapping:
        """Read and check a mapping file (the shipped ``data/mappings/osm.yaml`` by default).

        Raises
        ------
        GisRegistryError
            The file is missing or not YAML, or names a key or a registry value that does not
            exist (the message names the entry).
        """
        path = Path(path) if path is not None else DEFAULT_MAPPING
        raw = read_yaml(path, "OSM mapping file")
        return cls.from_dict(raw, where=f"OSM mapping file {path}", path=str(path))

    @classmethod
    def from_dict(cls, raw: Any, *, where: str, path: str = "") -> OsmMapping:
        """Check a parsed mapping; ``where`` starts every error message."""
        check = _Checker(where)
        sections = check.mapping(raw, "(file)", set(_SECTIONS))
        roads = check.mapping(sections.get("roads"), "roads", _SECTIONS["roads"])
        bridges = check.mapping(sections.get("bridges"), "bridges", _SECTIONS["bridges"])
        water = check.mapping(
            sections.get("water_sources"), "water_sources", _SECTIONS["water_sources"]
        )
        classes, surfaces = domain.ROAD_CLASSES, domain.SURFACES
        highway = check.table(roads, "roads.highway", classes)
        excluded: frozenset[str] = frozenset(check.names(roads.get("excluded"), "roads.excluded"))
        both = sorted(set(highway) & excluded)
        if both:
            check.fail("roads.excluded", f"{', '.join(both)} also mapped in roads.highway")
        surface_default = check.table(roads, "roads.surface_default", surfaces)
        if "other" not in surface_default:
            check.fail("roads.surface_default", "needs an 'other' entry (the default)")
        return cls(
            highway=highway,
            ref_classes=tuple(check.values(roads.get("ref_classes"), "roads.ref_classes", classes)),
            without_code=check.value(roads.get("without_code"), "roads.without_code", classes),
            excluded=excluded,
            agencies=check.table(roads, "roads.agencies", domain.AGENCIES, keys=classes),
            surface=check.table(roads, "roads.surface", surfaces),
            surface_default=surface_default,
            oneway_highway=frozenset(check.names(roads.get("oneway_highway"), "roads.oneway")),
            oneway_junction=frozenset(check.names(roads.get("oneway_junction"), "roads.oneway")),
            road_unnamed=check.unnamed(roads, "roads"),
            structure=check.table(bridges, "bridges.structure", domain.BRIDGE_STRUCTURES),
            structure_default=check.value(
                bridges.get("structure_default"),
                "bridges.structure_default",
                domain.BRIDGE_STRUCTURES,
            ),
            material=check.table(bridges, "bridges.material", domain.BRIDGE_MATERIALS),
            material_default=check.value(
                bridges.get("material_default"), "bridges.material_default", domain.BRIDGE_MATERIALS
            ),
            bridge_unnamed=check.unnamed(bridges, "bridges"),
            water_rules=check.rules(water.get("rules")),
            line_kinds=frozenset(
                check.values(
                    water.get("line_kinds"), "water_sources.line_kinds", domain.WATER_SOURCE_KINDS
                )
            ),
            water_unnamed=check.unnamed(water, "water_sources"),
            path=path,
        )

    # -- what the readers need ------------------------------------------------------------------
    @property
    def water_keys(self) -> tuple[str, ...]:
        """Every tag key a water rule looks at (the readers' filter)."""
        return tuple(sorted({key for when, _ in self.water_rules for key in when}))

    def water_kind(self, tags: Mapping[str, str]) -> str | None:
        """The kind of the first rule the tags match; None when none does (or it skips)."""
        for when, kind in self.water_rules:
            if all(
                key in tags and (allowed is None or tags[key] in allowed)
                for key, allowed in when.items()
            ):
                return kind
        return None

    def road_fields(self, tags: Mapping[str, str], osm_id: str, notes: Notes) -> dict[str, Any]:
        """The fields of a road from a highway way's tags (the way's ``highway`` is mapped).

        ``_reverse`` says the way is drawn against its one direction (``oneway=-1``)."""
        highway = tags["highway"]
        road_class, code = self._road_class(self.highway[highway], tags.get("ref"))
        oneway_tag = tags.get("oneway", "").strip().lower()
        reverse = oneway_tag in ("-1", "reverse")
        if oneway_tag in ("yes", "1", "true") or reverse:
            oneway = True
        elif oneway_tag in ("no", "0", "false"):
            oneway = False
        else:
            if oneway_tag:
                notes.add(f"oneway={oneway_tag!r} not read (implied oneway kept)", osm_id)
            oneway = highway in self.oneway_highway or tags.get("junction") in self.oneway_junction
        surface = self.surface.get(tags.get("surface", ""))
        if surface is None:
            if "surface" in tags:
                notes.add(f"surface={tags['surface']!r} not in the mapping (class default)", osm_id)
            surface = self.surface_default.get(highway, self.surface_default["other"])
        name_th, name_en = names(tags, self.road_unnamed)
        return {
            "name_th": name_th,
            "name_en": name_en,
            "road_class": road_class,
            "code": code,
            "owner_agency": self.agencies.get(road_class),
            "surface": surface,
            "width_m": _measure(tags, "width", _METRES, osm_id, notes),
            "lanes": _lanes(tags, osm_id, notes),
            "oneway": oneway,
            "layer": _layer(tags, osm_id, notes),
            "_reverse": reverse,
        }

    def _road_class(self, wanted: str, ref: str | None) -> tuple[str, str | None]:
        """The class and code from the class wanted and the ``ref`` (see osm.yaml)."""
        refs = [r.strip() for r in (ref or "").split(";") if r.strip()]
        for cls in (wanted, *self.ref_classes):
            pattern = domain.ROAD_CODE_PATTERNS.get(cls)
            if pattern is None:
                continue
            fitting = next((r for r in refs if re.match(pattern, r)), None)
            if fitting is not None:
                return cls, fitting
        if wanted in domain.ROAD_CODE_PATTERNS:  # a class that needs a code, without one
            return self.without_code, None
        return wanted, None

    def bridge_fields(self, tags: Mapping[str, str], osm_id: str, notes: Notes) -> dict[str, Any]:
        """Structure, material, load limit and names of a bridge way."""
        given = tags.get("bridge:structure")
        structure = self.structure.get(given or "")
        if structure is None:
            if given:
                notes.add(f"bridge:structure={given!r} not in the mapping (default)", osm_id)
            structure = self.structure_default
        given = tags.get("bridge:material") or tags.get("material")
        material = self.material.get(given or "")
        if material is None:
            if given:
                notes.add(f"material={given!r} not in the mapping (default)", osm_id)
            material = self.material_default
        named = dict(tags)
        if "bridge:name" in tags:
            named["name"] = tags["bridge:name"]
        name_th, name_en = names(named, self.bridge_unnamed)
        return {
            "name_th": name_th,
            "name_en": name_en,
            "structure_type": structure,
            "material": material,
            "load_limit_t": _measure(tags, "maxweight", _TONNES, osm_id, notes),
        }


def names(tags: Mapping[str, str], unnamed: tuple[str, str]) -> tuple[str, str]:
    """(name_th, name_en): ``name:th`` or a Thai ``name``, then ``name``; ``name:en`` or a
    non-Thai ``name``, then ``name``; the mapping's ``unnamed`` names when there is none."""
    name = (tags.get("name") or "").strip()
    th = (tags.get("name:th") or "").strip() or name or (tags.get("name:en") or "").strip()
    en = (tags.get("name:en") or "").strip()
    if not en:
        en = name if name and not _THAI.search(name) else (name or th)
    return th or unnamed[0], en or unnamed[1]


def parse_tonnes(value: str | None) -> float | None:
    """A ``maxweight`` in tonnes: ``10``, ``10 t``, ``10t``, ``7.5 tonnes``; None otherwise."""
    match = _TONNES.match((value or "").strip())
    return float(match.group(1)) if match and float(match.group(1)) > 0 else None


def _measure(
    tags: Mapping[str, str], key: str, pattern: re.Pattern[str], osm_id: str, notes: Notes
) -> float | None:
    value = tags.get(key)
    if value is None:
        return None
    match = pattern.match(value.strip())
    if match and float(match.group(1)) > 0:
        return float(match.group(1))
    notes.add(f"{key}={value!r} not read", osm_id)
    return None


def _lanes(tags: Mapping[str, str], osm_id: str, notes: Notes) -> int | None:
    value = tags.get("lanes")
    if value is None:
        return None
    if value.strip().isdigit() and 1 <= int(value) <= 12:
        return int(value)
    notes.add(f"lanes={value!r} not read (1 to 12)", osm_id)
    return None


def _layer(tags: Mapping[str, str], osm_id: str, notes: Notes) -> int:
    """The ``layer`` tag; without one a bridge is 1 and a tunnel -1, so that neither joins the
    roads it crosses (the network's layer rule)."""
    value = tags.get("layer")
    if value is not None:
        text = value.strip()
        if re.fullmatch(r"[+-]?[0-9]+", text) and abs(int(text)) <= MAX_LAYER:
            return int(text)
        notes.add(f"layer={value!r} not read", osm_id)
    if tags.get("bridge", "no") != "no":
        return 1
    if tags.get("tunnel", "no") != "no":
        return -1
    return 0


class _Checker:
    """Checks of a parsed mapping, each failure naming the entry (``roads.surface.paved``)."""

    def __init__(self, where: str) -> None:
        self.where = where

    def fail(self, entry: str, problem: str) -> NoReturn:
        raise GisRegistryError(f"{self.where}: {entry}: {problem}")

    def mapping(self, raw: Any, entry: str, known: set[str]) -> dict[str, Any]:
        if not isinstance(raw, Mapping):
            self.fail(entry, f"expected a mapping with {', '.join(sorted(known))}")
        unknown = sorted(set(map(str, raw)) - known)
        if unknown:
            self.fail(
                entry, f"unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})"
            )
        return {str(k): v for k, v in raw.items()}

    def value(self, raw: Any, entry: str, allowed: tuple[str, ...]) -> str:
        if raw not in allowed:
            self.fail(entry, f"{raw!r} is not one of {', '.join(allowed)}")
        return str(raw)

    def values(self, raw: Any, entry: str, allowed: tuple[str, ...]) -> list[str]:
        return [
            self.value(v, f"{entry}[{i}]", allowed) for i, v in enumerate(self.items(raw, entry))
        ]

    def items(self, raw: Any, entry: str) -> list[Any]:
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.fail(entry, "expected a list")
        return list(raw)

    def names(self, raw: Any, entry: str) -> list[str]:
        return [str(v) for v in self.items(raw, entry)]

    def table(
        self,
        section: Mapping[str, Any],
        entry: str,
        allowed: tuple[str, ...],
        keys: tuple[str, ...] | None = None,
    ) -> dict[str, str]:
        raw = section.get(entry.split(".")[-1]) or {}
        if not isinstance(raw, Mapping):
            self.fail(entry, "expected a mapping of OSM value -> registry value")
        out = {}
        for key, value in raw.items():
            if keys is not None and key not in keys:
                self.fail(f"{entry}.{key}", f"{key!r} is not one of {', '.join(keys)}")
            out[str(key)] = self.value(value, f"{entry}.{key}", allowed)
        return out

    def unnamed(self, section: Mapping[str, Any], entry: str) -> tuple[str, str]:
        raw = section.get("unnamed")
        if not isinstance(raw, Mapping) or not raw.get("th") or not raw.get("en"):
            self.fail(f"{entry}.unnamed", "expected {th: ..., en: ...} names for unnamed features")
        return str(raw["th"]), str(raw["en"])

    def rules(self, raw: Any) -> tuple[tuple[dict[str, frozenset[str] | None], str | None], ...]:
        out = []
        for i, rule in enumerate(self.items(raw, "water_sources.rules")):
            entry = f"water_sources.rules[{i}]"
            rule = self.mapping(rule, entry, {"when", "kind"})
            when = rule.get("when")
            if not isinstance(when, Mapping) or not when:
                self.fail(f"{entry}.when", "expected a mapping of tag -> value(s)")
            kind = rule.get("kind")
            if kind is not None:
                self.value(kind, f"{entry}.kind", domain.WATER_SOURCE_KINDS)
            conditions = {
                str(k): None if v == "*" else frozenset(map(str, v if isinstance(v, list) else [v]))
                for k, v in when.items()
            }
            out.append((conditions, kind))
        if not out:
            self.fail("water_sources.rules", "expected at least one rule")
        return tuple(out)
