"""Open data in the practice admin (opendata/admin.py): the import page, which
runs the code path of manage.py import_practices and shows its report, and the
"export selected" actions."""

import csv
import io
import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from opendata import admin as opendata_admin
from opendata.import_files import MAX_SHOWN
from opendata.models import KEPT_FOR, CheckedFile
from practices.models import Practice, Status
from tests.factories import make_instrument, make_practice, make_theme, make_user
from tests.test_security import assert_security_headers

pytestmark = pytest.mark.django_db

IMPORT = reverse("admin:practices_practice_import")
CHANGELIST = reverse("admin:practices_practice_changelist")


def upload(records, name="practices.json"):
    lines = ",\n".join(json.dumps(r) for r in records)
    data = f'{{"metadata": {{}},\n"practices": [\n{lines}\n]}}\n'.encode()
    return SimpleUploadedFile(name, data, content_type="application/json")


def record(slug, **changes):
    return {
        "slug": slug,
        "title": slug.capitalize(),
        "summary": "A practice.",
        "attribution": "Ours.",
        **changes,
    }


def publishable(slug, **changes):
    """A published record with what the publishing gate asks for."""
    return record(
        slug,
        status="published",
        published_on="2026-01-01",
        level="regional",
        themes=[make_theme().slug],
        instruments=[make_instrument().slug],
        sources=[{"url": "https://example.org/s", "title": "Source"}],
        **changes,
    )


def test_curators_find_the_import_page_from_the_list(client, editor):
    client.force_login(editor)
    assert f'href="{IMPORT}"' in client.get(CHANGELIST).text
    response = client.get(IMPORT)
    assert response.status_code == 200
    text = response.text
    assert text.count("<h1") == 1 and "Import practices" in text
    assert 'enctype="multipart/form-data"' in text
    assert 'name="csrfmiddlewaretoken"' in text
    # The admin's form layout: its labels, help texts and classes.
    assert '<fieldset class="module aligned ">' in text
    assert '<label class="required" for="id_file">File:</label>' in text
    assert 'aria-describedby="id_file_helptext"' in text
    # A dry run unless the curator unticks it; updating only if ticked.
    assert re.search(r'<input type="checkbox" name="dry_run"[^>]* checked>', text)
    update = re.search(r'<input type="checkbox" name="update"[^>]*>', text).group()
    assert "checked" not in update


def test_a_dry_run_shows_the_report_and_writes_nothing(client, reviewer):
    client.force_login(reviewer)
    response = client.post(
        IMPORT, {"file": upload([record("one"), record("two")]), "dry_run": "on"}
    )
    assert response.status_code == 200
    assert response.context["report"].created == ["one", "two"]
    assert "Dry run of practices.json: no problems." in response.text
    assert "<caption>What the import would do</caption>" in response.text
    assert not Practice.objects.exists()


def test_an_import_creates_the_records_and_links_to_them(client, reviewer):
    client.force_login(reviewer)
    data = [publishable("one")]
    response = client.post(IMPORT, {"file": upload(data), "keep_status": "on"})
    assert response.status_code == 200  # dry run unticked
    practice = Practice.objects.get(slug="one")
    assert practice.status == Status.PUBLISHED
    assert "Imported practices.json: 1 created" in response.text
    change = reverse("admin:practices_practice_change", args=[practice.pk])
    assert f'<a href="{change}">one</a>' in response.text
    version = practice.history.get()
    assert version.history_user == reviewer
    assert version.history_change_reason == "Imported from practices.json"


def test_records_that_differ_are_listed_as_skipped_with_the_reason(client, reviewer):
    client.force_login(reviewer)
    make_practice(slug="kept", title="Kept", status=Status.DRAFT)
    data = [record("kept", title="Changed"), record("new")]
    response = client.post(IMPORT, {"file": upload(data), "dry_run": "on"})
    assert response.status_code == 200
    text = response.text
    assert "<h3>To create (1)</h3>" in text and "<h3>Skipped (1)</h3>" in text
    assert "These differ from the catalogue, and curators' edits are kept" in text
    assert Practice.objects.get(slug="kept").title == "Kept"


