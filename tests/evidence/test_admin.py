"""Curators edit a practice's grade and figures inline on its admin form: bad input
gets a clear form error (never a 500), and the history records each change."""

import pytest
from django.urls import reverse

from evidence.models import Grade, OutcomeFigure
from tests.evidence.factories import make_figure, make_grade
from tests.factories import EVIDENCE_INLINES, make_practice

pytestmark = pytest.mark.django_db


@pytest.fixture
def practice():
    return make_practice(
        title="Export vouchers",
        sources=["https://example.org/gp", "https://example.org/report"],
    )


def change_url(practice):
    return reverse("admin:practices_practice_change", args=[practice.pk])


def form_data(practice, grade=None, figures=(), **changes):
    """The change form's data: the practice as it is, with a new grade (a dict of
    its fields) and new figures (dicts)."""
    data = {
        "title": practice.title,
        "slug": practice.slug,
        "summary": practice.summary,
        "attribution": practice.attribution,
        "published_on": practice.published_on or "",
        "sources-TOTAL_FORMS": "0",
        "sources-INITIAL_FORMS": "0",
        **EVIDENCE_INLINES,
    }
    if grade is not None:
        data["grade-TOTAL_FORMS"] = "1"
        data.update({f"grade-0-{name}": value for name, value in grade.items()})
        data["grade-0-practice"] = practice.pk
    data["figures-TOTAL_FORMS"] = str(len(figures))
    for n, figure in enumerate(figures):
        data.update({f"figures-{n}-{name}": value for name, value in figure.items()})
        data[f"figures-{n}-practice"] = practice.pk
    data.update(changes)
    return data


def a_grade(practice, **changes):
    return {
        "level": "2",
        "basis": "The operator reports new exporters among the firms it served.",
        "sources": [practice.sources.first().pk],
        "assessed_by": "Edith",
        "assessed_on": "2026-12-07",
        **changes,
    }


def a_figure(practice, **changes):
    return {
        "position": "0",
        "metric": "public-budget",
        "value": "103280",
        "currency": "EUR",
        "period_start": "2016",
        "period_end": "2016",
        "source": practice.sources.first().pk,
        "description": "What the 2016 edition cost.",
        **changes,
    }


def test_the_form_shows_both_inlines_with_the_scale_explained(admin_client, practice):
    response = admin_client.get(change_url(practice))
    assert response.status_code == 200
    assert "Evidence grade" in response.text and "Outcome figures" in response.text
    assert "Counterfactual impact evaluation" in response.text  # the level's help


def test_an_editor_adds_a_grade_and_a_figure(client, editor, practice):
    client.force_login(editor)
    data = form_data(practice, a_grade(practice), [a_figure(practice)])
    response = client.post(change_url(practice), data)
    assert response.status_code == 302, response.context["error_summary"]
    grade = Grade.objects.get(practice=practice)
    assert (grade.level, grade.assessed_by) == (2, "Edith")
    assert list(grade.sources.all()) == [practice.sources.first()]
    figure = OutcomeFigure.objects.get(practice=practice)
    assert (figure.amount, figure.period) == ("EUR 103,280", "2016")
    # The history records who changed them, on the practice's history page too.
    assert {record.history_user for record in grade.history.all()} == {editor}
    assert figure.history.get().history_user == editor
    history = client.get(
        reverse("admin:practices_practice_history", args=[practice.pk])
    )
    assert "Outcome figures" in history.text and "Evidence grade" in history.text


def errors_for(client, practice, grade=None, figures=()):
    response = client.post(change_url(practice), form_data(practice, grade, figures))
    assert response.status_code == 200  # the form again, with its errors
    return " ".join(message for message, _ in response.context["error_summary"])


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"basis": ""}, "Basis: This field is required."),
        ({"basis": "   "}, "Basis: This field is required."),
        ({"level": "7"}, "Select a valid choice. 7 is not one of the available"),
        ({"sources": ["999999"]}, "Choose among this practice's own sources"),
    ],
)
def test_a_bad_grade_gets_a_clear_error(admin_client, practice, changes, message):
    errors = errors_for(admin_client, practice, a_grade(practice, **changes))
    assert message in errors
    assert not Grade.objects.exists()


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"source": ""}, "Source: This field is required."),
        ({"value": "-5"}, "A figure cannot be negative."),
        ({"currency": ""}, "Export sales and public budget need a currency"),
        (
            {"metric": "firms-supported", "currency": "EUR"},
            "counts take none",
        ),
        ({"period_end": "2015"}, "The period cannot end before it starts."),
        ({"value": "lots"}, "Enter a number."),
    ],
)
def test_a_bad_figure_gets_a_clear_error(admin_client, practice, changes, message):
    errors = errors_for(admin_client, practice, figures=[a_figure(practice, **changes)])
    assert message in errors
    assert not OutcomeFigure.objects.exists()


