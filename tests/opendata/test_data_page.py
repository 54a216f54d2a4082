"""The data page (/data/, with the data dictionary generated from the models), the
list page's download links, and the DCAT catalogue (/data/catalog.jsonld)."""

import csv
import io
import json
import re
from collections import Counter
from datetime import datetime
from html import escape, unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.apps import apps

from opendata.records import COLUMNS, LICENCE
from practices.content import content_files
from practices.filters import PracticeFilterSet
from practices.models import Practice

pytestmark = pytest.mark.django_db

DATA_URL, CATALOG_URL = "/data/", "/data/catalog.jsonld"


# --- the data page ---------------------------------------------------------------


@pytest.fixture
def data_page(client, catalogue):
    response = client.get(DATA_URL)
    assert response.status_code == 200
    return response.text


def dictionary_rows(html):
    """{field name: [cell texts]} of the data dictionary table."""
    table = re.search(r'<table class="dictionary">.*?</table>', html, re.S).group()
    assert "<caption" in table and 'scope="col"' in table
    rows = {}
    for row in re.findall(r"<tr id=\"field-.*?</tr>", table, re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        texts = [" ".join(unescape(re.sub(r"<[^>]+>", " ", c)).split()) for c in cells]
        rows[texts[0]] = texts[1:]
    return rows


def help_text(field):
    """The model field's own help text, read without opendata.records."""
    *app, model_name, field_name = field.split(".")  # "app." for other apps
    model = apps.get_model(app[0] if app else "practices", model_name)
    return str(model._meta.get_field(field_name).help_text)


def test_data_page_describes_every_column_from_the_models(data_page):
    rows = dictionary_rows(data_page)
    assert list(rows) == [column.name for column in COLUMNS]
    for column in COLUMNS:
        label, kind, formats, meaning, _allowed = rows[column.name]
        expected = help_text(column.field) if column.field else column.about
        assert expected and meaning.startswith(" ".join(expected.split()))
        assert formats == ", ".join(f.upper() for f in column.formats)
        assert label
        assert kind
    # Allowed values come from the model's choices.
    assert "regional (Regional)" in rows["level"][4]
    assert "budget (Budget)" in rows["uncertain_fields"][4]
    assert "2 (Results reported)" in rows["evidence_level"][4]
    assert 'th scope="row"' in data_page


def test_the_dictionary_follows_a_changed_help_text(client, catalogue, monkeypatch):
    field = Practice._meta.get_field("summary")
    monkeypatch.setattr(field, "help_text", "A wholly new explanation.")
    rows = dictionary_rows(client.get(DATA_URL).text)
    assert rows["summary"][3] == "A wholly new explanation."


def test_data_page_has_the_licence_and_links(data_page):
    assert "Licence and attribution" in data_page
    assert escape(LICENCE["name"]) in data_page
    assert escape(LICENCE["note"]) in data_page
    assert f'href="{LICENCE["url"]}"' in data_page
    assert "not an open licence" in data_page
    for href in [
        "/practices/export.csv",
        "/practices/export.json",
        "/practices/feed/",
        "/data/catalog.jsonld",
        "/sitemap.xml",
        "/practices/",
    ]:
        assert f'href="{href}"' in data_page
    assert (
        '<link rel="alternate" type="application/ld+json" '
        'title="DCAT catalogue of the Practice Atlas data" '
        'href="/data/catalog.jsonld">'
    ) in data_page
    count = Practice.objects.published().count()
    assert f"{count} published practices" in data_page
    names = ["q", "country", "region", "theme", "instrument", "project", "level"]
    for parameter in [*names, "period", "sort", *PracticeFilterSet.base_filters]:
        assert f"<dt><code>{parameter}</code>" in data_page
    assert "import_practices" in data_page and "--dry-run" in data_page


def test_footer_links_to_the_data_page(client, catalogue):
    assert 'href="/data/">Open data</a>' in client.get("/").text


# --- the list page's download links ------------------------------------------------


def links(html, pattern):
    """The targets of the page's <a> links that start with `pattern`."""
    return [unescape(h) for h in re.findall(rf'<a href="({pattern}[^"]*)"', html)]


def test_list_page_offers_the_filtered_set_for_download(client, catalogue):
    params = "country=IT&country=ES&theme=access-to-new-markets&sort=newest"
    response = client.get(f"/practices/?{params}&page=2&per_page=5")
    assert response.status_code == 200
    count = response.context["paginator"].count
    assert count > 10  # more than the page shows
    html = response.text
    assert f"Download these {count} practices:" in html

    (csv_href,) = links(html, "/practices/export.csv")
    (json_href,) = links(html, "/practices/export.json")
    alternates = re.findall(
        r'<link rel="alternate" type="([^"]+)"[^>]*href="([^"]+)"', html
    )
    assert {kind for kind, _ in alternates} >= {
        "application/atom+xml",
        "text/csv",
        "application/json",
    }
    expected = parse_qs(params)
    for href in [csv_href, json_href, *(unescape(h) for _, h in alternates)]:
        assert parse_qs(urlsplit(href).query) == expected  # same filters, no paging
    assert dict(alternates)["application/atom+xml"].startswith("/practices/feed/?")

    # The links give the files of exactly that set.
    rows = list(csv.reader(io.StringIO(_streamed(client.get(csv_href)), newline="")))
    assert len(rows) - 1 == count
    document = json.loads(_streamed(client.get(json_href)))
    assert document["metadata"]["count"] == count == len(document["practices"])


def _streamed(response):
    assert response.status_code == 200
    return b"".join(response.streaming_content).decode()


def test_no_download_links_when_the_filters_are_invalid(client, catalogue):
    response = client.get("/practices/?country=XX")
    assert response.status_code == 400
    assert "Download these" not in response.text
    assert not links(response.text, "/practices/export")
    assert 'rel="alternate"' not in response.text


def test_no_download_links_without_results(client, catalogue):
    response = client.get("/practices/?country=MT&level=cross-border")
    assert response.context["paginator"].count == 0
    assert "Download these" not in response.text


def test_unfiltered_list_links_to_the_whole_export(client, catalogue):
    html = client.get("/practices/").text
    count = Practice.objects.published().count()
    assert f"Download these {count} practices:" in html
    assert 'href="/practices/export.csv"' in html
    assert 'href="/practices/export.json"' in html


# --- the DCAT catalogue ---------------------------------------------------------


def test_catalog_describes_the_dataset_and_its_distributions(client, catalogue):
    response = client.get(CATALOG_URL)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/ld+json; charset=utf-8"
    catalog = json.loads(response.content)
    assert set(catalog["@context"]) >= {"dcat", "dct", "foaf", "vcard", "xsd"}
    assert catalog["@type"] == "dcat:Catalog"
    assert catalog["@id"] == "http://testserver/data/catalog.jsonld"
    dataset, figures = catalog["dcat:dataset"]
    # The regional figures: a dataset of their own, under Eurostat's terms.
    assert figures["dct:title"] == "Regional figures (Eurostat)"
    assert "eurostat" in figures["dct:rights"]["dct:source"]["@id"]
    (figures_csv,) = figures["dcat:distribution"]
    assert figures_csv["dcat:downloadURL"]["@id"] == (
        "http://testserver/data/regional-figures.csv"
    )
    assert dataset["@type"] == "dcat:Dataset"
    assert dataset["dct:title"] and dataset["dct:description"]
    assert dataset["dct:publisher"]["foaf:name"] == "Practice Atlas"
    assert dataset["dcat:landingPage"]["@id"] == "http://testserver/data/"
    assert datetime.fromisoformat(dataset["dct:modified"]["@value"]).tzinfo
    # The reuse terms are stated as they are, not as an open licence.
    assert dataset["dct:rights"]["dct:title"] == LICENCE["name"]
    assert "creativecommons" not in response.text

    distributions = {
        d["dcat:mediaType"]["@id"]: d for d in dataset["dcat:distribution"]
    }
    iana = "https://www.iana.org/assignments/media-types/"
    assert set(distributions) == {
        iana + "text/csv",
        iana + "application/json",
        iana + "application/atom+xml",
    }
    formats = {d["dct:format"]["@id"].rsplit("/", 1)[1] for d in distributions.values()}
    assert formats == {"CSV", "JSON", "ATOM"}
    downloads = [
        d["dcat:downloadURL"]["@id"]
        for d in distributions.values()
        if "dcat:downloadURL" in d
    ]
    assert len(downloads) == 2
    for distribution in distributions.values():
        assert distribution["dct:license"]["@id"] == LICENCE["url"]
        assert distribution["dcat:accessURL"]["@id"].startswith("http://testserver/")
    for url in downloads:
        assert url.startswith("http://testserver/")
        answer = client.get(urlsplit(url).path)
        assert answer.status_code == 200
        _streamed(answer)


def test_catalog_feed_answers(client, catalogue):
    response = client.get(CATALOG_URL)
    dataset, _figures = response.json()["dcat:dataset"]
    (feed,) = [
        d
        for d in dataset["dcat:distribution"]
        if d["dct:format"]["@id"].endswith("ATOM")
    ]
    answer = client.get(urlsplit(feed["dcat:accessURL"]["@id"]).path)
    assert answer.status_code == 200


# --- what the catalogue holds, counted from the data (issue 15) ----------------


def fixture_practices():
    return [
        record
        for path in content_files()
        for record in json.loads(path.read_text(encoding="utf-8")).get("practices", [])
    ]


def fixture_certainty(record, fact):
    """The certainty of one fact, read from the content files themselves."""
    if fact == "places":
        held = bool(record.get("countries") or record.get("regions"))
    else:
        held = record.get(fact) not in (None, "", [])
    if not held:
        declared = fact in record.get("declared_none", [])
        return "None published" if declared else "Not recorded"
    return "Unconfirmed" if fact in record.get("uncertain_fields", []) else "Recorded"


def test_the_completeness_table_matches_a_count_of_the_content_files(data_page):
    table = re.search(
        r'<table class="completeness-table">.*?</table>', data_page, re.S
    ).group()
    shown = {}
    for row in re.findall(r"<tr><th scope=\"row\">.*?</tr>", table, re.S):
        label, *numbers = [
            unescape(cell) for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row)
        ]
        shown[label] = [int(n) for n in numbers]
    records = fixture_practices()
    assert len(records) == Practice.objects.published().count()
    for fact, label in Practice.UNCERTAIN_CHOICES:
        counted = Counter(fixture_certainty(record, fact) for record in records)
        states = ("Recorded", "Unconfirmed", "None published", "Not recorded")
        expected = [counted[state] for state in states]
        assert shown[label] == expected, label


def test_the_holdings_are_counted_not_typed(client, data_page):
    records = fixture_practices()
    levels = Counter(record.get("level") or "" for record in records)
    without_facts = sum(
        all(
            fixture_certainty(record, fact) in ("Not recorded", "None published")
            for fact, _ in Practice.UNCERTAIN_CHOICES
            if fact != "summary"
        )
        for record in records
    )
    claim = (
        f"{len(records)} practices: {levels['national']} national, "
        f"{levels['regional']} regional"
    )
    home = client.get("/").text
    for page in (data_page, home):
        assert claim in page
        assert f"and {levels['']} whose level is not recorded." in page
        assert f"{without_facts} of them record nothing beyond a name" in page
    assert "good practices from European regions" not in home
    citing = sum(
        any("interregeurope.eu/" in source["url"] for source in record["sources"])
        for record in records
    )
    assert (
        f"{citing} of the {len(records)} published records cite an Interreg Europe "
        "page" in data_page
    )
    assert "mostly from Interreg Europe" not in data_page