def test_skipped_and_updated_rows_name_the_fields_that_differ(client, reviewer):
    client.force_login(reviewer)
    make_practice(slug="kept", title="Kept", summary="A practice.", attribution="Ours.")
    data = [record("kept", title="Changed", summary="New.")]
    response = client.post(IMPORT, {"file": upload(data), "dry_run": "on"})
    change = reverse(
        "admin:practices_practice_change", args=[Practice.objects.get().pk]
    )
    assert f'<a href="{change}">kept</a> (differs in title, summary)</li>' in (
        response.text
    )
    response = client.post(
        IMPORT, {"file": upload(data), "dry_run": "on", "update": "on"}
    )
    assert "<h3>To update (1)</h3>" in response.text
    assert "(differs in title, summary)" in response.text


def test_a_dry_run_leads_to_importing_the_same_file(client, reviewer):
    """The file checked is kept (for its curator, under a random token) with the
    options it was checked with; "Import these N" imports it, and it goes."""
    client.force_login(reviewer)
    make_practice(slug="kept", title="Kept", summary="A practice.", attribution="Ours.")
    data = [record("one"), record("kept", title="Changed"), publishable("two")]
    form = {"file": upload(data), "dry_run": "on", "update": "on", "keep_status": "on"}
    response = client.post(IMPORT, form)
    assert response.status_code == 200 and not Practice.objects.filter(slug="one")
    checked = CheckedFile.objects.get()
    assert (checked.user, checked.name) == (reviewer, "practices.json")
    assert len(checked.token) >= 43
    text = response.text
    assert f'<input type="hidden" name="checked" value="{checked.token}">' in text
    assert '<input type="submit" value="Import these 3 practices"' in text
    response = client.post(IMPORT, {"checked": checked.token})
    assert response.status_code == 200
    assert "Imported practices.json: 2 created, 1 updated" in response.text
    assert Practice.objects.get(slug="kept").title == "Changed"  # update kept
    assert Practice.objects.get(slug="two").status == Status.PUBLISHED  # statuses too
    assert not CheckedFile.objects.exists()
    # Used, the button leads to a clear refusal, not a second import.
    again = client.post(IMPORT, {"checked": checked.token})
    assert again.status_code == 400
    assert "is no longer kept" in again.text and 'id="error-summary"' in again.text


def test_a_dry_run_with_nothing_to_write_or_too_much_offers_no_button(
    client, reviewer, monkeypatch
):
    client.force_login(reviewer)
    make_practice(slug="kept", title="Kept", summary="A practice.", attribution="Ours.")
    response = client.post(IMPORT, {"file": upload([record("kept")]), "dry_run": "on"})
    assert 'name="checked"' not in response.text  # only skipped: nothing to import
    monkeypatch.setattr(opendata_admin, "MAX_WRITES", 1)
    data = [record("one"), record("two")]
    response = client.post(IMPORT, {"file": upload(data), "dry_run": "on"})
    assert 'name="checked"' not in response.text
    assert "This page writes at most 1 practices at a time" in response.text
    assert not CheckedFile.objects.exists()


@pytest.mark.parametrize("token", ["", "nonsense", "../../etc/passwd", "expired"])
def test_a_stale_or_unknown_checked_file_is_a_clear_400(client, reviewer, token):
    client.force_login(reviewer)
    client.post(IMPORT, {"file": upload([record("one")]), "dry_run": "on"})
    checked = CheckedFile.objects.get()
    if token == "expired":
        checked.checked_at -= KEPT_FOR
        checked.save()
        token = checked.token
    response = client.post(IMPORT, {"checked": token})
    assert response.status_code == 400
    assert "The file checked in that dry run is no longer kept" in response.text
    assert "choose it again" in response.text
    assert not Practice.objects.exists()
    # An expired file is deleted at the next visit of the page.
    assert CheckedFile.objects.exists() != (token == checked.token)


