"""Load test: `make loadtest`, or `.venv/bin/python -m ops.loadtest` on a database
that is already set up.

Runs gunicorn (config/gunicorn.py, production settings, REDIS_URL passed through)
on a free loopback port, and beside it the framework's floor (ops/floor.py: one
view, no middleware, the same gunicorn config), then wrk against each in turn,
asking for pages as browsers do (Accept-Encoding). Each page is a page-cache hit
after the warm-up. The floor is measured before the first page and after each
one, and each page is compared with the mean of the floor runs on either side, so
that a machine whose speed drifts during the run (shared CPUs) does not skew the
shares. Targets: every page at least 50 % of the floor's req/s, no non-2xx/3xx
responses or socket errors and no ERROR line in the server's log; exit status 1
when one is missed. The share of /healthz (a database and a cache round trip, no
template) is shown too.
Environment: DURATION (wrk's -d, default 30s), CONNECTIONS (default 64),
ACCEPT_ENCODING (default what Chromium sends; empty for uncompressed pages).
"""

import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from config.gunicorn import cpu_count, worker_count

BASE_DIR = Path(__file__).resolve().parent.parent
REPORT = BASE_DIR / "ops" / "wrk_report.lua"  # wrk's figures as JSON
FLOOR = ("floor", "/")  # on the floor's server
TRIVIAL = ("healthz", "/healthz")
PAGES = [
    ("home", "/"),
    ("list", "/practices/"),
    ("list, filtered", "/practices/?country=it&theme=cooperation-between-smes"),
    ("search", "/practices/?q=export"),
    ("practice detail", "/practices/go4export-interactive-development/"),
    ("brief", "/briefs/internationalisation-of-smes/"),
    ("feed", "/practices/feed/"),
    ("robots.txt", "/robots.txt"),
]
TARGET_RATIO = 0.5
THREADS = 2
TIMEOUT = "2s"  # a slower response counts as an error (a socket timeout for wrk)
LOG_ERROR = '"level": "ERROR"'  # in the site's JSON log lines
BROWSER_ENCODINGS = "gzip, deflate, br, zstd"  # Chromium's Accept-Encoding


@dataclass
class WrkResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx_3xx: int
    socket_errors: int

    @property
    def errors(self):
        return self.non_2xx_3xx + self.socket_errors


