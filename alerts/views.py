"""E-mail alerts without an account: the sign-up (the form on the follow page),
the confirmation link (double opt-in) and the unsubscribe link. Every answer is a
page that says what happened and what to do; bad input gets a 4xx, never a 500.
No page shows an e-mail address, except the sign-up form giving back what its
sender typed."""

import logging
import math
import smtplib
from urllib.parse import urlencode

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpResponseForbidden
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from config.rate_limits import count_this_hour
from config.security import is_cross_site
from opendata.discovery import filtered_path, with_query
from opendata.views import follow_context
from practices.caching import catalogue_version
from practices.listing import list_practices

from . import mail
from .forms import AlertForm
from .mail import follow_links
from .models import Alert
from .tokens import CONFIRM, UNSUBSCRIBE, Link

logger = logging.getLogger(__name__)

PAGE = "alerts/alert_page.html"


def alert_query(listing):
    """The list's filters in effect as a query string, in a fixed order (no page,
    page size or sort): the same list always reads the same, for the unique
    constraint, and list_practices reads it back when a digest is made."""
    return urlencode(listing.chosen, doseq=True)


def page(request, state, title, status=200, **context):
    """One of the alert pages (alerts/alert_page.html), `state` saying which."""
    context = {
        "state": state,
        "title": title,
        "days": settings.ALERT_CONFIRMATION_DAYS,
        **context,
    }
    return TemplateResponse(request, PAGE, context, status=status)


# No CSRF token: the follow page that holds the form is cached for everyone
# (practices.caching.public_page), and a token would make it personal. A forged
# sign-up gains an attacker nothing: it acts for no session or account, the same
# form can be posted directly, and double opt-in sends nothing to an address whose
# owner did not confirm. As for the comparison, a request the browser marks as sent
# by another site is refused: other sites cannot spread sign-ups over their
# visitors' addresses to get round the per-client limit.
@method_decorator(csrf_exempt, name="dispatch")
class AlertSignupView(View):
    """POST /alerts/?<the list's query string>: an address and a frequency; sends
    the confirmation mail and redirects to the "check your inbox" page."""

    http_method_names = ["get", "head", "post"]

    def get(self, request):
        return redirect(filtered_path("opendata:follow", request.GET) + "#email")

    def post(self, request):
        if is_cross_site(request):
            return HttpResponseForbidden(
                "E-mail alerts can only be set up from this site's own pages."
            )
        listing = list_practices(request.GET, version=catalogue_version(request))
        form = AlertForm(request.POST)
        if not listing.valid or not form.is_valid():
            return self.follow_page(listing, form, status=400)
        # Counted once the form is valid: mistakes cost nothing, but each try at an
        # address (the answers below say whether it has this alert) counts.
        signups, rest_of_hour = count_this_hour(request, "alert-signups")
        limit = settings.ALERT_SIGNUPS_PER_CLIENT_HOURLY
        if signups > limit:
            response = page(
                request,
                "refused",
                "Alert not set up",
                429,
                limit=limit,
                minutes=math.ceil(rest_of_hour / 60),
                follow_url=follow_links(alert_query(listing))["follow_url"],
            )
            response["Retry-After"] = str(rest_of_hour)
            return response
        email, frequency = form.cleaned_data["email"], form.cleaned_data["frequency"]
        query = alert_query(listing)
        Alert.objects.lapsed().filter(email=email).delete()  # their links expired
        if refusal := self.refusal(email, query, frequency):
            message, status = refusal
            form.add_error(None, message)
            return self.follow_page(listing, form, status=status)
        try:
            with transaction.atomic():
                alert = Alert.objects.create(
                    email=email, query=query, frequency=frequency
                )
        except IntegrityError:  # the same sign-up, sent twice at once
            form.add_error(None, DUPLICATE)
            return self.follow_page(listing, form, status=409)
        try:
            mail.confirmation(alert, listing, request).send()
        except (smtplib.SMTPException, OSError) as error:
            alert.delete()
            # The error's text may hold the address: only its kind is logged.
            logger.error(
                "An alert's confirmation mail failed: %s", type(error).__name__
            )
            response = page(request, "not-sent", "Alert not set up", 503)
            response["Retry-After"] = "300"
            return response
        return redirect(with_query(reverse("alerts:requested"), query))

    def refusal(self, email, query, frequency):
        """(message, status) when this address may not have this alert now. The
        message says something only about the address the sender typed, as little
        as makes it clear (that it has this alert, pending or active, not which;
        or that it has as many as allowed): nothing about other lists or other
        addresses, and no mail goes to the address. Each try counts against the
        sender's hourly limit, which keeps anyone from probing many addresses."""
        alerts = Alert.objects.open().filter(email=email)
        if alerts.filter(query=query, frequency=frequency).exists():
            return DUPLICATE, 409
        if alerts.count() >= settings.ALERT_MAX_PER_ADDRESS:
            return (
                f"This address already has {settings.ALERT_MAX_PER_ADDRESS} alerts, "
                "as many as one address may have. To set up this one, unsubscribe "
                "from another first (every e-mail has the link), or wait until an "
                f"unconfirmed one lapses ({settings.ALERT_CONFIRMATION_DAYS} days "
                "after it was asked for).",
                429,
            )
        return None

    def follow_page(self, listing, form, status):
        context = {**follow_context(self.request, listing), "alert_form": form}
        return TemplateResponse(
            self.request, "opendata/follow.html", context, status=status
        )


