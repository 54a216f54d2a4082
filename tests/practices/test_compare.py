"""The comparison as a reader decides with it: what each practice does, for whom,
with what, how it worked and from which sources, on a page that stacks on a phone
and as a CSV file (opendata.views.ComparisonExportView) holding the same rows."""

import csv
import io

import pytest
from django.utils import timezone

from practices.compare import CRITERIA
from practices.models import Status
from tests.factories import make_practice

pytestmark = pytest.mark.django_db

PAGE, CSV_URL = "/practices/compare/", "/practices/compare/export.csv"


@pytest.fixture
def pair(db):
    first = make_practice(
        title="Alpha vouchers",
        slug="alpha",
        beneficiaries="Small firms new to exporting",
        resources="- two advisers\n- a budget line for fairs",
        evidence="**40** firms exported",
        budget="=SUM(A1)",  # read as a formula by a spreadsheet, unguarded
        uncertain_fields=["budget"],
        sources=["https://example.org/alpha-report"],
        attribution="Alpha line",
    )
    second = make_practice(title="Beta desk", slug="beta")
    return first, second


def table_rows(response):
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_the_page_has_the_rows_to_decide_with_each_value_under_its_practice(
    client, pair
):
    text = client.get(PAGE, {"p": ["alpha", "beta"]}).text
    for label in ["Who benefits", "Resources needed", "Sources", "Attribution"]:
        assert f'<th scope="row">{label}</th>' in text
    assert '<td data-practice="Alpha vouchers">Small firms new to exporting</td>' in (
        text
    )
    assert "<li>two advisers</li>" in text  # Markdown rendered
    assert '<li><a href="https://example.org/alpha-report">Source 0</a></li>' in text
    assert text.count('data-practice="Beta desk">') == len(CRITERIA)
    assert f'href="{CSV_URL}?p=alpha&amp;p=beta"' in text


def test_the_csv_holds_the_page_s_rows_in_plain_text(client, pair):
    response = client.get(CSV_URL, {"p": ["alpha", "beta"]})
    today = timezone.localdate()
    assert response["Content-Disposition"] == (
        f'attachment; filename="practice-atlas_comparison_{today}.csv"'
    )
    rows = table_rows(response)
    assert rows[0] == ["", "Alpha vouchers", "Beta desk"]
    assert rows[1] == [
        "Address",
        "http://testserver/practices/alpha/",
        "http://testserver/practices/beta/",
    ]
    by_label = {row[0]: row[1:] for row in rows[2:]}
    assert list(by_label) == [criterion.label for criterion in CRITERIA]
    assert by_label["Who benefits"] == ["Small firms new to exporting", "Not recorded"]
    assert by_label["Resources needed"][0] == "two advisers\na budget line for fairs"
    assert by_label["Evidence of success"][0] == "40 firms exported"  # no Markdown
    # Marked as on the page, and never run by a spreadsheet.
    assert by_label["Budget"][0] == "'=SUM(A1) (unconfirmed)"
    assert by_label["Sources"] == [
        "Source 0 <https://example.org/alpha-report>",
        "Not recorded",
    ]
    assert by_label["Attribution"][0] == "Alpha line"


@pytest.mark.parametrize(
    ("slugs", "reason"),
    [
        (["alpha", "secret"], "No published practice has the address “secret”"),
        (["alpha", "a b"], "No published practice has the address “a b”"),
        ([], "Name the practices to compare"),
        (["alpha", "beta", "p3", "p4", "p5"], "A comparison holds at most 4"),
    ],
)
def test_the_csv_refuses_what_the_page_would_not_show(client, pair, slugs, reason):
    make_practice(slug="secret", title="Secret draft", status=Status.DRAFT)
    for n in (3, 4, 5):
        make_practice(slug=f"p{n}")
    response = client.get(CSV_URL, {"p": slugs})
    assert response.status_code == 400
    assert reason in response.text
    assert "Secret draft" not in response.text
