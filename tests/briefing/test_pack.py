"""Briefing packs (briefing/pack.py): any selection as a page to print, a tagged PDF
and a CSV with citations, capped and saying so."""

import csv
import io
import re

import pypdf
import pytest

from briefing import pack as packs
from briefing import pdf
from practices.models import Practice
from tests.factories import make_country, make_practice

pytestmark = pytest.mark.django_db


def squeezed(text):
    """Without whitespace: a PDF's text breaks long titles and addresses anywhere."""
    return re.sub(r"\s+", "", text)


def italian():
    return list(
        Practice.objects.published()
        .filter(countries__code="IT")
        .prefetch_related("sources")
        .order_by("title")
    )


def test_the_pack_of_the_italian_practices_is_a_tagged_pdf_with_everything(
    client, catalogue
):
    practices = italian()
    assert len(practices) > 4
    response = client.get("/briefing.pdf", {"country": "IT", "sort": "title"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    reader = pypdf.PdfReader(io.BytesIO(response.content))
    text = squeezed("".join(page.extract_text() for page in reader.pages))
    for practice in practices:
        assert squeezed(practice.title) in text, practice.title
        for source in practice.sources.all():
            assert squeezed(source.url) in text, source.url
    assert squeezed("Non-commercial reuse with acknowledgement") in text
    assert squeezed(practices[0].attribution) in text

    root = reader.trailer["/Root"]
    assert root["/MarkInfo"]["/Marked"] == True and "/StructTreeRoot" in root  # noqa: E712
    assert root["/Lang"] == "en"
    assert reader.metadata.title.startswith(f"Briefing pack: {len(practices)}")
    outline = [item.title for item in reader.outline]
    assert outline == [f"{n}. {p.title}" for n, p in enumerate(practices, 1)]
    for page in reader.pages:  # every font is embedded
        for font in page["/Resources"].get("/Font", {}).values():
            font = font.get_object()
            for descendant in font.get("/DescendantFonts", [font]):
                descriptor = descendant.get_object()["/FontDescriptor"]
                assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor)


def test_the_pack_page_has_a_cover_a_summary_and_a_section_per_practice(
    client, catalogue
):
    practices = italian()
    response = client.get("/briefing/", {"country": "IT", "sort": "title"})
    assert response.status_code == 200
    text = response.text
    assert "the practices with Country: Italy" in text
    assert f"{len(practices)} practices." in text
    assert text.count('class="pack-practice"') == len(practices)
    assert 'href="/briefing.pdf?country=IT&amp;sort=title"' in text
    assert 'href="/briefing.csv?country=IT&amp;sort=title"' in text
    assert "Attribution and reuse" in text


def test_a_selection_over_the_cap_says_how_many_it_holds(client, db, monkeypatch):
    italy = make_country()
    for n in range(4):
        make_practice(title=f"Desk {n}", countries=[italy])
    monkeypatch.setattr(packs, "MAX_PRACTICES", 3)
    response = client.get("/briefing/", {"country": "IT"})
    assert "The first 3 of the 4 practices selected" in response.text
    assert response.text.count('class="pack-practice"') == 3


def test_named_practices_keep_their_order_and_unknown_ones_are_a_400(client, db):
    first = make_practice(title="Zebra desk", slug="zebra")
    second = make_practice(title="Aardvark desk", slug="aardvark")
    response = client.get("/briefing/", {"p": [first.slug, second.slug]})
    assert response.text.index("1. Zebra desk") < response.text.index("2. Aardvark")
    for slugs in (["zebra", "nowhere"], ["../etc"], [""]):
        response = client.get("/briefing/", {"p": slugs})
        assert response.status_code == 400
        assert "No pack can be made from this address" in response.text
        assert client.get("/briefing.csv", {"p": slugs}).status_code == 400


@pytest.mark.parametrize("query", [{"country": "ZZ"}, {"list": "forged"}])
def test_a_bad_selection_is_a_400_that_says_why(client, db, query):
    for path in ("/briefing/", "/briefing.pdf", "/briefing.csv"):
        response = client.get(path, query)
        assert response.status_code == 400, path


def test_the_csv_holds_the_practices_with_citations_and_certainty(client, db):
    practice = make_practice(
        title="Export desk",
        slug="desk",
        budget="EUR 1 million",
        budget_scale="1m-10m",
        uncertain_fields=["budget_scale"],
        sources=["https://example.org/desk"],
    )
    response = client.get("/briefing.csv", {"p": "desk"})
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    header, row = rows[0], dict(zip(rows[0], rows[1], strict=False))
    assert header[:2] == ["Title", "Page URL"]
    assert row["Title"] == "Export desk"
    assert row["Page URL"] == "http://testserver/practices/desk/"
    assert row["Budget scale"] == "€1 million to €10 million (unconfirmed)"
    assert row["Funding source"] == "Not recorded"
    assert row["Sources"] == "[1] Source 0 <https://example.org/desk>"
    assert row["Citation"].startswith("Practice Atlas, “Export desk”, http")
    assert practice.attribution in row["Citation"]
    assert rows[-1][0].startswith("Reuse: Non-commercial reuse with acknowledgement")


def test_without_pango_the_pdf_gives_way_to_the_print_version(client, db, monkeypatch):
    make_practice(slug="desk")
    why = "the PDF maker cannot load a system library (no Pango)"
    monkeypatch.setattr(pdf, "_engine", lambda: (None, why))
    page = client.get("/briefing/", {"p": "desk"}).text
    assert "/briefing.pdf" not in page and why in page
    response = client.get("/briefing.pdf", {"p": "desk"})
    assert response.status_code == 503
    assert why in response.text and 'href="/briefing/?p=desk"' in response.text


def test_only_the_site_s_own_static_files_are_fetched_for_a_pdf():
    assert pdf.static_file("/static/css/site.css").endswith("site.css")
    for url in (
        "https://example.org/x.css",
        "/static/../config/settings.py",
        "file:///etc/passwd",
    ):
        assert pdf.static_file(url) is None
