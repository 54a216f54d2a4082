"""Request ids and structured logs: every request gets an id (a sane incoming
X-Request-ID, or a new one), returned in the X-Request-ID header and copied onto
every log record written while it runs."""

import json
import logging
import re
import time
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime

REQUEST_ID_HEADER = "X-Request-ID"
# Anything else (too long, spaces, quotes, newlines that could forge log lines) is
# replaced by a generated id.
VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")

# The id of the request being handled, "-" outside a request.
current_request_id = ContextVar("request_id", default="-")
request_logger = logging.getLogger("practice_atlas.requests")


class RequestIdMiddleware:
    """Assigns the request id, sets the response header, logs one line."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return logged(request, self.get_response)


def logged(request, get_response, started=None):
    """get_response(request) under the request's id (every log line written
    meanwhile carries it), with the X-Request-ID header and one log line for the
    request, timed from `started` (a perf_counter() reading; now by default). Also
    for the pages practices.caching.StoredPages answers before Django's handler."""
    # META rather than request.headers, which would parse every header.
    request_id = request.META.get("HTTP_X_REQUEST_ID", "")
    if not VALID_REQUEST_ID.fullmatch(request_id):
        request_id = uuid.uuid4().hex
    token = current_request_id.set(request_id)
    started = started or time.perf_counter()
    try:
        # Django turns exceptions raised further in into the 500 or 503 page.
        response = get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        request_logger.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "method": request.method,
                # Path and query string only: never cookies or other headers.
                "path": request.get_full_path(),
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
        return response
    finally:
        current_request_id.reset(token)


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record ("-" outside a request)."""

    def filter(self, record):
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id.get()
        return True


class RefusedRequestFilter(logging.Filter):
    """Django logs a request it refuses as suspicious (a Host outside ALLOWED_HOSTS,
    too many fields, too large a body: a 400) on django.security.<name> as an ERROR
    with a traceback. It is the client's mistake, not ours: a WARNING line without
    the traceback, so that real errors stand out."""

    def filter(self, record):
        if (
            record.name.startswith("django.security.")
            and record.levelno > logging.WARNING
        ):
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.exc_info = record.exc_text = None
        return True


# Anything else on a record came from `extra=`; of that, Django's `request` object
# (the request id identifies it) and the dev server's timestamp are left out.
_STANDARD_ATTRIBUTES = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
_SKIPPED_EXTRAS = {"request", "server_time"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with the request id and any `extra=` fields."""

    def format(self, record):
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": record.request_id,  # RequestIdFilter's, on every handler
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRIBUTES and key not in _SKIPPED_EXTRAS:
                entry.setdefault(key, value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)
