"""The e-mail alert in a browser: from a list to the sign-up form, a mistake
announced and fixed, "check your inbox", the confirmation link and unsubscribing,
with axe-core at both widths on each page; and the pages of forged links."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from alerts.models import Alert
from alerts.tokens import UNSUBSCRIBE
from tests.browser.test_accessibility import WIDTHS, describe_violations, run_axe


@pytest.fixture
def no_alerts_left(site):
    """What a test signs up is removed: the live server's rows are shared."""
    yield
    Alert.objects.all().delete()


def assert_accessible(page):
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        violations = run_axe(page)["violations"]
        assert not violations, describe_violations(violations)


def test_sign_up_from_a_list(page, site, no_alerts_left):
    page.goto(f"{site}/practices/?country=IT")
    page.get_by_role("link", name="Get new matches by e-mail").click()
    expect(page).to_have_url(re.compile(r"/follow/\?country=IT#email$"))
    form = page.locator("form.alert-form")
    expect(form.get_by_label("Your e-mail address")).to_be_visible()
    expect(form.get_by_label("Weekly")).to_be_checked()

    form.get_by_label("Your e-mail address").fill("not an address")
    form.get_by_role("button", name="Send me a link to confirm").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Enter an e-mail address such as")
    expect(form.get_by_label("Your e-mail address")).to_have_attribute(
        "aria-invalid", "true"
    )
    assert_accessible(page)

    summary.get_by_role("link").click()  # the summary leads to the field
    expect(form.get_by_label("Your e-mail address")).to_be_focused()
    page.keyboard.press("Control+A")
    page.keyboard.type("reader@example.org")
    form.get_by_label("Monthly").check()
    form.get_by_role("button", name="Send me a link to confirm").click()
    expect(page.locator("h1")).to_have_text("Check your inbox")
    assert_accessible(page)
    alert = Alert.objects.get()
    assert alert.frequency == "monthly"
    confirmation = mail.outbox[-1]
    assert confirmation.to == ["reader@example.org"]

    (link,) = re.findall(r"http\S+/alerts/confirm/\S+/", confirmation.body)
    page.goto(link)
    expect(page.locator("h1")).to_have_text("Alert confirmed")
    assert_accessible(page)

    page.goto(f"{site}/alerts/unsubscribe/{UNSUBSCRIBE.sign(str(alert.pk))}/")
    expect(page.locator("h1")).to_have_text("Unsubscribe")
    assert_accessible(page)
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.locator("h1")).to_have_text("Unsubscribed")
    alert.refresh_from_db()
    assert alert.unsubscribed_at is not None


@pytest.mark.parametrize(
    ("path", "heading"),
    [
        ("/alerts/confirm/1:forged:token/", "Link not valid"),
        ("/alerts/unsubscribe/1:forged/", "Link not valid"),
    ],
)
def test_the_link_pages_are_accessible(page, site, path, heading):
    response = page.goto(site + path)
    assert response.status == 400
    expect(page.locator("h1")).to_have_text(heading)
    assert_accessible(page)
