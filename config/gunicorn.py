"""gunicorn settings: `gunicorn -c config/gunicorn.py config.wsgi` (what `make run` and
`make loadtest` use). Values come from the environment (or .env, like the Django
settings); gunicorn's command-line options override anything set here, e.g.
`--bind 0.0.0.0:8000` in a container."""

import os
from pathlib import Path

import environ

environ.Env.read_env(Path(__file__).resolve().parent.parent / ".env")  # optional


def cpu_count():
    """CPUs this process may run on (respects container CPU affinity)."""
    count = getattr(os, "process_cpu_count", os.cpu_count)()
    return count or 1


def worker_count():
    """WEB_CONCURRENCY when set, else gunicorn's rule of thumb 2 x CPUs + 1, capped:
    each sync worker holds a database connection and a copy of the app (~100 MB), and
    past a dozen the database, not Python, limits throughput."""
    configured = os.environ.get("WEB_CONCURRENCY", "").strip()
    if configured:
        return max(1, int(configured))
    return min(2 * cpu_count() + 1, 12)


# Loopback by default: a reverse proxy (or `make run`'s browser) sits in front.
bind = f"127.0.0.1:{int(os.environ.get('PORT', '8000'))}"
workers = worker_count()
# Sync workers: the pages are CPU-bound Python, so threads would mostly wait for the
# GIL; one request per process keeps the database connection per worker simple.
worker_class = "sync"

# A worker silent for this long is killed and replaced (a stuck request cannot hold
# it forever). The slowest page takes well under a second; PostgreSQL connections
# give up after 5 s (config/settings.py), so a database outage answers 503 in time.
timeout = 30
# On TERM/HUP, workers get this long to finish the requests they are serving.
graceful_timeout = 30
# Seconds to hold an idle keep-alive connection (used by the proxy in front; the
# sync worker itself closes each connection after its response).
keepalive = 5

# Access log on stdout, one line per request with the X-Request-ID the app returns,
# so it joins with the app's JSON request log (stderr) on request_id. No client
# address or user agent: the app does not need them, so it does not keep them.
accesslog = "-"
access_log_format = '%(t)s "%(r)s" %(s)s %(b)s %(M)sms request_id=%({x-request-id}o)s'
errorlog = "-"
loglevel = "info"

# gunicorn 25+ opens a control socket (for `gunicornc`) under $HOME by default; this
# app is managed with signals (TERM, HUP, TTIN/TTOU), so keep it off.
control_socket_disable = True

# preload_app stays off: each worker imports the app itself, so `kill -HUP` reloads
# new code without a restart, and no database or Redis connection opened while
# importing can be shared between forked workers. Preloading would save some memory
# per worker (a few tens of MB at most), not worth those two risks at this size.
preload_app = False
