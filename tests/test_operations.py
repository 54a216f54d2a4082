"""Operations: /healthz, the 503 page while the database is down (and recovery),
request ids in structured logs, the gunicorn configuration and the load test's wrk
parser."""

import io
import json
import logging
import os
import re
import runpy
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from unittest import mock
from urllib.parse import quote

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.db import OperationalError, connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper
from django.test import Client
from gunicorn.config import Config

from config import loadtest
from config.cache import cache_settings
from config.observability import JsonFormatter, RequestIdFilter
from practices.views import HomeView
from tests.factories import make_practice

BASE_DIR = Path(__file__).resolve().parent.parent
# Saved output of real wrk 4.1.0 runs against this site: a clean one, and one with
# 404s and timeouts (`wrk -c256 --timeout 1s` on a slow URL).
DATA = Path(__file__).resolve().parent / "data"
OUTAGE_TEXT = "Practice Atlas is briefly unavailable"


@pytest.fixture
def quiet_client():
    """A client that returns the error page instead of re-raising the exception."""
    return Client(raise_request_exception=False)


@pytest.fixture
def database_down():
    """Every attempt to use the database fails as an unreachable server does."""
    with mock.patch.object(
        BaseDatabaseWrapper,
        "ensure_connection",
        side_effect=OperationalError("connection refused (simulated)"),
    ):
        yield


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


def h1_count(text):
    return len(re.findall(r"<h1[\s>]", text))


# --- /healthz -------------------------------------------------------------------


def test_healthz_reports_database_and_cache_ok(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"database": "ok", "cache": "ok"}
    assert "no-store" in response["Cache-Control"]


def test_healthz_is_503_naming_the_database_when_it_is_unreachable(client, db):
    with mock.patch.object(
        CursorWrapper,
        "execute",
        side_effect=OperationalError("could not connect to server"),
    ):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"database": "unavailable", "cache": "ok"}
    assert "no-store" in response["Cache-Control"]


def test_healthz_stays_200_when_only_the_cache_fails(client, db):
    with mock.patch("config.health.cache") as cache:
        cache.get.side_effect = ConnectionError("redis is down")
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "cache": "unavailable"}


def test_healthz_with_real_redis_and_with_an_unreachable_one(client, db, settings):
    # Redis as config/cache.py configures it (errors ignored: a read just misses).
    settings.CACHES = cache_settings("redis://127.0.0.1:6379/4", key_prefix="ops")
    assert client.get("/healthz").json() == {"database": "ok", "cache": "ok"}

    with socket.socket() as unused:  # a port where nothing listens
        unused.bind(("127.0.0.1", 0))
        dead = f"redis://127.0.0.1:{unused.getsockname()[1]}/4"
        settings.CACHES = cache_settings(dead, key_prefix="ops")
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "cache": "unavailable"}


# --- 503 while the database is down ----------------------------------------------


def assert_outage_page(response):
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "no-store" in response["Cache-Control"]
    text = response.content.decode()
    assert OUTAGE_TEXT in text
    assert h1_count(text) == 1
    assert '<html lang="en">' in text
    assert "/static/css/site.css" in text
    assert "Traceback" not in text and "OperationalError" not in text
    assert response["X-Request-ID"] in text  # the reference readers can quote


@pytest.mark.parametrize("url", ["/", "/practices/", "/practices/some-practice/"])
def test_pages_answer_503_while_the_database_is_down(
    quiet_client, db, database_down, url
):
    assert_outage_page(quiet_client.get(url))


def test_a_session_read_in_a_context_processor_fails_into_the_503_page(
    quiet_client, db
):
    quiet_client.cookies["sessionid"] = "a" * 32  # the basket context reads it
    with mock.patch.object(
        SessionStore, "load", side_effect=OperationalError("server closed")
    ):
        response = quiet_client.get("/briefs/")
    assert_outage_page(response)


def test_a_session_write_in_the_session_middleware_fails_into_the_503_page(
    quiet_client, db
):
    practice = make_practice()
    # The view works; SessionMiddleware then fails to save the changed basket.
    with mock.patch.object(
        SessionStore, "save", side_effect=OperationalError("server closed")
    ):
        response = quiet_client.post("/practices/compare/add/", {"slug": practice.slug})
    assert_outage_page(response)


