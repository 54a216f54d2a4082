"""Whole public pages, kept in the cache framework for PAGE_CACHE_SECONDS and answered
with 304 when the browser already has them.

A page is stored under everything it depends on that is known before the view
runs (the release, today's date, the full URL, whether the reader takes gzip and
the reader's comparison basket) together with the catalogue version it was made
for (bumped by every public change, see signals.py), and served only while that
version is current; the ETag digests all of them. So a committed change is seen at
once everywhere.

public_page decides what may be stored; CachedPageMiddleware stores it with every
header the site adds (compression, security headers, validators) but the request's
own id. StoredPages, in front of Django's handler, serves it to readers without
cookies; public_page, inside Django, to the others. Nothing personal is stored:
signed-in readers and pages with messages bypass the cache, and a page that set a
cookie (CSRF included) or used the CSP nonce is sent private.
"""

import hashlib
import time
from datetime import UTC, datetime
from functools import wraps

from django.conf import settings
from django.contrib.messages import get_messages
from django.core.cache import cache, caches
from django.core.exceptions import DisallowedHost
from django.core.handlers.wsgi import WSGIRequest
from django.db import DatabaseError
from django.http import HttpResponse
from django.middleware.csp import get_nonce
from django.middleware.gzip import re_accepts_gzip
from django.utils import timezone
from django.utils.cache import (
    get_conditional_response,
    patch_cache_control,
    patch_vary_headers,
)
from django.utils.http import http_date, parse_http_date_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import condition

from config.cache import LOCAL_PAGES
from ops.observability import REQUEST_ID_HEADER, logged

from . import compare
from .models import CatalogueVersion

STARTED_AT = time.time()  # a deploy restarts the process: see last_modified()
STATUS_HEADER = "X-Page-Cache"


def catalogue_version(request):
    """CatalogueVersion.current(), read once per request: the validators, the
    stored page and the view share it."""
    if not hasattr(request, "catalogue_version"):
        request.catalogue_version = CatalogueVersion.current()
    return request.catalogue_version


def page_key(request):
    """Worked out once per request: the stored page and its ETag both use it."""
    if not hasattr(request, "page_key"):
        parts = [
            settings.RELEASE,
            timezone.localdate().isoformat(),
            request.build_absolute_uri(),
            # GZipMiddleware's own test: the stored body is compressed or not.
            "gzip"
            if re_accepts_gzip.search(request.META.get("HTTP_ACCEPT_ENCODING", ""))
            else "",
            *compare.basket(request),
        ]
        digest = hashlib.sha256("\0".join(parts).encode()).hexdigest()
        request.page_key = f"page:{digest}"
    return request.page_key


def stored_page(request):
    """The page stored for this request and the current catalogue version, as a
    response, or None. The version comes in the same cache round trip when a
    shared cache keeps it (CatalogueVersion.current), and is not read at all for
    an address that has no page stored. A process keeps a copy of the pages it
    served from a shared cache (LOCAL_PAGES), so that a hit fetches only the
    version from it, not the page again."""
    key = page_key(request)
    local = caches[LOCAL_PAGES] if LOCAL_PAGES in settings.CACHES else None
    copy = local.get(key) if local else None
    found = cache.get_many([CatalogueVersion.CACHE_KEY] + ([] if copy else [key]))
    page = copy or found.get(key)
    if page is None:
        return None
    if shared_version := found.get(CatalogueVersion.CACHE_KEY):
        vars(request).setdefault("catalogue_version", shared_version)
    current = repr(catalogue_version(request))
    if copy and copy[0] != current:  # a page for the new version may be stored
        page = cache.get(key)
    if page is None or page[0] != current:
        return None
    if local and page is not copy:
        local.set(key, page, settings.PAGE_CACHE_SECONDS)
    _, headers, body = page
    return HttpResponse(body, headers={**headers, STATUS_HEADER: "hit"})


def etag(request, *args, **kwargs):
    page = f"{page_key(request)}\0{catalogue_version(request)!r}"
    return f'W/"{hashlib.sha256(page.encode()).hexdigest()[:40]}"'


def last_modified(request, *args, **kwargs):
    """The end of the second in which the catalogue last changed, today began or this
    process started (a deploy), whichever is latest. None while that second lasts:
    two changes in one second must not share an HTTP date."""
    today = datetime.combine(timezone.localdate(), datetime.min.time())
    moments = [timezone.make_aware(today).timestamp(), STARTED_AT]
    if changed_at := getattr(catalogue_version(request), "changed_at", None):
        moments.append(changed_at.timestamp())
    stamp = int(max(moments)) + 1
    return datetime.fromtimestamp(stamp, UTC) if time.time() >= stamp else None


def is_private(response):
    return "private" in response.get("Cache-Control", "")


