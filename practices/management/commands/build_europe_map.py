"""Rebuild practices/geodata/europe-map.json, the outlines the Europe map draws.

The outlines come from Natural Earth's Admin 0 countries at 1:50m (public
domain), as redistributed in TopoJSON by the npm package world-atlas
(`npm pack world-atlas@2` gives countries-50m.json). ISO numeric ids are
turned into the alpha-2 codes our Country records use with Debian's iso-codes
table. The result is projected once, here, so pages only print path data.

Maintainers run this only to change the map's frame or detail; the generated
file is committed and nothing at run time needs the sources.
"""

import json
import math
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

OUTPUT = Path(settings.BASE_DIR) / "practices" / "geodata" / "europe-map.json"
ISO_CODES = Path("/usr/share/iso-codes/json/iso_3166-1.json")

# ETRS89 Lambert azimuthal equal-area (EPSG:3035), on a sphere: the projection
# of the EU's own statistical maps, so areas compare fairly.
LAT0, LON0, RADIUS_KM = math.radians(52), math.radians(10), 6371.0
# The frame is fitted to these countries' European territory (EU 27, the UK,
# and the EEA/EFTA neighbours), ignoring parts outside this lon/lat window
# (the Canaries, the Azores, Svalbard, overseas departments).
FRAME_COUNTRIES = set(
    "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI "
    "ES SE GB NO CH".split()
)
FRAME_WINDOW = (-12.0, 34.0, 45.0, 72.0)  # west, south, east, north (degrees)
WIDTH = 1000.0  # SVG user units across the frame
PADDING = 0.02
TOLERANCE = 0.7  # Douglas-Peucker tolerance, in SVG units (≈ 3 km)
MIN_RING_AREA = 1.5  # drop islands smaller than this (SVG units²)…
LABEL_MIN_AREA = 250.0  # …and do not print a count inside smaller shapes


def project(lon, lat):
    lam, phi = math.radians(lon) - LON0, math.radians(lat)
    sin0, cos0 = math.sin(LAT0), math.cos(LAT0)
    k = RADIUS_KM * math.sqrt(
        2 / (1 + sin0 * math.sin(phi) + cos0 * math.cos(phi) * math.cos(lam))
    )
    x = k * math.cos(phi) * math.sin(lam)
    y = k * (cos0 * math.sin(phi) - sin0 * math.cos(phi) * math.cos(lam))
    return x, y


def decode_arcs(topology):
    """TopoJSON arcs are quantised and delta-encoded: return them in degrees."""
    (sx, sy), (tx, ty) = (
        topology["transform"]["scale"],
        topology["transform"]["translate"],
    )
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
    return arcs


def ring_from(arc_ids, arcs):
    points = []
    for index in arc_ids:
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        points.extend(arc if not points else arc[1:])
    return points


def polygons_of(geometry, arcs):
    if geometry["type"] == "Polygon":
        shapes = [geometry["arcs"]]
    elif geometry["type"] == "MultiPolygon":
        shapes = geometry["arcs"]
    else:
        return []
    return [[ring_from(ring, arcs) for ring in shape] for shape in shapes]


def centred_in_window(ring):
    lon = sum(p[0] for p in ring) / len(ring)
    lat = sum(p[1] for p in ring) / len(ring)
    west, south, east, north = FRAME_WINDOW
    return west <= lon <= east and south <= lat <= north


def touches_window(ring, margin=15.0):
    west, south, east, north = FRAME_WINDOW
    return any(
        west - margin <= lon <= east + margin and south - margin <= lat <= north
        for lon, lat in ring
    )


def clip(ring, box):
    """Sutherland–Hodgman: the part of a ring inside an axis-aligned box."""
    x0, y0, x1, y1 = box
    edges = [
        (lambda p: p[0] >= x0, lambda a, b: _cross_x(a, b, x0)),
        (lambda p: p[0] <= x1, lambda a, b: _cross_x(a, b, x1)),
        (lambda p: p[1] >= y0, lambda a, b: _cross_y(a, b, y0)),
        (lambda p: p[1] <= y1, lambda a, b: _cross_y(a, b, y1)),
    ]
    for inside, cross in edges:
        if not ring:
            break
        result = []
        previous = ring[-1]
        for point in ring:
            if inside(point):
                if not inside(previous):
                    result.append(cross(previous, point))
                result.append(point)
            elif inside(previous):
                result.append(cross(previous, point))
            previous = point
        ring = result
    return ring


def _cross_x(a, b, x):
    t = (x - a[0]) / (b[0] - a[0])
    return (x, a[1] + t * (b[1] - a[1]))


def _cross_y(a, b, y):
    t = (y - a[1]) / (b[1] - a[1])
    return (a[0] + t * (b[0] - a[0]), y)


