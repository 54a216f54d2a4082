"""The load test's wrk parser and report (ops/loadtest.py)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ops import loadtest

# Saved output of real wrk 4.1.0 runs with ops/wrk_report.lua: a clean one, and one
# with 503s and dropped connections (read errors).
DATA = Path(__file__).resolve().parent / "data"


def test_wrk_parser_reads_a_clean_run():
    result = loadtest.parse_wrk((DATA / "wrk-clean.txt").read_text())
    assert result.requests_per_second == pytest.approx(1748.6, abs=0.1)
    assert result.p50_ms == 2.339
    assert result.p99_ms == 15.957
    assert result.requests == 3502
    assert result.errors == 0


def test_wrk_parser_counts_non_2xx_and_socket_errors():
    result = loadtest.parse_wrk((DATA / "wrk-with-errors.txt").read_text())
    assert result.non_2xx_3xx == 1295
    assert result.socket_errors == 2005
    assert result.errors == 1295 + 2005


def test_wrk_parser_refuses_output_it_does_not_understand():
    for output in ["unable to connect to 127.0.0.1:1 Connection refused", ""]:
        with pytest.raises(ValueError):
            loadtest.parse_wrk(output)


def test_load_test_report_flags_slow_pages_and_errors(capsys):
    def result(rps, errors=0):
        return loadtest.WrkResult(rps, 1.0, 2.0, int(rps * 10), errors, 0)

    floor, trivial = result(2000), result(1000)
    assert loadtest.report_row(*loadtest.FLOOR, floor, floor, trivial) == []
    assert loadtest.report_row(*loadtest.TRIVIAL, trivial, floor, trivial) == []
    assert loadtest.report_row("fast", "/a/", result(1200), floor, trivial) == []
    slow = loadtest.report_row("slow", "/b/", result(999), floor, trivial)
    assert slow == ["BELOW 50%"]
    failing = loadtest.report_row("failing", "/c/", result(1800, 3), floor, trivial)
    assert failing == ["ERRORS"]
    out = capsys.readouterr().out.splitlines()
    assert re.fullmatch(r"floor +2000 +1\.0 +2\.0 +0 +2000 +100% +200%  /", out[0])
    assert re.fullmatch(r"healthz +1000 .* 2000 +50% +100%  /healthz", out[1])
    assert re.fullmatch(r"fast +1200 .* 60% +120%  /a/", out[2])
    assert re.fullmatch(r"slow +999 .* 49% +99%  /b/  <- BELOW 50%", out[3])
    assert re.fullmatch(r"failing +1800 .* 3 +2000 +90% +180%  /c/  <- ERRORS", out[4])


def test_each_row_is_compared_with_the_floor_runs_around_it():
    def result(rps):
        return loadtest.WrkResult(rps, 1.0, 2.0, int(rps * 10), 0, 0)

    before, after = result(1800), result(2200)
    around = loadtest.mean_floor([before, after])
    assert around.requests_per_second == 2000
    # 1,000 req/s is half of that, though it is below half of the later run.
    assert loadtest.report_row("page", "/p/", result(1000), around, result(900)) == []


def test_the_floor_is_a_minimal_django_app():
    code = (
        "from ops import floor; from django.conf import settings; "
        "from django.test import Client; "
        "print(settings.MIDDLEWARE, Client().get('/').content)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.strip() == "[] b'ok'"
