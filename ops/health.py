"""Health check (/healthz) and the page shown while the database is unreachable."""

import logging
import sqlite3
import sys

from django.core.cache import cache
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.cache import add_never_cache_headers
from django.views import defaults
from django.views.decorators.cache import never_cache

from ops.observability import current_request_id

logger = logging.getLogger(__name__)

OK, UNAVAILABLE = "ok", "unavailable"
RETRY_AFTER = 30  # seconds a client or proxy should wait during an outage
# What an unavailable database answers, unlike a failed query. PostgreSQL: an error
# without SQLSTATE (no connection) or of the classes connection exception,
# insufficient resources, operator intervention (which includes a statement that
# statement_timeout cancelled) and system error.
OUTAGE_SQLSTATE_CLASSES = {"08", "53", "57", "58"}
# SQLite: locked by another connection, a file that cannot be opened, disk errors.
OUTAGE_SQLITE_CODES = {
    sqlite3.SQLITE_BUSY,
    sqlite3.SQLITE_LOCKED,
    sqlite3.SQLITE_CANTOPEN,
    sqlite3.SQLITE_IOERR,
    sqlite3.SQLITE_FULL,
}


def check_database():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        logger.warning("Health check: the database is unavailable: %s", exc)
        return UNAVAILABLE
    return OK


def check_cache():
    # A fixed key and value, so concurrent checks cannot make a working cache look
    # broken. A cache that swallows its errors (django-redis) returns None here.
    try:
        cache.set("healthz:probe", OK, timeout=60)
        if cache.get("healthz:probe") == OK:
            return OK
        logger.warning("Health check: the cache did not return what was stored")
    except Exception as exc:  # any backend, any failure: report, never raise
        logger.warning("Health check: the cache is unavailable: %s", exc)
    return UNAVAILABLE


@never_cache
def healthz(request):
    """200 {"database": "ok", "cache": "ok"}; 503 when the database is unavailable.
    A cache failure is reported but answers 200: pages are still served (slower),
    and a load balancer must not take the whole site down for it."""
    checks = {"database": check_database(), "cache": check_cache()}
    return JsonResponse(checks, status=200 if checks["database"] == OK else 503)


def database_unavailable(exc):
    """Whether `exc` or its cause or context means the database cannot answer now
    (refused or dropped connections, timeouts, a locked or missing SQLite file), not
    that a query failed (SQLite's "parser stack overflow" is an OperationalError
    too)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, InterfaceError):
            return True
        if isinstance(exc, OperationalError):
            driver_error = exc.__cause__ or exc  # Django raises it from the driver's
            code = getattr(driver_error, "sqlite_errorcode", None)
            if code is not None:
                return code & 0xFF in OUTAGE_SQLITE_CODES  # the primary result code
            sqlstate = getattr(driver_error, "sqlstate", None)
            return sqlstate is None or sqlstate[:2] in OUTAGE_SQLSTATE_CLASSES
        exc = exc.__cause__ or exc.__context__
    return False


def server_error(request):
    """handler500: a 503 page saying so when the database cannot be reached, else
    the usual 500 page. django.request already logs the exception."""
    if not database_unavailable(sys.exc_info()[1]):
        return defaults.server_error(request)
    # No context processors: the page needs neither the database nor the session.
    context = {"request_id": current_request_id.get(), "retry_after": RETRY_AFTER}
    response = HttpResponse(render_to_string("503.html", context), status=503)
    response["Retry-After"] = str(RETRY_AFTER)
    add_never_cache_headers(response)
    return response