def test_the_database_error_is_logged_once_with_the_request_id(
    quiet_client, db, database_down, json_log
):
    response = quiet_client.get("/", headers={"X-Request-ID": "outage-1"})
    assert response.status_code == 503
    errors = [line for line in json_log() if line["level"] == "ERROR"]
    assert len(errors) == 1
    assert errors[0]["logger"] == "django.request"
    assert errors[0]["request_id"] == "outage-1"
    assert "OperationalError: connection refused" in errors[0]["exception"]


def test_other_errors_keep_the_500_page_and_are_logged_with_the_request_id(
    quiet_client, db, json_log
):
    with mock.patch.object(
        HomeView, "get_context_data", side_effect=RuntimeError("boom")
    ):
        response = quiet_client.get("/", headers={"X-Request-ID": "broken-1"})
    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()
    assert "Retry-After" not in response
    (error,) = [line for line in json_log() if line["level"] == "ERROR"]
    assert error["request_id"] == "broken-1"
    assert error["message"] == "Internal Server Error: /"
    assert "RuntimeError: boom" in error["exception"]


# --- request ids and the request log ---------------------------------------------


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


def test_records_outside_a_request_carry_a_dash(json_log):
    logging.getLogger("practices").warning("a background message")
    (line,) = [line for line in json_log() if line["message"] == "a background message"]
    assert line["request_id"] == "-"


def test_the_settings_send_every_record_through_the_request_id_filter():
    console = settings.LOGGING["handlers"]["console"]
    assert console["filters"] == ["request_id"]
    assert console["formatter"] == settings.LOG_FORMAT
    assert settings.LOGGING["formatters"]["json"] == {
        "()": "config.observability.JsonFormatter"
    }
    assert settings.MIDDLEWARE[0] == "config.observability.RequestIdMiddleware"
    live = [
        handler
        for handler in logging.getLogger().handlers
        if any(isinstance(f, RequestIdFilter) for f in handler.filters)
    ]
    assert live, "the root logger has no handler with the request id filter"


# --- gunicorn configuration --------------------------------------------------------


def load_gunicorn_config(monkeypatch, **env):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(BASE_DIR / "config" / "gunicorn.py"))


def test_gunicorn_config_is_valid_and_sane(monkeypatch):
    namespace = load_gunicorn_config(monkeypatch, PORT="8123", WEB_CONCURRENCY="")
    config = Config()
    for name, value in namespace.items():
        if name in config.settings:
            config.set(name, value)  # gunicorn's own validation
    assert config.bind == ["127.0.0.1:8123"]
    assert 2 <= config.workers <= 12
    assert config.timeout == 30 and config.graceful_timeout == 30
    assert config.keepalive == 5
    assert config.accesslog == "-"
    assert "%({x-request-id}o)s" in config.access_log_format
    assert config.control_socket_disable is True
    assert config.preload_app is False


def test_gunicorn_workers_follow_the_cpus_with_a_cap_or_web_concurrency(monkeypatch):
    def cpus(n):
        for name in ("process_cpu_count", "cpu_count"):
            monkeypatch.setattr(os, name, lambda: n, raising=False)

    worker_count = load_gunicorn_config(monkeypatch, WEB_CONCURRENCY="")["worker_count"]
    cpus(1)
    assert worker_count() == 3
    cpus(64)
    assert worker_count() == 12
    monkeypatch.setenv("WEB_CONCURRENCY", "7")
    assert worker_count() == 7


def test_gunicorn_binds_port_8000_on_loopback_by_default(monkeypatch):
    monkeypatch.delenv("PORT", raising=False)
    namespace = runpy.run_path(str(BASE_DIR / "config" / "gunicorn.py"))
    assert namespace["bind"] == "127.0.0.1:8000"


# --- the load test's wrk parser ------------------------------------------------------


def test_wrk_parser_reads_a_clean_run():
    result = loadtest.parse_wrk((DATA / "wrk-healthz.txt").read_text())
    assert result.requests_per_second == 2438.07
    assert result.p50_ms == 23.42
    assert result.p99_ms == 64.04
    assert result.requests == 12197
    assert result.errors == 0


