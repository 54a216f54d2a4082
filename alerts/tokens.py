"""The signed links of alert mails. A link names its alert and is signed with
SECRET_KEY (django.core.signing), a salt per purpose: nobody can make one for
another alert. Confirmation links expire after ALERT_CONFIRMATION_DAYS;
unsubscribe links never do, so the oldest digest can still stop the next."""

from django.core import signing
from django.urls import reverse
from django.utils.encoding import iri_to_uri

from opendata.discovery import absolute_uri, site_origin

from .models import confirmation_max_age

CONFIRM = signing.TimestampSigner(salt="alerts.confirm")
UNSUBSCRIBE = signing.Signer(salt="alerts.unsubscribe")
# Where links point when neither SITE_URL nor a request says: `make run`'s address.
LOCAL_SITE = "http://127.0.0.1:8000"


class Link:
    """What a token says: the alert's id, and whether the link is past its age."""

    def __init__(self, alert_id, expired=False):
        self.alert_id, self.expired = alert_id, expired

    @classmethod
    def read(cls, signer, token):
        """The Link a token signed by `signer` makes, or None for a forged or
        mangled one."""
        try:
            value = signer.unsign(token)
        except signing.BadSignature:
            return None
        if not value.isdigit():
            return None
        expired = False
        if isinstance(signer, signing.TimestampSigner):
            try:
                signer.unsign(token, max_age=confirmation_max_age())
            except signing.SignatureExpired:
                expired = True
        return cls(int(value), expired)


def site_link(location, request=None):
    """`location` as an absolute URL of the public site: SITE_URL's origin, else the
    request's host, else (send_alerts has no request) LOCAL_SITE."""
    if request is not None or site_origin():
        return absolute_uri(request, location)
    return iri_to_uri(f"{LOCAL_SITE}{location}")


def confirm_url(alert, request=None):
    token = CONFIRM.sign(str(alert.pk))
    return site_link(reverse("alerts:confirm", args=[token]), request)


def unsubscribe_url(alert, request=None):
    token = UNSUBSCRIBE.sign(str(alert.pk))
    return site_link(reverse("alerts:unsubscribe", args=[token]), request)
