"""The sign-up form on the follow page, and the confirmation and unsubscribe links:
every mistake, forgery, repetition and excess gets a clear page and a 4xx."""

import re
import time
from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.utils import timezone

from alerts.models import Alert
from alerts.tokens import CONFIRM, UNSUBSCRIBE
from alerts.views import DUPLICATE
from tests.alerts.conftest import ADDRESS, link_paths, make_alert, sign_up
from tests.factories import make_theme
from tests.test_security import assert_security_headers

pytestmark = pytest.mark.django_db


def one_h1(response):
    return len(re.findall(r"<h1[\s>]", response.text)) == 1


# --- The form ----------------------------------------------------------------------


def test_the_follow_page_holds_the_form_and_stays_cacheable(client, italy, settings):
    settings.PAGE_CACHE_SECONDS = 600
    response = client.get("/follow/", {"country": "IT", "page": "2"})
    assert response.status_code == 200
    page = response.text
    assert '<section id="email"' in page
    assert '<h2 id="email-heading">Get new matches by e-mail</h2>' in page
    assert 'action="/alerts/?country=IT#email"' in page
    assert 'autocomplete="email"' in page
    assert '<label for="alert-email">Your e-mail address</label>' in page
    assert 'aria-describedby="alert-email_helptext"' in page
    assert "<legend>How often</legend>" in page
    assert 'value="weekly" required id="alert-frequency_0" checked' in page
    assert "csrfmiddlewaretoken" not in page
    assert response["X-Page-Cache"] == "miss"  # stored: nothing personal on it
    assert client.get("/follow/?country=IT&page=2")["X-Page-Cache"] == "hit"


@pytest.mark.parametrize("path", ["/practices/?country=IT&page=1", "/countries/it/"])
def test_every_list_links_to_the_sign_up(client, italy, path):
    page = client.get(path).text
    assert '<a href="/follow/?country=IT#email">Get new matches by e-mail</a>' in page


def test_a_get_of_the_sign_up_address_leads_to_the_form(client):
    response = client.get("/alerts/?country=IT")
    assert response.status_code == 302
    assert response["Location"] == "/follow/?country=IT#email"


def test_the_sign_up_stores_the_normalised_list(client, italy):
    theme = make_theme(slug="new-markets", name="New markets")
    query = f"theme={theme.slug}&per_page=50&country=it&sort=newest&q=+vouchers+"
    assert sign_up(client, query=query, email="  Ada@Example.ORG ").status_code == 302
    alert = Alert.objects.get()
    # The form's order, the search trimmed, codes in capitals; no paging or sort.
    assert alert.query == "q=vouchers&country=IT&theme=new-markets"
    assert alert.email == "ada@example.org"


# --- Bad input: a clear message and a 4xx ------------------------------------------


EMAIL_FIELD, FIRST_RADIO = "alert-email", "alert-frequency_0"


@pytest.mark.parametrize(
    ("data", "message", "field"),
    [
        (
            {"email": "not-an-address", "frequency": "weekly"},
            "Enter an e-mail address such as name@example.org.",
            EMAIL_FIELD,
        ),
        (
            {"email": "", "frequency": "weekly"},
            "Enter your e-mail address.",
            EMAIL_FIELD,
        ),
        ({"email": ADDRESS}, "Choose how often: weekly or monthly.", FIRST_RADIO),
        (
            {"email": ADDRESS, "frequency": "daily"},
            "Choose how often: weekly or monthly.",
            FIRST_RADIO,
        ),
        (
            {"email": f"{'a' * 250}@example.org", "frequency": "weekly"},
            "An e-mail address has at most 254 characters (this one has 262).",
            EMAIL_FIELD,
        ),
    ],
)
def test_an_invalid_form_answers_400_with_the_message_on_the_form(
    client, italy, data, message, field
):
    response = client.post("/alerts/?country=IT", data)
    assert response.status_code == 400
    page = response.text
    assert "There is a problem with your sign-up" in page
    assert 'role="alert"' in page
    assert f'<li><a href="#{field}">{message}</a></li>' in page  # the summary
    assert f'id="{field}"' in page
    assert 'aria-invalid="true"' in page
    assert one_h1(response)
    assert not Alert.objects.exists()
    assert not mail.outbox


