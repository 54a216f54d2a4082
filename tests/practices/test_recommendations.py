"""A practice's page names the recommendations of published briefs that it
illustrates, each linking to the recommendation's anchor on its brief's page,
which links back (issue 21 #3; the brief's side: tests/briefs/
test_recommendations.py)."""

import re
from datetime import date

import pytest

from briefs.models import RecommendationOrigin
from tests.factories import (
    HIDDEN_STATES,
    committed,
    make_brief,
    make_practice,
    make_recommendation,
)

pytestmark = pytest.mark.django_db


def illustrates(text):
    """The "Recommendations it illustrates" section of a practice's page."""
    match = re.search(r'<h2 id="illustrates">.*?</section>', text, flags=re.S)
    return match.group(0) if match else ""


def test_the_practice_names_each_recommendation_and_links_to_its_anchor(client):
    practice = make_practice(title="Export desk")
    brief = make_brief(title="Going global", slug="going-global")
    make_recommendation(brief, number=1, anchor="first")  # not illustrated by it
    make_recommendation(
        brief,
        practices=[practice],
        number=3,
        anchor="one-door",
        text="Give firms one door.",
        origin=RecommendationOrigin.ATLAS,
    )
    section = illustrates(client.get(practice.get_absolute_url()).text)
    assert (
        'Illustrates <a href="/briefs/going-global/#one-door">'
        "recommendation 3 of Going global</a>"
    ) in section
    assert "Give firms one door." in section
    assert "Practice Atlas&#x27;s own synthesis" in section
    assert "Why this practice: Why Export desk shows it." in section  # its note
    assert "recommendation 1 of" not in section


def test_links_go_both_ways(client):
    practice = make_practice(title="Export desk")
    brief = make_brief(title="Going global")
    recommendation = make_recommendation(brief, practices=[practice], anchor="one-door")
    # From the practice to the recommendation …
    section = illustrates(client.get(practice.get_absolute_url()).text)
    href = re.search(r'href="([^"]+#one-door)"', section).group(1)
    assert href == recommendation.get_absolute_url()
    # … where the brief's page has that id, and links back to the practice.
    page, anchor = href.split("#")
    text = client.get(page).text
    item = re.search(rf'<li id="{anchor}".*?</ul>', text, flags=re.S).group(0)
    assert f'<a href="{practice.get_absolute_url()}">Export desk</a>' in item


def test_the_brief_s_own_recommendation_is_labelled_so(client):
    practice = make_practice()
    make_recommendation(
        make_brief(), practices=[practice], origin=RecommendationOrigin.BRIEF
    )
    section = illustrates(client.get(practice.get_absolute_url()).text)
    assert "The brief&#x27;s own recommendation" in section
    assert "Practice Atlas&#x27;s own synthesis" not in section


def test_a_practice_illustrating_nothing_has_no_such_section(client):
    practice = make_practice()
    make_recommendation(make_brief(), practices=[make_practice()])
    text = client.get(practice.get_absolute_url()).text
    assert 'id="illustrates"' not in text


@pytest.mark.parametrize("state", HIDDEN_STATES)
def test_an_unpublished_brief_recommendation_is_never_named(client, state):
    practice = make_practice()
    hidden = make_brief(title=f"Hidden {state} brief", **HIDDEN_STATES[state])
    make_recommendation(hidden, practices=[practice], anchor="hidden-one")
    shown = make_brief(title="Shown brief")
    make_recommendation(shown, practices=[practice])
    text = client.get(practice.get_absolute_url()).text
    assert "recommendation 1 of Shown brief" in text
    assert f"Hidden {state} brief" not in text
    assert "hidden-one" not in text


def test_several_briefs_newest_first_then_by_number(client):
    practice = make_practice()
    older = make_brief(title="Older brief", published_on=date(2025, 1, 1))
    newer = make_brief(title="Newer brief", published_on=date(2026, 1, 1))
    for brief in (older, newer):
        for _ in range(2):
            make_recommendation(brief, practices=[practice])
    section = illustrates(client.get(practice.get_absolute_url()).text)
    assert re.findall(r"recommendation (\d) of (\w+) brief", section) == [
        ("1", "Newer"),
        ("2", "Newer"),
        ("1", "Older"),
        ("2", "Older"),
    ]


def test_the_query_count_does_not_grow_with_recommendations(
    client, django_assert_num_queries, settings
):
    """One query for them all. A bare practice's page makes fewer queries than
    test_views.PAGES["detail"] counts for rich ones (no project or sources)."""
    settings.PAGE_CACHE_SECONDS = 0
    counts = []
    for amount in (1, 10):
        practice = make_practice()
        briefs = [make_brief() for _ in range(min(amount, 3))]
        for n in range(amount):  # spread over up to three briefs
            make_recommendation(briefs[n % len(briefs)], practices=[practice])
        with django_assert_num_queries(11) as captured:
            assert client.get(practice.get_absolute_url()).status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1]


def test_an_edited_recommendation_shows_at_once_on_cached_pages(client, settings):
    settings.PAGE_CACHE_SECONDS = 600
    practice = make_practice()
    brief = make_brief()
    recommendation = make_recommendation(brief, practices=[practice], text="Before.")
    for url in (practice.get_absolute_url(), brief.get_absolute_url()):
        client.get(url)
        assert client.get(url).headers["X-Page-Cache"] == "hit"
    recommendation.text = "After."
    with committed():
        recommendation.save()
    for url in (practice.get_absolute_url(), brief.get_absolute_url()):
        assert "After." in client.get(url).text
    with committed():
        recommendation.illustrations.all().delete()
    assert 'id="illustrates"' not in client.get(practice.get_absolute_url()).text
