import functools
import html
import re
import xml.etree.ElementTree as etree
from urllib.parse import urlsplit, urlunsplit

import markdown as md
import nh3
from django import template
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from markdown.treeprocessors import Treeprocessor

from practices import charts, facts
from practices.models import Practice

register = template.Library()

# What curators' Markdown may produce; everything else is stripped by nh3.
ALLOWED_TAGS = set("p br ul ol li strong em a blockquote code h3 h4".split())
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}

# Python-Markdown needs a blank line before a list; curators (and our content) often
# start a list straight after an introducing line. The line is read once (the
# lookahead, then a possessive [^\n]*+): `.*\S.*` backtracked over every split of
# a long line, 3 ms a description.
LIST_AFTER_TEXT = re.compile(
    r"^(?![ \t]*[-*+] )(?=[^\n]*\S)([^\n]*+)\n(?=[ \t]*[-*+] )", re.M
)


@register.filter
def markdown(text, practices=()):
    """Render curator-written Markdown to sanitised HTML. The first mention of
    each of `practices` in the text links to its page: pass published ones only."""
    links = tuple(sorted({(p.title, p.get_absolute_url()) for p in practices}))
    return _markdown(text, links)


@functools.lru_cache(maxsize=4096)  # a pure function of its arguments, and slow
def _markdown(text, links):
    if not text:
        return ""
    renderer = md.Markdown(output_format="html")
    if links:  # after "unescape" (0): the names as the reader sees them
        renderer.treeprocessors.register(NameLinks(renderer, links), "names", -10)
    html = renderer.convert(LIST_AFTER_TEXT.sub(r"\1\n\n", text))
    # Links: http(s), mailto and relative URLs only (no javascript:, data:, …), and
    # never able to reach back to this page (rel noopener noreferrer). Stated here
    # rather than left to nh3's defaults; tests/test_security.py tries the payloads.
    return mark_safe(
        nh3.clean(
            html,
            tags=ALLOWED_TAGS,
            attributes=ALLOWED_ATTRIBUTES,
            url_schemes={"http", "https", "mailto"},
            url_relative=external_if_on_another_host,
            link_rel="noopener noreferrer",
        )
    )


def external_if_on_another_host(url):
    """A link without a scheme that names a host (`//host/…`, or what browsers read
    the same: backslashes, tabs, leading spaces) leads to another site, not to a
    page of this one: it gets the https scheme, as an external link."""
    parts = urlsplit(url.replace("\\", "/"))
    return urlunsplit(parts._replace(scheme="https")) if parts.netloc else url


# Names as texts write them: any dash for a dash, spaced or not; either apostrophe.
DASHES, QUOTES = "-\u2010\u2011\u2012\u2013\u2014\u2212", "'\u2018\u2019"
NAME_PARTS = re.compile(rf"(\s*[{DASHES}]\s*|\s+|[{QUOTES}])")


def name_pattern(title):
    """A regex for a practice's name in running text, as its title spells it
    (without a closing full stop) but for dashes, quotes, spacing and the case
    of its first letter. Otherwise case counts: "export consortia" in a sentence
    is a kind of support, "Export Consortia" a practice."""
    name = title.strip().rstrip(".")
    first = f"[{name[0].upper()}{name[0].lower()}]" if name[:1].isalpha() else ""
    parts = NAME_PARTS.split(name[1:] if first else name)
    return first + "".join(_as_written(part) for part in parts)


def _as_written(part):
    if part.strip() and part.strip() in DASHES:
        return rf"\s*[{DASHES}]\s*"
    if part.isspace():
        return r"\s+"
    if part and part in QUOTES:
        return f"[{QUOTES}]"
    return re.escape(part)


class NameLinks(Treeprocessor):
    """Links the first mention of each name to its URL, in the text outside links
    and code. `links`: (name, url) pairs."""

    def __init__(self, md, links):
        super().__init__(md)
        ordered = sorted(links, key=lambda link: -len(link[0]))  # longest first
        patterns = [(name_pattern(name), url) for name, url in ordered]
        patterns = [(pattern, url) for pattern, url in patterns if pattern]
        self.urls = [url for _pattern, url in patterns]
        self.names = re.compile(
            "|".join(rf"(?<!\w)({pattern})(?!\w)" for pattern, _url in patterns)
        )

    def run(self, root):
        self.linked = set()
        if self.urls:  # (a title of only full stops names nothing)
            self.walk(root)

    def walk(self, element):
        if element.tag in ("a", "code", "pre"):
            return
        element.text, children = self.split(element.text)
        for child in list(element):
            self.walk(child)
            child.tail, links = self.split(child.tail)
            children += [child, *links]
        element[:] = children

    def split(self, text):
        """The text up to the first name linked, and the links (each with the
        text up to the next as its tail)."""
        head, links, start = text, [], 0
        for match in self.names.finditer(text or ""):
            url = self.urls[match.lastindex - 1]
            if url in self.linked:
                continue
            self.linked.add(url)
            if links:
                links[-1].tail = text[start : match.start()]
            else:
                head = text[: match.start()]
            links.append(etree.Element("a", href=url))
            links[-1].text, start = match.group(), match.end()
        if links:
            links[-1].tail = text[start:]
        return head, links