def test_invalid_filters_answer_400_saying_so(client, italy):
    response = sign_up(client, query="country=ZZ")
    assert response.status_code == 400
    assert "Some filter values are not valid" in response.text
    assert "Country: Select a valid choice." in response.text
    assert not Alert.objects.exists()


def test_a_huge_request_is_refused_before_the_view(client, italy):
    response = client.post(
        "/alerts/?country=IT", {"email": "a" * 3_000_000, "frequency": "weekly"}
    )
    assert response.status_code == 413
    assert not Alert.objects.exists()


def test_a_sign_up_sent_by_another_site_is_refused(client, italy):
    response = sign_up(client, headers={"sec-fetch-site": "cross-site"})
    assert response.status_code == 403
    assert "only be set up from this site's own pages" in response.text
    response = sign_up(client, headers={"origin": "https://elsewhere.example"})
    assert response.status_code == 403
    assert not Alert.objects.exists()


def test_a_repeated_sign_up_answers_409_and_sends_nothing(client, italy):
    assert sign_up(client).status_code == 302
    for _ in range(2):  # waiting for confirmation, then running
        again = sign_up(client, email=ADDRESS.upper())
        assert again.status_code == 409
        assert DUPLICATE in again.text.replace("&#x27;", "'")
        assert one_h1(again)
        Alert.objects.update(confirmed_at=timezone.now())
    assert len(mail.outbox) == 1
    # Another frequency of the same list is another alert.
    assert sign_up(client, frequency="monthly").status_code == 302


def test_a_lapsed_sign_up_can_be_made_again(client, italy, settings):
    assert sign_up(client).status_code == 302
    Alert.objects.update(created_at=timezone.now() - timedelta(days=8))
    assert sign_up(client).status_code == 302
    assert Alert.objects.count() == 1  # the lapsed one is gone
    assert len(mail.outbox) == 2


def test_one_address_has_at_most_the_limit_of_alerts(client, italy, settings):
    settings.ALERT_MAX_PER_ADDRESS = 2
    assert sign_up(client, query="country=IT").status_code == 302
    assert sign_up(client, query="").status_code == 302
    refused = sign_up(client, query="country=IT", frequency="monthly")
    assert refused.status_code == 429
    assert "This address already has 2 alerts" in refused.text
    assert sign_up(client, email="someone.else@example.org").status_code == 302
    Alert.objects.filter(query="").update(unsubscribed_at=timezone.now(), email="")
    assert sign_up(client, frequency="monthly").status_code == 302


def test_one_client_address_has_an_hourly_limit(client, italy, settings):
    settings.ALERT_SIGNUPS_PER_CLIENT_HOURLY = 2
    moment = timezone.make_aware(timezone.datetime(2026, 12, 7, 10, 45))
    with mock.patch("django.utils.timezone.now", return_value=moment):
        # Mistakes do not count; each valid try does, even a refused one.
        assert sign_up(client, email="nope").status_code == 400
        assert sign_up(client, email="a@example.org").status_code == 302
        assert sign_up(client, email="a@example.org").status_code == 409
        refused = sign_up(client, email="b@example.org")
        assert refused.status_code == 429
        assert refused["Retry-After"] == "900"  # to the next clock hour
        assert "has set up 2 alerts within this hour" in refused.text
        assert "try again in 15 minutes" in refused.text
        assert one_h1(refused)
        assert_security_headers(refused, "alert sign-up 429")
        other = sign_up(client, email="b@example.org", REMOTE_ADDR="203.0.113.9")
        assert other.status_code == 302
    assert Alert.objects.count() == 2


def test_a_confirmation_mail_that_cannot_be_sent_answers_503(
    client, italy, smtp_server
):
    smtp_server.refused.add(ADDRESS)
    response = sign_up(client)
    assert response.status_code == 503
    assert response["Retry-After"] == "300"
    assert "could not send the confirmation e-mail" in response.text
    assert not Alert.objects.exists()


# --- The confirmation link -----------------------------------------------------------


def confirm_path(alert):
    return f"/alerts/confirm/{CONFIRM.sign(str(alert.pk))}/"


