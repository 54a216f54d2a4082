"""Grades and figures on public pages: the practice page, cards, the list's facet
and sort, the comparison, the exports and the /evidence/ page. Only published
practices count or show."""

import csv
import io
import json
import re
from html import unescape

import pytest
from django.http import QueryDict
from django.urls import reverse

from practices.listing import list_practices
from practices.models import CatalogueVersion, Status
from tests.evidence.factories import make_figure, make_grade
from tests.factories import committed, make_country, make_practice

pytestmark = pytest.mark.django_db


def text_of(html):
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


@pytest.fixture
def practices():
    """Three published practices in two countries: one at level 2 with figures
    that give a cost per firm, one at level 1 (unconfirmed), one not graded; and
    a draft graded 5."""
    italy = make_country(code="IT", name="Italy")
    spain = make_country(code="ES", name="Spain")
    strong = make_practice(
        title="Strong",
        countries=[italy],
        sources=["https://example.org/report", "https://example.org/news"],
    )
    make_grade(strong, level=2, basis="The operator reports new exporters.")
    make_figure(strong, value=30, period_start=2016, period_end=2016)
    make_figure(
        strong,
        metric="public-budget",
        value=103280,
        currency="EUR",
        period_start=2016,
        period_end=2016,
        description="What the 2016 edition cost.",
    )
    make_figure(strong, metric="jobs", value=12, description="Jobs created.")
    weak = make_practice(
        title="Weak", countries=[spain], sources=["https://example.org/weak"]
    )
    make_grade(weak, level=1, unconfirmed=True)
    ungraded = make_practice(title="Ungraded", countries=[italy])
    draft = make_practice(
        title="Draft", status=Status.DRAFT, sources=["https://example.org/d"]
    )
    make_grade(draft, level=5)
    return {"strong": strong, "weak": weak, "ungraded": ungraded, "draft": draft}


def test_practice_page_shows_grade_basis_sources_and_figures(client, practices):
    html = client.get(practices["strong"].get_absolute_url()).text
    text = text_of(html)
    assert "Evidence level 2 of 5: Results reported" in text
    assert 'href="/evidence/#level-2"' in html
    assert "The operator reports new exporters." in text
    assert "Rests on Source 0" in text  # the first source, by its title
    assert "By Tests on 7 December 2026" in text
    assert "Firms supported 30 2016 Firms that took part." in text
    assert "Public budget EUR 103,280 2016 What the 2016 edition cost." in text
    assert "Jobs 12 Not recorded Jobs created." in text  # no period
    assert (
        "Public cost per firm supported: EUR 3,442.67 (EUR 103,280 public budget ÷ "
        "30 firms supported, both 2016)."
    ) in text


def test_an_ungraded_practice_says_its_level_is_not_recorded(client, practices):
    text = text_of(client.get(practices["ungraded"].get_absolute_url()).text)
    assert "Evidence level: not recorded" in text
    assert "Outcome figures: not recorded" in text
    assert "Public cost per firm" not in text


def test_an_unconfirmed_grade_is_marked(client, practices):
    html = client.get(practices["weak"].get_absolute_url()).text
    section = html[html.index('id="evidence-grade"') - 200 :]
    assert "evidence-grade unconfirmed" in section[:400]
    assert "badge-unconfirmed" in section


def test_cards_carry_a_badge_with_an_accessible_name(client, practices):
    html = client.get(reverse("practices:list")).text
    badge = re.search(r'<span class="badge badge-evidence".*?</span></span>', html)
    assert '<span aria-hidden="true">Evidence 2/5</span>' in badge.group()
    assert (
        '<span class="visually-hidden">Evidence level 2 of 5: Results reported</span>'
    ) in badge.group()
    assert "Evidence level 1 of 5: Activity reported (unconfirmed)" in html
    assert "Evidence level not recorded" in html


def facet(query):
    data = QueryDict(query)
    listing = list_practices(data)
    assert listing.valid, listing.errors
    facets = listing.facets(data, CatalogueVersion.current())
    options = next(f for f in facets if f.name == "evidence").options
    return {option.value: option.count for option in options}, listing


def test_the_evidence_facet_counts_published_practices_with_other_filters(
    practices,
):
    counts, _ = facet("")
    assert (counts["2"], counts["1"], counts["none"], counts["5"]) == (1, 1, 1, 0)
    counts, listing = facet("country=IT")
    assert (counts["2"], counts["1"], counts["none"]) == (1, 0, 1)
    counts, listing = facet("country=IT&evidence=2&evidence=none")
    assert sorted(p.title for p in listing.practices) == ["Strong", "Ungraded"]
    assert (counts["2"], counts["none"], counts["1"]) == (1, 1, 0)


def test_a_new_grade_moves_the_practice_in_the_facet(practices):
    with committed():
        make_grade(practices["ungraded"], level=0)
    counts, _ = facet("")
    assert (counts["none"], counts["0"]) == (0, 1)
    with committed():
        practices["ungraded"].grade.delete()
    assert facet("")[0]["none"] == 1


