import pytest
from django.db import IntegrityError

from briefs.models import BriefSection
from practices.models import Status
from tests.factories import make_brief, make_practice, make_recommendation

pytestmark = pytest.mark.django_db


def test_brief_shows_sections_with_anchors_and_featured_cards_in_order(client):
    first, second = make_practice(title="First"), make_practice(title="Second")
    hidden = make_practice(title="Hidden draft", status=Status.DRAFT)
    brief = make_brief(practices=[first, hidden, second])
    response = client.get(brief.get_absolute_url())
    assert response.status_code == 200
    text = response.text
    assert 'id="why"' in text and 'href="#why"' in text
    assert "<strong>text</strong>" in text  # Markdown rendered
    assert text.index("First") < text.index("Second")
    assert "Hidden draft" not in text
    assert brief.attribution in text and brief.source_url in text


def test_draft_brief_is_404_and_not_listed(client):
    brief = make_brief(title="Work in progress", status=Status.DRAFT)
    assert client.get(brief.get_absolute_url()).status_code == 404
    assert "Work in progress" not in client.get("/briefs/").text


def test_section_anchors_are_unique_within_a_brief():
    brief = make_brief()
    with pytest.raises(IntegrityError):
        BriefSection.objects.create(brief=brief, heading="Again", anchor="why", body="")


def test_published_brief_needs_a_date():
    with pytest.raises(IntegrityError):
        make_brief(status=Status.PUBLISHED, published_on=None)


# The first, uncached request: catalogue version (practices/caching.py), brief +
# sections, featured links (+ section), their practices, card terms, the
# recommendations, the practices illustrating them, then one count per chart
# (instruments, themes)
@pytest.mark.parametrize("amount", [2, 20])
def test_brief_query_count_does_not_grow(client, django_assert_num_queries, amount):
    practices = [make_practice() for _ in range(amount)]
    brief = make_brief(practices=practices)
    for n in range(amount):  # each illustrated by one or two of them
        make_recommendation(brief, practices=practices[n : n + 2])
    with django_assert_num_queries(10):
        client.get(brief.get_absolute_url())
