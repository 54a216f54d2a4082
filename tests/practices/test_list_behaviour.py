"""Sorting, paging, comparison, related practices and hostile input."""

import pytest
from django.urls import reverse

from practices.models import Practice, Status
from tests.factories import (
    make_country,
    make_instrument,
    make_practice,
    make_project,
    make_region,
    make_theme,
)

pytestmark = pytest.mark.django_db


def titles(response):
    return [p.title for p in response.context["practices"]]


def test_sort_orders_and_unknown_sort_falls_back_to_title(client):
    make_practice(title="B", start_year=2010, published_on="2026-01-02")
    make_practice(title="A", start_year=2020, published_on="2026-01-01")
    make_practice(title="C", published_on="2026-01-03")
    url = reverse("practices:list")
    assert titles(client.get(url)) == ["A", "B", "C"]
    assert titles(client.get(url, {"sort": "newest"})) == ["C", "B", "A"]
    assert titles(client.get(url, {"sort": "start"})) == ["A", "B", "C"]
    response = client.get(url, {"sort": "'; DROP TABLE x"})
    assert response.status_code == 200 and titles(response) == ["A", "B", "C"]
    # relevance needs a search; without one it falls back quietly
    assert titles(client.get(url, {"sort": "relevance"})) == ["A", "B", "C"]


@pytest.mark.parametrize(
    "per_page, expected", [("5", 5), ("1000", 100), ("abc", 20), ("-3", 1)]
)
def test_per_page_is_bounded(client, per_page, expected):
    for _ in range(3):
        make_practice()
    response = client.get(reverse("practices:list"), {"per_page": per_page})
    assert response.status_code == 200
    assert response.context["paginator"].per_page == expected


def test_compare_two_to_four_side_by_side(client):
    a = make_practice(title="Alpha", budget="EUR 1 m", slug="alpha")
    b = make_practice(title="Beta", slug="beta")
    response = client.get("/practices/compare/", {"p": ["alpha", "beta"]})
    assert response.status_code == 200
    text = response.text
    assert "Alpha" in text and "Beta" in text and "EUR 1 m" in text
    assert "Not recorded" in text  # Beta has no budget
    assert f'href="/practices/compare/?p={b.slug}"' in text  # remove Alpha
    assert a.get_absolute_url() in text


@pytest.mark.parametrize(
    "slugs, message, status",
    [
        ([], "Choose at least two", 200),
        (["alpha"], "Choose at least two", 200),
        (["alpha", "nope"], "No published practice has the address", 400),
        (["p1", "p2", "p3", "p4", "p5"], "at most 4", 400),
    ],
)
def test_compare_explains_what_is_wrong(client, slugs, message, status):
    make_practice(slug="alpha")
    for i in range(1, 6):
        make_practice(slug=f"p{i}")
    response = client.get("/practices/compare/", {"p": slugs})
    assert response.status_code == status
    assert message in response.text


def test_compare_never_shows_drafts(client):
    make_practice(slug="alpha")
    make_practice(slug="secret", title="Secret draft", status=Status.DRAFT)
    response = client.get("/practices/compare/", {"p": ["alpha", "secret"]})
    assert "Secret draft" not in response.text


def test_basket_add_remove_and_limit(client):
    for i in range(1, 6):
        make_practice(slug=f"p{i}", title=f"Practice {i}")
    add, remove = reverse("practices:compare-add"), reverse("practices:compare-remove")
    for i in range(1, 5):
        response = client.post(add, {"slug": f"p{i}", "next": "/practices/"})
        assert response.status_code == 302 and response["Location"] == "/practices/"
    response = client.post(add, {"slug": "p5", "next": "/practices/"}, follow=True)
    assert "already holds 4 practices" in response.text
    assert "Compare (4)" in response.text
    client.post(remove, {"slug": "p1"})
    assert client.session["compare"] == ["p2", "p3", "p4"]
    # off-site "next" is ignored; unknown slugs are refused
    response = client.post(add, {"slug": "p1", "next": "https://evil.example/"})
    assert response["Location"] == "/practices/p1/"
    assert client.post(add, {"slug": "nope"}).status_code == 400
    assert client.get(add).status_code == 405


def test_detail_shows_related_practices_ranked_by_what_they_share(client):
    italy = make_country(code="IT", name="Italy")
    grant, theme = make_instrument(), make_theme()
    project = make_project(acronym="COMPETE IN")
    practice = make_practice(
        countries=[italy], instruments=[grant], themes=[theme], project=project
    )
    make_practice(
        title="Shares all", countries=[italy], instruments=[grant], themes=[theme]
    )
    make_practice(title="Shares country", countries=[italy])
    make_practice(title="Same project", project=project)
    make_practice(title="Hidden draft", instruments=[grant], status=Status.DRAFT)
    make_practice(title="Unrelated")
    response = client.get(practice.get_absolute_url())
    related = [p.title for p, _score in response.context["related"]]
    assert related == ["Shares all", "Shares country"]
    text = response.text
    assert "More from Italy" in text and "More from COMPETE IN" in text
    assert "Same project" in text and "Hidden draft" not in text


