"""The admin guides curators (issue 20, item 9): the summary of a form's errors at
its top, the status and moves at the top of the form, the publishing gate and four
eyes as the admin shows them, the attribution written from the sources, the slug's
help and the work queue on the admin index (publishing/admin.py, practices/admin.py)."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from practices.admin import PracticeAdmin
from practices.models import LinkCheck, Practice, PracticeSource, Status
from tests.briefs.test_admin import change_url as brief_change_url
from tests.briefs.test_admin import form_data as brief_form_data
from tests.factories import (
    EVIDENCE_INLINES,
    make_brief,
    make_country,
    make_instrument,
    make_practice,
    make_theme,
    make_user,
)
from tests.practices.test_admin_workflow import (
    CHANGELIST,
    buttons,
    change_url,
    form_data,
    make_complete,
    status_of,
)

pytestmark = pytest.mark.django_db

ADD = reverse("admin:practices_practice_add")
INTERREG = "https://www.interregeurope.eu/good-practices/export-consortia"
REGION = "https://imprese.regione.emilia-romagna.it/internazionalizzazione"


def summary(response):
    """The error summary's (link target, text) pairs, or None without one."""
    found = re.search(r'<div [^>]*id="error-summary".*?</div>', response.text, re.S)
    if found is None:
        return None
    items = re.findall(r"<li>(.*?)</li>", found.group(0), re.S)
    pairs = []
    for item in items:
        link = re.fullmatch(r'<a href="#([^"]+)">(.*)</a>', item.strip(), re.S)
        pairs.append((link[1], unescape(link[2])) if link else ("", unescape(item)))
    return pairs


def sources(*rows):
    """The sources inline's POST data for new rows of (url, title)."""
    data = {
        "sources-TOTAL_FORMS": str(len(rows)),
        "sources-INITIAL_FORMS": "0",
        **EVIDENCE_INLINES,
    }
    for n, (url, title) in enumerate(rows):
        data.update(
            {
                f"sources-{n}-url": url,
                f"sources-{n}-title": title,
                f"sources-{n}-position": n,
            }
        )
    return data


# --- the error summary ------------------------------------------------------------


def test_the_error_summary_opens_the_form_and_links_each_error_to_its_field(
    client, reviewer
):
    client.force_login(reviewer)
    practice = make_practice(status=Status.PUBLISHED, title="Export desk")
    data = {
        **form_data(practice, title="", published_on=""),
        **sources(("not a web address", "A page")),
    }
    response = client.post(change_url(practice), data)
    assert response.status_code == 200
    # In the page's order: the title, the sources, then the status and freshness
    # fields that follow the sources.
    assert summary(response) == [
        ("id_title", "Title: This field is required."),
        ("id_sources-0-url", "Practice sources, row 1: URL: Enter a valid URL."),
        (
            "id_published_on",
            "Published on: A published or archived record keeps its publication date.",
        ),
    ]
    text = response.text
    opening = re.search(r'<div [^>]*id="error-summary"[^>]*>', text).group(0)
    for attribute in ['role="alert"', 'tabindex="-1"', "autofocus"]:
        assert attribute in opening
    assert "3 problems to correct before this practice is saved" in text
    # Above everything else in the form, and every link has its target.
    assert text.index('id="error-summary"') < text.index('name="_save"')
    for target in ["id_title", "id_sources-0-url", "id_published_on"]:
        assert f'id="{target}"' in text


def test_no_summary_without_errors(admin_client):
    practice = make_practice()
    assert summary(admin_client.get(change_url(practice))) is None
    assert summary(admin_client.get(ADD)) is None


def test_the_brief_form_has_the_summary_too(admin_client):
    brief = make_brief(status=Status.DRAFT)
    response = admin_client.post(
        brief_change_url(brief), brief_form_data(brief, title="")
    )
    assert summary(response) == [("id_title", "Title: This field is required.")]


# --- the status and moves at the top, the gate and four eyes as the admin says --


def test_the_status_and_what_publishing_needs_open_the_form(client, reviewer):
    client.force_login(reviewer)
    practice = make_practice(status=Status.IN_REVIEW, title="Half done")
    text = client.get(change_url(practice)).text
    top = text[: text.index('name="title"')]
    assert "This practice is <strong>In review</strong>." in top
    assert (
        "To be published, it needs a source; a theme; an instrument type; a place "
        "(a country or region) or an implementation level." in unescape(top)
    )
    assert 'name="_workflow_publish"' in top


def test_publishing_an_incomplete_practice_from_the_form_is_refused_with_the_gaps(
    client, reviewer
):
    client.force_login(reviewer)
    practice = make_practice(status=Status.IN_REVIEW, title="Half done")
    response = client.post(
        change_url(practice),
        form_data(practice, summary="Edited.", move="publish"),
        follow=True,
    )
    assert status_of(practice) == Status.IN_REVIEW
    assert Practice.objects.get(pk=practice.pk).summary == "Edited."  # kept
    assert (
        "Your changes were saved, but not the move: “Half done” cannot be published "
        "yet: it needs a source; a theme; an instrument type; a place (a country or "
        "region) or an implementation level." in unescape(response.text)
    )