def simplify(points, tolerance):
    """Douglas-Peucker on an open polyline."""
    if len(points) < 3:
        return points
    (ax, ay), (bx, by) = points[0], points[-1]
    length = math.hypot(bx - ax, by - ay)
    worst, worst_index = 0.0, 0
    for i in range(1, len(points) - 1):
        px, py = points[i]
        if length:
            distance = abs((bx - ax) * (ay - py) - (ax - px) * (by - ay)) / length
        else:
            distance = math.hypot(px - ax, py - ay)
        if distance > worst:
            worst, worst_index = distance, i
    if worst <= tolerance:
        return [points[0], points[-1]]
    left = simplify(points[: worst_index + 1], tolerance)
    return left[:-1] + simplify(points[worst_index:], tolerance)


def area(ring):
    return (
        sum(
            ring[i - 1][0] * ring[i][1] - ring[i][0] * ring[i - 1][1]
            for i in range(len(ring))
        )
        / 2
    )


def contains(ring, x, y):
    inside = False
    for (ax, ay), (bx, by) in zip(ring, ring[1:] + ring[:1], strict=True):
        if (ay > y) != (by > y) and x < ax + (y - ay) * (bx - ax) / (by - ay):
            inside = not inside
    return inside


def edge_distance(ring, x, y):
    best = math.inf
    for (ax, ay), (bx, by) in zip(ring, ring[1:] + ring[:1], strict=True):
        dx, dy = bx - ax, by - ay
        t = 0.0
        if dx or dy:
            t = max(
                0.0, min(1.0, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy))
            )
        best = min(best, math.hypot(x - ax - t * dx, y - ay - t * dy))
    return best


def label_point(ring):
    """The grid point deepest inside the ring: a place a count can sit."""
    xs, ys = [p[0] for p in ring], [p[1] for p in ring]
    best, best_point = -1.0, None
    steps = 24
    for i in range(1, steps):
        for j in range(1, steps):
            x = min(xs) + (max(xs) - min(xs)) * i / steps
            y = min(ys) + (max(ys) - min(ys)) * j / steps
            if contains(ring, x, y):
                depth = edge_distance(ring, x, y)
                if depth > best:
                    best, best_point = depth, (round(x, 1), round(y, 1))
    return best_point


def path_data(rings):
    """Compact SVG path data: whole units, relative moves after the first."""
    parts = []
    for ring in rings:
        (x, y), *rest = ring
        steps = []
        for nx, ny in rest:
            if (nx, ny) != (x, y):
                steps.append(f"{nx - x} {ny - y}")
                x, y = nx, ny
        parts.append(f"M{ring[0][0]} {ring[0][1]}l" + " ".join(steps) + "z")
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

        countries = []
        for geometry in topology["objects"]["countries"]["geometries"]:
            code = alpha2.get(geometry.get("id"), "")
            polygons = polygons_of(geometry, arcs)
            # Framed countries keep only their European territory; neighbours
            # keep whatever reaches the frame (clipping trims the rest).
            keep = centred_in_window if code in FRAME_COUNTRIES else touches_window
            polygons = [p for p in polygons if keep(p[0])]
            if not polygons:
                continue
            countries.append(
                {
                    "code": code,
                    "name": geometry["properties"]["name"],
                    "polygons": [
                        [[project(lon, lat) for lon, lat in ring] for ring in polygon]
                        for polygon in polygons
                    ],
                }
            )

        framed = [
            point
            for country in countries
            if country["code"] in FRAME_COUNTRIES
            for polygon in country["polygons"]
            for point in polygon[0]
        ]
        x0, x1 = min(p[0] for p in framed), max(p[0] for p in framed)
        y0, y1 = min(p[1] for p in framed), max(p[1] for p in framed)
        pad = (x1 - x0) * PADDING
        x0, x1, y0, y1 = x0 - pad, x1 + pad, y0 - pad, y1 + pad
        scale = WIDTH / (x1 - x0)
        height = round((y1 - y0) * scale)

        def to_svg(point):  # SVG's y axis points down
            return ((point[0] - x0) * scale, (y1 - point[1]) * scale)

        shapes = []
        for country in countries:
            rings = []
            for polygon in country["polygons"]:
                for ring in polygon:
                    ring = clip([to_svg(p) for p in ring], (0, 0, WIDTH, height))
                    ring = simplify(ring + ring[:1], TOLERANCE)[:-1]
                    ring = [(round(x), round(y)) for x, y in ring]
                    if len(ring) >= 3 and abs(area(ring)) >= MIN_RING_AREA:
                        rings.append(ring)
            if not rings:
                continue
            largest = max(rings, key=lambda r: abs(area(r)))
            label = (
                label_point(largest) if abs(area(largest)) >= LABEL_MIN_AREA else None
            )
            shapes.append(
                {
                    "code": country["code"],
                    "name": country["name"],
                    "d": path_data(rings),
                    "label": label,
                }
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
