"""Rebuild practices/geodata/europe-map.json, the outlines the Europe map draws.

The outlines come from Natural Earth's Admin 0 countries at 1:50m (public
domain), as redistributed in TopoJSON by the npm package world-atlas
(`npm pack world-atlas@2` gives countries-50m.json). ISO numeric ids are
turned into the alpha-2 codes our Country records use with Debian's iso-codes
table. The result is projected once, here, so pages only print path data.

The generated file is committed: nothing at run time needs the sources or shapely.
"""

import json
from pathlib import Path

import numpy as np
import shapely
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from pyproj import Transformer
from shapely.affinity import affine_transform
from shapely.geometry import Polygon, box
from shapely.ops import polylabel

OUTPUT = Path(settings.BASE_DIR) / "practices" / "geodata" / "europe-map.json"
ISO_CODES = Path("/usr/share/iso-codes/json/iso_3166-1.json")

# ETRS89 Lambert azimuthal equal-area (EPSG:3035): the projection of the EU's own
# statistical maps, so areas compare fairly.
TO_LAEA = Transformer.from_crs("EPSG:4326", "EPSG:3035", always_xy=True)
# The frame is fitted to these countries' European territory (EU 27, the UK,
# and the EEA/EFTA neighbours): their polygons centred in FRAME_WINDOW (not the
# Canaries, the Azores, Svalbard, overseas departments). Other countries keep
# what reaches NEIGHBOURS_WINDOW (15° wider, except northwards); clipping to the
# frame trims the rest.
FRAME_COUNTRIES = set(
    "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI "
    "ES SE GB NO CH".split()
)
FRAME_WINDOW = box(-12.0, 34.0, 45.0, 72.0)  # west, south, east, north (degrees)
NEIGHBOURS_WINDOW = box(-27.0, 19.0, 60.0, 72.0)
WIDTH = 1000.0  # SVG user units across the frame
PADDING = 0.02
TOLERANCE = 0.7  # Douglas-Peucker tolerance, in SVG units (≈ 3 km)
MIN_RING_AREA = 1.5  # drop islands smaller than this (SVG units²)…
LABEL_MIN_AREA = 250.0  # …and do not print a count inside smaller shapes


def decode_arcs(topology):
    """TopoJSON arcs are quantised and delta-encoded: return them in degrees."""
    scale, translate = (
        np.array(topology["transform"][k]) for k in ("scale", "translate")
    )
    return [np.cumsum(arc, axis=0) * scale + translate for arc in topology["arcs"]]


def polygons_of(geometry, arcs):
    def ring(arc_ids):  # arcs joined end to start; ~index walks an arc backwards
        parts = [arcs[i] if i >= 0 else arcs[~i][::-1] for i in arc_ids]
        return np.concatenate([parts[0], *(part[1:] for part in parts[1:])])

    shapes = {"Polygon": [geometry.get("arcs")], "MultiPolygon": geometry.get("arcs")}
    return [
        Polygon(ring(rings[0]), [ring(hole) for hole in rings[1:]])
        for rings in shapes.get(geometry["type"], [])
    ]


def path_data(rings):
    """Compact SVG path data: whole units, relative moves after the first."""
    parts = []
    for ring in rings:
        points = np.rint(ring.coords).astype(int)[:-1]  # "z" closes the ring
        steps = " ".join(f"{dx} {dy}" for dx, dy in np.diff(points, axis=0))
        parts.append(f"M{points[0][0]} {points[0][1]}l{steps}z")
    return "".join(parts).replace(" -", "-")


class Command(BaseCommand):
    help = (
        "Rebuild practices/geodata/europe-map.json from world-atlas's "
        "countries-50m.json (Natural Earth 1:50m Admin 0 countries)."
    )

    def add_arguments(self, parser):
        parser.add_argument("topojson", help="Path to world-atlas countries-50m.json")
        parser.add_argument(
            "--iso-codes",
            default=str(ISO_CODES),
            help="ISO 3166-1 table from Debian's iso-codes (alpha-2 by numeric id).",
        )
        parser.add_argument("--output", default=str(OUTPUT))

    def handle(self, *args, **options):
        try:
            topology = json.loads(Path(options["topojson"]).read_text())
            iso = json.loads(Path(options["iso_codes"]).read_text())["3166-1"]
        except (OSError, ValueError, KeyError) as error:
            raise CommandError(f"Cannot read the sources: {error}") from error
        alpha2 = {entry["numeric"]: entry["alpha_2"] for entry in iso}
        arcs = decode_arcs(topology)

        countries, framed = [], []  # framed: the polygons the frame is fitted to
        for geometry in topology["objects"]["countries"]["geometries"]:
            code = alpha2.get(geometry.get("id"), "")
            if code in FRAME_COUNTRIES:
                keep = lambda p: FRAME_WINDOW.contains(p.centroid)  # noqa: E731
            else:
                keep = NEIGHBOURS_WINDOW.intersects
            polygons = [p for p in polygons_of(geometry, arcs) if keep(p)]
            if polygons:
                projected = shapely.transform(
                    polygons, lambda xy: np.column_stack(TO_LAEA.transform(*xy.T))
                )
                countries.append((code, geometry["properties"]["name"], projected))
                if code in FRAME_COUNTRIES:
                    framed.extend(projected)

        x0, y0, x1, y1 = shapely.total_bounds(framed)
        pad = (x1 - x0) * PADDING
        x0, x1, y0, y1 = x0 - pad, x1 + pad, y0 - pad, y1 + pad
        scale = WIDTH / (x1 - x0)
        height = round((y1 - y0) * scale)
        to_svg = [scale, 0, 0, -scale, -x0 * scale, y1 * scale]  # SVG's y points down

        shapes = []
        for code, name, polygons in countries:
            polygons = [affine_transform(p, to_svg) for p in polygons]
            polygons = shapely.clip_by_rect(polygons, 0, 0, WIDTH, height)
            polygons = shapely.set_precision(shapely.simplify(polygons, TOLERANCE), 1)
            polygons = [
                p for p in shapely.get_parts(polygons) if p.area >= MIN_RING_AREA
            ]
            if not polygons:
                continue
            largest = max(polygons, key=lambda p: p.area)
            label = None
            if largest.area >= LABEL_MIN_AREA:  # the point deepest inside it
                point = polylabel(largest, tolerance=0.5)
                label = [round(point.x, 1), round(point.y, 1)]
            rings = [
                ring
                for p in polygons
                for ring in (p.exterior, *p.interiors)
                if Polygon(ring).area >= MIN_RING_AREA
            ]
            shapes.append(
                {"code": code, "name": name, "d": path_data(rings), "label": label}
            )
        shapes.sort(key=lambda shape: shape["name"])
        document = {
            "source": (
                "Natural Earth 1:50m Admin 0 countries (public domain), via the "
                "world-atlas TopoJSON; ETRS89-LAEA projection, simplified."
            ),
            "width": WIDTH,
            "height": height,
            "countries": shapes,
        }
        output = Path(options["output"])
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(document, separators=(",", ":")) + "\n")
        self.stdout.write(
            f"Wrote {len(shapes)} outlines ({output.stat().st_size // 1024} KB) "
            f"to {output}."
        )