def test_what_is_added_in_the_same_save_counts_for_the_gate(client, reviewer):
    """The move is made once the form's relations and sources are saved."""
    client.force_login(reviewer)
    practice = make_practice(status=Status.IN_REVIEW, countries=[make_country()])
    theme, instrument = make_theme(), make_instrument()
    data = {
        **form_data(practice, move="publish"),
        "themes": [theme.pk],
        "instruments": [instrument.pk],
        **sources((INTERREG, "The practice's page")),
    }
    response = client.post(change_url(practice), data, follow=True)
    assert status_of(practice) == Status.PUBLISHED
    assert "Saved, and" in response.text
    # One version for the edit and the move, with the relations it made.
    latest = Practice.objects.get(pk=practice.pk).history.latest()
    assert latest.history_change_reason == "Published"
    assert [row.theme_id for row in latest.themes.all()] == [theme.pk]


def test_bulk_publish_skips_incomplete_practices_and_says_why(client, reviewer):
    client.force_login(reviewer)
    complete = make_complete(Status.IN_REVIEW)
    bare = make_practice(status=Status.IN_REVIEW, title="Bare")
    response = client.post(
        CHANGELIST,
        {"action": "publish", "_selected_action": [complete.pk, bare.pk]},
        follow=True,
    )
    assert (status_of(complete), status_of(bare)) == (
        Status.PUBLISHED,
        Status.IN_REVIEW,
    )
    assert "1 not published: “Bare” cannot be published yet: it needs a source" in (
        unescape(response.text)
    )


def test_the_submitter_is_told_someone_else_publishes(client, reviewer):
    client.force_login(reviewer)
    practice = make_complete(Status.DRAFT, title="Mine")
    client.post(change_url(practice), form_data(practice, move="submit"))
    assert status_of(practice) == Status.IN_REVIEW
    page = client.get(change_url(practice))
    assert buttons(page) == ["send_back"]
    assert "You submitted it for review, so another reviewer must publish it." in (
        page.text
    )
    forged = client.post(
        change_url(practice), form_data(practice, move="publish"), follow=True
    )
    assert status_of(practice) == Status.IN_REVIEW
    assert "You submitted “Mine” for review, so another reviewer must publish it" in (
        unescape(forged.text)
    )
    bulk = client.post(
        CHANGELIST,
        {"action": "publish", "_selected_action": [practice.pk]},
        follow=True,
    )
    assert status_of(practice) == Status.IN_REVIEW
    assert "1 not published: You submitted “Mine”" in unescape(bulk.text)
    other = make_user(groups=["Reviewers"])
    client.force_login(other)
    assert "publish" in buttons(client.get(change_url(practice)))
    client.post(change_url(practice), form_data(practice, move="publish"))
    assert status_of(practice) == Status.PUBLISHED


@pytest.fixture
def meanwhile(monkeypatch):
    """meanwhile(practice, **values): another curator's move, committed while a
    form is being saved (after it is read and checked, before it is written)."""

    def arrange(practice, **values):
        save_form = PracticeAdmin.save_form

        def save_form_meanwhile(self, request, form, change):
            Practice.objects.filter(pk=practice.pk).update(**values)
            return save_form(self, request, form, change)

        monkeypatch.setattr(PracticeAdmin, "save_form", save_form_meanwhile)

    return arrange


def test_a_move_made_while_a_form_is_saved_is_kept_and_moves_start_from_it(
    client, reviewer, meanwhile
):
    practice = make_complete(Status.IN_REVIEW, title="Contested")
    meanwhile(practice, status=Status.DRAFT)  # sent back by someone else
    client.force_login(reviewer)
    response = client.post(
        change_url(practice), form_data(practice, move="publish"), follow=True
    )
    assert status_of(practice) == Status.DRAFT
    assert "“Contested” cannot be published: it is Draft" in unescape(response.text)


def test_an_editor_s_save_keeps_a_publication_made_meanwhile(client, editor, meanwhile):
    practice = make_complete(Status.IN_REVIEW)
    today = timezone.localdate()
    meanwhile(practice, status=Status.PUBLISHED, published_on=today)
    client.force_login(editor)  # editors' forms have no publication date
    response = client.post(change_url(practice), form_data(practice, summary="New."))
    assert response.status_code == 302
    practice = Practice.objects.get(pk=practice.pk)
    assert (practice.status, practice.published_on) == (Status.PUBLISHED, today)
    assert practice.summary == "New."


# --- the attribution, from the sources ----------------------------------------------


def new_practice(**changes):
    return {
        "title": "Export desk",
        "slug": "export-desk",
        "summary": "A desk.",
        "attribution": "",
        **sources(),
        **changes,
    }


