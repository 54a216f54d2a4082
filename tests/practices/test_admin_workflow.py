"""The workflow in the practice admin: roles, buttons, bulk actions, the review
date, filters, search and the form's order (publishing/admin.py, practices/admin.py)."""

import re
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from practices.models import Practice, Status
from tests.factories import (
    EVIDENCE_INLINES,
    make_country,
    make_practice,
    make_region,
    make_theme,
    make_user,
    publishable_parts,
)

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:practices_practice_changelist")
TABLE = [
    ("submit", Status.DRAFT, Status.IN_REVIEW),
    ("publish", Status.IN_REVIEW, Status.PUBLISHED),
    ("send_back", Status.IN_REVIEW, Status.DRAFT),
    ("archive", Status.PUBLISHED, Status.ARCHIVED),
    ("unpublish", Status.PUBLISHED, Status.DRAFT),
    ("reinstate", Status.ARCHIVED, Status.PUBLISHED),
]
# How messages name each move's result.
MOVES_DONE = {
    "submit": "submitted for review",
    "publish": "published",
    "send_back": "sent back to draft",
    "archive": "archived",
    "unpublish": "unpublished",
    "reinstate": "reinstated",
}


def make(status, **kwargs):
    if status in (Status.PUBLISHED, Status.ARCHIVED):
        kwargs.setdefault("published_on", date(2026, 1, 1))
    return make_practice(status=status, **kwargs)


def make_complete(status, **kwargs):
    """A practice with all the publishing gate asks for."""
    return make(status, **publishable_parts(), **kwargs)


def change_url(practice):
    return reverse("admin:practices_practice_change", args=[practice.pk])


def form_data(practice, move=None, **changes):
    """What the change form posts for `practice` (its sources left as they are),
    with changes; `move` names the workflow button pressed."""
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
    for name in ("countries", "regions", "themes", "instruments"):
        data[name] = list(getattr(practice, name).values_list("pk", flat=True))
    if move:
        data[f"_workflow_{move}"] = "pressed"
    data.update(changes)
    return data


def status_of(practice):
    return Practice.objects.values_list("status", flat=True).get(pk=practice.pk)


