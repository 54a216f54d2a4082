"""/healthz, the 503 page while the database is down, and recovery when it is back
(ops/health.py)."""

import json
import os
import re
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

import psycopg
import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper
from django.test import Client
from psycopg import errors

from config.cache import cache_settings
from ops.health import database_unavailable
from practices.models import Practice
from practices.views import HomeView
from tests.factories import make_practice

BASE_DIR = Path(__file__).resolve().parent.parent.parent
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
    with mock.patch("ops.health.cache") as cache:
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


# --- an outage, not a failed query ----------------------------------------------------


def raised_by_django(driver_error):
    """`driver_error` as Django raises it: its own class, from the driver's error."""
    wrapper = (
        InterfaceError
        if isinstance(driver_error, psycopg.InterfaceError)
        else OperationalError
    )
    try:
        raise wrapper(*driver_error.args) from driver_error
    except DatabaseError as error:
        return error


def sqlite_error(path, sql="SELECT count(*) FROM sqlite_master", **options):
    try:
        sqlite3.connect(path, **options).execute(sql)
    except sqlite3.Error as error:
        return error
    raise AssertionError(f"{sql} did not fail")


def refused_connection_error():
    try:
        psycopg.connect(host="127.0.0.1", port=free_port(), connect_timeout=2)
    except psycopg.OperationalError as error:
        return error
    raise AssertionError("nothing should listen there")


