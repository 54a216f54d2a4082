"""One way to say how sure we are (practices/facts.py), on every surface: a record
whose every fact is unconfirmed shows no fact anywhere without its mark, and
leaves every unconfirmed fact out of what cannot carry one (structured data,
search snippets, feed categories)."""

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest

from practices.models import Practice
from tests.factories import (
    make_brief,
    make_country,
    make_instrument,
    make_practice,
    make_project,
    make_region,
    make_theme,
)

pytestmark = pytest.mark.django_db

# Each fact of the record, as a text that appears nowhere else on the site.
VALUES = {
    "summary": "Zanzibar summary sentence.",
    "description": "Zebra description.",
    "resources": "Okapi resources.",
    "evidence": "Yak evidence.",
    "transfer": "Ibis transfer.",
    "beneficiaries": "Lemur beneficiaries.",
    "institution": "Quagga Institute",
    "city": "Quokkaville",
    "budget": "EUR 987,654",
}
# What it takes (the fit section), shown as they are but for the band's label.
PREREQUISITES = {
    "budget_scale": "1m-10m",
    "funding_source": "Tapir fund",
    "legal_basis": "Kiwi decree",
    "staff": "Dugong advisers",
}
PREREQUISITES_SHOWN = ["€1 million to €10 million", *list(PREREQUISITES.values())[1:]]
SHOWN = [
    *VALUES.values(),
    *PREREQUISITES_SHOWN,
    "Cross-border",  # the level
    "1987",  # the period: 1987–1989
    "Atlantis",  # the country
    "Gozoland",  # the region
    "Narwhal theme",
    "Axolotl voucher",  # the instrument type
    "PANGOLIN",  # the project
]
TITLE = "Wombat export desk"
EVERY_FACT = [name for name, _ in Practice.UNCERTAIN_CHOICES]


@pytest.fixture
def unsure():
    atlantis = make_country(code="AX", name="Atlantis")
    project = make_project(slug="pangolin", acronym="PANGOLIN")
    wombat = make_practice(
        title=TITLE,
        slug="wombat",
        **VALUES,
        **PREREQUISITES,
        level="cross-border",
        start_year=1987,
        end_year=1989,
        countries=[atlantis],
        regions=[make_region(code="AX1", name="Gozoland", country=atlantis)],
        themes=[make_theme(slug="narwhal", name="Narwhal theme")],
        instruments=[make_instrument(slug="axolotl", name="Axolotl voucher")],
        project=project,
        uncertain_fields=EVERY_FACT,
    )
    other = make_practice(
        title="Other desk", slug="other", countries=[atlantis], project=project
    )
    make_brief(slug="brief", practices=[wombat, other])
    return wombat


class Page(HTMLParser):
    """A page's text runs, each with the elements it sits in (tag, classes, id)."""

    VOID = {"area", "br", "col", "hr", "img", "input", "link", "meta", "source", "wbr"}

    def __init__(self, html):
        super().__init__()
        self.open, self.runs, self.count = [], [], 0
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        self.count += 1
        classes = set((dict(attrs).get("class") or "").split())
        self.open.append((tag, classes, self.count))

    def handle_endtag(self, tag):
        while self.open:
            if self.open.pop()[0] == tag:
                break

    def handle_data(self, data):
        if data.strip():
            self.runs.append((data, list(self.open)))

    def region(self, tag, cls, containing=TITLE):
        """The runs inside the innermost `tag.cls` element that holds `containing`."""
        for text, elements in self.runs:
            if containing in text:
                ids = [n for t, c, n in elements if t == tag and cls in c]
                if ids:
                    return [run for run in self.runs if ids[-1] in _ids(run)]
        raise AssertionError(f"no {tag}.{cls} holds {containing!r}")


def _ids(run):
    return {n for _tag, _classes, n in run[1]}


def assert_marked(runs, expected):
    """Each fact shown in these runs sits inside an element of class
    "unconfirmed"; `expected` facts must be shown (the check is not vacuous)."""
    shown = set()
    for text, elements in runs:
        for value in SHOWN:
            if value in text:
                shown.add(value)
                assert any("unconfirmed" in classes for _, classes, _ in elements), (
                    f"{value!r} is shown without its mark in {text!r}"
                )
    assert set(expected) <= shown, set(expected) - shown


CARD = ["Atlantis", "Gozoland", "Cross-border", "1987", VALUES["summary"]]


@pytest.mark.parametrize(
    "url",
    [
        "/practices/",
        "/",
        "/briefs/brief/",
        "/themes/narwhal/",
        "/instruments/axolotl/",
        "/countries/ax/",
        "/practices/?q=wombat",
    ],
)
def test_cards_mark_every_unconfirmed_fact(client, unsure, url):
    page = Page(client.get(url).text)
    card = page.region("article", "card")
    assert_marked(card, CARD + ["Axolotl voucher"])
    assert "after a fact means its sources do not confirm it" in client.get(url).text