def parse_wrk(output):
    """The figures of one run: the JSON line ops/wrk_report.lua writes last."""
    figures = json.loads(output.strip().rpartition("\n")[2])  # ValueError if absent
    return WrkResult(
        requests_per_second=figures["requests"] / figures["seconds"],
        p50_ms=figures["p50_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        requests=figures["requests"],
        non_2xx_3xx=figures["non_2xx_3xx"],
        socket_errors=figures["socket_errors"],
    )


def get(url, timeout=30, encodings=""):
    headers = {"Accept-Encoding": encodings} if encodings else {}
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def free_port():
    """A loopback port that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def gunicorn(app="config.wsgi", ready_path=TRIVIAL[1], **env):
    """(base URL, log file, process) of gunicorn serving `app` on a free loopback
    port; `env` adds to its environment (WEB_CONCURRENCY, say)."""
    port = free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_DEBUG": "false",
        # A loopback server without TLS: local host names, no HTTPS redirect.
        "ALLOWED_HOSTS": "127.0.0.1",
        "HTTPS": "false",
        **env,
    }
    command = [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", app]
    return server("gunicorn", command, port, ready_path, env)


@contextmanager
def server(name, command, port, ready_path, env=None):
    """(base URL, log file, process) of the server `command` starts on the loopback
    `port`, once `ready_path` answers; stopped on leaving, its log deleted then
    unless it holds an ERROR line."""
    base_url = f"http://127.0.0.1:{port}"
    log = tempfile.NamedTemporaryFile(
        prefix=f"loadtest-{name}-", suffix=".log", delete=False
    )
    process = subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 30
        while process.poll() is None and time.monotonic() < deadline:
            try:
                get(base_url + ready_path, timeout=2)
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise SystemExit(f"{name} did not start:\n{Path(log.name).read_text()}")
        yield base_url, Path(log.name), process
    finally:
        process.terminate()
        process.wait()
        log.close()
        if LOG_ERROR not in Path(log.name).read_text():
            Path(log.name).unlink()  # else kept for reading


def report_row(name, path, result, floor, trivial):
    """Print one row of the table; return the targets the page misses. `floor` is
    the floor as measured around this row."""
    share = result.requests_per_second / floor.requests_per_second
    misses = []
    if (name, path) not in (FLOOR, TRIVIAL) and share < TARGET_RATIO:
        misses.append(f"BELOW {TARGET_RATIO:.0%}")
    if result.errors:
        misses.append("ERRORS")
    # Shares rounded down: 49.9 % shows as 49 %, not 50 %.
    of_floor, of_trivial = (
        f"{int(result.requests_per_second / base.requests_per_second * 100)}%"
        for base in (floor, trivial)
    )
    print(
        f"{name:<17} {result.requests_per_second:>8.0f} {result.p50_ms:>8.1f} "
        f"{result.p99_ms:>8.1f} {result.errors:>7} {floor.requests_per_second:>8.0f} "
        f"{of_floor:>9} {of_trivial:>11}  {path}"
        + (f"  <- {', '.join(misses)}" if misses else ""),
        flush=True,
    )
    return misses


def mean_floor(runs):
    """The floor runs around a row, as one result: their mean req/s."""
    rps = sum(run.requests_per_second for run in runs) / len(runs)
    return replace(runs[0], requests_per_second=rps)


def main():
    duration = os.environ.get("DURATION", "30s")
    connections = int(os.environ.get("CONNECTIONS", "64"))
    encodings = os.environ.get("ACCEPT_ENCODING", BROWSER_ENCODINGS).strip()
    if shutil.which("wrk") is None:
        raise SystemExit(
            "wrk is not installed: apt-get install wrk (or brew install wrk)"
        )
    wrk = ["wrk", f"-t{min(THREADS, connections)}", f"-c{connections}"]
    wrk += [f"-d{duration}", f"--timeout={TIMEOUT}", "-s", str(REPORT)]
    if encodings:
        wrk += ["-H", f"Accept-Encoding: {encodings}"]
    failures = []
    floor_server = gunicorn("ops.floor", FLOOR[1])
    with floor_server as (floor_url, *_), gunicorn() as (base_url, log, _):
        for _, path in [TRIVIAL, *PAGES]:  # warm: caches, lazy imports, connections
            if (status := get(base_url + path, encodings=encodings)) != 200:
                raise SystemExit(f"{path} answered {status}; is the catalogue loaded?")
        print(
            f"{shlex.join(wrk)}, one page after another, against gunicorn "
            f"({worker_count()} workers, {cpu_count()} CPUs) at {base_url}; the floor "
            f"at {floor_url}; REDIS_URL "
            f"{'set' if os.environ.get('REDIS_URL') else 'not set'}; load average "
            f"{' / '.join(f'{load:.1f}' for load in os.getloadavg())}\n"
        )
        print(
            f"{'page':<17} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} "
            f"{'floor':>8} {'vs floor':>9} {'vs /healthz':>11}  path"
        )

        def measure(path, url=base_url):
            run = subprocess.run(
                [*wrk, url + path], capture_output=True, text=True, check=True
            )
            return parse_wrk(run.stdout)

        # The floor before the first row and after each: a row is compared with
        # the floor runs on either side of it, and every page with /healthz.
        floors = [measure(FLOOR[1], floor_url)]
        trivial = None
        for name, path in [TRIVIAL, *PAGES]:
            result = measure(path)
            floors.append(measure(FLOOR[1], floor_url))
            trivial = trivial or result
            if report_row(name, path, result, mean_floor(floors[-2:]), trivial):
                failures.append(name)
        report_row(*FLOOR, mean_floor(floors), mean_floor(floors), trivial)
        print(
            f"(the floor row: the mean of {len(floors)} runs, "
            f"{min(run.requests_per_second for run in floors):.0f} to "
            f"{max(run.requests_per_second for run in floors):.0f} req/s)"
        )
    if log.exists():
        print(
            f"\n{log.read_text().count(LOG_ERROR)} ERROR lines in the server log: {log}"
        )
        failures.append("server log")
    print(
        f"\nTargets: each page >= {TARGET_RATIO:.0%} of the floor's req/s; no "
        f"non-2xx/3xx responses or socket errors (including responses slower than "
        f"{TIMEOUT})."
    )
    if failures:
        print("Missed: " + ", ".join(failures))
        return 1
    print("All targets met.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
