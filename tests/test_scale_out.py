"""Ready to scale out: two real gunicorn instances on loopback, with the production
settings, share one database and one Redis, and an edit shows on both at once.

The database is real and shared: on PostgreSQL (when the suite runs with a
postgres:// DATABASE_URL) a fresh database on the same server, dropped afterwards;
otherwise a SQLite file. Redis database 2, under a key prefix of this run's own.
Static files are served from ones collected as production collects them (hashed,
compressed), into a folder of the test session's own (`collected_static`)."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.error import HTTPError
from urllib.parse import urlencode, urlsplit
from urllib.request import HTTPCookieProcessor, Request, build_opener, urlopen

import environ
import pytest

BASE_DIR = Path(__file__).resolve().parent.parent
REDIS_HOST, REDIS_PORT, REDIS_DB = "127.0.0.1", 6379, 2
# The public host name: a load balancer forwards the same Host header to every
# instance (pages, and so their cache keys, are per host).
HOST = "atlas.localhost"
TITLE = re.compile(r"<h1[^>]*>\s*(.*?)\s*</h1>", re.S)


def redis_or_skip():
    try:
        socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=1).close()
    except OSError as error:
        reason = f"Redis is not reachable at {REDIS_HOST}:{REDIS_PORT} ({error})"
        if os.environ.get("CI"):
            pytest.fail(f"CI is set, so Redis must run: {reason}", pytrace=False)
        pytest.skip(reason)


@pytest.fixture(scope="module")
def database_url(tmp_path_factory):
    """A fresh, empty database of the kind the suite runs on."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'shared.sqlite3'}"
        return
    import psycopg

    config = environ.Env.db_url_config(url)
    server = {
        "host": config["HOST"] or None,
        "port": config["PORT"] or None,
        "user": config["USER"] or None,
        "password": config["PASSWORD"] or None,
        "dbname": "postgres",
        "autocommit": True,
    }
    name = f"practice_atlas_scale_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(**server) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlsplit(url)._replace(path=f"/{name}").geturl()
    finally:
        with psycopg.connect(**server) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def site_env(database_url, collected_static):
    """The production settings, pointed at the shared database and Redis."""
    redis_or_skip()
    prefix = f"atlas-scale-{uuid.uuid4().hex[:12]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SECRET_KEY": "scale-out-test-not-a-secret",
        "ALLOWED_HOSTS": HOST,
        "DJANGO_DEBUG": "false",
        "HTTPS": "false",
        "DATABASE_URL": database_url,
        "REDIS_URL": f"redis://{REDIS_HOST}:{REDIS_PORT}/{REDIS_DB}",
        "CACHE_KEY_PREFIX": prefix,
        "PAGE_CACHE_SECONDS": "600",
        "LOG_LEVEL": "WARNING",
        "STATIC_ROOT": str(collected_static),
    }
    yield env
    import redis

    client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB)
    keys = list(client.scan_iter(match=f"{prefix}:*"))  # this run's keys only
    if keys:
        client.delete(*keys)


def manage(env, *args):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(base, path):
    """(status, X-Page-Cache, body) of an anonymous GET."""
    try:
        with urlopen(
            Request(base + path, headers={"Host": HOST}), timeout=10
        ) as response:
            body = response.read().decode()
            return response.status, response.headers.get("X-Page-Cache"), body
    except HTTPError as error:
        return error.code, error.headers.get("X-Page-Cache"), error.read().decode()


class Instance:
    def __init__(self, name, env, log_dir):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log_dir / f"gunicorn-{name}.log"
        self.process = subprocess.Popen(
            [
                str(BASE_DIR / ".venv" / "bin" / "gunicorn"),
                "config.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "1",
                "--no-control-socket",
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
        )

    def wait_until_up(self, deadline):
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"gunicorn exited early:\n{self.log.read_text()[-3000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        pytest.fail(f"gunicorn did not start:\n{self.log.read_text()[-3000:]}")

    def stop(self):
        self.process.send_signal(signal.SIGQUIT)  # quick shutdown

    def wait_until_stopped(self):
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="module")
def instances(site_env, tmp_path_factory):
    logs = tmp_path_factory.mktemp("logs")
    # The instances boot (imports only) while the database is set up.
    running = [Instance(name, site_env, logs) for name in ("a", "b")]
    try:
        setup = ["migrate --noinput --verbosity 0", "load_catalogue"]
        manage(site_env, "shell", "-c", setup_script(setup))
        deadline = time.monotonic() + 20
        for instance in running:
            instance.wait_until_up(deadline)
        yield running
    finally:
        for instance in running:
            instance.stop()
        for instance in running:
            instance.wait_until_stopped()