@pytest.mark.parametrize(
    ("urls", "expected"),
    [
        (
            [INTERREG, REGION, "https://interregeurope.eu/other"],
            "Summary written by Practice Atlas from the sources listed, published on "
            "interregeurope.eu and imprese.regione.emilia-romagna.it. Interreg Europe "
            "material may be reused for non-commercial purposes with acknowledgement.",
        ),
        (
            [REGION],
            "Summary written by Practice Atlas from the sources listed, published on "
            "imprese.regione.emilia-romagna.it. See each source for its terms of "
            "reuse.",
        ),
        ([], ""),
    ],
    ids=["interreg", "other", "no-sources"],
)
def test_an_empty_attribution_is_written_from_the_sources(
    client, editor, urls, expected
):
    client.force_login(editor)
    rows = [(url, f"Page {n}") for n, url in enumerate(urls)]
    response = client.post(ADD, new_practice(**sources(*rows)))
    assert response.status_code == 302
    practice = Practice.objects.get(slug="export-desk")
    assert practice.attribution == expected
    # Still one version, the record's first, by its author.
    version = practice.history.get()
    assert (version.history_type, version.history_user) == ("+", editor)
    assert version.attribution == expected


def test_a_written_attribution_is_kept(client, editor):
    client.force_login(editor)
    data = new_practice(attribution="Our own line.", **sources((INTERREG, "Page")))
    client.post(ADD, data)
    assert Practice.objects.get(slug="export-desk").attribution == "Our own line."


def test_emptying_it_later_writes_it_again_from_the_saved_sources(client, editor):
    client.force_login(editor)
    practice = make_practice(status=Status.DRAFT, sources=[REGION])
    page = client.get(change_url(practice))
    assert "Left empty, it is written from the sources when you save" in page.text
    client.post(change_url(practice), form_data(practice, attribution=""))
    assert Practice.objects.get(pk=practice.pk).attribution.endswith(
        "imprese.regione.emilia-romagna.it. See each source for its terms of reuse."
    )


# --- the slug's help ------------------------------------------------------------------


def test_the_slug_help_shows_the_real_address(admin_client):
    practice = make_practice(slug="export-desk")
    text = admin_client.get(change_url(practice)).text
    assert "Its page's address: <code>/practices/export-desk/</code>." in text
    assert "/practices//" not in text
    add = admin_client.get(ADD).text
    assert "<code>/practices/&lt;slug&gt;/</code>" in add
    assert "<code>/practices/export-vouchers/</code>" in add
    brief = make_brief(slug="green-exports")
    text = admin_client.get(brief_change_url(brief)).text
    assert "<code>/briefs/green-exports/</code>" in text


# --- the work queue -------------------------------------------------------------------


def queue(response):
    """{(table caption, label): (count, link)} of the index's work queue."""
    block = re.search(r'<div class="module work-queue".*?</div>', response.text, re.S)
    rows = {}
    for caption, table in re.findall(
        r"<caption>(.*?)</caption>(.*?)</table>", block.group(0), re.S
    ):
        for link, label, count in re.findall(
            r'<th scope="row"><a href="([^"]+)">([^<]+)</a></th>\s*<td>(\d+)</td>',
            table,
        ):
            rows[caption, label] = (int(count), unescape(link))
    return rows


def fill_the_queues(n):
    """n practices in each queue (a published one for each of the last two)."""
    today = timezone.localdate()
    for _ in range(n):
        make_practice(status=Status.DRAFT)
        make_practice(status=Status.IN_REVIEW)
        make_practice(review_by=today - timedelta(days=1))
        broken = make_practice(sources=[f"https://example.org/gone-{_}-{n}"])
        url = PracticeSource.objects.get(practice=broken).url
        LinkCheck.objects.create(url=url, checked_at=timezone.now(), ok=False)
    make_practice(review_by=today)  # due today: not overdue yet
    make_brief(status=Status.DRAFT)


def test_the_index_shows_the_work_queue_with_counts_and_links(client, reviewer):
    fill_the_queues(2)
    client.force_login(reviewer)
    rows = queue(client.get(reverse("admin:index")))
    practices = {
        label: value
        for (caption, label), value in rows.items()
        if caption == "Practices"
    }
    assert {label: count for label, (count, _) in practices.items()} == {
        "Drafts": 2,
        "In review": 2,
        "Review overdue": 2,
        "Broken source links": 2,
        # The published ones of the last two queues, and the one due today.
        "Published, not graded": 5,
    }
    assert practices["Drafts"][1] == f"{CHANGELIST}?status__exact=draft"
    assert practices["Review overdue"][1] == f"{CHANGELIST}?review=due"
    assert practices["Broken source links"][1] == f"{CHANGELIST}?links=broken"
    assert rows["Briefs", "Drafts"][0] == 1
    # Each count is what its filtered list holds.
    for count, link in practices.values():
        assert client.get(link).context["cl"].result_count == count


def test_the_work_queue_costs_the_same_queries_however_long_it_is(client, reviewer):
    client.force_login(reviewer)
    fill_the_queues(1)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("admin:index"))
    fill_the_queues(5)
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("admin:index"))
    assert queue(response)["Practices", "Drafts"][0] == 6
    assert len(many) == len(few)


def test_staff_who_see_no_practices_see_no_queue(client):
    client.force_login(make_user())
    assert "work-queue" not in client.get(reverse("admin:index")).text
