"""The gunicorn configuration (config/gunicorn.py)."""

import os
import runpy
from pathlib import Path

from gunicorn.config import Config

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
