"""Health check (/healthz) and the page shown while the database is unreachable."""

import logging
import sys

from django.core.cache import cache
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.cache import add_never_cache_headers
from django.views import defaults
from django.views.decorators.cache import never_cache

from config.observability import current_request_id

logger = logging.getLogger(__name__)

OK = "ok"
UNAVAILABLE = "unavailable"
# Errors that mean "the database cannot be reached or cannot answer right now"
# (refused or dropped connections, timeouts, a locked or missing SQLite file). The
# psycopg and sqlite3 errors reach views as these Django classes.
DATABASE_UNAVAILABLE_ERRORS = (OperationalError, InterfaceError)
# Seconds a client or proxy should wait before trying again during an outage.
RETRY_AFTER = 30
CACHE_PROBE_KEY = "healthz:probe"


def check_database():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        logger.warning("Health check: the database is unavailable: %s", exc)
        return UNAVAILABLE
    return OK


def check_cache():
    # A fixed key and value: concurrent checks from other workers cannot make a
    # working cache look broken. A cache that swallows its errors (django-redis with
    # IGNORE_EXCEPTIONS) returns None here, so that counts as unavailable too.
    try:
        cache.set(CACHE_PROBE_KEY, OK, timeout=60)
        healthy = cache.get(CACHE_PROBE_KEY) == OK
    except Exception as exc:  # any backend, any failure: report, never raise
        logger.warning("Health check: the cache is unavailable: %s", exc)
        return UNAVAILABLE
    if not healthy:
        logger.warning("Health check: the cache did not return what was stored")
        return UNAVAILABLE
    return OK


@never_cache
def healthz(request):
    """200 {"database": "ok", "cache": "ok"} when healthy; 503 when the database is
    unavailable. A cache failure is reported ("cache": "unavailable") but answers
    200: pages are still served without the cache (only slower), so a load balancer
    must keep sending traffic to this instance rather than take the whole site down.
    """
    checks = {"database": check_database(), "cache": check_cache()}
    status = 200 if checks["database"] == OK else 503
    return JsonResponse(checks, status=status)


def database_unavailable(exc):
    """Whether `exc`, or an exception it was raised from or while handling, is a
    database connection failure."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, DATABASE_UNAVAILABLE_ERRORS):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def service_unavailable(request):
    """The 503 page: a plain template with no context processors, so rendering it
    needs neither the database nor the session."""
    try:
        body = render_to_string(
            "503.html",
            {"request_id": current_request_id(), "retry_after": RETRY_AFTER},
        )
    except Exception:  # the page must not fail; say the same thing plainly
        body = (
            "<!doctype html><html lang='en'><title>Practice Atlas is unavailable"
            "</title><h1>Practice Atlas is briefly unavailable</h1>"
            "<p>Please try again in a minute.</p></html>"
        )
    response = HttpResponse(body, status=503)
    response["Retry-After"] = str(RETRY_AFTER)
    add_never_cache_headers(response)
    return response


def server_error(request):
    """handler500. Django calls it for every unhandled exception, wherever it was
    raised: a view, a template or context processor, or a middleware such as the
    session middleware (Django turns every middleware's exceptions into a response
    through this handler). A database that cannot be reached answers 503 with a
    friendly page; anything else is the usual 500 page.

    Django's django.request logger then logs the exception once, at error level,
    with the request id (config/observability.py), so nothing is logged here."""
    if database_unavailable(sys.exc_info()[1]):
        return service_unavailable(request)
    return defaults.server_error(request)
