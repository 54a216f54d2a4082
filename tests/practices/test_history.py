"""Change history of practices (django-simple-history): who, when and what
changed, the diff on the admin's history page, and revert."""

import re
from datetime import date

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from practices.models import CatalogueVersion, Practice, Status
from publishing.workflow import transition
from tests.factories import (
    EVIDENCE_INLINES,
    committed,
    make_practice,
    make_theme,
    make_user,
    publishable_parts,
)

pytestmark = pytest.mark.django_db


def change_url(practice):
    return reverse("admin:practices_practice_change", args=[practice.pk])


def history_url(practice):
    return reverse("admin:practices_practice_history", args=[practice.pk])


def revert_url(practice, record):
    return reverse(
        "admin:practices_practice_simple_history",
        args=[practice.pk, record.history_id],
    )


def form_data(practice, **changes):
    data = {
        "title": practice.title,
        "slug": practice.slug,
        "summary": practice.summary,
        "attribution": practice.attribution,
        "published_on": practice.published_on or "",
        "themes": [t.pk for t in practice.themes.all()],
        "sources-TOTAL_FORMS": "0",
        "sources-INITIAL_FORMS": "0",
        **EVIDENCE_INLINES,
    }
    data.update(changes)
    return data


@pytest.fixture
def practice():
    return make_practice(
        title="Export vouchers",
        status=Status.PUBLISHED,
        published_on=date(2026, 1, 1),
    )


def edit_in_the_admin(client, user, practice, **changes):
    client.force_login(user)
    response = client.post(change_url(practice), form_data(practice, **changes))
    assert response.status_code == 302, response.context["errors"]


def test_an_admin_edit_records_who_and_what_changed_including_a_theme(
    client, editor, practice
):
    theme = make_theme(name="Distant markets")
    before = practice.history.latest()
    edit_in_the_admin(
        client, editor, practice, title="Export vouchers 2.0", themes=[theme.pk]
    )
    versions = list(practice.history.filter(history_id__gt=before.history_id))
    assert versions and {v.history_user for v in versions} == {editor}
    latest = practice.history.latest()
    delta = latest.diff_against(before)
    changed = {change.field: change for change in delta.changes}
    assert set(changed) == {"title", "themes"}
    assert (changed["title"].old, changed["title"].new) == (
        "Export vouchers",
        "Export vouchers 2.0",
    )
    assert [row["theme"] for row in changed["themes"].new] == [theme.pk]
    assert changed["themes"].old == []


def test_the_history_page_shows_who_when_and_the_diff(
    client, editor, reviewer, practice
):
    theme = make_theme(name="Distant markets")
    edit_in_the_admin(
        client, editor, practice, title="Export vouchers 2.0", themes=[theme.pk]
    )
    transition(Practice.objects.get(pk=practice.pk), "archive", reviewer)
    response = client.get(history_url(practice))
    assert response.status_code == 200
    table = re.search(r'<table id="change-history".*?</table>', response.text, re.S)
    rows = [
        re.sub(r"<[^>]+>", " ", re.sub(r"\s+|&nbsp;", " ", row))
        for row in re.findall(r"<tr>(.*?)</tr>", table.group(0), re.S)[1:]
    ]
    rows = [" ".join(row.split()) for row in rows]
    # Newest first: who, the kind of change, the reason, and old → new per field,
    # with names for related rows and labels for choices; one save in the admin is
    # one version, its relations included.
    assert rows[0].endswith("Changed rita Archived Status: Published &rarr; Archived")
    assert rows[1].endswith(
        "edith None Themes: [] &rarr; [Distant markets] "
        "Title: Export vouchers &rarr; Export vouchers 2.0"
    )
    assert "Created" in rows[2]
    dates = re.findall(r"<td>(\d{1,2} \w{3} \d{4}, [^<]+)</td>", table.group(0))
    assert len(dates) == 3  # when


