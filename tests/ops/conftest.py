"""Fixtures shared by the operations tests."""

import io
import json
import logging

import pytest

from ops.observability import JsonFormatter, RequestIdFilter


@pytest.fixture
def json_log(caplog):
    """The log lines the site writes, formatted as in production (LOG_FORMAT=json):
    returns a function giving the parsed lines so far."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    caplog.set_level(logging.INFO)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)
