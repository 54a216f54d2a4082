import re
from datetime import date

import pytest
from django.urls import reverse

from briefs.models import Brief
from practices.models import Practice, Status
from tests.factories import make_brief, make_practice, make_recommendation, make_user

pytestmark = pytest.mark.django_db


def test_brief_admin_pages_render_with_inlines(admin_client):
    brief = make_brief(practices=[make_practice(title="Export Consortia")])
    assert admin_client.get(reverse("admin:briefs_brief_changelist")).status_code == 200
    response = admin_client.get(reverse("admin:briefs_brief_change", args=[brief.pk]))
    assert response.status_code == 200
    assert "Featured practices" in response.text
    assert "Export Consortia" in response.text
    assert admin_client.get(reverse("admin:briefs_brief_add")).status_code == 200


def test_brief_search(admin_client):
    make_brief(title="Internationalisation of SMEs")
    response = admin_client.get(
        reverse("admin:briefs_brief_changelist"), {"q": "internationalisation"}
    )
    assert "Internationalisation of SMEs" in response.text


# --- the workflow, history and ordering on briefs ----------------------------------


def change_url(brief):
    return reverse("admin:briefs_brief_change", args=[brief.pk])


def form_data(brief, featured=(), move=None, recommendations=(), **changes):
    """What the brief's change form posts: its fields, no section edits, the
    featured practices as (FeaturedPractice, position) pairs, the recommendations
    as dicts of their fields (with "id" for an existing one), and the workflow
    button pressed (`move`)."""
    data = {
        "title": brief.title,
        "slug": brief.slug,
        "standfirst": brief.standfirst,
        "source_url": brief.source_url,
        "attribution": brief.attribution,
        "published_on": brief.published_on or "",
        "sections-TOTAL_FORMS": "0",
        "sections-INITIAL_FORMS": "0",
        "featured-TOTAL_FORMS": str(len(featured)),
        "featured-INITIAL_FORMS": str(len(featured)),
        "recommendations-TOTAL_FORMS": str(len(recommendations)),
        "recommendations-INITIAL_FORMS": str(
            sum(1 for fields in recommendations if fields.get("id"))
        ),
    }
    for n, fields in enumerate(recommendations):
        data.update({f"recommendations-{n}-brief": brief.pk})
        data.update({f"recommendations-{n}-{k}": v for k, v in fields.items()})
    for n, (feature, position) in enumerate(featured):
        data.update(
            {
                f"featured-{n}-id": feature.pk,
                f"featured-{n}-brief": brief.pk,
                f"featured-{n}-position": position,
                f"featured-{n}-practice": feature.practice_id,
                f"featured-{n}-section": feature.section_id or "",
                f"featured-{n}-note": feature.note,
            }
        )
    if move:
        data[f"_workflow_{move}"] = "pressed"
    data.update(changes)
    return data


def status_of(brief):
    return Brief.objects.values_list("status", flat=True).get(pk=brief.pk)


def test_staff_without_a_group_cannot_open_briefs(client):
    client.force_login(make_user())
    brief = make_brief(status=Status.DRAFT)
    assert client.get(reverse("admin:briefs_brief_changelist")).status_code == 403
    assert client.get(change_url(brief)).status_code == 403


def test_an_editor_creates_a_draft_brief_and_submits_it(client, editor):
    client.force_login(editor)
    data = {
        "title": "Green exports",
        "slug": "green-exports",
        "standfirst": "Why.",
        "source_url": "https://example.org/b",
        "attribution": "Ours.",
        "status": Status.PUBLISHED,
        "sections-TOTAL_FORMS": "0",
        "sections-INITIAL_FORMS": "0",
        "recommendations-TOTAL_FORMS": "0",
        "recommendations-INITIAL_FORMS": "0",
        "featured-TOTAL_FORMS": "0",
        "featured-INITIAL_FORMS": "0",
    }
    assert client.post(reverse("admin:briefs_brief_add"), data).status_code == 302
    brief = Brief.objects.get(slug="green-exports")
    assert brief.status == Status.DRAFT
    response = client.get(change_url(brief))
    # At the top and at the foot of the form.
    assert re.findall(r'name="_workflow_(\w+)"', response.text) == ["submit"] * 2
    client.post(change_url(brief), form_data(brief, move="submit"))
    assert status_of(brief) == Status.IN_REVIEW
    client.post(change_url(brief), form_data(brief, move="publish"))
    assert status_of(brief) == Status.IN_REVIEW  # editors do not publish