def test_revert_restores_an_earlier_title_and_bumps_the_catalogue_version(
    client, reviewer, practice
):
    original = practice.history.latest()
    edit_in_the_admin(client, reviewer, practice, title="A worse title")
    before = CatalogueVersion.current()
    page = client.get(revert_url(practice, original))
    assert page.status_code == 200 and 'value="Export vouchers"' in page.text
    assert "The status stays as it is now" in page.text
    with committed():
        response = client.post(
            revert_url(practice, original), form_data(practice, _save="Revert")
        )
    assert response.status_code == 302
    reverted = Practice.objects.get(pk=practice.pk)
    assert reverted.title == "Export vouchers"
    assert CatalogueVersion.current() != before
    latest = reverted.history.latest()
    assert latest.history_user == reviewer
    assert latest.history_change_reason.startswith("Reverted to the version of")


def test_revert_restores_the_themes_of_that_version(client, reviewer, practice):
    old_theme, new_theme = make_theme(name="Old theme"), make_theme(name="New one")
    practice.themes.set([old_theme])
    version = practice.history.latest()
    edit_in_the_admin(client, reviewer, practice, themes=[new_theme.pk])
    page = client.get(revert_url(practice, version))
    form = page.context["adminform"].form
    assert form.initial["themes"] == [old_theme.pk]
    client.post(
        revert_url(practice, version),
        form_data(practice, themes=[old_theme.pk], _save="Revert"),
    )
    assert list(Practice.objects.get(pk=practice.pk).themes.all()) == [old_theme]


def test_revert_keeps_the_current_status_and_date(client, editor, reviewer):
    practice = make_practice(
        title="First draft", status=Status.DRAFT, **publishable_parts()
    )
    draft_version = practice.history.latest()
    practice.title = "Final"
    practice.save()
    transition(practice, "submit", editor)
    transition(practice, "publish", reviewer)
    transition(practice, "archive", reviewer)
    published_on = Practice.objects.get(pk=practice.pk).published_on
    client.force_login(reviewer)
    response = client.post(
        revert_url(practice, draft_version),
        form_data(practice, title="First draft", _save="Revert"),
        follow=True,
    )
    practice = Practice.objects.get(pk=practice.pk)
    # Archived → draft is not a move: the content comes back, the status stays.
    assert (practice.title, practice.status) == ("First draft", Status.ARCHIVED)
    assert practice.published_on == published_on
    assert "its status stays Archived" in response.text


def test_only_users_who_may_change_can_revert(client, practice):
    original = practice.history.latest()
    practice.title = "Changed"
    practice.save()
    viewer = make_user()
    viewer.user_permissions.add(Permission.objects.get(codename="view_practice"))
    client.force_login(viewer)
    page = client.get(revert_url(practice, original))
    assert page.status_code == 200 and 'value="Revert"' not in page.text
    response = client.post(
        revert_url(practice, original), form_data(practice, _save="Revert")
    )
    assert response.status_code == 403
    assert Practice.objects.get(pk=practice.pk).title == "Changed"


def test_staff_without_a_group_cannot_see_the_history(client, practice):
    client.force_login(make_user())
    assert client.get(history_url(practice)).status_code == 403
    original = practice.history.latest()
    assert client.get(revert_url(practice, original)).status_code == 403


def test_a_theme_linked_from_the_theme_side_is_recorded_on_the_practice(practice):
    theme = make_theme(name="Distant markets")
    count = practice.history.count()
    theme.practices.add(practice)
    assert practice.history.count() == count + 1
    assert [r.theme_id for r in practice.history.latest().themes.all()] == [theme.pk]
    theme.practices.clear()
    assert practice.history.count() == count + 2
    assert list(practice.history.latest().themes.all()) == []
    theme.practices.add(practice)
    theme.practices.remove(practice)
    assert list(practice.history.latest().themes.all()) == []


def test_the_history_page_also_lists_changes_to_the_sources(client, editor):
    practice = make_practice(sources=["https://example.org/gp"])
    source = practice.sources.get()
    source.title = "Programme page"
    source._history_user = editor
    source.save()
    client.force_login(editor)
    response = client.get(history_url(practice))
    text = " ".join(re.sub(r"<[^>]+>", " ", response.text).split())
    assert re.search(
        r"Sources Row .*? Programme page [\w ,.:]+ Changed edith "
        r"Title: Source 0 &rarr; Programme page",
        text,
    )