def test_related_practices_in_nearer_nuts_regions_rank_higher(client):
    spain = make_country(code="ES", name="Spain")
    es2 = make_region(code="ES2", name="Noreste", country=spain)
    es21 = make_region(code="ES21", name="País Vasco", country=spain, parent=es2)
    es212 = make_region(code="ES212", name="Gipuzkoa", country=spain, parent=es21)
    es24 = make_region(code="ES24", name="Aragón", country=spain, parent=es2)
    practice = make_practice(countries=[spain], regions=[es212])
    make_practice(title="A: same NUTS 2 region", countries=[spain], regions=[es24])
    make_practice(title="B: the NUTS 3 region", countries=[spain], regions=[es212])
    make_practice(title="C: only the country", countries=[spain])
    make_practice(title="D: elsewhere")
    related = Practice.objects.published().related_to(practice)
    # Shared: ES + ES2, ES21, ES212 (1 + 3 x 2); ES + ES2 (1 + 2); ES (1).
    assert [(p.title[0], score) for p, score in related] == [
        ("B", 7),
        ("A", 3),
        ("C", 1),
    ]


def test_related_practices_keep_the_best_then_ties_by_title():
    italy, grant, theme = make_country(code="IT"), make_instrument(), make_theme()
    practice = make_practice(countries=[italy], instruments=[grant], themes=[theme])
    everything = {"countries": [italy], "instruments": [grant], "themes": [theme]}
    make_practice(title="Z shares everything", **everything)
    make_practice(title="A draft sharing everything", status=Status.DRAFT, **everything)
    for title in ["D same instrument", "B same instrument", "C same instrument"]:
        make_practice(title=title, instruments=[grant])
    make_practice(title="A same country", countries=[italy])
    related = Practice.objects.published().related_to(practice, limit=3)
    # More tie at the cut (3) than fit: the first of them by title.
    assert [(p.title, score) for p, score in related] == [
        ("Z shares everything", 6),
        ("B same instrument", 3),
        ("C same instrument", 3),
    ]


def test_related_practices_past_drafts_that_outrank_them(monkeypatch):
    """All are ranked first without asking which are published; when drafts fill
    that ranking (more than the spare places), the published are ranked alone."""
    monkeypatch.setattr("practices.models.RELATED_SPARE", 1)
    italy, grant, theme = make_country(code="IT"), make_instrument(), make_theme()
    everything = {"countries": [italy], "instruments": [grant], "themes": [theme]}
    practice = make_practice(**everything)
    for n in range(3):
        make_practice(title=f"Draft {n}", status=Status.DRAFT, **everything)
    make_practice(title="B same instrument", instruments=[grant])
    make_practice(title="A same country", countries=[italy])
    related = Practice.objects.published().related_to(practice, limit=2)
    assert [(p.title, score) for p, score in related] == [
        ("B same instrument", 3),
        ("A same country", 1),
    ]


HOSTILE = [
    "",
    "ü" * 50,
    "x" * 10_000,
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "%00",
    "\x00",
    "-1",
    "99999999999999999999",
    "../../etc/passwd",
    '"unclosed',
    "or or -",
    " ".join(chr(0x4E00 + n) for n in range(99)),  # 99 words (issue 19)
]
PARAMS = ["q", "country", "region", "theme", "instrument", "project", "level",
          "period", "page", "sort", "per_page"]  # fmt: skip


# Every surface that takes the list's query string.
SURFACES = ["/practices/", "/practices/export.csv", "/practices/export.json",
            "/practices/feed/", "/follow/"]  # fmt: skip


@pytest.mark.parametrize("param", PARAMS)
def test_hostile_values_never_cause_errors_or_unescaped_echoes(client, param):
    make_practice(countries=[make_country(code="IT", name="Italy")])
    for value in HOSTILE:
        for query in ({param: value}, {param: [value, value, "IT"]}):
            # The other surfaces share the list's parsing: one query each.
            for surface in SURFACES if isinstance(query[param], list) else SURFACES[:1]:
                response = client.get(surface, query)
                assert response.status_code < 500, (surface, param, value)
                text = b"".join(response).decode()  # a stream too
                if response["Content-Type"].startswith("text/html"):  # else inert
                    assert "<script>alert(1)" not in text, (surface, param, value)
    for value in HOSTILE:
        response = client.get("/practices/compare/", {"p": [value, value]})
        assert response.status_code < 500 and "<script>alert(1)" not in response.text
        response = client.get("/practices/compare/export.csv", {"p": [value, value]})
        assert response.status_code < 500, value