def test_a_curator_cannot_import_another_s_checked_file(client, reviewer):
    client.force_login(reviewer)
    client.post(IMPORT, {"file": upload([record("one")]), "dry_run": "on"})
    other = make_user(groups=["Reviewers"], username="ruth")
    client.force_login(other)
    response = client.post(IMPORT, {"checked": CheckedFile.objects.get().token})
    assert response.status_code == 400
    assert not Practice.objects.exists()


def test_a_bad_file_shows_every_problem_with_its_line_and_writes_nothing(
    client, reviewer
):
    client.force_login(reviewer)
    data = [record("fine"), record("bad", start_year="abc"), record("x", title="")]
    response = client.post(IMPORT, {"file": upload(data)})
    assert response.status_code == 400
    assert response.context["report"].problem_rows == 2
    text = response.text
    assert "<caption>Problems in practices.json, by line</caption>" in text
    assert '<th scope="col">Line</th>' in text
    assert "<td>4</td>\n                  <td>bad</td>" in text
    assert "start_year &#x27;abc&#x27; is not a year" in text
    assert "<td>5</td>" in text and "title is missing" in text
    assert not Practice.objects.exists()


def test_the_page_lists_the_first_problems_of_each_kind_and_counts_the_rest(
    client, reviewer
):
    client.force_login(reviewer)
    data = [record(f"p{n}", start_year="abc") for n in range(MAX_SHOWN + 2)]
    response = client.post(IMPORT, {"file": upload(data)})
    assert response.status_code == 400
    text = response.text
    count = MAX_SHOWN + 2
    assert f"Nothing was imported: {count} problems in {count} of {count} rows." in text
    assert text.count("is not a year") == MAX_SHOWN
    assert (
        f"<p>… and 2 more problems with start_year (only the first {MAX_SHOWN} are "
        "listed).</p>"
    ) in text


def test_the_page_lists_the_first_practices_of_each_kind_and_counts_the_rest(
    client, reviewer
):
    client.force_login(reviewer)
    data = [record(f"p{n}") for n in range(MAX_SHOWN + 3)]
    response = client.post(IMPORT, {"file": upload(data), "dry_run": "on"})
    assert response.status_code == 200
    text = response.text
    assert f'<th scope="row">To create</th><td>{MAX_SHOWN + 3}</td>' in text
    assert f"<h3>To create ({MAX_SHOWN + 3})</h3>" in text
    assert text.count("<li>p") == MAX_SHOWN
    assert f"<p>… and 3 more (only the first {MAX_SHOWN} are listed).</p>" in text


def test_an_editor_may_not_keep_the_file_s_statuses(client, editor):
    """Keeping the statuses is offered only to those who may publish; asked for
    anyway, it is not granted: the rows become drafts."""
    client.force_login(editor)
    assert 'name="keep_status"' not in client.get(IMPORT).text
    data = [record("one", status="published", published_on="2026-01-01")]
    response = client.post(IMPORT, {"file": upload(data), "keep_status": "on"})
    assert response.status_code == 200
    practice = Practice.objects.get(slug="one")
    assert (practice.status, practice.published_on) == (Status.DRAFT, None)


def test_a_file_that_is_too_big_or_missing_is_a_form_error(client, reviewer, settings):
    client.force_login(reviewer)
    settings.IMPORT_MAX_FILE_SIZE = 10
    response = client.post(IMPORT, {"file": upload([record("one")])})
    assert response.status_code == 400
    assert "The file is larger than 10\xa0bytes, the most this page takes" in (
        response.text
    )
    missing = client.post(IMPORT, {})
    assert missing.status_code == 400
    # The admin's error summary, linked to the field.
    summary = re.search(r'<div [^>]*id="error-summary".*?</div>', missing.text, re.S)
    assert "1 problem to correct</h2>" in summary.group()
    assert '<a href="#id_file">File: Choose a CSV or JSON file to import.</a>' in (
        summary.group()
    )
    assert not Practice.objects.exists()