def buttons(response):
    """The workflow buttons, the same at the top and at the foot of the form."""
    found = re.findall(r'name="_workflow_(\w+)"', response.text)
    top, bottom = found[: len(found) // 2], found[len(found) // 2 :]
    assert top == bottom
    return top


def action_choices(response):
    select = re.search(r'<select name="action".*?</select>', response.text, re.S)
    return set(re.findall(r'<option value="(\w+)"', select.group(0)))


def logged_in(client, user):
    client.force_login(user)
    return client


# --- roles --------------------------------------------------------------------------


def test_staff_without_a_group_sees_nothing(client):
    logged_in(client, make_user())
    practice = make(Status.DRAFT)
    assert "have permission to view or edit anything" in client.get("/admin/").text
    assert client.get(CHANGELIST).status_code == 403
    assert client.get(change_url(practice)).status_code == 403
    assert client.get(reverse("admin:briefs_brief_changelist")).status_code == 403
    response = client.post(
        CHANGELIST, {"action": "submit", "_selected_action": [practice.pk]}
    )
    assert response.status_code == 403
    assert status_of(practice) == Status.DRAFT


@pytest.mark.parametrize("posted_status", [Status.PUBLISHED, Status.ARCHIVED])
def test_an_editor_creates_drafts_whatever_the_form_says(client, editor, posted_status):
    logged_in(client, editor)
    data = {
        "title": "Export desk",
        "slug": "export-desk",
        "summary": "A desk.",
        "attribution": "Ours.",
        "status": posted_status,
        "published_on": "2026-01-01",
        "sources-TOTAL_FORMS": "0",
        "sources-INITIAL_FORMS": "0",
        **EVIDENCE_INLINES,
    }
    response = client.post(reverse("admin:practices_practice_add"), data)
    assert response.status_code == 302
    practice = Practice.objects.get(slug="export-desk")
    assert (practice.status, practice.published_on) == (Status.DRAFT, None)
    assert practice.history.get().history_user == editor


def test_the_status_is_read_only_in_the_change_form(client, reviewer):
    logged_in(client, reviewer)
    practice = make(Status.DRAFT)
    response = client.get(change_url(practice))
    assert 'name="status"' not in response.text
    assert 'name="published_on"' in response.text  # reviewers may schedule
    client.post(change_url(practice), form_data(practice, status=Status.PUBLISHED))
    assert status_of(practice) == Status.DRAFT


def test_an_editor_cannot_change_the_publication_date(client, editor):
    logged_in(client, editor)
    practice = make(Status.PUBLISHED)
    assert 'name="published_on"' not in client.get(change_url(practice)).text
    client.post(change_url(practice), form_data(practice, published_on="2030-01-01"))
    assert Practice.objects.get(pk=practice.pk).published_on == date(2026, 1, 1)


def test_a_published_record_keeps_a_publication_date(client, reviewer):
    logged_in(client, reviewer)
    practice = make(Status.PUBLISHED)
    response = client.post(change_url(practice), form_data(practice, published_on=""))
    assert response.status_code == 200
    assert "keeps its publication date" in response.text


# --- the buttons on the change form -------------------------------------------------


@pytest.mark.parametrize(
    ("status", "editor_sees", "reviewer_sees"),
    [
        (Status.DRAFT, ["submit"], ["submit"]),
        (Status.IN_REVIEW, [], ["publish", "send_back"]),
        (Status.PUBLISHED, [], ["archive", "unpublish"]),
        (Status.ARCHIVED, [], ["reinstate"]),
    ],
)
def test_each_role_sees_the_buttons_of_the_moves_it_may_make(
    client, editor, reviewer, status, editor_sees, reviewer_sees
):
    practice = make(status)
    assert buttons(logged_in(client, editor).get(change_url(practice))) == editor_sees
    assert (
        buttons(logged_in(client, reviewer).get(change_url(practice))) == reviewer_sees
    )


def test_no_buttons_on_the_add_form(client, reviewer):
    response = logged_in(client, reviewer).get(reverse("admin:practices_practice_add"))
    assert response.status_code == 200
    assert buttons(response) == []


def test_save_then_the_status_and_buttons_open_the_form_so_enter_still_saves(
    client, reviewer
):
    response = logged_in(client, reviewer).get(change_url(make(Status.IN_REVIEW)))
    text = response.text
    save, workflow = text.index('name="_save"'), text.index('name="_workflow_')
    assert save < workflow < text.index('name="title"')
    assert 'aria-labelledby="workflow-top-heading"' in text
    assert 'aria-labelledby="workflow-bottom-heading"' in text
    assert "This practice is <strong>In review</strong>." in text


def test_an_editor_submits_with_the_button_and_the_edit_is_kept(client, editor):
    logged_in(client, editor)
    practice = make(Status.DRAFT, title="Old title")
    url = change_url(practice)
    response = client.post(url, form_data(practice, title="New title", move="submit"))
    assert response.status_code == 302 and response["Location"] == url
    practice = Practice.objects.get(pk=practice.pk)
    assert (practice.title, practice.status) == ("New title", Status.IN_REVIEW)
    # One version for the edit and the move together, with its reason.
    latest = practice.history.latest()
    assert latest.history_change_reason == "Submitted for review"
    assert latest.history_user == editor
    assert latest.prev_record.title == "Old title"
    assert "Saved, and “New title” submitted for review." in client.get(url).text


@pytest.mark.parametrize("action", ["publish", "send_back"])
def test_an_editor_cannot_publish_or_send_back_even_with_a_forged_button(
    client, editor, action
):
    logged_in(client, editor)
    practice = make(Status.IN_REVIEW)
    response = client.post(
        change_url(practice),
        form_data(practice, summary="Edited.", move=action),
        follow=True,
    )
    assert status_of(practice) == Status.IN_REVIEW
    assert Practice.objects.get(pk=practice.pk).summary == "Edited."
    assert "Your changes were saved, but not the move: You may not" in response.text


@pytest.mark.parametrize(("action", "source", "target"), TABLE)
def test_a_reviewer_makes_every_move_with_the_buttons(
    client, reviewer, action, source, target
):
    logged_in(client, reviewer)
    practice = make_complete(source)
    response = client.post(
        change_url(practice), form_data(practice, move=action), follow=True
    )
    assert status_of(practice) == target
    assert "Saved, and" in response.text


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (status, action)
        for action, source, _ in TABLE
        for status in Status.values
        if status != source
    ],
)
def test_a_move_the_table_lacks_is_refused_from_the_form(
    client, reviewer, status, action
):
    logged_in(client, reviewer)
    practice = make(status)
    response = client.post(
        change_url(practice), form_data(practice, move=action), follow=True
    )
    assert status_of(practice) == status
    assert "but not the move" in response.text and "cannot be" in response.text


# --- bulk actions ---------------------------------------------------------------------


