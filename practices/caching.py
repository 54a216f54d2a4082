"""Whole public pages, kept in the cache framework for PAGE_CACHE_SECONDS and answered
with 304 when the browser already has them.

A page is a function of the catalogue version (bumped by every public change, see
signals.py), today's date (publication dates and periods move at midnight), the
release (settings.RELEASE), the full URL and the reader's comparison basket. Its cache
key and ETag are a digest of exactly those, known before the view runs: after a
committed change every instance uses new keys at its next request (old entries just
expire), and a matching If-None-Match is answered without rendering anything.

Nothing personal is stored. Signed-in readers and requests with messages to show
bypass the cache; a page that set a cookie (the CSRF cookie included) or used the CSP
nonce is sent as private and not stored. Only the content type and body are
stored, so every response gets fresh headers from the middleware: what a cached page
must tell robots is in its HTML. Streamed responses (the exports) are never stored but
carry the validators all the same.
"""

import hashlib
import threading
import time
from datetime import UTC, datetime
from functools import wraps

from django.conf import settings
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.core.signals import request_started
from django.http import HttpResponse
from django.middleware.csp import get_nonce
from django.utils import timezone
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import condition

from . import compare
from .models import CatalogueVersion, catalogue_changed

STARTED_AT = time.time()  # a deploy restarts the process: see last_modified()
STATUS_HEADER = "X-Page-Cache"

# --- the catalogue version, read once per request -----------------------------

_request = threading.local()


def catalogue_version():
    """CatalogueVersion.current(), read at most once per request (and again after a
    change made in this process): the ETag, Last-Modified, the cache key and the views
    share this one read."""
    if not getattr(_request, "known", False):
        _request.version = CatalogueVersion.current()
        _request.known = True
    return _request.version


def _forget_version(**kwargs):
    _request.known = False


request_started.connect(_forget_version, dispatch_uid="page-cache-version-request")
catalogue_changed.connect(_forget_version, dispatch_uid="page-cache-version-change")


# --- what a page depends on ---------------------------------------------------


def page_digest(request):
    parts = [
        settings.RELEASE,
        repr(catalogue_version()),
        timezone.localdate().isoformat(),
        request.build_absolute_uri(),
        *compare.basket(request),
    ]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def last_modified(version):
    """The end of the second in which the catalogue last changed, today began or this
    process started (a deploy restarts it), whichever is latest. None while that
    second lasts, so that two changes in one second never share an HTTP date (the
    ETag still tells them apart)."""
    today = datetime.combine(timezone.localdate(), datetime.min.time())
    moments = [timezone.make_aware(today).timestamp(), STARTED_AT]
    if changed_at := getattr(version, "changed_at", None):
        moments.append(changed_at.timestamp())
    stamp = int(max(moments)) + 1
    return datetime.fromtimestamp(stamp, UTC) if time.time() >= stamp else None


def is_personal(request):
    """Pages that may differ from what the cache holds for their URL: for signed-in
    readers, or with messages to show (after a basket change, for instance)."""
    user = getattr(request, "user", None)
    return bool(user and user.is_authenticated) or bool(get_messages(request))


def is_private(response):
    return "private" in response.get("Cache-Control", "")


# --- the decorators ---------------------------------------------------------------


def public_page(view):
    """Cache a public GET view's pages and answer conditional GETs (see the module
    docstring). For views whose output depends only on the catalogue, the URL and the
    comparison basket."""
    # Django's advice for per-view caching: csrf_protect sets the CSRF cookie on the
    # response here, so a page that rendered a token shows as personal below.
    view = csrf_protect(view)

    @condition(
        etag_func=lambda request, *args, **kwargs: f'W/"{page_digest(request)[:40]}"',
        last_modified_func=lambda *args, **kwargs: last_modified(catalogue_version()),
    )
    def stored_or_rendered(request, *args, **kwargs):
        key = f"page:{page_digest(request)}"
        seconds = settings.PAGE_CACHE_SECONDS
        if seconds and (stored := cache.get(key)) is not None:
            content_type, body = stored
            response = HttpResponse(body, content_type=content_type)
            response[STATUS_HEADER] = "hit"
            return response
        response = view(request, *args, **kwargs)
        if response.status_code != 200 or is_private(response):
            return response  # errors and 400 explanations
        if hasattr(response, "render"):
            response.render()  # now: the cookies and the nonce it uses show
        if response.cookies or get_nonce(request):
            patch_cache_control(response, private=True, no_cache=True)
            response[STATUS_HEADER] = "personal"
            return response
        if seconds and not response.streaming:
            cache.set(key, (response["Content-Type"], response.content), seconds)
        response[STATUS_HEADER] = "miss" if seconds else "off"
        return response

    @wraps(view)
    def public_view(request, *args, **kwargs):
        if request.method not in ("GET", "HEAD"):
            return view(request, *args, **kwargs)
        if is_personal(request):  # neither read nor stored
            response = view(request, *args, **kwargs)
            patch_cache_control(response, private=True, no_cache=True)
            return response
        response = stored_or_rendered(request, *args, **kwargs)
        if response.status_code not in (200, 304) or is_private(response):
            del response["ETag"], response["Last-Modified"]  # they hold for no one else
        else:  # browsers (and shared caches, without a basket) revalidate each time
            privacy = "private" if compare.basket(request) else "public"
            patch_cache_control(
                response, max_age=0, must_revalidate=True, **{privacy: True}
            )
            patch_vary_headers(response, ["Cookie"])
        return response

    return public_view


def private_preview(view):
    """For staff previews on the public templates: never_cache (`Cache-Control:
    private, no-store`, …) and `X-Robots-Tag: noindex`. Never with public_page."""
    view = never_cache(view)

    @wraps(view)
    def preview_view(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response["X-Robots-Tag"] = "noindex"
        return response

    return preview_view