def test_a_file_of_the_size_the_page_promises_is_imported(client, reviewer, settings):
    """The request-size limit (config/security.py) leaves room for the page's file:
    one of exactly IMPORT_MAX_FILE_SIZE bytes, with the form's other fields."""
    client.force_login(reviewer)
    assert settings.IMPORT_MAX_FILE_SIZE > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    text = upload([record("one")]).read()
    data = text + b" " * (settings.IMPORT_MAX_FILE_SIZE - len(text))
    file = SimpleUploadedFile("large.json", data, content_type="application/json")
    assert "at most 10.0\xa0MB" in client.get(IMPORT).text
    response = client.post(IMPORT, {"file": file, "dry_run": "on"})
    assert response.status_code == 200
    assert response.context["report"].created == ["one"]


def test_a_bigger_upload_gets_the_admin_s_page_with_the_limit(client, settings):
    """Refused before the body is read, so before sign-in is checked: the page says
    no more than the import page does, in the admin's own layout."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE, settings.IMPORT_MAX_FILE_SIZE = 1000, 2000
    data = b" " * 3001
    response = client.post(IMPORT, {"file": SimpleUploadedFile("big.json", data)})
    assert response.status_code == 413
    assert response["Content-Type"] == "text/html; charset=utf-8"
    text = response.text
    assert text.count("<h1") == 1 and "<h1>File too large</h1>" in text
    assert "Practice Atlas curation" in text  # the admin's header
    assert "takes files of at most 2.0\xa0KB" in text
    assert "<code>manage.py import_practices</code>" in text
    assert f'<a href="{IMPORT}">Back to the import page</a>' in text
    assert_security_headers(response, "413 on the import page")
    assert not Practice.objects.exists()
    # Elsewhere the usual limit, and its plain refusal, still apply.
    file = SimpleUploadedFile("big.json", data)
    elsewhere = client.post(reverse("admin:login"), {"file": file})
    assert elsewhere.status_code == 413
    assert elsewhere["Content-Type"] == "text/plain; charset=utf-8"


def test_the_page_writes_a_bounded_number_of_practices_at_a_time(
    client, reviewer, monkeypatch
):
    """So that an import finishes within a web request; the command has no bound.
    A dry run checks the whole file whatever its size."""
    client.force_login(reviewer)
    monkeypatch.setattr(opendata_admin, "MAX_WRITES", 2)
    three = [record("one"), record("two"), record("three")]
    checked = client.post(IMPORT, {"file": upload(three), "dry_run": "on"})
    assert checked.status_code == 200
    assert checked.context["report"].created == ["one", "two", "three"]
    refused = client.post(IMPORT, {"file": upload(three)})
    assert refused.status_code == 400
    assert "would create or update 3 practices, and at most 2" in refused.text
    assert "manage.py import_practices" in refused.text
    assert not Practice.objects.exists()
    assert client.post(IMPORT, {"file": upload(three[:2])}).status_code == 200
    assert Practice.objects.count() == 2


def test_staff_without_permission_get_403_and_others_the_login_page(client):
    client.force_login(make_user())  # staff, in no group
    assert client.get(IMPORT).status_code == 403
    assert client.post(IMPORT, {"file": upload([record("one")])}).status_code == 403
    assert not Practice.objects.exists()
    client.force_login(make_user(is_staff=False))
    response = client.get(IMPORT)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


# --- export selected ------------------------------------------------------------------


def exported(response):
    assert response.status_code == 200
    return b"".join(response.streaming_content).decode()


def test_export_selected_gives_exactly_the_selection_whatever_its_status(
    client, editor
):
    client.force_login(editor)
    draft = make_practice(slug="draft", title="B draft", status=Status.DRAFT)
    published = make_practice(slug="published", title="A published")
    make_practice(slug="not-selected", title="C")
    selected = [draft.pk, published.pk]
    response = client.post(
        CHANGELIST, {"action": "export_csv", "_selected_action": selected}
    )
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(exported(response))))
    assert [(r["slug"], r["status"]) for r in rows] == [
        ("published", "published"),
        ("draft", "draft"),
    ]
    response = client.post(
        CHANGELIST, {"action": "export_json", "_selected_action": selected}
    )
    document = json.loads(exported(response))
    assert [r["slug"] for r in document["practices"]] == ["published", "draft"]
    assert document["metadata"]["count"] == 2
    assert document["metadata"]["selection"] == "admin"
