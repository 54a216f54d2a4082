"""Issue 22 #4 and #7: the shipped practices (fixtures/catalogue/) checked against
each other and against the research they were written from, without a database.

A record of the later research (fixtures/research/more-practices-N*.json) has a
note line for each fact it states (fixtures/catalogue/*-notes.md:
`slug | field | URL | "quote"`), and its own wording shares no run of 7 words
with those quotes."""

import csv
import difflib
import json
import re
import unicodedata
from functools import cache
from itertools import combinations

import pytest

from practices.content import CONTENT_DIR
from practices.models import ImplementationLevel

RESEARCH_DIR = CONTENT_DIR.parent / "research"
PREREQUISITES = ("budget_scale", "funding_source", "legal_basis", "staff")
PREREQUISITE_NOTES = CONTENT_DIR / "transfer-prerequisites-notes.md"
TAXONOMIES = json.loads((CONTENT_DIR / "taxonomies.json").read_text("utf-8"))


@cache
def shipped():
    """[(file name, record)] of every practice in the catalogue files."""
    return [
        (path.name, record)
        for path in sorted(CONTENT_DIR.glob("*.json"))
        for record in json.loads(path.read_text("utf-8")).get("practices", [])
    ]


@cache
def noted_research():
    """{slug: research record} of the research that comes with note lines."""
    return {
        record["slug"]: record
        for path in sorted(RESEARCH_DIR.glob("more-practices-[0-9]*.json"))
        if list(CONTENT_DIR.glob(f"{path.stem}-notes.md"))
        for record in json.loads(path.read_text("utf-8"))
    }


@cache
def note_lines(research_only=False):
    """{slug: [(field label, URL, quote)]} from every notes file beside the content
    (or only those of the research the records were written from)."""
    lines = {}
    for path in CONTENT_DIR.glob("*.md"):
        if research_only and path == PREREQUISITE_NOTES:
            continue
        for slug, label, url, quote in re.findall(
            r'^(\S+) \| ([^|]+?) \| (\S+) \| "(.*)"', path.read_text("utf-8"), re.M
        ):
            lines.setdefault(slug, []).append((label, url, quote))
    return lines


def noted_records():
    return [record for _, record in shipped() if record["slug"] in noted_research()]


# --- 4: no duplicates ------------------------------------------------------------


def plain_title(title):
    """A title without accents, case, punctuation, years or bracketed asides."""
    text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    text = re.sub(r"\(.*?\)|\b(19|20)\d\d\b", " ", text.lower())
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def same_country_pairs():
    for (_, a), (_, b) in combinations(shipped(), 2):
        if set(a["countries"]) & set(b["countries"]):
            yield a, b


# Different practices that a duplicate check would take for one, each with the
# reason they are two. Keep this short: a real duplicate is merged instead.
DISTINCT = {
    frozenset(
        (
            "screening-of-growth-potential",
            "programme-for-smes-with-high-international-potential",
        )
    ): (
        "the region's screening and the programme for the firms it rates highest, "
        "both described in one EIS project article"
    ),
    frozenset(("danida-business-delegations", "danida-business-explorer")): (
        "two Danida schemes, delegations and market exploration, presented in one "
        "article on aid-funded export schemes"
    ),
    frozenset(
        ("sardegna-programma-triennale-internazionalizzazione", "sardegna-export-lab")
    ): (
        "Sardinia's programme and its training strand, which has results of its own; "
        "the same articles report on both"
    ),
}


# Pages that present many practices: the brief leads the records of the practices
# it features that have no page of their own.
LISTS = {
    "https://www.interregeurope.eu/find-policy-solutions/policy-briefs/"
    "internationalisation-of-smes"
}


def test_the_slugs_are_unique():
    slugs = [record["slug"] for _, record in shipped()]
    assert len(slugs) == len(set(slugs))


def test_no_scheme_is_recorded_twice_under_a_near_identical_title():
    """Same country, same places (or none), titles alike once accents, case,
    years and asides are set aside: the same scheme found twice."""
    for a, b in same_country_pairs():
        if set(a["regions"]) != set(b["regions"]):
            continue  # the same kind of call run by two regions
        alike = difflib.SequenceMatcher(
            None, plain_title(a["title"]), plain_title(b["title"])
        ).ratio()
        if alike >= 0.85 and frozenset((a["slug"], b["slug"])) not in DISTINCT:
            pytest.fail(f"{a['slug']} and {b['slug']}: titles {alike:.0%} alike")


def test_no_two_records_of_a_country_lead_with_the_same_source():
    """The first source is the page a record rests on most: two records of one
    country led by the same page are one scheme, or one of them should lead with
    its own page."""
    for a, b in same_country_pairs():
        if frozenset((a["slug"], b["slug"])) in DISTINCT:
            continue
        first = a["sources"][0]["url"]
        if first not in LISTS:
            assert first != b["sources"][0]["url"], (a["slug"], b["slug"])


# --- 7: every record well formed -------------------------------------------------


@cache
def nuts_units():
    with open(CONTENT_DIR / "nuts-2021.csv", newline="", encoding="utf-8") as file:
        return {row["code"]: row for row in csv.DictReader(file)}


