"""The brief's own rules, in forms and in the database."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from briefs.models import BriefSection, FeaturedPractice
from tests.factories import make_brief, make_practice

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_briefs():
    mine, other = make_brief(slug="mine"), make_brief(slug="other")
    theirs = BriefSection.objects.create(brief=other, heading="Theirs", anchor="t")
    return mine, other, theirs


def test_a_featured_practice_takes_only_a_section_of_its_own_brief(two_briefs):
    mine, _other, theirs = two_briefs
    feature = FeaturedPractice(brief=mine, practice=make_practice(), section=theirs)
    with pytest.raises(ValidationError) as error:
        feature.full_clean()
    assert "section" in error.value.message_dict
    # The database refuses it too, whatever path writes it.
    with pytest.raises(IntegrityError), transaction.atomic():
        feature.save()
    own = BriefSection.objects.create(brief=mine, heading="Ours", anchor="o")
    feature.section = own
    feature.full_clean()
    feature.save()
    with pytest.raises(IntegrityError), transaction.atomic():
        FeaturedPractice.objects.filter(pk=feature.pk).update(section=theirs)


def test_a_section_cannot_move_away_from_its_featured_practices(two_briefs):
    mine, other, _theirs = two_briefs
    own = BriefSection.objects.create(brief=mine, heading="Ours", anchor="o")
    FeaturedPractice.objects.create(brief=mine, practice=make_practice(), section=own)
    with pytest.raises(IntegrityError), transaction.atomic():
        BriefSection.objects.filter(pk=own.pk).update(brief=other)
    BriefSection.objects.filter(pk=own.pk).update(heading="Renamed")  # still fine
