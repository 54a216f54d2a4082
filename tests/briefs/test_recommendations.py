"""A brief's recommendations (issue 21 #3): numbered, each at a stable anchor on
the brief's page, labelled with whose they are, and linked to the published
practices that illustrate them; the practice pages link back (tests/practices/
test_recommendations.py)."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from briefs.models import (
    BriefSection,
    Recommendation,
    RecommendationOrigin,
    RecommendationPractice,
)
from practices.models import Status
from tests.factories import (
    HIDDEN_STATES,
    make_brief,
    make_practice,
    make_recommendation,
    make_user,
)

pytestmark = pytest.mark.django_db


def items(text):
    """The recommendations on a brief's page: (number, anchor, its HTML)."""
    found = re.findall(
        r'<li id="([^"]+)" value="(\d+)">(.*?)</li>\s*(?=<li id=|</ol>)',
        text,
        flags=re.S,
    )
    return [(int(number), anchor, html) for anchor, number, html in found]


def test_the_brief_lists_its_recommendations_in_order_at_their_anchors(client):
    first, second = make_practice(title="Export desk"), make_practice(title="Vouchers")
    brief = make_brief()
    # Created out of order: the page orders them by number.
    make_recommendation(
        brief, number=2, anchor="simpler-forms", text="Keep forms short."
    )
    make_recommendation(
        brief,
        practices=[first, second],
        number=1,
        anchor="one-door",
        text="Give firms one door.",
        origin=RecommendationOrigin.BRIEF,
    )
    text = client.get(brief.get_absolute_url()).text
    assert 'href="#recommendations"' in text  # in the contents
    listed = items(text)
    assert [(n, anchor) for n, anchor, _ in listed] == [
        (1, "one-door"),
        (2, "simpler-forms"),
    ]
    one_door = listed[0][2]
    assert "Give firms one door." in one_door
    assert "The brief&#x27;s own recommendation" in one_door
    assert one_door.index("Export desk") < one_door.index("Vouchers")
    assert f'href="{first.get_absolute_url()}"' in one_door
    assert "Why Export desk shows it." in one_door  # the link's note
    assert "No published practice illustrates it yet." in listed[1][2]


def test_the_atlas_own_recommendations_are_labelled_and_explained(client):
    brief = make_brief()
    make_recommendation(brief, origin=RecommendationOrigin.ATLAS)
    text = client.get(brief.get_absolute_url()).text
    assert "Practice Atlas&#x27;s own synthesis" in items(text)[0][2]
    # The page says where they come from.
    assert "are ours, drawn from the findings under" in text


def test_only_the_brief_own_recommendations_need_no_explanation(client):
    brief = make_brief()
    make_recommendation(brief, origin=RecommendationOrigin.BRIEF)
    text = client.get(brief.get_absolute_url()).text
    assert "are ours, drawn from the findings under" not in text
    assert "Practice Atlas&#x27;s own synthesis" not in text


def test_a_brief_without_recommendations_has_no_such_section(client):
    text = client.get(make_brief().get_absolute_url()).text
    assert 'id="recommendations"' not in text
    assert 'href="#recommendations"' not in text


@pytest.mark.parametrize("state", HIDDEN_STATES)
def test_an_unpublished_practice_never_shows_under_a_recommendation(client, state):
    hidden = make_practice(title=f"Hidden {state} practice", **HIDDEN_STATES[state])
    shown = make_practice(title="Shown practice")
    brief = make_brief()
    make_recommendation(brief, practices=[hidden, shown])
    client.force_login(make_user(groups=["Editors"]))  # the staff preview too
    for url in (brief.get_absolute_url(), brief.get_preview_url()):
        text = client.get(url).text
        assert "Shown practice" in text
        assert f"Hidden {state} practice" not in text
        assert hidden.get_absolute_url() not in text


# --- the rules in the database, on SQLite and PostgreSQL alike ----------------------


def test_a_number_is_unique_within_a_brief_not_across_briefs():
    brief, other = make_brief(), make_brief()
    make_recommendation(brief, number=1, anchor="a")
    make_recommendation(other, number=1, anchor="a")  # another brief: fine
    with pytest.raises(IntegrityError), transaction.atomic():
        make_recommendation(brief, number=1, anchor="b")
    with pytest.raises(IntegrityError), transaction.atomic():
        make_recommendation(brief, number=2, anchor="a")
    assert brief.recommendations.count() == 1


def test_the_constraints_are_named_in_the_database():
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(
            cursor, Recommendation._meta.db_table
        )
    assert {
        "recommendation_unique_number",
        "recommendation_unique_anchor",
        "recommendation_number_positive",
    } <= constraints.keys()


def test_numbers_start_at_one():
    with pytest.raises(IntegrityError), transaction.atomic():
        make_recommendation(make_brief(), number=0)


def test_a_practice_illustrates_a_recommendation_once():
    practice = make_practice()
    recommendation = make_recommendation(make_brief(), practices=[practice])
    with pytest.raises(IntegrityError), transaction.atomic():
        RecommendationPractice.objects.create(
            recommendation=recommendation, practice=practice
        )


def test_validation_names_the_duplicate_and_the_reserved_anchors():
    brief = make_brief()  # with a section anchored "why"
    make_recommendation(brief, number=1, anchor="one-door")
    for number, anchor, field, message in [
        (1, "other", "__all__", "already has a recommendation with this number"),
        (2, "one-door", "__all__", "already has a recommendation with this anchor"),
        (2, "why", "anchor", "is a section's anchor in this brief"),
        (2, "featured-practices", "anchor", "is used by the page itself"),
        (2, "recommendations", "anchor", "is used by the page itself"),
        (0, "zero", "number", "greater than or equal to 1"),
    ]:
        candidate = Recommendation(
            brief=brief, number=number, anchor=anchor, text="T", origin="atlas"
        )
        with pytest.raises(ValidationError) as error:
            candidate.full_clean()
        assert message in " ".join(error.value.message_dict[field]), anchor


def test_a_section_may_not_take_a_recommendation_s_anchor():
    brief = make_brief()
    make_recommendation(brief, anchor="one-door")
    section = BriefSection(brief=brief, heading="One door", anchor="one-door", body="")
    with pytest.raises(ValidationError, match="is a recommendation's anchor"):
        section.full_clean()


def test_a_section_may_not_take_the_recommendations_heading_id():
    section = BriefSection(
        brief=make_brief(), heading="Recommendations", anchor="recommendations"
    )
    with pytest.raises(ValidationError, match="used by the page itself"):
        section.full_clean()


def test_a_recommendation_links_to_its_anchor_on_the_brief_page():
    brief = make_brief(slug="exports")
    recommendation = make_recommendation(brief, anchor="one-door")
    assert recommendation.get_absolute_url() == "/briefs/exports/#one-door"


# --- query counts -------------------------------------------------------------------


def test_recommendations_cost_two_queries_however_many(
    client, django_assert_num_queries
):
    """The recommendations and, in one more query, every published practice that
    illustrates one of them (the rest of the page: tests/briefs/test_views.py)."""
    counts = []
    for amount in (1, 12):
        practices = [make_practice(status=Status.PUBLISHED) for _ in range(amount)]
        brief = make_brief(practices=practices)  # featured too: all ten queries
        for n in range(amount):
            make_recommendation(brief, practices=practices[: n + 1])
        with django_assert_num_queries(10) as captured:
            assert client.get(brief.get_absolute_url()).status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1]
