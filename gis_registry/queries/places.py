"""Local bodies by name: the list of LGOs (``gis-registry lgo list``) and the resolution of
what a person types for one (a code, or a Thai or English name) to its code.

A name is matched in tiers, the first that finds anything deciding:

1. the code, exactly (``520301``);
2. the full name, Thai or English, ignoring case and spacing, with the usual short forms of the
   kind: ``อบต.เกาะคา`` is ``องค์การบริหารส่วนตำบลเกาะคา``, ``Ko Kha Subdistrict
   Administrative Organization`` is ``Ko Kha SAO``;
3. the name without its kind (``เกาะคา``, ``Ko Kha``);
4. the start of a name, at a word boundary in English (``Khelang``, ``Phra``).

One body found is the answer; several raise :class:`~gis_registry.errors.AmbiguousName` listing
them (in the demo ``Ko Kha`` is both a subdistrict municipality and an SAO, and ``ลำปาง`` both
the city municipality and the PAO); none raises :class:`~gis_registry.errors.NotFound` with the
closest names. A code never loses to a name: the code tier comes first.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

from gis_registry.domain import LOCAL_BODY_KIND_TERMS, LOCAL_BODY_KINDS
from gis_registry.errors import AmbiguousName, InvalidParameter, NotFound

_MUNICIPAL = frozenset({"city_municipality", "town_municipality", "subdistrict_municipality"})
# English kind words at the end of a name, longest first, and the kinds each may mean.
_EN_KINDS: list[tuple[str, frozenset[str]]] = sorted(
    [
        *((t.en.casefold(), frozenset({k})) for k, t in LOCAL_BODY_KIND_TERMS.items()),
        ("sao", frozenset({"sao"})),
        ("tao", frozenset({"sao"})),
        ("tambon administrative organization", frozenset({"sao"})),
        ("pao", frozenset({"pao"})),
        ("municipality", _MUNICIPAL),
    ],
    key=lambda item: -len(item[0]),
)
# Thai kind words at the start of a name (full and the abbreviations people write), longest
# first: อบต. is องค์การบริหารส่วนตำบล, ทต. เทศบาลตำบล, ทม. เทศบาลเมือง, ทน. เทศบาลนคร.
_TH_KINDS: list[tuple[str, frozenset[str]]] = sorted(
    [
        *((t.th, frozenset({k})) for k, t in LOCAL_BODY_KIND_TERMS.items()),
        ("อบจ.", frozenset({"pao"})),
        ("อบต.", frozenset({"sao"})),
        ("ทน.", frozenset({"city_municipality"})),
        ("ทม.", frozenset({"town_municipality"})),
        ("ทต.", frozenset({"subdistrict_municipality"})),
        ("เทศบาล", _MUNICIPAL),
    ],
    key=lambda item: -len(item[0]),
)
LIST_HINT = "`gis-registry lgo list` lists them"
_THAI = re.compile(r"[\u0e00-\u0e7f]")
_UNDOTTED = re.compile(r"^(อบจ|อบต|ทน|ทม|ทต) (?=[\u0e00-\u0e7f])")
_SPACE_NEAR_THAI = re.compile(
    r"(?<=[\u0e00-\u0e7f])\s+|(?<=[\u0e00-\u0e7f]\.)\s+|\s+(?=[\u0e00-\u0e7f])"
)


def normalise(name: str) -> str:
    """A name as compared: Unicode NFC, case folded, runs of spaces as one, none around Thai;
    a Thai abbreviation of a kind written without its dot but with a space (``อบต เกาะคา``)
    gets its dot."""
    s = " ".join(unicodedata.normalize("NFC", str(name)).casefold().split())
    return _SPACE_NEAR_THAI.sub("", _UNDOTTED.sub(r"\1.", s))


def split_kind(name: str) -> tuple[str, frozenset[str] | None]:
    """A normalised name as (the name without its kind words, the kinds those words may mean).

    >>> split_kind(normalise("Ko Kha SAO"))
    ('ko kha', frozenset({'sao'}))
    >>> split_kind(normalise("อบต.เกาะคา"))
    ('เกาะคา', frozenset({'sao'}))
    """
    if _THAI.search(name):
        for word, kinds in _TH_KINDS:
            if name.startswith(word) and len(name) > len(word):
                return name[len(word) :].lstrip(". "), kinds
        return name, None
    for word, kinds in _EN_KINDS:
        if name.endswith(" " + word):
            return name[: -len(word) - 1].rstrip(), kinds
    return name, None


@dataclass(frozen=True)
class _Body:
    code: str
    name_th: str
    name_en: str
    keys: tuple[tuple[str, frozenset[str] | None, str], ...]  # (bare, kinds, full) per name

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "name_th": self.name_th, "name_en": self.name_en}


def _bodies(rows: Iterable[Sequence[Any]]) -> list[_Body]:
    out = []
    for code, name_th, name_en in rows:
        keys = []
        for name in (name_th, name_en):
            if name:
                full = normalise(name)
                bare, kinds = split_kind(full)
                keys.append((bare, kinds, full))
        out.append(_Body(str(code), name_th or "", name_en or "", tuple(keys)))
    return out


def match_local_body(value: str, rows: Iterable[Sequence[Any]], *, hint: str = LIST_HINT) -> str:
    """The code of the local body ``value`` names, among ``rows``.

    Parameters
    ----------
    value
        A code, or a Thai or English name (full, with a short form of the kind, or without
        the kind; or the start of one): see the module's docstring for the order.
    rows
        (code, Thai name, English name) of every local body.
    hint
        What the message of an unknown name ends with, in brackets.

    Returns
    -------
    str
        The code.

    Raises
    ------
    AmbiguousName
        Several local bodies answer to ``value``; ``candidates`` lists them.
    NotFound
        None does; the message suggests the closest names.
    """
    bodies = _bodies(rows)
    wanted = str(value).strip()
    for b in bodies:
        if b.code == wanted:
            return b.code
    query = normalise(wanted)
    if not query:
        raise NotFound(f"no local body with an empty code or name ({hint})")
    bare, kinds = split_kind(query)

    def kind_ok(body_kinds: frozenset[str] | None) -> bool:
        return kinds is None or (body_kinds is not None and bool(body_kinds & kinds))

    tiers = [
        # the full name, or its bare name with a kind the query's kind words allow
        lambda b: any(
            full == query or (kinds is not None and bk == bare and kind_ok(k))
            for bk, k, full in b.keys
        ),
        # the name without its kind
        lambda b: any(bk == query for bk, _, _ in b.keys),
        # the start of a name (at a word boundary where words are spaced)
        lambda b: any(
            kind_ok(k) and _starts(bk, bare) or _starts(full, query) for bk, k, full in b.keys
        ),
    ]
    for tier in tiers:
        found = [b for b in bodies if tier(b)]
        if len(found) == 1:
            return found[0].code
        if found:
            raise AmbiguousName("local bodies", wanted, [b.to_dict() for b in found])
    raise NotFound(_unknown(wanted, query, bodies, hint))


def _starts(name: str, prefix: str) -> bool:
    if not name.startswith(prefix) or name == prefix:
        return False
    return bool(_THAI.search(prefix)) or name[len(prefix)] == " "


def _unknown(wanted: str, query: str, bodies: list[_Body], hint: str) -> str:
    """The message for a name no local body answers to, with the closest names."""
    import difflib

    owner: dict[str, _Body] = {}
    for b in bodies:
        for bare, _, full in b.keys:
            owner.setdefault(full, b)
            owner.setdefault(bare, b)
    close = difflib.get_close_matches(query, list(owner), n=8, cutoff=0.6)
    suggested: list[_Body] = []
    for name in close:
        if owner[name] not in suggested:
            suggested.append(owner[name])
    listed = "; ".join(f"{b.code} {b.name_en} ({b.name_th})" for b in suggested[:3])
    close_names = f"; the closest names: {listed}" if suggested else ""
    return f"no local body with code '{wanted}' or that name{close_names} ({hint})"


_NAMES = text("SELECT code, name_th, name_en FROM local_bodies ORDER BY code")


def resolve_local_body(conn: Connection, value: str) -> str:
    """The code of the local body ``value`` (a code, or a unique Thai or English name) names.

    Parameters
    ----------
    conn : an open connection to the registry
    value : what a person typed (see :func:`match_local_body`)

    Raises
    ------
    AmbiguousName
        Several local bodies answer to ``value``; ``candidates`` lists them.
    NotFound
        None does; the message suggests the closest names.
    """
    return match_local_body(value, conn.execute(_NAMES).all())


_BY_KEY = text(
    "SELECT id, code, name_th, name_en FROM local_bodies "
    "WHERE code = :v OR id::text = :v ORDER BY code = :v DESC, id LIMIT 1"
)


def local_body_row(conn: Connection, value: int | str) -> dict[str, Any]:
    """The local body ``value`` names, by its id, its code or a unique Thai or English name
    (:func:`resolve_local_body`): ``id``, ``code``, ``name_th`` and ``name_en``.

    Raises
    ------
    AmbiguousName
        Several local bodies answer to the name.
    NotFound
        None does; the message suggests the closest names.
    """
    row = conn.execute(_BY_KEY, {"v": str(value).strip()}).mappings().first()
    if row is None:
        row = conn.execute(_BY_KEY, {"v": resolve_local_body(conn, str(value))}).mappings().one()
    return dict(row)


# The fields of each local body :func:`local_bodies` returns, in order.
LIST_FIELDS = (
    "code",
    "name_th",
    "name_en",
    "kind",
    "kind_th",
    "kind_en",
    "district_code",
    "district_name_th",
    "district_name_en",
)
_LIST = text(
    """
    SELECT lb.code, lb.name_th, lb.name_en, lb.kind, lb.district_code,
           d.name_th AS district_name_th, d.name_en AS district_name_en
    FROM local_bodies lb LEFT JOIN districts d ON d.code = lb.district_code
    WHERE (CAST(:district AS text) IS NULL OR lb.district_code = :district)
      AND (CAST(:kind AS text) IS NULL OR lb.kind = :kind)
    ORDER BY lb.district_code NULLS FIRST, lb.code
    """
)


# The one-word name of each kind (``lgo list`` shows it, ``--kind`` takes it as well as the key).
KIND_SHORT = {
    "pao": "pao",
    "city_municipality": "city",
    "town_municipality": "town",
    "subdistrict_municipality": "subdistrict",
    "sao": "sao",
}


def check_kind(kind: str) -> str:
    """``kind`` as a key of :data:`~gis_registry.domain.LOCAL_BODY_KINDS`: the key, its short
    name (:data:`KIND_SHORT`) or its English term, case and spaces forgiven (``"town"``,
    ``"Town municipality"`` and ``town_municipality`` are one kind).

    Raises
    ------
    InvalidParameter
        Naming the valid kinds.
    """
    key = "_".join(str(kind).strip().casefold().replace("-", " ").split())
    aliases = {short: k for k, short in KIND_SHORT.items()}
    aliases |= {"_".join(t.en.split()): k for k, t in LOCAL_BODY_KIND_TERMS.items()}
    key = aliases.get(key, key)
    if key not in LOCAL_BODY_KINDS:
        choices = ", ".join(
            KIND_SHORT[k] + (f" ({k})" if KIND_SHORT[k] != k else "") for k in LOCAL_BODY_KINDS
        )
        raise InvalidParameter(
            "kind", f"'{kind}' is not a kind of local body; choose one of {choices}"
        )
    return key


def check_district(conn: Connection, district: str) -> str:
    """The code of the district ``district`` names: its code, or its Thai or English name.

    Raises
    ------
    InvalidParameter
        Naming the districts (code and name) to choose from.
    """
    rows = conn.execute(text("SELECT code, name_th, name_en FROM districts ORDER BY code")).all()
    wanted = normalise(district)
    for code, name_th, name_en in rows:
        if wanted in (code, normalise(name_th), normalise(name_en)):
            return str(code)
    choices = ", ".join(f"{code} ({name_en})" for code, _, name_en in rows) or "none"
    raise InvalidParameter("district", f"no district '{district}'; choose one of {choices}")


def local_bodies(
    conn: Connection, *, district: str | None = None, kind: str | None = None
) -> list[dict[str, Any]]:
    """Every local body (the PAO first, then by district and code), with its kind's and its
    district's names.

    Parameters
    ----------
    conn : an open connection to the registry
    district : only this district's (its code, or its Thai or English name)
    kind : only this kind (a key of :data:`~gis_registry.domain.LOCAL_BODY_KINDS`)

    Returns
    -------
    list of dict
        ``code``, ``name_th``, ``name_en``, ``kind``, ``kind_th``, ``kind_en``,
        ``district_code``, ``district_name_th``, ``district_name_en`` (None for the PAO).

    Raises
    ------
    InvalidParameter
        An unknown district or kind, naming the valid ones.
    """
    params = {
        "district": None if district is None else check_district(conn, district),
        "kind": None if kind is None else check_kind(kind),
    }
    out = []
    for row in conn.execute(_LIST, params).mappings():
        term = LOCAL_BODY_KIND_TERMS.get(row["kind"])
        out.append(
            {
                "code": row["code"],
                "name_th": row["name_th"],
                "name_en": row["name_en"],
                "kind": row["kind"],
                "kind_th": term.th if term else row["kind"],
                "kind_en": term.en if term else row["kind"],
                "district_code": row["district_code"],
                "district_name_th": row["district_name_th"],
                "district_name_en": row["district_name_en"],
            }
        )
    return out