@pytest.mark.parametrize(
    ("action", "source", "target"),
    [
        ("publish", Status.IN_REVIEW, Status.PUBLISHED),
        ("send_back", Status.IN_REVIEW, Status.DRAFT),
        ("archive", Status.PUBLISHED, Status.ARCHIVED),
        ("reinstate", Status.ARCHIVED, Status.PUBLISHED),
    ],
)
def test_a_reviewer_moves_briefs_with_buttons_and_bulk_actions(
    client, reviewer, action, source, target
):
    client.force_login(reviewer)
    dated = {"published_on": date(2026, 1, 1)} if source != Status.IN_REVIEW else {}
    one, two = (make_brief(status=source, **dated) for _ in range(2))
    client.post(change_url(one), form_data(one, move=action))
    assert status_of(one) == target
    response = client.post(
        reverse("admin:briefs_brief_changelist"),
        {"action": action, "_selected_action": [one.pk, two.pk]},
        follow=True,
    )
    assert status_of(two) == target
    assert status_of(one) == target  # already moved: reported, not moved again
    assert "1 not" in response.text and "1 brief" in response.text


def test_the_bulk_publish_of_a_draft_brief_is_refused(admin_client):
    brief = make_brief(status=Status.DRAFT, title="Half written")
    response = admin_client.post(
        reverse("admin:briefs_brief_changelist"),
        {"action": "publish", "_selected_action": [brief.pk]},
        follow=True,
    )
    assert status_of(brief) == Status.DRAFT
    assert "“Half written” cannot be published" in response.text


def test_featured_practices_are_ordered_by_an_editable_order(client, editor):
    first, second = make_practice(title="First"), make_practice(title="Second")
    brief = make_brief(practices=[first, second])
    client.force_login(editor)
    response = client.get(change_url(brief))
    assert "Order" in response.text and "Lower numbers come first" in response.text
    features = list(brief.featured.all())
    assert [f.practice for f in features] == [first, second]
    response = client.post(
        change_url(brief),
        form_data(brief, featured=[(features[0], 20), (features[1], 10)]),
    )
    assert response.status_code == 302, response.context["errors"]
    assert [f.practice for f in brief.featured.all()] == [second, first]
    published = brief.featured.filter(practice__in=Practice.objects.published())
    assert [f.practice for f in published] == [second, first]


def test_brief_history_records_the_editor_and_revert_restores_the_title(client, editor):
    brief = make_brief(title="Internationalisation of SMEs")
    original = brief.history.latest()
    client.force_login(editor)
    client.post(change_url(brief), form_data(brief, title="A worse title"))
    latest = brief.history.latest()
    assert latest.history_user == editor
    assert [c.field for c in latest.diff_against(original).changes] == ["title"]
    history = client.get(reverse("admin:briefs_brief_history", args=[brief.pk]))
    assert "A worse title" in history.text and "edith" in history.text
    revert = reverse("admin:briefs_brief_simple_history", args=[brief.pk, original.pk])
    response = client.post(revert, form_data(brief, _save="Revert"))
    assert response.status_code == 302
    brief = Brief.objects.get(pk=brief.pk)
    assert (brief.title, brief.status) == ("Internationalisation of SMEs", "published")


def test_the_brief_history_lists_changes_to_sections_and_featured_practices(
    client, editor
):
    practice = make_practice(title="Export Consortia")
    brief = make_brief(practices=[practice])
    section = brief.sections.get()
    section.heading = "Why it matters now"
    section._history_user = editor
    section.save()
    brief.featured.get().delete()
    client.force_login(editor)
    response = client.get(reverse("admin:briefs_brief_history", args=[brief.pk]))
    text = " ".join(re.sub(r"<[^>]+>", " ", response.text).split())
    # Row, when, what kind of change, who, old → new.
    assert re.search(
        r"Why it matters now [\w ,.:]+ Changed edith "
        r"Heading: Why it matters &rarr; Why it matters now",
        text,
    )
    assert re.search(
        r"Featured practices Row .*? Export Consortia in Brief \d+ [\w ,.:]+ Deleted",
        text,
    )


