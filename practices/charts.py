"""The Europe map and the bar charts: server-rendered SVG built from counts the
database gives (listing.with_catalogue_counts), never from stored figures.
Each chart is a template tag of the same name (practices_tags) and returns its
template's context.

Outlines come from practices/geodata/europe-map.json (Natural Earth, public
domain; see the build_europe_map command)."""

import functools
import json
import math
from collections import namedtuple
from itertools import pairwise
from pathlib import Path

GEODATA = Path(__file__).parent / "geodata" / "europe-map.json"
CLASSES = 5  # colour classes for countries with practices


@functools.cache
def outlines():
    return json.loads(GEODATA.read_text())


# A colour class of the map: countries with `low` to `high` practices.
MapClass = namedtuple("MapClass", ["index", "low", "high"])


def classes_for(maximum):
    """Up to CLASSES ranges from 1 to `maximum`, growing geometrically so that a
    few busy countries do not flatten everyone else into one colour."""
    if maximum < 1:
        return []
    # Distinct bounds, so each range holds at least one count.
    highs = sorted({math.ceil(maximum ** (i / CLASSES)) for i in range(1, CLASSES + 1)})
    return [
        MapClass(index, low + 1, high)
        for index, (low, high) in enumerate(pairwise([0, *highs]), start=1)
    ]


def europe_map(countries, heading_id="map"):
    """Shapes, legend and table rows for the countries in use (counted, by name:
    listing.with_catalogue_counts); the rest of Europe is a neutral background.
    `heading_id` makes the figure's ids unique on its page."""
    counts = {country.code: country for country in countries}
    maximum = max((c.practice_count for c in counts.values()), default=0)
    classes = classes_for(maximum)
    shapes = []
    for outline in outlines()["countries"]:
        country = counts.get(outline["code"])
        count = country.practice_count if country else 0
        css_class = next((c.index for c in classes if c.low <= count <= c.high), 0)
        # The count's pill fits its digits (about 11 units each at 18px).
        label_width = 12 + 11 * len(str(count))
        shapes.append(
            {
                **outline,  # code, name, d, and label: where its count is drawn
                "name": country.name if country else outline["name"],
                "url": country.get_absolute_url() if country else None,
                "count": count,
                "css_class": css_class,
                "label_width": label_width,
                "label_x": -label_width // 2,
            }
        )
    # Counted countries last, so their outlines are drawn over their neighbours'.
    shapes.sort(key=lambda shape: bool(shape["count"]))
    return {
        "id": heading_id,
        "width": int(outlines()["width"]),
        "height": outlines()["height"],
        "shapes": shapes,
        "classes": classes,
        "rows": list(counts.values()),
    }


BAR_LENGTH = 100  # the longest bar, in the bar cell's own units


def bar_chart(terms, caption, term_label):
    """Bar chart of terms annotated with practice_count, drawn as a table whose
    rows carry an SVG bar: the numbers are the chart's text equivalent."""
    terms = list(terms)
    maximum = max((term.practice_count for term in terms), default=0) or 1
    rows = [
        {"term": term, "length": round(BAR_LENGTH * term.practice_count / maximum, 1)}
        for term in terms
    ]
    return {"rows": rows, "caption": caption, "term_label": term_label}
