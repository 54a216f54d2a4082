"""Whole public pages, cached in the cache framework and answered with 304 when the
browser already has them.

A page is a function of: the catalogue version (bumped inside the transaction of
every public change, see signals.py), today's date (publication dates and periods
move at midnight), the release (code, templates and static manifest), the full URL,
and the reader's comparison basket. The cache key and the ETag are a digest of
exactly those, computed *before* the view runs, so:
- a committed edit, publish, unpublish, delete or rename makes new keys on every
  instance at its next request: invalidation by construction; old entries simply
  expire after PAGE_CACHE_SECONDS;
- a hit costs the version read (plus the session read when the reader has a
  session), and a matching If-None-Match answers 304 without rendering anything.

Streamed responses (the exports) are never stored, but carry the same validators,
so a client that already has an export gets a 304 until the catalogue changes.

Nothing personal is ever stored: signed-in users and requests with messages to show
bypass the cache entirely (neither read nor write), and a rendered page is only
stored when it set no cookie, used no CSRF token and no CSP nonce. Only the body,
status and content type are stored; every response gets fresh headers (CSP, session
cookie, request id) from the middleware. So anything a cached page must say to
robots is in its HTML (an archived record's <meta name="robots">), not a header.

Staff previews of unpublished records (`private_preview`) live at their own URLs,
are never wrapped by `public_page`, and tell browsers, proxies and robots to keep
nothing: the page cache never sees a page only staff may read.
"""

import hashlib
import logging
import threading
import time
from datetime import datetime
from functools import cache, wraps
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.contrib.messages.storage.session import SessionStorage
from django.core.cache import caches
from django.core.signals import request_started
from django.http import HttpResponse
from django.utils import timezone
from django.utils.cache import (
    add_never_cache_headers,
    get_conditional_response,
    patch_cache_control,
    patch_vary_headers,
)
from django.utils.http import http_date

from config.cache import LOGGER

from . import compare
from .models import CatalogueVersion, catalogue_changed

logger = logging.getLogger(LOGGER)

# --- the catalogue version, read once per request -----------------------------

_request = threading.local()


def catalogue_version():
    """CatalogueVersion.current(), read at most once per request (and again after a
    change made in this process). The page cache and the list's facet index share
    this one read."""
    if not getattr(_request, "known", False):
        _request.version = CatalogueVersion.current()
        _request.known = True
    return _request.version


def _forget_version(**kwargs):
    _request.known = False


request_started.connect(_forget_version, dispatch_uid="page-cache-version-request")
catalogue_changed.connect(_forget_version, dispatch_uid="page-cache-version-change")


# --- what a page depends on ---------------------------------------------------


@cache
def release():
    """(digest, newest modification time) of what this process serves pages from:
    the project's Python code, templates, static manifest and pinned requirements.
    A deploy changes pages without any catalogue change, so it changes keys, ETags
    and Last-Modified too (and instances on different releases never share pages)."""
    base = Path(settings.BASE_DIR)
    roots = [base / "templates", base / "config"] + [
        Path(app.path)
        for app in apps.get_app_configs()
        if Path(app.path).parent == base
    ]
    files = sorted(
        {
            path
            for root in roots
            for path in root.rglob("*")
            if path.suffix in {".py", ".html"}
        }
    )
    files += [
        path
        for path in (
            Path(settings.STATIC_ROOT) / "staticfiles.json",
            base / "requirements.txt",
        )
        if path.exists()
    ]
    digest = hashlib.sha256()
    newest = 0.0
    for path in files:
        # STATIC_ROOT may lie outside the project: its manifest goes by its name.
        name = path.relative_to(base) if path.is_relative_to(base) else path.name
        digest.update(str(name).encode() + b"\0" + path.read_bytes())
        newest = max(newest, path.stat().st_mtime)
    return digest.hexdigest(), newest


def page_cache_seconds():
    """How long a stored page is kept; 0 turns the server-side page cache off
    (conditional GET still works)."""
    return getattr(settings, "PAGE_CACHE_SECONDS", 600)


def has_pending_messages(request):
    """Messages waiting to be shown (after a basket change, for instance)."""
    if request.COOKIES.get(CookieStorage.cookie_name):  # "" once shown and deleted
        return True
    session = getattr(request, "session", None)
    return bool(session is not None and session.get(SessionStorage.session_key))


def is_personal(request):
    """Requests whose pages may differ from what the cache holds for their URL."""
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated) or has_pending_messages(
        request
    )