@pytest.mark.parametrize(("action", "source", "target"), TABLE)
def test_each_bulk_move_moves_the_rows_it_applies_to_and_reports_the_others(
    client, reviewer, action, source, target
):
    logged_in(client, reviewer)
    movable = [make_complete(source, title=f"Movable {n}") for n in range(2)]
    stuck = {
        status: make(status, title=f"Stuck {status}")
        for status in Status.values
        if status != source
    }
    selected = [p.pk for p in [*movable, *stuck.values()]]
    response = client.post(
        CHANGELIST, {"action": action, "_selected_action": selected}, follow=True
    )
    assert [status_of(p) for p in movable] == [target, target]
    assert {status: status_of(p) for status, p in stuck.items()} == {
        status: status for status in stuck
    }
    assert f"2 practices {MOVES_DONE[action]}." in response.text
    assert f"3 not {MOVES_DONE[action]}: “Stuck " in response.text
    for status in stuck:
        assert f"“Stuck {status}” cannot be {MOVES_DONE[action]}" in response.text


def test_bulk_publish_dates_first_publications_and_notes_scheduled_ones(
    client, reviewer
):
    logged_in(client, reviewer)
    fresh = make_complete(Status.IN_REVIEW)
    scheduled = make_complete(Status.IN_REVIEW, published_on=date(2099, 1, 1))
    response = client.post(
        CHANGELIST,
        {"action": "publish", "_selected_action": [fresh.pk, scheduled.pk]},
        follow=True,
    )
    assert Practice.objects.get(pk=fresh.pk).published_on == timezone.localdate()
    assert Practice.objects.get(pk=scheduled.pk).published_on == date(2099, 1, 1)
    assert "1 of them will appear on their publication date." in response.text


EXPORTS = {"export_csv", "export_json"}  # opendata/admin.py: any status, for staff


def test_an_editor_is_offered_only_submit_the_review_date_and_exports(client, editor):
    logged_in(client, editor)
    practice = make(Status.IN_REVIEW)
    assert action_choices(client.get(CHANGELIST)) == {
        "submit",
        "set_review_date",
        *EXPORTS,
    }
    client.post(CHANGELIST, {"action": "publish", "_selected_action": [practice.pk]})
    assert status_of(practice) == Status.IN_REVIEW


def test_a_reviewer_is_offered_every_move(client, reviewer):
    logged_in(client, reviewer)
    make(Status.DRAFT)
    assert action_choices(client.get(CHANGELIST)) == {
        *MOVES_DONE,
        "set_review_date",
        *EXPORTS,
    }


# --- the review date ----------------------------------------------------------------


def review_date_post(pks, review_by=None, **extra):
    data = {"action": "set_review_date", "_selected_action": pks, **extra}
    if review_by is not None:
        data.update(apply="Set the review date", review_by=review_by)
    return data


def test_set_review_date_asks_for_the_date_first(client, editor):
    logged_in(client, editor)
    practices = [make(Status.PUBLISHED, title=f"Scheme {n}") for n in range(2)]
    response = client.post(CHANGELIST, review_date_post([p.pk for p in practices]))
    assert response.status_code == 200
    assert 'type="date"' in response.text and "Scheme 1" in response.text
    assert all(Practice.objects.get(pk=p.pk).review_by is None for p in practices)


def test_set_review_date_sets_it_on_every_selected_row(client, editor):
    logged_in(client, editor)
    practices = [make(Status.PUBLISHED) for _ in range(2)]
    untouched = make(Status.PUBLISHED)
    review_by = timezone.localdate() + timedelta(days=180)
    response = client.post(
        CHANGELIST,
        review_date_post([p.pk for p in practices], review_by.isoformat()),
        follow=True,
    )
    assert [Practice.objects.get(pk=p.pk).review_by for p in practices] == [
        review_by,
        review_by,
    ]
    assert Practice.objects.get(pk=untouched.pk).review_by is None
    assert f"Review date set to {review_by} for 2 of 2." in response.text
    latest = practices[0].history.latest()
    assert (latest.history_user, latest.history_change_reason) == (
        editor,
        "Review date set",
    )


def test_set_review_date_with_select_across_covers_the_filtered_list(client, reviewer):
    logged_in(client, reviewer)
    drafts = [make(Status.DRAFT) for _ in range(3)]
    published = make(Status.PUBLISHED)
    review_by = timezone.localdate() + timedelta(days=30)
    client.post(
        f"{CHANGELIST}?status__exact=draft",
        review_date_post([drafts[0].pk], review_by.isoformat(), select_across="1"),
    )
    assert all(Practice.objects.get(pk=p.pk).review_by == review_by for p in drafts)
    assert Practice.objects.get(pk=published.pk).review_by is None


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("not-a-date", "Enter a valid date."),
        ("2026-02-30", "Enter a valid date."),
        ("", "This field is required."),
        ("2000-01-01", "Choose today or a later date"),
    ],
)
def test_set_review_date_refuses_bad_dates_clearly(client, editor, value, error):
    logged_in(client, editor)
    practice = make(Status.PUBLISHED)
    response = client.post(CHANGELIST, review_date_post([practice.pk], value))
    assert response.status_code == 200
    assert error in response.text
    assert 'aria-invalid="true"' in response.text
    assert Practice.objects.get(pk=practice.pk).review_by is None


