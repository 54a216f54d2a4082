"""The gunicorn configuration (config/gunicorn.py)."""

import os
import runpy
import sqlite3
from pathlib import Path
from urllib.parse import quote

from django.db import connection
from gunicorn.config import Config

from config.security import MAX_QUERY_STRING_BYTES
from practices.content import load_catalogue
from tests.ops.test_health import gunicorn_server, http_get
from tests.test_security import longest_list_query_string

BASE_DIR = Path(__file__).resolve().parent.parent


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


def database_url(tmp_path):
    """The test database with its committed rows, for a server in another process:
    PostgreSQL's own; SQLite's (in memory) copied to a file."""
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        user = quote(db["USER"]) + (
            f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else ""
        )
        host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
        return f"postgres://{user}@{host}/{db['NAME']}"
    connection.ensure_connection()
    with sqlite3.connect(tmp_path / "db.sqlite3") as copy:
        connection.connection.backup(copy)
    copy.close()
    return f"sqlite:///{tmp_path / 'db.sqlite3'}"


def test_the_app_not_gunicorn_decides_which_list_addresses_are_too_long(
    transactional_db, tmp_path
):
    """Through a real gunicorn: the longest address the list's own form produces is
    served, so is a query string of exactly the app's limit (with a Referer naming
    it), and one byte more gets the app's own 414 with the site's headers, not
    gunicorn's bare one."""
    load_catalogue()
    with gunicorn_server(tmp_path, database_url(tmp_path)) as (base_url, _):
        longest = f"{base_url}/practices/?{longest_list_query_string()}"
        status, _, body = http_get(longest)
        assert status == 200 and "<h1" in body

        # A parameter the list ignores, so the page answers as usual.
        at_limit = f"{base_url}/practices/?x=" + "a" * (MAX_QUERY_STRING_BYTES - 2)
        status, _, body = http_get(at_limit, headers={"Referer": at_limit})
        assert status == 200 and "<h1" in body

        status, headers, body = http_get(at_limit + "a")
        assert status == 414
        assert "too long" in body
        assert headers["Permissions-Policy"] and headers["Content-Security-Policy"]