def test_wrk_parser_counts_non_2xx_and_socket_errors():
    result = loadtest.parse_wrk((DATA / "wrk-errors.txt").read_text())
    assert result.requests_per_second == 197.45
    assert result.p50_ms == 540.76
    assert result.p99_ms == 987.30
    assert result.non_2xx_3xx == 796
    assert result.socket_errors == 559
    assert result.errors == 796 + 559


def test_wrk_parser_converts_latency_units():
    text = (DATA / "wrk-healthz.txt").read_text()
    text = text.replace("23.42ms", "812.00us").replace("64.04ms", "1.50s")
    result = loadtest.parse_wrk(text)
    assert result.p50_ms == pytest.approx(0.812)
    assert result.p99_ms == 1500.0


def test_wrk_parser_refuses_output_it_does_not_understand():
    with pytest.raises(ValueError):
        loadtest.parse_wrk("unable to connect to 127.0.0.1:1 Connection refused")


def test_load_test_report_flags_slow_pages_and_errors(capsys):
    def result(rps, errors=0):
        return loadtest.WrkResult(rps, 1.0, 2.0, int(rps * 10), errors, 0)

    trivial = result(1000)
    assert loadtest.report_row(*loadtest.TRIVIAL, trivial, trivial) == []
    assert loadtest.report_row("fast", "/a/", result(600), trivial) == []
    assert loadtest.report_row("slow", "/b/", result(499), trivial) == ["BELOW 50%"]
    assert loadtest.report_row("failing", "/c/", result(900, errors=3), trivial) == [
        "ERRORS"
    ]
    out = capsys.readouterr().out.splitlines()
    assert re.fullmatch(r"trivial view +1000 +1\.0 +2\.0 +0 +100%  /healthz", out[0])
    assert re.fullmatch(r"fast +600 .* 60%  /a/", out[1])
    assert out[2].endswith("49%  /b/  <- BELOW 50%")
    assert out[3].endswith("90%  /c/  <- ERRORS")


# --- end to end: a real server loses its database and gets it back -------------------


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_get(url, headers=None, timeout=20):
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()


class TcpProxy:
    """A TCP proxy in front of the database that a test can cut: stop() closes the
    port and every connection through it (clients get "connection refused");
    start(hang=True) accepts connections but never answers (a black hole)."""

    def __init__(self, upstream):
        self.upstream = upstream
        self.port = free_port()
        self.listener = None
        self.acceptor = None
        self.sockets = []
        self.lock = threading.Lock()

    def start(self, hang=False):
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(32)
        listener.settimeout(0.1)
        self.listener = listener
        self.acceptor = threading.Thread(
            target=self._accept, args=(listener, hang), daemon=True
        )
        self.acceptor.start()

    def _accept(self, listener, hang):
        with listener:  # closed here, by the only thread using it
            while self.listener is listener:
                try:
                    client, _ = listener.accept()
                except TimeoutError:
                    continue
                self._handle(client, hang)

    def _handle(self, client, hang):
        self._keep(client)
        if hang:
            return
        try:
            upstream = socket.create_connection(self.upstream, timeout=5)
        except OSError:
            client.close()
            return
        upstream.settimeout(None)
        self._keep(upstream)
        for source, sink in ((client, upstream), (upstream, client)):
            threading.Thread(
                target=self._pipe, args=(source, sink), daemon=True
            ).start()

    def _keep(self, sock):
        with self.lock:
            self.sockets.append(sock)

    @staticmethod
    def _pipe(source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def stop(self):
        self.listener = None
        if self.acceptor is not None:
            self.acceptor.join()  # the port is closed when this returns
            self.acceptor = None
        with self.lock:
            sockets, self.sockets = self.sockets, []
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)  # wakes the pipe threads
            except OSError:
                pass
            sock.close()