def test_the_practice_page_marks_every_fact(client, unsure):
    page = Page(client.get(unsure.get_absolute_url()).text)
    for region in [
        page.region("header", "page-header", containing=VALUES["summary"]),
        page.region("section", "key-facts", containing="Key facts"),
    ]:
        assert_marked(region, [])
    facts = page.region("section", "key-facts", containing="Key facts")
    key_facts = [v for v in SHOWN[6:] if v not in PREREQUISITES_SHOWN]
    assert_marked(facts, key_facts)  # every key fact, from the institution on
    needs = page.region("section", "fit", containing="What it takes")
    assert_marked(needs, [VALUES["institution"], *PREREQUISITES_SHOWN])
    for field in ("description", "resources", "evidence", "transfer"):
        section = page.region("section", "practice-section", containing=VALUES[field])
        assert_marked(section, [VALUES[field]])


def test_the_completeness_line_counts_the_record(client, unsure):
    text = client.get(unsure.get_absolute_url()).text
    assert (
        "This record states 20 of the 20 facts a practice can have: 0 confirmed "
        in (text)
    )
    assert "20 unconfirmed; 0 not recorded." in text


def test_the_comparison_marks_every_fact(client, unsure):
    make_practice(title="Plain desk", slug="plain")  # states nothing of its own
    page = Page(client.get("/practices/compare/", {"p": ["wombat", "plain"]}).text)
    table = page.region("table", "compare", containing="Summary")
    shown = [v for v in SHOWN if v != VALUES["description"]]
    assert_marked(table, shown)  # the comparison leaves the description out


def test_more_from_lists_mark_a_practice_whose_place_or_project_is_unsure(
    client, unsure
):
    text = client.get("/practices/other/").text
    assert "More from Atlantis" in text and "More from PANGOLIN" in text
    related = Page(text).region("section", "related", containing="Related practices")
    listed = [
        i
        for i, (run, elements) in enumerate(related)
        if run == TITLE and any(tag == "ul" for tag, _, _ in elements)
    ]
    assert len(listed) == 2  # under the country and under the project
    for index in listed:
        assert related[index + 1][0] == "?"  # the compact mark after the title


def test_the_feed_says_a_summary_is_unconfirmed_and_drops_unsure_themes(client, unsure):
    root = ET.fromstring(client.get("/practices/feed/").content)
    atom = "{http://www.w3.org/2005/Atom}"
    (entry,) = [
        e for e in root.iter(f"{atom}entry") if e.find(f"{atom}title").text == TITLE
    ]
    assert "[Unconfirmed: " in entry.find(f"{atom}summary").text
    assert entry.findall(f"{atom}category") == []


def test_exports_list_every_unconfirmed_fact(client, unsure):
    document = json.loads(b"".join(client.get("/practices/export.json")))
    (record,) = [r for r in document["practices"] if r["slug"] == "wombat"]
    assert record["uncertain_fields"] == EVERY_FACT
    text = b"".join(client.get("/practices/export.csv")).decode()
    (row,) = [r for r in csv.DictReader(io.StringIO(text)) if r["slug"] == "wombat"]
    assert row["uncertain_fields"].split(";") == EVERY_FACT


def test_structured_data_and_snippets_leave_every_unconfirmed_fact_out(client, unsure):
    text = client.get(unsure.get_absolute_url()).text
    (script,) = re.findall(
        r'<script type="application/ld\+json"[^>]*>(.*?)</script>', text, re.S
    )
    data = json.dumps(json.loads(script))
    metas = " ".join(re.findall(r'<meta [^>]*content="([^"]*)"', text))
    for value in SHOWN:
        assert value not in data, value
        assert value not in metas, value


def test_every_card_of_the_real_catalogue_marks_what_its_record_flags(
    client, catalogue
):
    """For each of the catalogue's records, its card carries one mark per flagged
    fact it shows: the same certainty as on its own page."""
    practices = Practice.objects.published().order_by("title")
    listed = {"per_page": 100, "sort": "title"}
    pages = [
        Page(client.get("/practices/", {**listed, "page": number}).text)
        for number in range(1, practices.count() // 100 + 2)
    ]
    practices = practices.select_related("grade")
    for n, practice in enumerate(
        practices.prefetch_related("countries", "regions", "instruments")
    ):
        card = pages[n // 100].region("article", "card", containing=practice.title)
        shown = {
            "places": practice.countries.exists() or practice.regions.exists(),
            "level": bool(practice.level),
            "start_year,end_year": bool(practice.start_year or practice.end_year),
            "summary": True,
            "instruments": practice.instruments.exists(),
        }
        flagged = sum(
            show and bool(set(names.split(",")) & set(practice.uncertain_fields))
            for names, show in shown.items()
        )
        flagged += practice.grade.unconfirmed  # its evidence badge (issue 21)
        marks = sum(1 for text, _ in card if text == "?")
        assert marks == flagged, practice.slug
