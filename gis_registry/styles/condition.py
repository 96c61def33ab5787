"""The condition layers of the QGIS project: roads and bridges coloured by the class of their
latest inspection, as the condition map (:mod:`gis_registry.maps.condition`) draws them.

No table holds an asset's condition class: the library computes it from the latest inspection
(:func:`gis_registry.analysis.condition.latest_condition`). So the project does not read it
from the database; it reads a snapshot GeoPackage written beside it (``FILE_condition.gpkg``),
one layer per asset type, named with its day in Buddhist Era and ISO, the classes those of
:func:`gis_registry.analysis.condition.condition_frame` (the map's frame). The project references
it by a relative path, so the two travel together; the layer says of which day it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import Connection

from gis_registry.analysis.condition import CLASS_STYLES, condition_frame
from gis_registry.db.tables import SRID
from gis_registry.fiscal import format_thai_date, to_be
from gis_registry.styles import palette
from gis_registry.styles.symbology import GROUPS, LayerStyle, Rule, Symbol

SNAPSHOT_SUFFIX = "_condition.gpkg"
# Asset type -> (the feature query, geometry kind, titles). Ordered as the map lists them.
_ASSETS: dict[str, tuple[str, str, str, str]] = {
    "road": (
        "SELECT r.id AS asset_id, r.code, r.name_th, r.name_en, r.road_class, r.geom "
        "FROM roads r ORDER BY r.id",
        "line",
        "สภาพทาง",
        "Road condition",
    ),
    "bridge": (
        "SELECT b.id AS asset_id, r.code, b.name_th, b.name_en, r.road_class, b.geom "
        "FROM bridges b JOIN roads r ON r.id = b.road_id ORDER BY b.id",
        "point",
        "สภาพสะพาน",
        "Bridge condition",
    ),
}
_FIELDS = ("inspected_on", "condition_score", "condition_scale", "condition_index", "condition")


@dataclass(frozen=True)
class SnapshotLayer:
    """One layer of the snapshot GeoPackage, as the project shows it."""

    style: LayerStyle
    table: str  # the GeoPackage layer's name
    wkb_type: str  # "LineString", "Point"
    features: int
    abstract: str


@dataclass(frozen=True)
class ConditionSnapshot:
    """The snapshot written: its file, its day and its layers."""

    path: Path
    as_of: date
    layers: tuple[SnapshotLayer, ...]

    @property
    def day_text(self) -> str:
        """'5 ธันวาคม 2569 (2026-12-05)'."""
        return f"{format_thai_date(self.as_of)} ({self.as_of.isoformat()})"


def snapshot_path(project: Path) -> Path:
    """The snapshot beside a project: ``province.qgz`` -> ``province_condition.gpkg``."""
    return project.with_name(project.stem + SNAPSHOT_SUFFIX)


def layer_name(asset_type: str, as_of: date) -> str:
    """The GeoPackage layer of one asset type on one day, dated in BE and ISO:
    ``road_condition_be2569-12-05_2026-12-05``."""
    return (
        f"{asset_type}_condition_be{to_be(as_of.year)}-{as_of.month:02d}-{as_of.day:02d}"
        f"_{as_of.isoformat()}"
    )


def condition_rules(geometry: str) -> tuple[Rule, ...]:
    """One rule per condition class and one for the never-inspected, in the condition map's
    colours (:func:`gis_registry.styles.palette.condition_colour`) and legend order."""
    rules = []
    for key, term in CLASS_STYLES.items():
        colour = palette.condition_colour(key)
        if geometry == "point":
            symbol = Symbol(
                stroke=palette.CONDITION_BRIDGE_LINE,
                stroke_px=palette.CONDITION_BRIDGE_LINE_PX,
                fill=colour,
                marker_px=palette.CONDITION_BRIDGE_MARKER_PX,
            )
        else:
            symbol = Symbol(stroke=colour, stroke_px=palette.ROAD_WIDTH_DEFAULT_PX)
        rules.append(Rule(key, term.th, term.en, symbol, where=(("condition", key),)))
    return tuple(rules)


def write_condition_snapshot(
    conn: Connection, path: Path, *, as_of: date | None = None
) -> ConditionSnapshot:
    """Write the latest condition of every road and bridge on ``as_of`` to ``path``.

    Parameters
    ----------
    conn : an open connection
    path : the GeoPackage to write (replaced atomically when it exists)
    as_of : the latest inspection on or before this day (default today)

    Returns
    -------
    ConditionSnapshot
        One layer per asset type: the asset's id, code, Thai and English names, road class,
        geometry, and its latest inspection (``inspected_on`` ISO, score, scale, index) and
        ``condition`` (a class of ``analysis.condition.CLASSES`` or ``unknown``, with
        ``condition_th``/``condition_en``), one feature per asset, inspected or not.
    """
    import geopandas as gpd

    day = as_of or date.today()
    classified = condition_frame(conn, as_of=day, asset_types=list(_ASSETS))
    # a .gpkg name: GDAL warns about a GeoPackage under another extension
    tmp = path.with_name(f"{path.stem}.part{path.suffix}")
    tmp.unlink(missing_ok=True)
    layers: list[SnapshotLayer] = []
    for asset_type, (sql, geometry, title_th, title_en) in _ASSETS.items():
        # the CRS said, not read from the first row: an empty registry writes typed layers too
        features = gpd.read_postgis(sql, conn, geom_col="geom", crs=f"EPSG:{SRID}")
        rows = classified.loc[classified["asset_type"] == asset_type, ["asset_id", *_FIELDS]]
        out = features.merge(rows, on="asset_id", how="left", validate="one_to_one")
        out["inspected_on"] = out["inspected_on"].map(
            lambda d: d.isoformat() if isinstance(d, date) else None
        )
        out["condition_th"] = out["condition"].map(lambda c: CLASS_STYLES[c].th)
        out["condition_en"] = out["condition"].map(lambda c: CLASS_STYLES[c].en)
        table = layer_name(asset_type, day)
        wkb_type = "Point" if geometry == "point" else "LineString"
        out.to_file(
            tmp,
            layer=table,
            driver="GPKG",
            engine="pyogrio",
            append=bool(layers),
            geometry_type=wkb_type,
        )
        snapshot = f"snapshot of {day.isoformat()}"
        style = LayerStyle(
            layer=f"{asset_type}_condition",
            name="default",
            title_th=f"{title_th} ณ {format_thai_date(day)}",
            title_en=f"{title_en}, {snapshot}",
            geometry="point" if geometry == "point" else "line",
            rules=condition_rules(geometry),
            label_fields=(),  # the catalogue's roads and bridges carry the names
            group=GROUPS["condition"],
        )
        layers.append(
            SnapshotLayer(
                style=style,
                table=table,
                wkb_type=wkb_type,
                features=len(out),
                abstract=(
                    f"{title_en}: the class of each asset's latest inspection on or before "
                    f"{format_thai_date(day)} ({day.isoformat()}), as the condition map and "
                    f"the condition analysis compute it; {snapshot}; re-run gis-registry qgis "
                    "to refresh"
                ),
            )
        )
    tmp.replace(path)
    return ConditionSnapshot(path=path, as_of=day, layers=tuple(layers))


__all__ = [
    "ConditionSnapshot",
    "SnapshotLayer",
    "condition_rules",
    "layer_name",
    "snapshot_path",
    "write_condition_snapshot",
]