def public_page(view):
    """Cache a public GET view's pages and answer conditional GETs, for views whose
    output depends only on the catalogue, the URL and the comparison basket."""
    # Django's advice for per-view caching: csrf_protect sets the CSRF cookie on the
    # response here, so a page that rendered a token shows as personal below.
    view = csrf_protect(view)

    @condition(etag_func=etag, last_modified_func=last_modified)
    def stored_or_rendered(request, *args, **kwargs):
        seconds = settings.PAGE_CACHE_SECONDS
        if seconds and (stored := stored_page(request)):
            return stored
        response = view(request, *args, **kwargs)
        if response.status_code != 200 or is_private(response):
            return response  # errors and 400 explanations
        if hasattr(response, "render"):
            response.render()  # now: the cookies and the nonce it uses show
        if response.cookies or get_nonce(request):
            patch_cache_control(response, private=True, no_cache=True)
            response[STATUS_HEADER] = "personal"
            return response
        # Stored by CachedPageMiddleware once the header middleware is done with it.
        response.storable = bool(seconds) and not response.streaming
        response[STATUS_HEADER] = "miss" if seconds else "off"
        return response

    @wraps(view)
    def public_view(request, *args, **kwargs):
        if request.method not in ("GET", "HEAD"):
            return view(request, *args, **kwargs)
        user = getattr(request, "user", None)
        if (user and user.is_authenticated) or get_messages(request):
            # Pages that may differ from the stored one: neither read nor stored.
            response = view(request, *args, **kwargs)
            patch_cache_control(response, private=True, no_cache=True)
            return response
        return shared_headers(request, stored_or_rendered(request, *args, **kwargs))

    return public_view


def shared_headers(request, response):
    if response.status_code not in (200, 304) or is_private(response):
        del response["ETag"], response["Last-Modified"]  # they hold for no one else
    else:  # browsers (and shared caches, without a basket) revalidate each time
        privacy = "private" if compare.basket(request) else "public"
        patch_cache_control(
            response, max_age=0, must_revalidate=True, **{privacy: True}
        )
        patch_vary_headers(response, ["Cookie"])
    return response


class CachedPageMiddleware:
    """Stores what public_page marks as storable, with the headers the middleware
    inside this one added (security headers, compression, CSP, frame and feature
    policies); only the request's own id is left out. StoredPages serves it back
    to readers without cookies, public_page to the others."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # A cookie set further out than public_page (a session saved, say) makes
        # the page personal after all.
        if getattr(response, "storable", False) and not response.cookies:
            version = repr(catalogue_version(request))
            headers = {
                name: value
                for name, value in response.items()
                if name not in (STATUS_HEADER, REQUEST_ID_HEADER)
            }
            page = (version, headers, response.content)
            cache.set(page_key(request), page, settings.PAGE_CACHE_SECONDS)
        return response


class StoredPages:
    """The WSGI application in front of Django's (config/wsgi.py). A GET or HEAD
    without cookies whose page is stored gets it here, before Django's handler,
    its middleware, the URLconf and the view: such a reader is anonymous with no
    basket, whom every stored page was made for, so the answer is the one
    public_page would give (headers included, see CachedPageMiddleware) at a
    fraction of the cost. It gets its own request id and log line, as every
    request does (ops.observability). Anything else goes on to Django."""

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        request = WSGIRequest(environ)
        stored = self.page_for(request)
        if stored is None:
            return self.application(environ, start_response)
        response = logged(request, lambda request: stored_hit(request, stored), started)
        status = f"{response.status_code} {response.reason_phrase}"
        start_response(status, list(response.items()))
        return [response.content]

    @staticmethod
    def page_for(request):
        """The stored page for a GET or HEAD without cookies, or None."""
        if (
            request.method not in ("GET", "HEAD")
            or request.COOKIES
            or not settings.PAGE_CACHE_SECONDS
            or request.path_info.startswith(settings.STATIC_URL)  # WhiteNoise's
        ):
            return None
        try:
            return stored_page(request)
        # Django answers these: a 400, or the 503 page, with the usual headers.
        except (DisallowedHost, DatabaseError):
            return None


def stored_hit(request, stored):
    """The stored page, or 304 when the reader has it. Its validators were stored
    with it, as public_page set them for the same key and catalogue version; a
    page made in the second of a change gets its Last-Modified once that second
    is over, as public_page gives it (last_modified)."""
    if "Last-Modified" not in stored and (modified := last_modified(request)):
        stored["Last-Modified"] = http_date(modified.timestamp())
    modified = parse_http_date_safe(stored.get("Last-Modified"))
    return get_conditional_response(request, stored.get("ETag"), modified, stored)


def private_preview(view):
    """For staff previews on the public templates: never_cache and `X-Robots-Tag:
    noindex`. Never with public_page."""

    @never_cache
    @wraps(view)
    def preview_view(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response["X-Robots-Tag"] = "noindex"
        return response

    return preview_view
