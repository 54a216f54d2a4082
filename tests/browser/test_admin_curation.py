"""The curator's admin in a real browser (issue 20, item 9): the admin index with
its work queue, and a practice's change form refused with errors, whose summary
takes the focus and leads to each field. axe-core checks the index whole, and on
the change form what this project adds (the summary and the workflow panels):
the rest of that form is Django's own (its autocomplete widgets and inline
tables), not ours to change. No Content-Security-Policy error on either."""

import json

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission, User
from django.test import Client
from playwright.sync_api import expect

from practices.models import CatalogueVersion, Practice
from tests.browser.test_accessibility import AXE_OPTIONS, describe_violations, run_axe

ADMIN = "/" + settings.ADMIN_PATH
PERMISSIONS = [
    *(f"{action}_practice" for action in ("view", "change", "submit", "publish")),
    "view_brief",
    "view_practicesource",
    "change_practicesource",
]


@pytest.fixture
def reviewer_page(page, site):
    """Chromium signed in as a reviewer (through the session cookie) and
    collecting the console's errors and warnings."""
    # Permissions, not the Reviewers group: tests that flush the database run
    # before the browser tests and remove the groups its migration made.
    user, _ = User.objects.get_or_create(username="browser-reviewer", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=PERMISSIONS))
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": site}]
    )
    page.console_problems = []
    page.on(
        "console",
        lambda message: (
            page.console_problems.append(message.text)
            if message.type in ("error", "warning")
            else None
        ),
    )
    return page


def violations(page, *selectors):
    """axe-core's violations on the page, or only inside `selectors`, described."""
    found = page.evaluate(
        """([options, selectors]) => axe.run(
             selectors.length ? {include: selectors.map((s) => [s])} : document,
             options)""",
        [AXE_OPTIONS, list(selectors)],
    )["violations"]
    return describe_violations(found) if found else ""


@pytest.mark.parametrize("width", [375, 1280])
def test_the_index_shows_the_work_queue_accessibly(reviewer_page, site, width):
    page = reviewer_page
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(site + ADMIN)
    queue = page.locator("#work-queue")
    assert queue.get_by_role("link", name="Broken source links").is_visible()
    run_axe(page)  # loads axe-core
    assert not (problems := violations(page)), problems
    assert not page.console_problems, page.console_problems


@pytest.mark.parametrize("width", [375, 1280])
def test_a_refused_form_opens_on_its_error_summary(reviewer_page, site, width):
    page = reviewer_page
    page.set_viewport_size({"width": width, "height": 900})
    practice = Practice.objects.get(slug="export-consortia")
    page.goto(f"{site}{ADMIN}practices/practice/{practice.pk}/change/")
    page.fill("#id_title", "")
    page.locator('input[name="_save"]').first.click()
    # The summary has the focus, so a screen reader starts there. (Waits for the
    # answer: the click only starts the navigation.)
    expect(page.locator("#error-summary")).to_be_focused()
    summary = page.locator("#error-summary")
    assert summary.get_by_role("heading").inner_text().startswith("1 problem")
    run_axe(page)
    assert not (problems := violations(page, "#error-summary", ".workflow")), problems
    summary.get_by_role("link", name="Title: This field is required.").click()
    assert page.evaluate("document.activeElement.id") == "id_title"
    assert not page.console_problems, page.console_problems


@pytest.mark.parametrize("width", [375, 1280])
def test_the_import_page_checks_then_imports_the_same_file(reviewer_page, site, width):
    """The import page in the admin's layout: a post without a file opens on the
    error summary; a dry run's report ends with "Import these N practices", which
    imports the file checked (new practices as drafts) without choosing it again.
    axe-core is clean on each state."""
    page = reviewer_page
    User.objects.get(username="browser-reviewer").user_permissions.add(
        Permission.objects.get(codename="add_practice")
    )
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{site}{ADMIN}practices/practice/import/")
    run_axe(page)
    assert not (problems := violations(page)), problems
    page.uncheck("#id_dry_run")
    page.get_by_role("button", name="Check or import").click()
    expect(page.locator("#error-summary")).to_be_focused()
    run_axe(page)
    assert not (problems := violations(page)), problems
    page.get_by_role("link", name="File: Choose a CSV or JSON file to import.").click()
    assert page.evaluate("document.activeElement.id") == "id_file"

    slug = f"browser-import-{width}"
    record = {"slug": slug, "title": "Imported", "summary": "S.", "attribution": "A."}
    data = json.dumps([{**record, "status": "published"}]).encode()
    page.set_input_files(
        "#id_file",
        files=[{"name": "p.json", "mimeType": "application/json", "buffer": data}],
    )
    page.check("#id_dry_run")
    page.get_by_role("button", name="Check or import").click()
    import_it = page.get_by_role("button", name="Import this 1 practice")
    expect(import_it).to_be_visible()  # the report has come
    run_axe(page)
    assert not (problems := violations(page)), problems
    try:
        import_it.click()
        expect(page.get_by_role("link", name=slug)).to_be_visible()
        assert Practice.objects.get(slug=slug).status == "draft"
        run_axe(page)
        assert not (problems := violations(page)), problems
    finally:
        Practice.objects.filter(slug=slug).delete()
        CatalogueVersion.bump()
    # The refused post answers 400 on purpose, which Chromium logs; nothing else.
    assert page.console_problems == [
        "Failed to load resource: the server responded with a status of 400 "
        "(Bad Request)"
    ]
