"""Request ids and the structured request log (ops/observability.py)."""

import io
import json
import logging
import re

import pytest
from django.conf import settings

from ops.observability import JsonFormatter, RequestIdFilter


@pytest.fixture
def site_log():
    """What the site's own log handler (LOGGING's console) writes, as JSON lines:
    returns a function giving the parsed lines so far."""
    (console,) = [
        handler
        for handler in logging.getLogger().handlers
        if any(isinstance(f, RequestIdFilter) for f in handler.filters)
    ]
    stream, formatter = io.StringIO(), console.formatter
    previous = console.setStream(stream)
    console.setFormatter(JsonFormatter())  # whatever LOG_FORMAT says
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        console.setStream(previous)
        console.setFormatter(formatter)


def test_a_valid_incoming_request_id_is_echoed(client, db):
    response = client.get("/healthz", headers={"X-Request-ID": "lb-7f3a.9_x-1"})
    assert response["X-Request-ID"] == "lb-7f3a.9_x-1"


def test_a_request_id_is_generated_when_none_is_sent(client, db):
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second


@pytest.mark.parametrize(
    "incoming",
    ["x" * 65, "has space", 'quote"d', "new\nline", "ünïcode", "semi;colon", ""],
)
def test_an_invalid_incoming_request_id_is_replaced(client, db, incoming):
    response = client.get("/healthz", headers={"X-Request-ID": incoming})
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_one_json_line_per_request_with_the_request_id(client, db, json_log):
    client.cookies["sessionid"] = "secret-session-value"
    response = client.get(
        "/practices/?q=export&sort=title", headers={"X-Request-ID": "req-42"}
    )
    assert response.status_code == 200
    lines = [line for line in json_log() if line["request_id"] == "req-42"]
    (request_line,) = [
        line for line in lines if line["logger"] == "practice_atlas.requests"
    ]
    assert request_line["method"] == "GET"
    assert request_line["path"] == "/practices/?q=export&sort=title"
    assert request_line["status"] == 200
    assert isinstance(request_line["duration_ms"], float)
    assert request_line["level"] == "INFO"
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", request_line["time"]
    )
    assert "secret-session-value" not in json.dumps(lines)


def test_refused_requests_log_a_warning_without_a_traceback(client, db, site_log):
    """A bad Host or too many fields is the client's mistake: one WARNING line each
    (Django writes an ERROR with a traceback), while real errors keep theirs."""
    assert (
        client.get("/practices/", headers={"host": "evil.example"}).status_code == 400
    )
    fields = "&".join(["c=1"] * (settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
    assert client.get(f"/practices/?{fields}").status_code == 400
    try:
        raise RuntimeError("a real error")
    except RuntimeError:
        logging.getLogger("django.request").exception("Internal Server Error")

    lines = site_log()
    refused = [line for line in lines if line["logger"].startswith("django.security")]
    assert [line["logger"] for line in refused] == [
        "django.security.DisallowedHost",
        "django.security.TooManyFieldsSent",
    ]
    for line in refused:
        assert line["level"] == "WARNING" and "exception" not in line, line
    (error,) = [line for line in lines if line["logger"] == "django.request"]
    assert error["level"] == "ERROR" and "a real error" in error["exception"]


def test_records_outside_a_request_carry_a_dash(json_log):
    logging.getLogger("practices").warning("a background message")
    (line,) = [line for line in json_log() if line["message"] == "a background message"]
    assert line["request_id"] == "-"


def test_the_settings_send_every_record_through_the_request_id_filter():
    console = settings.LOGGING["handlers"]["console"]
    assert console["filters"] == ["request_id", "refused_request"]
    assert console["formatter"] == settings.LOG_FORMAT
    assert settings.LOGGING["formatters"]["json"] == {
        "()": "ops.observability.JsonFormatter"
    }
    assert settings.MIDDLEWARE[0] == "ops.observability.RequestIdMiddleware"
    live = [
        handler
        for handler in logging.getLogger().handlers
        if any(isinstance(f, RequestIdFilter) for f in handler.filters)
    ]
    assert live, "the root logger has no handler with the request id filter"