@pytest.fixture
def pending(db):
    return Alert.objects.create(email=ADDRESS, query="country=IT", frequency="monthly")


def test_confirming_twice_is_friendly(client, italy, pending):
    first = client.get(confirm_path(pending))
    assert first.status_code == 200
    assert "your alert is on" in first.text
    assert "by e-mail, monthly" in first.text
    assert "no-store" in first["Cache-Control"]
    assert '<meta name="robots" content="noindex">' in first.text
    assert 'rel="canonical"' not in first.text
    again = client.get(confirm_path(pending))
    assert again.status_code == 200
    assert "This alert was confirmed already" in again.text


def test_a_forged_link_answers_400(client, pending):
    token = CONFIRM.sign(str(pending.pk))
    for forged in [token[:-2] + "xx", f"{pending.pk}", "garbage", "1:2:3"]:
        response = client.get(f"/alerts/confirm/{forged}/")
        assert response.status_code == 400, forged
        assert "This link is not valid" in response.text
        assert one_h1(response)
    # Another purpose's signature does not confirm.
    unsubscribe_token = UNSUBSCRIBE.sign(str(pending.pk))
    assert client.get(f"/alerts/confirm/{unsubscribe_token}/").status_code == 400
    pending.refresh_from_db()
    assert pending.confirmed_at is None


def test_an_expired_link_answers_410_with_a_way_to_sign_up_again(client, pending):
    eight_days_ago = time.time() - 8 * 86400
    with mock.patch("django.core.signing.time.time", return_value=eight_days_ago):
        path = confirm_path(pending)
    response = client.get(path)
    assert response.status_code == 410
    assert "This confirmation link has expired" in response.text
    assert 'href="/follow/?country=IT#email">Sign up again</a>' in response.text
    pending.refresh_from_db()
    assert pending.confirmed_at is None


def test_a_link_to_a_deleted_or_unsubscribed_alert_answers_410(client, pending):
    path = confirm_path(pending)
    Alert.objects.update(unsubscribed_at=timezone.now(), email="")
    assert client.get(path).status_code == 410
    Alert.objects.all().delete()
    response = client.get(path)
    assert response.status_code == 410
    assert "This link no longer works" in response.text


# --- The unsubscribe link ------------------------------------------------------------


def test_a_get_only_asks_and_the_button_unsubscribes(client, italy):
    alert = make_alert()
    path = f"/alerts/unsubscribe/{UNSUBSCRIBE.sign(str(alert.pk))}/"
    asked = client.get(path)
    assert asked.status_code == 200
    assert "Stop the e-mails with the practices matching" in asked.text
    assert "<strong>Country: Italy</strong>, sent weekly?" in asked.text
    assert '<form method="post">' in asked.text
    assert ADDRESS not in asked.text
    alert.refresh_from_db()
    assert alert.unsubscribed_at is None  # a mail scanner's GET changes nothing

    done = client.post(path)  # the page's button: no CSRF token needed
    assert done.status_code == 200
    assert "You are unsubscribed" in done.text
    assert 'href="/follow/?country=IT#email">Sign up again</a>' in done.text
    alert.refresh_from_db()
    assert (alert.email, alert.unsubscribed_at is not None) == ("", True)
    unsubscribed_at = alert.unsubscribed_at
    assert client.post(path).status_code == 200  # again: nothing changes
    assert client.get(path).status_code == 200
    alert.refresh_from_db()
    assert alert.unsubscribed_at == unsubscribed_at


def test_a_forged_unsubscribe_link_answers_400(client):
    alert = make_alert()
    for method in (client.get, client.post):
        response = method(f"/alerts/unsubscribe/{alert.pk}:forged/")
        assert response.status_code == 400
        assert "This link is not valid" in response.text
    alert.refresh_from_db()
    assert alert.unsubscribed_at is None


def test_the_confirmation_mail_links_back_and_says_what_it_is(client, italy):
    sign_up(client, frequency="monthly")
    (message,) = mail.outbox
    assert "matching Country: Italy, monthly" in message.body
    assert "open this link within 7 days" in message.body
    assert "https://atlas.example.org/practices/?country=IT" in message.body
    assert len(link_paths(message.body)) == 1