def page_digest(request, version, basket):
    parts = [
        release()[0],
        repr(version),
        timezone.localdate().isoformat(),
        request.build_absolute_uri(),
        "\n".join(basket),
    ]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def last_modified(version):
    """The Last-Modified timestamp: the end of the second in which the last catalogue
    change, the start of today or the release happened. None while that second is
    not over yet, so that the one-second resolution of HTTP dates can never hide a
    second change in the same second (the ETag still answers)."""
    today = timezone.make_aware(
        datetime.combine(timezone.localdate(), datetime.min.time())
    )
    moments = [today.timestamp(), release()[1]]
    changed_at = getattr(version, "changed_at", None)
    if changed_at is not None:
        moments.append(changed_at.timestamp())
    stamp = int(max(moments)) + 1
    return stamp if time.time() >= stamp else None


# --- the cache itself, failing soft -------------------------------------------


def _cache_get(key):
    try:
        return caches["default"].get(key)
    except Exception as error:  # any cache failure: serve the page uncached
        logger.warning("%s: %s", type(error).__name__, error)
        return None


def _cache_set(key, value, seconds):
    try:
        caches["default"].set(key, value, seconds)
    except Exception as error:
        logger.warning("%s: %s", type(error).__name__, error)


def _marked_personal(response):
    """The view itself said its response is not for sharing."""
    cache_control = response.get("Cache-Control", "")
    return "private" in cache_control or "no-store" in cache_control


def _storable(request, rendered):
    """Only a plain 200 page: nothing set for this visitor, no CSRF token or CSP
    nonce rendered into it."""
    return (
        rendered.status_code == 200
        and not rendered.streaming
        and not rendered.cookies
        and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
        and not getattr(request, "_csp_nonce", None)  # LazyNonce: true once used
    )


def _add_validators(response, etag, modified, basket):
    response.headers["ETag"] = etag
    if modified is not None:
        response.headers["Last-Modified"] = http_date(modified)
    # Browsers (and shared caches, for pages without a basket) revalidate every time.
    privacy = {"private": True} if basket else {"public": True}
    patch_cache_control(response, max_age=0, must_revalidate=True, **privacy)
    patch_vary_headers(response, ["Cookie"])
    return response


def public_page(view):
    """Cache a public GET view's pages and answer conditional GETs (see the module
    docstring). Use on views whose output depends only on the catalogue, the URL and
    the comparison basket: never on a page with a form that posts a CSRF token."""

    @wraps(view)
    def cached_view(request, *args, **kwargs):
        if request.method not in ("GET", "HEAD"):
            return view(request, *args, **kwargs)
        if is_personal(request):
            response = view(request, *args, **kwargs)
            patch_cache_control(response, private=True, no_cache=True)
            return response

        basket = compare.basket(request)
        version = catalogue_version()
        digest = page_digest(request, version, basket)
        etag = f'W/"{digest[:40]}"'
        modified = last_modified(version)
        conditional = get_conditional_response(
            request, etag=etag, last_modified=modified
        )
        if conditional is not None:  # 304, or 412 for a failed If-Match
            return _add_validators(conditional, etag, modified, basket)

        key = f"page:{digest}"
        seconds = page_cache_seconds()
        stored = _cache_get(key) if seconds > 0 else None
        if stored is not None:
            status, content_type, body = stored
            response = HttpResponse(body, status=status, content_type=content_type)
            response.headers["X-Page-Cache"] = "hit"
            return _add_validators(response, etag, modified, basket)

        response = view(request, *args, **kwargs)
        if response.status_code != 200 or _marked_personal(response):
            return response  # errors and 400 explanations: neither stored nor validated

        def store(rendered):
            if rendered.streaming and not rendered.cookies:
                return  # an export: never stored, yet its validators hold all the same
            if not _storable(request, rendered):
                # Personal after all: not for the cache, nor for shared caches.
                del rendered.headers["ETag"], rendered.headers["Last-Modified"]
                patch_cache_control(rendered, private=True, no_cache=True)
                rendered.headers["X-Page-Cache"] = "personal"
            elif seconds > 0:
                value = (
                    rendered.status_code,
                    rendered["Content-Type"],
                    rendered.content,
                )
                _cache_set(key, value, seconds)

        response.headers["X-Page-Cache"] = "miss" if seconds > 0 else "off"
        response = _add_validators(response, etag, modified, basket)
        if getattr(response, "is_rendered", True):
            store(response)
        else:  # a TemplateResponse, rendered after the view returns
            response.add_post_render_callback(store)
        return response

    return cached_view


def private_preview(view):
    """For staff previews on the public templates: `Cache-Control: private,
    no-store` (and the rest of never_cache) and `X-Robots-Tag: noindex`. Not for
    use with `public_page` (which would refuse to store such a page anyway: see
    _marked_personal)."""

    @wraps(view)
    def preview_view(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        add_never_cache_headers(response)
        response.headers["X-Robots-Tag"] = "noindex"
        return response

    return preview_view
