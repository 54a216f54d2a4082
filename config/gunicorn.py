"""gunicorn settings: `gunicorn -c config/gunicorn.py config.wsgi` (`make run`,
`make loadtest`). Command-line options win, e.g. `--bind 0.0.0.0:8000`."""

import os
from pathlib import Path

import environ

environ.Env.read_env(Path(__file__).resolve().parent.parent / ".env")  # optional


def cpu_count():  # the CPUs this process may run on (container CPU affinity)
    return getattr(os, "process_cpu_count", os.cpu_count)() or 1


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
# Sync workers, gunicorn's default: the pages are CPU-bound, threads would wait.
workers = worker_count()

# A stuck worker is replaced after `timeout`. The slowest page takes well under a
# second and PostgreSQL connections give up after 5 s, so an outage answers 503.
timeout = 30
keepalive = 5  # for the proxy in front; sync workers close after each response

# Access log on stdout with the X-Request-ID the app returns, to join the app's log
# on request_id. No client address or user agent: the app does not need them.
# Errors go to stderr at level info, gunicorn's defaults.
accesslog = "-"
access_log_format = '%(t)s "%(r)s" %(s)s %(b)s %(M)sms request_id=%({x-request-id}o)s'

# gunicorn 25+ opens a control socket under $HOME; this app is managed with signals.
control_socket_disable = True

# Off: `kill -HUP` then reloads new code, and no connection opened while importing
# is shared between forked workers; preloading would save only tens of MB.
preload_app = False


def post_worker_init(worker):
    """The request-line and header-field limits follow the app's query-string limit
    (config/security.py), so that the app, not gunicorn, refuses a longer query
    string, with its own 414 page and headers: a line holds it and 1,000 bytes for
    the method, path and HTTP version (gunicorn allows 8,190 at most), a header
    field as much and 1,000 more for a scheme and host (a Referer naming such an
    address). Read in each worker, which has just loaded the app: imported in the
    master, the app's code would stay stale in new workers after `kill -HUP`."""
    from config.security import MAX_QUERY_STRING_BYTES

    worker.cfg.set("limit_request_line", MAX_QUERY_STRING_BYTES + 1000)
    worker.cfg.set("limit_request_field_size", MAX_QUERY_STRING_BYTES + 2000)
