"""The security headers as a real browser reads them: Chromium logs an error to the
console for every Content-Security-Policy violation (an inline style or script the
policy refuses) and for every Permissions-Policy feature it does not know. Each
page type must load with neither."""

import pytest

PAGES = [
    ("home", "/", 200),
    ("practice-list", "/practices/?country=IT&q=export", 200),
    ("practice", "/practices/go4export-interactive-development/", 200),
    ("brief", "/briefs/internationalisation-of-smes/", 200),
    (
        "compare",
        "/practices/compare/?p=export-consortia&p=go4export-interactive-development",
        200,
    ),
    ("country", "/countries/it/", 200),
    ("accessibility", "/accessibility/", 200),
    ("not-found", "/practices/no-such-practice/", 404),
    ("admin-login", "/admin/login/", 200),
]


@pytest.mark.parametrize(
    ("name", "path", "status"), PAGES, ids=[name for name, _, _ in PAGES]
)
def test_page_loads_without_policy_errors(page, site, name, path, status):
    messages = []
    page.on(
        "console",
        lambda message: (
            messages.append(message.text)
            if message.type in ("error", "warning")
            else None
        ),
    )
    page.on("pageerror", lambda error: messages.append(str(error)))
    response = page.goto(site + path)
    page.wait_for_load_state("load")
    assert response.status == status
    assert response.headers["content-security-policy"]
    assert response.headers["permissions-policy"]
    # Chromium reports an error status of the page itself (the 404) too.
    expected = f"the server responded with a status of {status} "
    problems = [m for m in messages if status == 200 or expected not in m]
    assert not problems, f"{path}:\n" + "\n".join(problems)


def test_admin_scripts_run_under_the_nonce_policy(page, site):
    """The admin's scripts load from our origin with the per-request nonce: its
    theme script runs (it sets data-theme on <html>), so the policy lets it."""
    messages = []
    page.on("console", lambda message: messages.append(message.text))
    page.goto(site + "/admin/login/")
    page.wait_for_load_state("load")
    assert page.evaluate("document.documentElement.dataset.theme") == "auto"
    assert not [m for m in messages if "Content Security Policy" in m], messages