def test_curators_write_what_the_summary_could_not_confirm_in_the_admin(
    admin_client,
):
    brief = make_brief()
    assert 'name="unconfirmed_note"' in admin_client.get(change_url(brief)).text
    note = "- **Its date.** The original's page shows none."
    response = admin_client.post(
        change_url(brief), form_data(brief, unconfirmed_note=note)
    )
    assert response.status_code == 302
    assert Brief.objects.get(pk=brief.pk).unconfirmed_note == note


# --- recommendations (issue 21 #3/#4): inline on the brief, their practices on
# their own page, validated with clear messages, every change in the history ----


def recommendation_fields(number, anchor, **fields):
    fields.setdefault("origin", "atlas")
    fields.setdefault("text", f"Recommendation {number}.")
    fields.setdefault("basis", "")
    return {"number": number, "anchor": anchor, **fields}


def test_an_editor_adds_recommendations_inline_on_the_brief(client, editor):
    brief = make_brief()
    client.force_login(editor)
    page = client.get(change_url(brief)).text
    assert 'name="recommendations-TOTAL_FORMS"' in page  # the inline is there
    rows = [recommendation_fields(1, "one-door"), recommendation_fields(2, "less")]
    response = client.post(change_url(brief), form_data(brief, recommendations=rows))
    assert response.status_code == 302
    assert list(brief.recommendations.values_list("number", "anchor")) == [
        (1, "one-door"),
        (2, "less"),
    ]
    # Each saved row leads to the page where its practices are chosen.
    recommendation = brief.recommendations.get(number=1)
    page = client.get(change_url(brief)).text
    assert (
        reverse("admin:briefs_recommendation_change", args=[recommendation.pk]) in page
    )
    assert "Choose the practices that illustrate recommendation 1" in page


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (  # two new rows with one number
            [recommendation_fields(1, "a"), recommendation_fields(1, "b")],
            "Please correct the duplicate data for number",
        ),
        (  # two new rows with one anchor
            [recommendation_fields(1, "a"), recommendation_fields(2, "a")],
            "Please correct the duplicate data for anchor",
        ),
        (  # the number of one already saved
            [recommendation_fields(5, "new")],
            "This brief already has a recommendation with this number",
        ),
        (  # the anchor of one already saved
            [recommendation_fields(6, "kept")],
            "This brief already has a recommendation with this anchor",
        ),
        ([recommendation_fields(6, "why")], "is a section&#x27;s anchor"),
        ([recommendation_fields(6, "main")], "is used by the page itself"),
        ([recommendation_fields(0, "zero")], "greater than or equal to 1"),
        ([recommendation_fields(6, "Not a slug!")], "Enter a valid “slug”"),
        ([recommendation_fields(6, "no-text", text="")], "This field is required"),
    ],
)
def test_bad_recommendations_get_a_form_error_never_a_500(
    client, editor, rows, message
):
    brief = make_brief()  # its section is anchored "why"
    kept = make_recommendation(brief, number=5, anchor="kept")
    client.force_login(editor)
    response = client.post(change_url(brief), form_data(brief, recommendations=rows))
    assert response.status_code == 200
    assert message in response.text
    # Summed up at the top of the form, by row (publishing.admin.error_summary).
    assert "Recommendations, row " in response.text
    assert list(brief.recommendations.all()) == [kept]


def recommendation_url(recommendation):
    return reverse("admin:briefs_recommendation_change", args=[recommendation.pk])


def recommendation_form(recommendation, links=(), **changes):
    """What a recommendation's change form posts: its fields and the practices
    illustrating it as (practice, note) pairs, all new rows."""
    data = {
        "brief": recommendation.brief_id,
        "number": recommendation.number,
        "anchor": recommendation.anchor,
        "origin": recommendation.origin,
        "text": recommendation.text,
        "basis": recommendation.basis,
        "illustrations-TOTAL_FORMS": str(len(links)),
        "illustrations-INITIAL_FORMS": "0",
    }
    for n, (practice, note) in enumerate(links):
        data.update(
            {
                f"illustrations-{n}-practice": practice.pk,
                f"illustrations-{n}-note": note,
                f"illustrations-{n}-position": n,
            }
        )
    data.update(changes)
    return data