def test_set_review_date_skips_rows_verified_after_that_date(client, editor):
    logged_in(client, editor)
    today = timezone.localdate()
    verified_later = make(
        Status.PUBLISHED, title="Checked ahead", last_verified_on=today + timedelta(9)
    )
    plain = make(Status.PUBLISHED)
    response = client.post(
        CHANGELIST,
        review_date_post([verified_later.pk, plain.pk], today.isoformat()),
        follow=True,
    )
    assert Practice.objects.get(pk=verified_later.pk).review_by is None
    assert Practice.objects.get(pk=plain.pk).review_by == today
    assert "for 1 of 2." in response.text
    assert "“Checked ahead” was last verified on" in response.text


# --- filters, search, autocomplete ----------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("due", {"Overdue"}),
        ("none", {"Never scheduled"}),
        ("later", {"Due today", "Due next year"}),
        (None, {"Overdue", "Never scheduled", "Due today", "Due next year"}),
    ],
)
def test_the_needs_review_filter(admin_client, value, expected):
    today = timezone.localdate()
    make(Status.PUBLISHED, title="Overdue", review_by=today - timedelta(1))
    make(Status.PUBLISHED, title="Due today", review_by=today)
    make(Status.PUBLISHED, title="Due next year", review_by=today + timedelta(365))
    make(Status.PUBLISHED, title="Never scheduled")
    response = admin_client.get(CHANGELIST, {"review": value} if value else {})
    shown = {p.title for p in response.context["cl"].result_list}
    assert shown == expected
    assert "Needs review (review date passed)" in response.text


@pytest.mark.parametrize(
    "filters",
    [
        {"status__exact": "archived"},
        {"countries__id__exact": "COUNTRY"},
        {"themes__id__exact": "THEME"},
    ],
)
def test_list_filters_by_status_country_and_theme(admin_client, filters):
    italy = make_country(code="IT", name="Italy")
    theme = make_theme()
    wanted = make(Status.ARCHIVED, title="Wanted", countries=[italy], themes=[theme])
    make(Status.PUBLISHED, title="Other")
    ids = {"COUNTRY": str(italy.pk), "THEME": str(theme.pk)}
    query = {key: ids.get(value, value) for key, value in filters.items()}
    response = admin_client.get(CHANGELIST, query)
    assert [p.pk for p in response.context["cl"].result_list] == [wanted.pk]


@pytest.mark.parametrize("term", ["IT", "it", "ITH", "Bologna", "Emilia"])
def test_search_finds_by_place_codes_names_and_city(admin_client, term):
    italy = make_country(code="IT", name="Italy")
    region = make_region(code="ITH5", name="Emilia-Romagna", country=italy)
    make(
        Status.PUBLISHED,
        title="Export desk",
        city="Bologna",
        countries=[italy],
        regions=[region],
    )
    make(Status.PUBLISHED, title="Elsewhere")
    response = admin_client.get(CHANGELIST, {"q": term})
    assert [p.title for p in response.context["cl"].result_list] == ["Export desk"]


def test_an_editor_can_pick_places_and_taxonomies_by_autocomplete(client, editor):
    theme = make_theme(name="Distant markets")
    response = logged_in(client, editor).get(
        reverse("admin:autocomplete"),
        {
            "app_label": "practices",
            "model_name": "practice",
            "field_name": "themes",
            "term": "distant",
        },
    )
    assert response.status_code == 200
    assert response.json()["results"] == [
        {"id": str(theme.pk), "text": "Distant markets"}
    ]


# --- the form's order -----------------------------------------------------------------


def test_the_form_follows_the_public_page(admin_client):
    practice = make(Status.PUBLISHED, sources=["https://example.org/gp"])
    text = admin_client.get(change_url(practice)).text
    landmarks = [
        'name="summary"',
        ">Key facts<",
        'name="countries"',
        'name="instruments"',
        'name="description"',
        'name="resources"',
        'name="evidence"',
        'name="transfer"',
        'id="sources-group"',
        'name="attribution"',
        ">Status and freshness<",
        'name="review_by"',
    ]
    positions = [text.index(landmark) for landmark in landmarks]
    assert positions == sorted(positions)


def test_view_on_site_opens_the_preview_until_a_record_is_public(admin_client):
    draft = make_practice(status=Status.DRAFT, published_on=None)
    public = make_practice()
    for practice, url in [
        (draft, draft.get_preview_url()),
        (public, public.get_absolute_url()),
    ]:
        page = admin_client.get(
            reverse("admin:practices_practice_change", args=[practice.pk])
        ).content.decode()
        assert f'href="{url}"' in page