DUPLICATE = (
    "This address already has this alert, at this frequency: it is waiting for "
    "confirmation or already running. Look in that inbox (and its spam folder) for "
    "our e-mail: the confirmation link, or a digest with a link to unsubscribe."
)


class AlertRequestedView(View):
    """After a sign-up: check your inbox. Says nothing about the address."""

    http_method_names = ["get", "head"]

    def get(self, request):
        query = request.GET.urlencode()
        return page(request, "requested", "Check your inbox", **follow_links(query))


class AlertLinkView(View):
    """A page of a mail's signed link: `signer` reads its token (a forged one
    answers 400) and `alert` is the alert it names, or None if it is gone."""

    signer = None

    def dispatch(self, request, token):
        if request.method.lower() not in self.http_method_names:
            return self.http_method_not_allowed(request)
        self.link = Link.read(self.signer, token)
        if self.link is None:
            return forged(request)
        self.alert = Alert.objects.filter(pk=self.link.alert_id).first()
        return super().dispatch(request, token)

    def alert_context(self):
        listing = list_practices(self.alert.filters)
        return {
            "alert": self.alert,
            "description": listing.description,
            **follow_links(self.alert.query),
        }


@method_decorator(never_cache, name="dispatch")
class AlertConfirmView(AlertLinkView):
    """GET /alerts/confirm/<token>/: the link of the confirmation mail. A GET, as
    double opt-in links are: whoever (or whatever, a mail scanner) opens it has
    the mail, which is what the confirmation proves."""

    signer = CONFIRM
    http_method_names = ["get", "head"]

    def get(self, request, token):
        alert = self.alert
        if alert is None or alert.unsubscribed_at:
            return page(
                request, "gone", "Link no longer valid", 410, **follow_links("")
            )
        context = self.alert_context()
        if alert.confirmed_at:
            return page(request, "already-confirmed", "Alert already on", **context)
        if self.link.expired:
            return page(request, "expired", "Link expired", 410, **context)
        Alert.objects.filter(pk=alert.pk, confirmed_at__isnull=True).update(
            confirmed_at=timezone.now()
        )
        return page(request, "confirmed", "Alert confirmed", **context)


# The signed token is the authorisation, and the one-click unsubscribe of RFC 8058
# is a POST from the mail provider's servers, with no cookie and no CSRF token.
@method_decorator([csrf_exempt, never_cache], name="dispatch")
class AlertUnsubscribeView(AlertLinkView):
    """/alerts/unsubscribe/<token>/: GET asks (mail scanners open links by
    themselves, so a GET changes nothing); POST unsubscribes, from the page's
    button or as `List-Unsubscribe=One-Click`. Unsubscribing erases the address."""

    signer = UNSUBSCRIBE
    http_method_names = ["get", "head", "post"]

    def get(self, request, token):
        if self.alert is None or self.alert.unsubscribed_at:
            return self.unsubscribed(request)
        return page(request, "unsubscribe", "Unsubscribe", **self.alert_context())

    def post(self, request, token):
        if self.alert is not None:
            Alert.objects.filter(pk=self.alert.pk, unsubscribed_at__isnull=True).update(
                unsubscribed_at=timezone.now(), email=""
            )
        return self.unsubscribed(request)

    def unsubscribed(self, request):
        query = self.alert.query if self.alert else ""
        return page(request, "unsubscribed", "Unsubscribed", **follow_links(query))


def forged(request):
    return page(request, "forged", "Link not valid", 400, **follow_links(""))