def setup_script(commands):
    """Several management commands in one process (one Django start-up)."""
    calls = "; ".join(f"call_command(*{command.split()!r})" for command in commands)
    return f"from django.core.management import call_command; {calls}"


def test_an_edit_through_one_instance_is_served_fresh_by_the_other(instances, site_env):
    a, b = instances
    status, _, listing = get(a.base, "/practices/")
    assert status == 200, listing[-2000:]
    slug = re.search(r'href="/practices/(?!compare/|feed/)([-\w]+)/"', listing).group(1)
    url = f"/practices/{slug}/"

    status, state_a, page_a = get(a.base, url)
    assert status == 200 and state_a == "miss"
    status, state_b, page_b = get(b.base, url)
    assert status == 200
    assert state_b == "hit"  # rendered by A, served by B: one shared cache
    old_title = TITLE.search(page_b).group(1)
    assert TITLE.search(page_a).group(1) == old_title

    # An edit committed by another process (same code, same signals as the admin).
    new_title = f"Renamed while cached {uuid.uuid4().hex[:6]}"
    manage(
        site_env,
        "shell",
        "-c",
        "from practices.models import Practice; "
        f"p = Practice.objects.get(slug={slug!r}); p.title = {new_title!r}; p.save()",
    )

    status, state_b, page_b = get(b.base, url)
    assert status == 200 and state_b == "miss"
    assert TITLE.search(page_b).group(1) == new_title
    status, state_a, page_a = get(a.base, url)
    assert state_a == "hit"  # stored by B, under the new version
    assert TITLE.search(page_a).group(1) == new_title
    assert old_title not in get(a.base, "/practices/")[2]


def test_a_session_started_on_one_instance_continues_on_the_other(instances):
    """Sessions (the comparison basket) live in the database, not in an instance."""
    a, b = instances
    browser = build_opener(HTTPCookieProcessor(CookieJar()))  # ports share cookies

    def visit(url, **form):
        headers = {"Host": HOST, "Origin": f"http://{HOST}"}
        data = urlencode(form).encode() if form else None
        request = Request(url, data=data, headers=headers)
        return browser.open(request, timeout=10).read().decode()

    listing = visit(f"{a.base}/practices/")
    slug = re.search(r'href="/practices/(?!compare/|feed/)([-\w]+)/"', listing).group(1)
    assert "to the comparison" in visit(f"{a.base}/practices/compare/add/", slug=slug)
    page = visit(f"{b.base}/practices/")
    assert "Compare (1)" in page and f"compare/?p={slug}" in page


def test_hashed_static_files_are_cached_for_ever(instances):
    """whitenoise serves the collected, hashed files with far-future headers."""
    a, _ = instances
    page = get(a.base, "/")[2]
    stylesheet = re.search(r'<link rel="stylesheet" href="([^"]+)"', page).group(1)
    assert re.search(r"\.[0-9a-f]{12}\.css$", stylesheet), stylesheet  # hashed name
    request = Request(a.base + stylesheet, headers={"Host": HOST})
    with urlopen(request, timeout=10) as response:
        assert response.status == 200
        assert response.headers["Cache-Control"] == (
            "max-age=315360000, public, immutable"
        )


def test_production_settings_keep_and_check_database_connections(site_env):
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "db = settings.DATABASES['default']; "
        "print(db['CONN_MAX_AGE'], db['CONN_HEALTH_CHECKS'], settings.SESSION_ENGINE)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env={k: v for k, v in site_env.items() if k != "CONN_MAX_AGE"},  # default
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out == ["60", "True", "django.contrib.sessions.backends.db"]
