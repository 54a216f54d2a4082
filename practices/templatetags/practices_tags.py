import functools
import html
import re

import markdown as md
import nh3
from django import template
from django.utils.safestring import mark_safe

from practices import charts

register = template.Library()

# What curators' Markdown may produce; everything else is stripped by nh3.
ALLOWED_TAGS = {
    "p",
    "br",
    "ul",
    "ol",
    "li",
    "strong",
    "em",
    "a",
    "blockquote",
    "code",
    "h3",
    "h4",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}

# Python-Markdown needs a blank line before a list; curators (and our content) often
# start a list straight after an introducing line.
LIST_AFTER_TEXT = re.compile(r"^(?![ \t]*[-*+] )(.*\S.*)\n(?=[ \t]*[-*+] )", re.M)


@register.filter
def markdown(text):
    """Render curator-written Markdown to sanitised HTML."""
    return mark_safe(render_markdown(text)) if text else ""


@functools.lru_cache(maxsize=4096)
def render_markdown(text):
    # A pure function of the text, and rendering is slow: memoised per process.
    html = md.markdown(LIST_AFTER_TEXT.sub(r"\1\n\n", text), output_format="html")
    # Links: http(s), mailto and relative URLs only (no javascript:, data:, …), and
    # never able to reach back to this page (rel noopener noreferrer). Stated here
    # rather than left to nh3's defaults; tests/test_security.py tries the payloads.
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )


@register.filter
def is_uncertain(practice, field_names):
    """True when curators flagged any of these comma-separated facts as unconfirmed."""
    flagged = set(practice.uncertain_fields or [])
    return any(name in flagged for name in field_names.split(","))


@register.filter
def years(practice):
    """The practice's period in words, or "" when neither year is recorded."""
    start, end = practice.start_year, practice.end_year
    if start and end:
        return f"{start}–{end}" if start != end else str(start)
    if start:
        return f"Since {start}"
    if end:
        return f"Until {end}"
    return ""


@register.filter
def get_item(mapping, key):
    return mapping.get(key, "")


@register.filter
def is_in(value, container):
    return value in (container or ())


@register.simple_tag
def facet_options(facet):
    """The checkboxes of one facet. Built here rather than in a template loop, and
    escaped with the standard library's html.escape rather than format_html: a
    facet can hold a hundred options and this is the list page's hottest spot."""
    rows = []
    for number, option in enumerate(facet.options, start=1):
        input_id = f"f-{facet.name}-{number}"
        value = html.escape(str(option.value))
        label = html.escape(str(option.label))
        row_class = ' class="disabled"' if option.disabled else ""
        state = (" checked" if option.selected else "") + (
            " disabled" if option.disabled else ""
        )
        plural = "" if option.count == 1 else "s"
        rows.append(
            f'<li{row_class}><input type="checkbox" name="{facet.name}" '
            f'value="{value}" id="{input_id}"{state}> <label for="{input_id}">'
            f'{label} <span class="count">({option.count}<span class="visually-hidden">'
            f" practice{plural}</span>)</span></label></li>"
        )
    long = " facet-long" if len(facet.options) > 12 else ""
    return mark_safe(f'<ul class="facet-options{long}">{"".join(rows)}</ul>')


@register.inclusion_tag("practices/includes/europe_map.html")
def europe_map(countries, heading_id="map"):
    """Choropleth of Europe for countries annotated with practice_count."""
    return {"map": charts.europe_map(countries), "id": heading_id}


@register.inclusion_tag("practices/includes/bar_chart.html")
def bar_chart(terms, caption, term_label):
    """Bar chart of terms annotated with practice_count, drawn as a table whose
    rows carry an SVG bar: the numbers are the chart's text equivalent."""
    return {
        "rows": charts.bar_chart(terms),
        "caption": caption,
        "term_label": term_label,
    }