@contextmanager
def gunicorn_server(tmp_path, database_url, **env):
    """gunicorn with config/gunicorn.py, as `make run` starts it, on a free port."""
    port = free_port()
    log_path = tmp_path / "gunicorn.log"
    server_env = {
        **{k: v for k, v in os.environ.items() if k != "REDIS_URL"},
        "DJANGO_SETTINGS_MODULE": "tests.settings",  # no collectstatic needed
        "DATABASE_URL": database_url,
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
        "ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_DEBUG": "false",
        "HTTPS": "false",
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
        **env,
    }
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("gunicorn")),
                "-c",
                "config/gunicorn.py",
                "config.wsgi",
            ],
            cwd=BASE_DIR,
            env=server_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, log_path.read_text()
            try:
                if http_get(base_url + "/healthz", timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.1)
        yield base_url, log_path
    finally:
        process.send_signal(signal.SIGINT)  # gunicorn: quick shutdown
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def assert_pages_answer_503(base_url, log_path, pages):
    for n, path in enumerate(pages):
        request_id = f"outage-{n}"
        status, headers, body = http_get(
            base_url + path,
            # The second page also carries a session cookie (session middleware).
            headers={"X-Request-ID": request_id, "Cookie": f"sessionid={'b' * 32}"}
            if n
            else {"X-Request-ID": request_id},
        )
        assert status == 503, (path, body)
        assert headers["Retry-After"] == "30"
        assert headers["X-Request-ID"] == request_id
        assert OUTAGE_TEXT in body and "Traceback" not in body
    status, headers, body = http_get(base_url + "/healthz")
    assert status == 503
    assert json.loads(body) == {"database": "unavailable", "cache": "ok"}

    lines = [
        json.loads(line)
        for line in log_path.read_text().splitlines()
        if line.startswith("{")
    ]
    for n, path in enumerate(pages):
        errors = [
            line
            for line in lines
            if line["request_id"] == f"outage-{n}" and line["level"] == "ERROR"
        ]
        assert len(errors) == 1, (path, errors)
        assert "OperationalError" in errors[0]["exception"]


def assert_pages_answer_200(base_url, pages):
    # Several times each: both workers must have recovered, without a restart.
    for _ in range(3):
        for path in ["/healthz", *pages]:
            status, _, body = http_get(base_url + path)
            assert status == 200, (path, body)


def test_pages_answer_503_while_the_database_is_unreachable_and_recover(
    transactional_db, tmp_path
):
    """A real gunicorn (config/gunicorn.py) loses its database and gets it back.

    PostgreSQL: the server reaches the test database through a TCP proxy with the
    production connection settings (persistent connections, CONN_HEALTH_CHECKS,
    connect_timeout); the proxy is cut, turned into a black hole, then restored.
    SQLite: the database file's directory is moved away and back; SQLite has no
    connection to lose, so the server opens the file per request (CONN_MAX_AGE=0).
    """
    practice = make_practice(title="Outage practice")
    pages = ["/", practice.get_absolute_url()]  # not requested before the outage
    db = connection.settings_dict

    if connection.vendor == "postgresql":
        proxy = TcpProxy((db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432)))
        proxy.start()
        credentials = quote(db["USER"]) + (
            f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else ""
        )
        url = f"postgres://{credentials}@127.0.0.1:{proxy.port}/{db['NAME']}"
        try:
            with gunicorn_server(tmp_path, url) as (base_url, log_path):
                assert http_get(base_url + "/briefs/")[0] == 200

                proxy.stop()  # refused: connections drop, new ones are refused
                assert_pages_answer_503(base_url, log_path, pages)

                proxy.start(hang=True)  # a black hole: connect_timeout (5 s) ends it
                started = time.monotonic()
                assert http_get(base_url + "/healthz", timeout=25)[0] == 503
                assert time.monotonic() - started < 15
                proxy.stop()

                proxy.start()
                assert_pages_answer_200(base_url, pages)
        finally:
            proxy.stop()
    else:
        directory = tmp_path / "db"
        directory.mkdir()
        connection.ensure_connection()
        with sqlite3.connect(directory / "db.sqlite3") as copy:
            connection.connection.backup(copy)
        copy.close()
        url = f"sqlite:///{directory / 'db.sqlite3'}"
        with gunicorn_server(tmp_path, url, CONN_MAX_AGE="0") as (base_url, log_path):
            assert http_get(base_url + "/briefs/")[0] == 200

            directory.rename(tmp_path / "away")
            assert_pages_answer_503(base_url, log_path, pages)

            (tmp_path / "away").rename(directory)
            assert_pages_answer_200(base_url, pages)