def test_every_record_names_a_web_source_and_its_places_exist():
    nuts_code = {c["code"]: c["nuts_code"] for c in TAXONOMIES["countries"]}
    themes = {term["slug"] for term in TAXONOMIES["themes"]}
    instruments = {term["slug"] for term in TAXONOMIES["instruments"]}
    for name, record in shipped():
        where = f"{name}: {record['slug']}"
        assert record["sources"], where
        assert all(
            s["url"].startswith(("https://", "http://")) for s in record["sources"]
        )
        countries = {nuts_code[code] for code in record["countries"]}
        for code in record["regions"]:
            unit = nuts_units().get(code)
            assert unit and unit["level"] != "0", (where, code)
            assert unit["country_code"] in countries, (where, code)
        assert set(record["themes"]) <= themes, where
        assert set(record["instruments"]) <= instruments, where
        assert record.get("level", "") in ["", *ImplementationLevel.values], where


def test_years_are_plausible():
    """Start no later than next year, end no earlier than the start; an end
    further ahead is a planned end, only with a note line quoting it."""
    next_year = 2027  # the research was done in 2026
    for _, record in shipped():
        start, end = record.get("start_year"), record.get("end_year")
        assert start is None or 1950 <= start <= next_year, record["slug"]
        if end:
            assert end >= (start or 1950), record["slug"]
            assert end <= next_year or "end_year" in labels_of(record["slug"])


# How the research labels the facts of each field a record states.
FACT_LABELS = {
    "places": {"country", "country_code", "region", "nuts_code"},
    "city": {"city"},
    "level": {"level"},
    "institution": {"institution"},
    "project": {"project"},
    "start_year": {"start_year"},
    "end_year": {"end_year"},
    "budget": {"budget"},
    "evidence": {"evidence"},
    "beneficiaries": {"beneficiaries"},
}


def labels_of(slug):
    return {
        word
        for label, _url, _quote in note_lines().get(slug, [])
        for word in re.split(r"[/ ]", label)
    }


# Records of the research not in the catalogue, with the reason.
LEFT_OUT = {
    "bg-eapsme-business-missions-2010-2012": (
        "the same agency's 2010-2012 plan as national-stands-of-bulgarian-smes-at-"
        "international-fairs-bsmepa, which already cites its only source"
    ),
}


def test_the_later_research_is_all_in_the_catalogue_or_named_as_left_out():
    shipped_slugs = {record["slug"] for _, record in shipped()}
    assert set(noted_research()) - shipped_slugs <= set(LEFT_OUT)


@pytest.mark.parametrize("record", noted_records(), ids=lambda r: r["slug"])
def test_each_fact_of_the_later_research_has_its_note_line(record):
    """Or is shown as unconfirmed, as a fact whose note could not be matched."""
    values = {
        **record,
        "places": record["countries"] or record["regions"],
        "evidence": noted_research()[record["slug"]]["evidence"],
    }
    found = labels_of(record["slug"])
    for fact, labels in FACT_LABELS.items():
        if values.get(fact) and fact not in record["uncertain_fields"]:
            assert found & labels, fact  # else shown as unconfirmed


def runs_of_seven(text):
    words = re.findall(r"[\w'’-]+", (text or "").lower())
    return {" ".join(words[i : i + 7]) for i in range(len(words) - 6)}


@pytest.mark.parametrize("record", noted_records(), ids=lambda r: r["slug"])
def test_our_wording_shares_no_seven_words_with_the_quotes(record):
    quoted = set()
    # The quotes it was written from (those of its prerequisites came later, and
    # may name the same programme).
    for _label, _url, quote in note_lines(research_only=True).get(record["slug"], []):
        quoted |= runs_of_seven(quote)
    for field in ("summary", "description", "evidence", "transfer", "beneficiaries"):
        assert not runs_of_seven(record.get(field)) & quoted, field


# --- issue 23 #5: what a practice takes, each fact with its note line -------------


def test_each_transfer_prerequisite_has_a_note_line_citing_a_source_of_its_record():
    """`slug | field | URL | "quote"` (a band's line names the band and the amount
    it rests on), the URL among the record's sources, the quote at most 20 words;
    a band converted or inferred is flagged unconfirmed, as its line says."""
    noted = {}
    for slug, label, url, quote in re.findall(
        r'^(\S+) \| ([^|]+?) \| (\S+) \| "(.*)"$',
        PREREQUISITE_NOTES.read_text("utf-8"),
        re.M,
    ):
        noted.setdefault((slug, label.split()[0]), []).append((label, url, quote))
    stated = 0
    for _, record in shipped():
        for field in PREREQUISITES:
            lines = noted.pop((record["slug"], field), [])
            if not record.get(field):
                assert not lines, (record["slug"], field)
                continue
            stated += 1
            assert lines, (record["slug"], field)
            sources = {source["url"] for source in record["sources"]}
            for label, url, quote in lines:
                assert url in sources, (record["slug"], field, url)
                assert 0 < len(quote.split()) <= 20, (record["slug"], field)
                if "unconfirmed:" in label:
                    assert field in record["uncertain_fields"], (record["slug"], field)
                if field == "budget_scale":
                    assert label.split()[1] == record[field], record["slug"]
    assert stated > 300  # the research found some for most records
    assert not noted  # no line for a fact the catalogue does not state


@pytest.mark.parametrize(
    "record",
    [r for _, r in shipped() if any(r.get(f) for f in PREREQUISITES[1:])],
    ids=lambda r: r["slug"],
)
def test_prerequisites_are_in_our_words(record):
    quoted = set()
    for _label, _url, quote in note_lines().get(record["slug"], []):
        quoted |= runs_of_seven(quote)
    for field in PREREQUISITES[1:]:
        assert not runs_of_seven(record.get(field)) & quoted, field