def test_a_source_of_another_practice_cannot_be_chosen(admin_client, practice):
    other = make_practice(sources=["https://example.org/elsewhere"])
    theirs = other.sources.get().pk
    grade = a_grade(practice, sources=[theirs])
    errors = errors_for(
        admin_client, practice, grade, [a_figure(practice, source=theirs)]
    )
    assert errors.count("Choose among this practice's own sources") == 2


def test_lower_case_currency_is_read_as_its_code(admin_client, practice):
    data = form_data(practice, figures=[a_figure(practice, currency="eur")])
    assert admin_client.post(change_url(practice), data).status_code == 302
    assert OutcomeFigure.objects.get().currency == "EUR"


def test_a_source_a_figure_rests_on_cannot_be_deleted(admin_client, practice):
    source = practice.sources.first()
    make_figure(practice, source=source)
    data = form_data(
        practice,
        **{
            "sources-TOTAL_FORMS": "1",
            "sources-INITIAL_FORMS": "1",
            "sources-0-id": source.pk,
            "sources-0-practice": practice.pk,
            "sources-0-url": source.url,
            "sources-0-title": source.title,
            "sources-0-position": "0",
            "sources-0-DELETE": "on",
        },
    )
    response = admin_client.post(change_url(practice), data)
    assert response.status_code == 200
    errors = " ".join(message for message, _ in response.context["error_summary"])
    # The admin's own check (OutcomeFigure.source is RESTRICT), named as such.
    assert "would require deleting the following protected related objects: " in errors
    assert "outcome figure Firms supported: 30" in errors
    assert practice.sources.filter(pk=source.pk).exists()


def test_editing_a_grade_records_the_change(client, editor, practice):
    grade = make_grade(practice, level=1)
    client.force_login(editor)
    data = form_data(practice)
    data.update(
        {
            "grade-TOTAL_FORMS": "1",
            "grade-INITIAL_FORMS": "1",
            "grade-0-id": grade.pk,
            "grade-0-practice": practice.pk,
            **{
                f"grade-0-{k}": v
                for k, v in a_grade(practice, level="3", basis="Audited.").items()
            },
        }
    )
    response = client.post(change_url(practice), data)
    assert response.status_code == 302, response.context["error_summary"]
    latest = grade.history.latest("history_id")
    assert (latest.level, latest.basis, latest.history_user) == (3, "Audited.", editor)
    assert latest.prev_record.level == 1
    # The practice's history page shows the change, with its difference.
    history = client.get(
        reverse("admin:practices_practice_history", args=[practice.pk])
    )
    assert history.status_code == 200
    assert "Audited." in history.text


def test_the_changelist_filters_by_evidence_level(admin_client, practice):
    make_grade(practice, level=3)
    ungraded = make_practice(title="Not graded yet")
    changelist = reverse("admin:practices_practice_changelist")
    found = admin_client.get(changelist, {"evidence": "none"}).context["cl"]
    assert list(found.result_list) == [ungraded]
    found = admin_client.get(changelist, {"evidence": "3"}).context["cl"]
    assert list(found.result_list) == [practice]
    assert "Not graded" in admin_client.get(changelist).text


def test_the_history_page_shows_a_changed_figure(admin_client, practice):
    figure = make_figure(practice, value=30)
    figure.value, figure.source = 31, practice.sources.last()
    figure.save()
    url = reverse("admin:practices_practice_history", args=[practice.pk])
    response = admin_client.get(url)
    assert response.status_code == 200
    assert "Outcome figures" in response.text and "31" in response.text
