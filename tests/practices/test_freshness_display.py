"""Review dates on public pages: "last verified", the "review overdue" badge, and
overdue practices ranked after fresh ones in the default orders.

(tests/practices/test_freshness.py is about the list's index keeping up with
changes; this file is about how fresh each practice's own record is.)"""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from practices.models import Practice
from practices.search import search
from tests.factories import make_brief, make_country, make_practice, make_theme

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
YESTERDAY = TODAY - timedelta(days=1)
BADGE = '<span class="badge badge-overdue">Review overdue</span>'


def slugs(response):
    return [p.slug for p in response.context["practices"]]


# --- what the pages say -------------------------------------------------------------


@pytest.mark.parametrize(
    "review_by, overdue",
    [
        (None, False),
        (TODAY + timedelta(days=30), False),
        (TODAY, False),
        (YESTERDAY, True),
    ],
    ids=["no-date", "future", "due-today", "past"],
)
def test_the_badge_shows_only_once_the_review_date_has_passed(
    client, review_by, overdue
):
    practice = make_practice(
        title="Export vouchers",
        last_verified_on=date(2025, 3, 3),
        review_by=review_by,
    )
    assert practice.is_review_overdue is overdue
    page = client.get(practice.get_absolute_url()).text
    card = client.get("/practices/").text
    for text in (page, card):
        assert (BADGE in text) is overdue
    assert ("so some details may be out of date" in page) is overdue
    assert ("Some details may be out of date." in card) is overdue
    if overdue:
        assert f"Its next check was due on {review_by.day} {review_by:%B %Y}" in page


def test_the_badge_is_on_every_kind_of_card_and_the_comparison(client):
    theme = make_theme(slug="skills")
    stale = make_practice(
        title="Stale", slug="stale", themes=[theme], review_by=YESTERDAY
    )
    fresh = make_practice(title="Fresh", slug="fresh", themes=[theme])
    brief = make_brief(practices=[stale, fresh])
    for url in [
        "/",
        "/practices/",
        "/practices/?q=stale",
        "/themes/skills/",
        brief.get_absolute_url(),
        "/practices/compare/?p=stale&p=fresh",
    ]:
        assert client.get(url).text.count(BADGE) == 1, url


def test_last_verified_is_shown_or_said_to_be_not_recorded(client):
    verified = make_practice(last_verified_on=date(2026, 3, 3))
    text = client.get(verified.get_absolute_url()).text
    assert (
        'Last verified <time datetime="2026-03-03">3 March 2026</time>: the day its '
        "sources were last read against this record." in text
    )
    unknown = make_practice(last_verified_on=None)
    text = client.get(unknown.get_absolute_url()).text
    assert 'Last verified: <span class="not-recorded">not recorded</span>.' in text


def test_the_comparison_shows_last_verified(client):
    make_practice(slug="a", title="A", last_verified_on=date(2026, 3, 3))
    make_practice(slug="b")
    text = client.get("/practices/compare/?p=a&p=b").text
    assert (
        '<th scope="row">Last verified</th><td data-practice="A">3 March 2026</td>'
    ) in text


# --- ranking -----------------------------------------------------------------------


def test_default_order_lists_overdue_practices_after_fresh_ones(client):
    make_practice(title="A overdue", slug="a", review_by=YESTERDAY)
    make_practice(title="B fresh", slug="b", review_by=TODAY + timedelta(days=9))
    make_practice(title="C no review date", slug="c")
    make_practice(title="D due today", slug="d", review_by=TODAY)
    make_practice(title="E overdue", slug="e", review_by=TODAY - timedelta(days=400))
    response = client.get("/practices/")
    assert slugs(response) == ["b", "c", "d", "a", "e"]
    assert slugs(client.get("/practices/", {"sort": "title"})) == slugs(response)
    assert "Practices overdue for review are listed after the others." in response.text


def test_chronological_orders_stay_chronological(client):
    make_practice(slug="old", published_on=TODAY - timedelta(days=9))
    make_practice(slug="new", published_on=TODAY, review_by=YESTERDAY)
    response = client.get("/practices/", {"sort": "newest"})
    assert slugs(response) == ["new", "old"]
    assert "overdue for review" not in response.text


def test_equally_relevant_overdue_practices_come_after_fresh_ones(client):
    # Same words in the same fields: equal rank on either database.
    make_practice(title="Alpha vouchers", slug="alpha", review_by=YESTERDAY)
    make_practice(title="Beta vouchers", slug="beta")
    ranks = dict(search(Practice.objects.all(), "vouchers").values_list("slug", "rank"))
    assert ranks["alpha"] == ranks["beta"]
    response = client.get("/practices/", {"q": "vouchers"})
    assert slugs(response) == ["beta", "alpha"]
    assert "those overdue for review come last" in response.text


def test_relevance_still_outranks_freshness(client):
    make_practice(title="Vouchers for exporters", slug="stale", review_by=YESTERDAY)
    make_practice(title="Fresh scheme", slug="fresh", summary="It pays vouchers.")
    assert slugs(client.get("/practices/", {"q": "vouchers"})) == ["stale", "fresh"]


def test_taxonomy_pages_list_overdue_practices_last(client):
    italy = make_country(code="IT", name="Italy")
    make_practice(title="A", slug="a", countries=[italy], review_by=YESTERDAY)
    make_practice(title="B", slug="b", countries=[italy])
    response = client.get("/countries/it/")
    assert slugs(response) == ["b", "a"]
    assert "practices overdue for review come after the others" in response.text


def test_a_review_date_passing_at_midnight_moves_and_badges_it_without_an_edit(
    client, monkeypatch
):
    make_practice(title="A due today", slug="a", review_by=TODAY)
    make_practice(title="B fresh", slug="b")
    first = client.get("/practices/")
    assert slugs(first) == ["a", "b"] and BADGE not in first.text
    assert client.get("/practices/").headers["X-Page-Cache"] == "hit"
    tomorrow = TODAY + timedelta(days=1)
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: tomorrow)
    after = client.get("/practices/")
    assert after.headers["X-Page-Cache"] == "miss"  # the page cache keys on the day
    assert slugs(after) == ["b", "a"]  # the index is rebuilt for the new day
    assert BADGE in after.text
    assert Practice.objects.get(slug="a").is_review_overdue