# --- facts and how sure we are of them (practices.facts) ---------------------------

BADGE = mark_safe('<span class="badge badge-unconfirmed">Unconfirmed</span>')
# On cards: a "?" for the eye, the word for screen readers (the page's legend,
# includes/certainty_legend.html, says what "?" means).
COMPACT_MARK = mark_safe(
    '<span class="mark-unconfirmed" aria-hidden="true" '
    'title="Unconfirmed: the sources do not confirm this">?</span>'
    '<span class="visually-hidden"> (unconfirmed)</span>'
)
NOT_RECORDED = mark_safe('<span class="not-recorded">Not recorded</span>')


@register.simple_tag
def field_label(name):
    """A practice field's label, the same on every page: its verbose name."""
    return Practice.field_label(name)


# True when curators flagged any of these comma-separated facts.
register.filter("is_uncertain", facts.is_unconfirmed)
# True when the last verification found none of them published.
register.filter("is_declared_none", facts.is_declared_none)


@register.simple_tag
def unconfirmed_mark(compact=False):
    return COMPACT_MARK if compact else BADGE


@register.simple_tag
def fact(practice, names, value, compact=False, block=False):
    """A fact as every page shows it: its value; marked unconfirmed, inside an
    element of class "unconfirmed", when curators flagged any of `names`; without a
    value, "None published as of <month year>" when the last verification looked
    for it, otherwise "Not recorded". `block`: the value is block HTML (Markdown)."""
    sureness = facts.certainty(practice, names, value)
    if sureness == facts.Certainty.NOT_RECORDED:
        return NOT_RECORDED
    if sureness == facts.Certainty.DECLARED_NONE:
        return none_published(practice)
    if sureness == facts.Certainty.RECORDED:
        return conditional_escape(value)
    mark = unconfirmed_mark(compact)
    if block:
        return format_html('<div class="unconfirmed"><p>{}</p>{}</div>', mark, value)
    return format_html('<span class="unconfirmed">{} {}</span>', value, mark)


register.filter("completeness", facts.completeness)


@register.simple_tag
def none_published(practice):
    """A fact the last verification looked for and found unpublished."""
    return format_html(
        '<span class="declared-none">{}</span>', facts.none_published(practice)
    )


@register.filter
def years(practice):
    """The practice's period in words, or "" when neither year is recorded. A
    start year alone says nothing of an end: "ongoing" only when a source says
    the practice still runs (Practice.still_running)."""
    start, end = practice.start_year, practice.end_year
    if start and end:
        return f"{start}–{end}" if start != end else str(start)
    if start and practice.still_running:
        return f"Since {start}, still running"
    if start:
        return f"From {start}, end not recorded"
    if end:
        return f"Until {end}"
    return ""


@register.filter
def place_names(practice):
    """Countries, then NUTS regions with their codes, from the practice's
    (prefetched) relations: "Italy: Emilia-Romagna (ITH5)", or ""."""
    countries = ", ".join(country.name for country in practice.countries.all())
    regions = ", ".join(f"{r.label} ({r.code})" for r in practice.regions.all())
    return ": ".join(part for part in (countries, regions) if part)


@register.filter
def card_places(terms):
    """A card's place: its countries · its regions (practices.cards), or ""."""
    return " · ".join(
        ", ".join(names) for names in (terms.countries, terms.regions) if names
    )


@register.simple_tag
def facet_options(facet):
    """The checkboxes of one facet; a long one's last options behind "Show all N"
    (Facet.shown, Facet.more). Built here rather than in a template loop, and
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
    shown = len(facet.shown)
    options = _option_lists(facet, rows, 0, shown)
    if facet.more:
        # A disclosure, not a scroll box: the page scrolls, nothing inside it.
        options += (
            f'<details class="facet-more" id="more-{facet.name}"><summary>'
            f'Show all {len(rows)}<span class="visually-hidden"> options for '
            f"{html.escape(facet.label)}</span></summary>"
            f"{_option_lists(facet, rows, shown, len(rows))}</details>"
        )
    return mark_safe(options)


def _option_lists(facet, rows, start, end):
    """The rows of options start to end: one list, or, where the options come in
    groups (the region facet's countries), a titled group of checkboxes each."""
    if not facet.options or not facet.options[0].group:
        return f'<ul class="facet-options">{"".join(rows[start:end])}</ul>'
    lists = []
    for group, options in facet.groups(facet.options[start:end]):
        lists.append(
            f'<fieldset class="facet-group"><legend>{html.escape(group)}</legend>'
            f'<ul class="facet-options">{"".join(rows[start : start + len(options)])}'
            "</ul></fieldset>"
        )
        start += len(options)
    return "".join(lists)


@register.simple_tag
def page_numbers(page_obj):
    """The page numbers to link: the first and last, two on each side of the
    current one, Paginator.ELLIPSIS for the gaps."""
    return page_obj.paginator.get_elided_page_range(
        page_obj.number, on_each_side=2, on_ends=1
    )


register.inclusion_tag("practices/includes/europe_map.html")(charts.europe_map)
register.inclusion_tag("practices/includes/bar_chart.html")(charts.bar_chart)
