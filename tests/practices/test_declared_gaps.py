"""Issue 22 #5 and #6: a fact looked for and not found is declared ("none published
as of <month year>"), not left as "not recorded"; "last verified" is the day a
record's sources were read, and its review date follows from it."""

import json
import re
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from practices import facts
from practices.content import CONTENT_DIR, catalogue_files, load_catalogue
from practices.models import Practice, next_review
from tests.factories import make_practice
from tests.practices.test_admin_workflow import change_url, form_data

pytestmark = pytest.mark.django_db

VERIFIED = date(2026, 12, 7)


def test_the_rule_has_a_fourth_state_only_for_facts_not_held():
    assert facts.rule(False, False, True) == facts.Certainty.DECLARED_NONE
    assert facts.rule(False, True, False) == facts.Certainty.NOT_RECORDED
    # A fact filled in since the search is simply recorded.
    assert facts.rule(True, False, True) == facts.Certainty.RECORDED
    assert facts.rule(True, True, True) == facts.Certainty.UNCONFIRMED


@pytest.fixture
def searched():
    return make_practice(
        slug="searched",
        title="Searched desk",
        last_verified_on=VERIFIED,
        review_by=next_review(VERIFIED),
        declared_none=["evidence", "budget"],
    )


def test_the_practice_page_says_when_a_fact_was_found_unpublished(client, searched):
    text = client.get(searched.get_absolute_url()).text
    # The evidence section and the budget fact; the resources, never looked for,
    # stay "not recorded".
    assert text.count("None published as of December 2026") == 2
    assert "looked for when its sources were last read, and not found" in text
    assert re.search(r'id="resources".*?Not recorded', text, re.S)
    assert "2 looked for and found unpublished" in text
    assert (
        'Last verified <time datetime="2026-12-07">7 December 2026</time>: the day '
        "its sources were last read against this record; next check due by "
        '<time datetime="2027-12-07">7 December 2027</time>.' in text
    )


def test_the_comparison_says_it_too(client, searched):
    make_practice(slug="other")
    page = client.get("/practices/compare/?p=searched&p=other").text
    assert '<span class="declared-none">None published as of December 2026' in page
    export = client.get("/practices/compare/export.csv?p=searched&p=other")
    assert "None published as of December 2026" in export.content.decode()


def test_the_data_page_counts_each_state_and_the_verification_dates(client, searched):
    make_practice(slug="unverified")
    text = client.get("/data/").text
    row = re.search(r'<th scope="row">Budget</th>(.*?)</tr>', text, re.S).group(1)
    assert re.findall(r'class="num">(\d+)<', row) == ["0", "0", "1", "1"]
    assert "None published (looked for)" in text
    assert "1 of the 2 records give the day their sources were last read" in text
    assert "1 does not: their “last verified” is shown as not recorded." in text


def test_the_review_date_follows_from_the_verification():
    practice = make_practice(last_verified_on=date(2024, 2, 29))
    practice.full_clean()
    assert practice.review_by == date(2025, 2, 28)
    kept = make_practice(last_verified_on=VERIFIED, review_by=date(2027, 3, 1))
    kept.full_clean()
    assert kept.review_by == date(2027, 3, 1)  # a curator's own date stays


def test_a_stated_fact_cannot_be_declared_unpublished():
    practice = make_practice(
        budget="EUR 1,000", last_verified_on=VERIFIED, declared_none=["budget", "x"]
    )
    with pytest.raises(ValidationError) as error:
        practice.full_clean()
    messages = error.value.message_dict["declared_none"]
    assert "Unknown field names: x." in messages
    assert "Budget cannot be declared unpublished: the record states it." in messages


def test_a_declared_gap_needs_the_verification_that_looked_for_it():
    with pytest.raises(IntegrityError), transaction.atomic():
        make_practice(declared_none=["evidence"], last_verified_on=None)