def test_only_errors_of_the_connection_count_as_the_database_unavailable(tmp_path):
    locked = tmp_path / "locked.sqlite3"
    holder = sqlite3.connect(locked, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    outages = [
        OperationalError("connection refused (simulated)"),  # what the mocks raise
        InterfaceError("connection already closed"),
        refused_connection_error(),  # no SQLSTATE: no server answered
        errors.QueryCanceled("canceling statement due to statement timeout"),
        errors.AdminShutdown("terminating connection due to administrator command"),
        errors.TooManyConnections("too many clients already"),
        errors.IoError("could not read block"),
        sqlite_error(tmp_path / "missing" / "db.sqlite3"),  # SQLITE_CANTOPEN
        sqlite_error(locked, timeout=0),  # SQLITE_BUSY: "database is locked"
    ]
    query_errors = [
        sqlite_error(":memory:", "SELECT " + "(" * 200 + "1" + ")" * 200),
        errors.TooManyArguments("cannot pass more than 100 arguments to a function"),
        errors.StatementTooComplex("stack depth limit exceeded"),
        errors.SerializationFailure("could not serialize access"),
    ]
    holder.close()
    assert "parser stack overflow" in str(query_errors[0])
    for error in outages:
        assert database_unavailable(raised_by_django(error)), error
    for error in query_errors:
        assert not database_unavailable(raised_by_django(error)), error
    # Found as the cause or the context of another exception too.
    try:
        try:
            raise raised_by_django(outages[2])
        except DatabaseError as error:
            raise RuntimeError("while rendering") from error
    except RuntimeError as error:
        assert database_unavailable(error)


def test_a_failed_query_gets_the_500_page_not_the_outage_page(quiet_client, db):
    if connection.vendor == "postgresql":  # an OperationalError of class 54
        sql = "SELECT concat(" + ", ".join(["1"] * 101) + ")"
    else:  # an OperationalError with SQLITE_ERROR: "parser stack overflow"
        sql = "SELECT " + "(" * 200 + "1" + ")" * 200

    def failing_query(*args, **kwargs):
        with connection.cursor() as cursor:
            cursor.execute(sql)

    with mock.patch.object(HomeView, "get_context_data", side_effect=failing_query):
        response = quiet_client.get("/")
    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()
    assert "Retry-After" not in response


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
    start(hang=True) accepts connections but never answers (a black hole);
    pause() keeps every connection open but stops forwarding (what a stuck proxy
    or a frozen server does: the bytes are acknowledged, no answer comes)."""

    def __init__(self, upstream):
        self.upstream = upstream
        self.port = free_port()
        self.listener = None
        self.acceptor = None
        self.sockets = []
        self.lock = threading.Lock()
        self.forwarding = threading.Event()
        self.forwarding.set()

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

    def pause(self):
        self.forwarding.clear()

    def resume(self):
        self.forwarding.set()

    def _pipe(self, source, sink):
        try:
            while data := source.recv(65536):
                self.forwarding.wait()
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
        self.forwarding.set()  # lets paused pipes see their sockets close
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


def json_lines(log_path):
    return [line for line in log_path.read_text().splitlines() if line.startswith("{")]


def postgres_url(port=None):
    """A URL of the test database (through `port` on 127.0.0.1, if given)."""
    db = connection.settings_dict
    credentials = quote(db["USER"]) + (
        f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else ""
    )
    host = (
        f"127.0.0.1:{port}"
        if port
        else f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    )
    return f"postgres://{credentials}@{host}/{db['NAME']}"


def sqlite_copy(path):
    """A file copy of the (in-memory) SQLite test database, for a server to open."""
    connection.ensure_connection()
    with sqlite3.connect(path) as copy:
        connection.connection.backup(copy)
    copy.close()
    return path


def test_pages_answer_503_while_the_database_is_unreachable_and_recover(
    transactional_db, tmp_path
):
    """A real gunicorn (config/gunicorn.py) loses its database and gets it back.

    PostgreSQL: the server reaches the test database through a TCP proxy with the
    production connection settings (persistent connections, CONN_HEALTH_CHECKS,
    connect_timeout); the proxy is cut, turned into a black hole, restored, then
    paused: it keeps the workers' open connections but stops forwarding, as a
    stuck proxy or a frozen server does. Its kernel acknowledges every byte, so
    keepalives, tcp_user_timeout and statement_timeout never fire; the bounded
    wait for an answer (config.postgresql: statement timeout + 2 s, 3 s here)
    does. Before it, such a request hung until gunicorn killed the worker.
    SQLite: the database file's directory is moved away and back; SQLite has no
    connection to lose, so the server opens the file per request (CONN_MAX_AGE=0).
    """
    practice = make_practice(title="Outage practice")
    pages = ["/", practice.get_absolute_url()]  # not requested before the outage
    db = connection.settings_dict

    if connection.vendor == "postgresql":
        stalled = make_practice(title="Stalled practice").get_absolute_url()
        proxy = TcpProxy((db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432)))
        proxy.start()
        url = postgres_url(port=proxy.port)
        env = {"DATABASE_STATEMENT_TIMEOUT": "1"}
        try:
            with gunicorn_server(tmp_path, url, **env) as (base_url, log_path):
                assert http_get(base_url + "/briefs/")[0] == 200

                proxy.stop()  # refused: connections drop, new ones are refused
                assert_pages_answer_503(base_url, log_path, pages)

                proxy.start(hang=True)  # a black hole: connect_timeout (5 s) ends it
                started = time.monotonic()
                assert http_get(base_url + "/healthz", timeout=25)[0] == 503
                assert time.monotonic() - started < 15
                proxy.stop()

                proxy.start()
                assert_pages_answer_200(base_url, pages)  # each worker connected

                proxy.pause()
                started = time.monotonic()
                status, _, body = http_get(base_url + stalled, timeout=25)
                assert status == 503, body
                assert OUTAGE_TEXT in body
                # 3 s for the held connection, 5 s for a new one (connect_timeout).
                assert time.monotonic() - started < 12
                proxy.resume()
                assert_pages_answer_200(base_url, [stalled])
        finally:
            proxy.stop()
    else:
        directory = tmp_path / "db"
        directory.mkdir()
        url = f"sqlite:///{sqlite_copy(directory / 'db.sqlite3')}"
        with gunicorn_server(tmp_path, url, CONN_MAX_AGE="0") as (base_url, log_path):
            assert http_get(base_url + "/briefs/")[0] == 200

            directory.rename(tmp_path / "away")
            assert_pages_answer_503(base_url, log_path, pages)

            (tmp_path / "away").rename(directory)
            assert_pages_answer_200(base_url, pages)


# --- a database that stalls: a bound on every wait ----------------------------------


def test_connections_wait_for_the_database_a_bounded_time(db):
    """PostgreSQL: the connection carries the statement timeout, TCP keepalives and
    tcp_user_timeout of config/settings.py (the kernel, not the site, then drops a
    connection to a silent server); SQLite waits 5 s at most for a lock."""
    connection.ensure_connection()
    if connection.vendor == "postgresql":
        options = connection.settings_dict["OPTIONS"]
        with connection.cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            timeout = cursor.fetchone()[0]
            cursor.execute("SHOW jit")
            assert options["options"] == f"-c statement_timeout={timeout} -c jit=off"
            assert cursor.fetchone()[0] == "off"
        assert connection.connection.answer_timeout == options["answer_timeout"]
        sock = socket.socket(fileno=os.dup(connection.connection.pgconn.socket))
        with sock:
            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
            for name, value in [
                (socket.TCP_KEEPIDLE, options["keepalives_idle"]),
                (socket.TCP_KEEPINTVL, options["keepalives_interval"]),
                (socket.TCP_KEEPCNT, options["keepalives_count"]),
                (socket.TCP_USER_TIMEOUT, options["tcp_user_timeout"]),
            ]:
                assert sock.getsockopt(socket.IPPROTO_TCP, name) == int(value)
    else:
        busy_timeout = connection.connection.execute("PRAGMA busy_timeout")
        assert busy_timeout.fetchone()[0] == 5000


def test_a_database_stuck_behind_a_lock_answers_503_and_recovers(
    transactional_db, tmp_path
):
    """A live database that does not answer in time: another session holds a lock
    on the practices while a request needs them. PostgreSQL cancels the statement
    after DATABASE_STATEMENT_TIMEOUT (1 s here; none before, so the request hung
    until gunicorn killed the worker); SQLite stops waiting for the lock after
    ?timeout=1. The request gets the 503 page; released, the page is back."""
    practice = make_practice(title="Locked practice")
    path = practice.get_absolute_url()  # not requested before the lock
    table = Practice._meta.db_table
    if connection.vendor == "postgresql":
        url, env = postgres_url(), {"DATABASE_STATEMENT_TIMEOUT": "1"}
        holder = psycopg.connect(url)  # not autocommit: the lock lasts
        lock = f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"
        expected_error = "canceling statement due to statement timeout"
    else:
        database = sqlite_copy(tmp_path / "db.sqlite3")
        url, env = f"sqlite:///{database}?timeout=1", {}
        holder = sqlite3.connect(database, isolation_level=None)
        lock = "BEGIN EXCLUSIVE"
        expected_error = "database is locked"
    try:
        with gunicorn_server(tmp_path, url, **env) as (base_url, log_path):
            holder.execute(lock)
            # A hang instead (gunicorn's 30 s timeout) fails here, after 10 s.
            status, headers, body = http_get(
                base_url + path, headers={"X-Request-ID": "locked-1"}, timeout=10
            )
            holder.rollback()  # releases the lock
            assert status == 503, body
            assert headers["Retry-After"] == "30"
            assert OUTAGE_TEXT in body
            (error,) = [
                line
                for line in map(json.loads, json_lines(log_path))
                if line["request_id"] == "locked-1" and line["level"] == "ERROR"
            ]
            assert expected_error in error["exception"]

            assert http_get(base_url + path)[0] == 200
    finally:
        holder.close()