def test_an_editor_chooses_the_practices_that_illustrate_a_recommendation(
    client, editor
):
    first, second = make_practice(title="Export desk"), make_practice(title="Cheques")
    recommendation = make_recommendation(make_brief())
    client.force_login(editor)
    page = client.get(recommendation_url(recommendation))
    assert page.status_code == 200 and "Practices illustrating it" in page.text
    links = [(first, "One entry point."), (second, "Simpler cheques.")]
    response = client.post(
        recommendation_url(recommendation), recommendation_form(recommendation, links)
    )
    assert response.status_code == 302
    assert list(
        recommendation.illustrations.values_list("practice__title", "note")
    ) == [("Export desk", "One entry point."), ("Cheques", "Simpler cheques.")]
    listed = client.get(reverse("admin:briefs_recommendation_changelist")).text
    assert "Recommendation 1" in listed


def test_a_practice_listed_twice_for_a_recommendation_is_a_form_error(client, editor):
    practice = make_practice()
    recommendation = make_recommendation(make_brief())
    client.force_login(editor)
    links = [(practice, "Once."), (practice, "Twice.")]
    response = client.post(
        recommendation_url(recommendation), recommendation_form(recommendation, links)
    )
    assert response.status_code == 200
    assert "Please correct the duplicate data for practice" in response.text
    assert not recommendation.illustrations.exists()


def test_moving_a_recommendation_onto_a_taken_number_is_a_form_error(client, editor):
    brief = make_brief()
    make_recommendation(brief, number=1, anchor="first")
    second = make_recommendation(brief, number=2, anchor="second")
    client.force_login(editor)
    response = client.post(
        recommendation_url(second), recommendation_form(second, number=1)
    )
    assert response.status_code == 200
    assert "This brief already has a recommendation with this number" in response.text


def plain(response):
    return " ".join(re.sub(r"<[^>]+>", " ", response.text).split())


def test_the_history_shows_each_change_to_recommendations_and_their_practices(
    client, editor
):
    practice = make_practice(title="Export desk")
    brief = make_brief()
    client.force_login(editor)
    rows = [recommendation_fields(1, "one-door", text="Give firms one door.")]
    client.post(change_url(brief), form_data(brief, recommendations=rows))
    recommendation = brief.recommendations.get()
    rows = [{**rows[0], "id": recommendation.pk, "text": "Give firms a single door."}]
    client.post(change_url(brief), form_data(brief, recommendations=rows))
    recommendation.refresh_from_db()
    links = [(practice, "One entry point.")]
    client.post(
        recommendation_url(recommendation), recommendation_form(recommendation, links)
    )
    link = recommendation.illustrations.get()
    assert link.history.get().history_user == editor

    history = plain(client.get(reverse("admin:briefs_brief_history", args=[brief.pk])))
    # Row, when, what kind of change, who, old → new.
    assert re.search(
        r"Recommendations Row .*? Recommendation 1 [\w ,.:]+ Changed edith "
        r"Text: Give firms one door. &rarr; Give firms a single door.",
        history,
    )
    assert re.search(
        r"Practices illustrating its recommendations Row .*? "
        r"Export desk illustrates Recommendation 1 [\w ,.:]+ Created edith",
        history,
    )
    # The recommendation's own history, with its practices' changes below it.
    page = client.get(
        reverse("admin:briefs_recommendation_history", args=[recommendation.pk])
    )
    assert page.status_code == 200
    own = plain(page)
    assert "Give firms a single door." in own and "edith" in own
    assert "the status stays" not in own  # a recommendation has none
    assert re.search(r"Practices illustrating it Row .*? Export desk", own)


def test_a_recommendation_reverts_to_an_earlier_version(client, editor):
    recommendation = make_recommendation(make_brief(), text="First wording.")
    original = recommendation.history.latest()
    client.force_login(editor)
    client.post(
        recommendation_url(recommendation),
        recommendation_form(recommendation, text="Second wording."),
    )
    recommendation.refresh_from_db()
    assert recommendation.text == "Second wording."
    revert = reverse(
        "admin:briefs_recommendation_simple_history",
        args=[recommendation.pk, original.pk],
    )
    assert "First wording." in client.get(revert).text
    data = recommendation_form(recommendation, text="First wording.", _save="Revert")
    assert client.post(revert, data).status_code == 302
    recommendation.refresh_from_db()
    assert recommendation.text == "First wording."
    assert recommendation.history.latest().history_user == editor