def test_the_admin_form_saves_a_declared_gap_and_refuses_an_undated_one(
    admin_client, searched
):
    url = change_url(searched)
    data = form_data(searched, declared_none=["evidence"], last_verified_on="")
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "only with the date of the verification that looked for it" in response.text
    data.update(last_verified_on="2026-12-07", review_by="")
    response = admin_client.post(url, data)
    assert response.status_code == 302
    searched.refresh_from_db()
    assert searched.declared_none == ["evidence"]
    assert searched.review_by == date(2027, 12, 7)


# --- the shipped catalogue ---------------------------------------------------------

NOTES = CONTENT_DIR / "verification-2026-12-notes.md"


def shipped():
    return [
        record
        for path in sorted(CONTENT_DIR.glob("*.json"))
        for record in json.loads(path.read_text("utf-8")).get("practices", [])
    ]


def test_each_date_and_declared_gap_of_the_content_has_its_note_line():
    text = NOTES.read_text("utf-8")
    dated = {
        slug: quote
        for slug, _url, quote in re.findall(
            r'^(\S+) \| last_verified_on \| (\S+) \| "(.+)"$', text, re.M
        )
    }
    searched = dict(
        re.findall(r"^(\S+) \| evidence: none published \| searched: (.+)$", text, re.M)
    )
    for record in shipped():
        slug = record["slug"]
        if record.get("last_verified_on"):
            assert date.fromisoformat(record["last_verified_on"]) <= date(2026, 12, 31)
            assert dated.get(slug), slug
        else:
            assert not record.get("declared_none"), slug
        for name in record.get("declared_none", []):
            assert name == "evidence" and not record[name].strip(), slug
            assert searched.get(slug), slug
    for quote in dated.values():
        assert len(quote.split()) <= 20, quote


def test_the_loaded_catalogue_dates_its_records_and_declares_its_gaps(catalogue):
    records = {r["slug"]: r for r in shipped() if r["status"] == "published"}
    published = Practice.objects.published()
    dated = {slug for slug, r in records.items() if r.get("last_verified_on")}
    assert (
        set(
            published.filter(last_verified_on__isnull=False).values_list(
                "slug", flat=True
            )
        )
        == dated
    )
    assert len(dated) >= 400
    declared = {slug for slug, r in records.items() if r.get("declared_none")}
    assert len(declared) >= 100
    assert set(published.exclude(declared_none=[]).values_list("slug", flat=True)) == (
        declared
    )


def test_a_database_loaded_before_the_dates_gets_them_and_keeps_curators(tmp_path, db):
    """Records loaded from files without the dates are dated by the next run,
    except one a curator has verified since; a second run changes nothing."""
    older = []
    for path in catalogue_files():
        if path.suffix == ".json" and "practices" in (
            data := json.loads(path.read_text("utf-8"))
        ):
            for record in data["practices"]:
                record.pop("last_verified_on", None)
                record.pop("declared_none", None)
            path = tmp_path / path.name
            path.write_text(json.dumps(data), "utf-8")
        older.append(path)
    load_catalogue(older)
    assert not Practice.objects.filter(last_verified_on__isnull=False).exists()
    mine = Practice.objects.exclude(evidence="").first()
    Practice.objects.filter(pk=mine.pk).update(last_verified_on=date(2026, 12, 8))
    curated = Practice.objects.get(slug="mt-trademalta-itpis")
    curated.evidence = "A curator's finding."
    curated.save()

    created = load_catalogue()

    expected = sum(1 for r in shipped() if r.get("last_verified_on")) - 1
    assert created == {"verification dates": expected}
    mine.refresh_from_db()
    assert mine.last_verified_on == date(2026, 12, 8)
    curated.refresh_from_db()
    assert (curated.last_verified_on, curated.declared_none) == (VERIFIED, [])
    assert curated.review_by == date(2027, 12, 7)
    assert curated.history.first().history_change_reason == "Verification dates loaded"
    assert Practice.objects.filter(declared_none=["evidence"]).count() > 100
    assert load_catalogue() == {}
