import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from accessibility.models import DESCRIPTION_MAX_LENGTH, Feedback

pytestmark = pytest.mark.django_db


def test_str_is_the_start_of_the_description_on_one_line():
    feedback = Feedback(description="The filter\ncheckboxes " + "x" * 100)
    assert str(feedback).startswith("The filter checkboxes x")
    assert len(str(feedback)) == 60


def test_description_must_not_be_empty():
    with pytest.raises(IntegrityError), transaction.atomic():
        Feedback.objects.create(description="")


def test_description_has_a_maximum_length_in_the_database():
    Feedback.objects.create(description="x" * DESCRIPTION_MAX_LENGTH)
    with pytest.raises(IntegrityError), transaction.atomic():
        Feedback.objects.create(description="x" * (DESCRIPTION_MAX_LENGTH + 1))


def test_handled_feedback_has_a_handled_date():
    with pytest.raises(IntegrityError), transaction.atomic():
        Feedback.objects.create(description="Low contrast", is_handled=True)
    Feedback.objects.create(
        description="Low contrast", is_handled=True, handled_at=timezone.now()
    )


def test_newest_first():
    older = Feedback.objects.create(description="First")
    newer = Feedback.objects.create(description="Second")
    assert list(Feedback.objects.all()) == [newer, older]