def test_an_unknown_level_is_a_400_naming_it(client, practices):
    response = client.get("/practices/?evidence=7")
    assert response.status_code == 400
    assert "Evidence level" in response.text


def test_strongest_evidence_first_puts_ungraded_last(client, practices):
    listing = list_practices(QueryDict("sort=evidence"))
    assert [p.title for p in listing.practices] == ["Strong", "Weak", "Ungraded"]
    html = client.get("/practices/?sort=evidence&country=IT").text
    assert "Strongest evidence first" in html
    assert html.index(">Strong<") < html.index(">Ungraded<")


def test_the_evidence_page_explains_the_scale_and_counts(client, practices):
    response = client.get(reverse("evidence:scale"))
    assert response.status_code == 200
    text = text_of(response.text)
    for level in range(6):
        assert f'id="level-{level}"' in response.text
    assert "5 – Counterfactual impact evaluation" in text
    # Published practices only: the draft graded 5 is not counted.
    assert "5 – Counterfactual impact evaluation 0" in text
    assert "2 – Results reported 1" in text and "Not recorded 1" in text
    assert 'href="/practices/?evidence=2"' in response.text
    assert (
        "Strong EUR 3,442.67 EUR 103,280 public budget ÷ 30 firms supported, both 2016"
    ) in text
    assert response.text.count("<h1") == 1


def test_the_footer_links_to_the_evidence_page(client, practices):
    assert 'href="/evidence/"' in client.get("/").text


def test_exports_carry_grade_basis_and_figures(client, practices):
    data = json.loads(b"".join(client.get("/practices/export.json").streaming_content))
    records = {r["slug"]: r for r in data["practices"]}
    strong = records[practices["strong"].slug]
    assert strong["evidence_level"] == 2
    assert strong["evidence_level_name"] == "Results reported"
    assert strong["evidence_basis"] == "The operator reports new exporters."
    assert strong["figures"][1] == {
        "metric": "public-budget",
        "metric_name": "Public budget",
        "value": 103280,
        "currency": "EUR",
        "period_start": 2016,
        "period_end": 2016,
        "source": "https://example.org/report",
        "description": "What the 2016 edition cost.",
        "unconfirmed": False,
    }
    assert strong["cost_per_firm"][0]["value"] == 3442.67
    ungraded = records[practices["ungraded"].slug]
    assert (ungraded["evidence_level"], ungraded["figures"]) == (None, [])
    assert practices["draft"].slug not in records
    body = b"".join(client.get("/practices/export.csv").streaming_content).decode()
    rows = {r["slug"]: r for r in csv.DictReader(io.StringIO(body, newline=""))}
    row = rows[practices["strong"].slug]
    assert (row["evidence_level"], row["evidence_level_name"]) == (
        "2",
        "Results reported",
    )
    assert row["figures"].splitlines()[2] == (
        "• Jobs: 12 (period not recorded). Jobs created. "
        "Source: https://example.org/report"
    )
    assert row["cost_per_firm"] == (
        "• EUR 3,442.67 (EUR 103,280 public budget ÷ 30 firms supported, both 2016)"
    )
    assert rows[practices["ungraded"].slug]["evidence_level"] == ""


def compare_rows(client, *practices):
    query = "&".join(f"p={p.slug}" for p in practices)
    body = client.get(f"/practices/compare/export.csv?{query}").content.decode()
    return {row[0]: row[1:] for row in csv.reader(io.StringIO(body))}


def test_the_comparison_aligns_levels_and_figures_row_by_row(client, practices):
    rows = compare_rows(client, practices["strong"], practices["weak"])
    assert rows["Evidence level"] == [
        "2 of 5: Results reported",
        "1 of 5: Activity reported (unconfirmed)",
    ]
    assert rows["Firms supported"] == ["30 (2016)", "Not recorded"]
    assert rows["Jobs"] == ["12 (period not recorded)", "Not recorded"]
    assert rows["Public cost per firm supported"] == [
        "EUR 3,442.67 (EUR 103,280 public budget ÷ 30 firms supported, both 2016)",
        "Not recorded",
    ]
    html = client.get(
        f"/practices/compare/?p={practices['strong'].slug}&p={practices['weak'].slug}"
    ).text
    assert "Public cost per firm supported" in html and "EUR 3,442.67" in html


def test_no_cost_per_firm_across_years_in_the_comparison(client, practices):
    weak = practices["weak"]
    make_figure(weak, value=10, period_start=2017, period_end=2017)
    make_figure(
        weak,
        metric="public-budget",
        value=5000,
        currency="EUR",
        period_start=2016,
        period_end=2017,
    )
    rows = compare_rows(client, practices["strong"], weak)
    assert rows["Public cost per firm supported"][1] == "Not recorded"
    assert rows["Public budget"][1] == "EUR 5,000 (2016–2017)"
