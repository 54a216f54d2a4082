"""Load test: `make loadtest`, or `.venv/bin/python -m ops.loadtest` on a database
that is already set up.

Runs gunicorn (config/gunicorn.py, production settings, REDIS_URL passed through)
on a free loopback port and `wrk --latency` against each page in turn. Targets:
every page at least 50 % of the req/s of /healthz (a database and a cache round
trip, no template), no non-2xx/3xx responses or socket errors and no ERROR line in
the server's log; exit status 1 when one is missed. Environment: DURATION (wrk's
-d, default 60s), CONNECTIONS (default 64).
"""

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from config.gunicorn import cpu_count, worker_count

BASE_DIR = Path(__file__).resolve().parent.parent
TRIVIAL = ("trivial view", "/healthz")
PAGES = [
    ("home", "/"),
    ("list, filtered", "/practices/?country=it&theme=cooperation-between-smes"),
    ("search", "/practices/?q=export"),
    ("practice detail", "/practices/go4export-interactive-development/"),
    ("brief", "/briefs/internationalisation-of-smes/"),
]
TARGET_RATIO = 0.5
THREADS = 2
TIMEOUT = "2s"  # a slower response counts as an error (a socket timeout for wrk)
MS_PER_UNIT = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


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
    """Read wrk's --latency report (its error lines are absent when there were none)."""

    def find(pattern):
        if match := re.search(pattern, output, re.MULTILINE):
            return match.groups()
        raise ValueError(f"wrk output has no match for {pattern!r}:\n{output}")

    def percentile(p):
        value, unit = find(rf"^\s+{p}%\s+([\d.]+)(us|ms|s|m|h)\s*$")
        return float(value) * MS_PER_UNIT[unit]

    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return WrkResult(
        requests_per_second=float(find(r"^Requests/sec:\s+([\d.]+)")[0]),
        p50_ms=percentile(50),
        p99_ms=percentile(99),
        requests=int(find(r"^\s+(\d+) requests in ")[0]),
        non_2xx_3xx=int(non_2xx[1]) if non_2xx else 0,
        socket_errors=sum(map(int, sockets.groups())) if sockets else 0,
    )


def get(url, timeout=30):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@contextmanager
def gunicorn():
    """(base URL, log file) of gunicorn on a free loopback port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base_url = f"http://127.0.0.1:{port}"
    log = tempfile.NamedTemporaryFile(  # kept when it shows errors: see main()
        prefix="loadtest-gunicorn-", suffix=".log", delete=False
    )
    env = {
        **os.environ,
        "PORT": str(port),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_DEBUG": "false",
        # A loopback server without TLS: local host names, no HTTPS redirect.
        "ALLOWED_HOSTS": "127.0.0.1",
        "HTTPS": "false",
    }
    command = [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py"]
    process = subprocess.Popen(
        [*command, "config.wsgi"], cwd=BASE_DIR, env=env, stdout=log, stderr=log
    )
    try:
        deadline = time.monotonic() + 30
        while process.poll() is None and time.monotonic() < deadline:
            try:
                get(base_url + TRIVIAL[1], timeout=2)
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise SystemExit(f"gunicorn did not start:\n{Path(log.name).read_text()}")
        yield base_url, Path(log.name)
    finally:
        process.terminate()
        process.wait()
        log.close()


def report_row(name, path, result, trivial):
    """Print one row of the table; return the targets the page misses."""
    ratio = result.requests_per_second / trivial.requests_per_second
    misses = []
    if (name, path) != TRIVIAL and ratio < TARGET_RATIO:
        misses.append(f"BELOW {TARGET_RATIO:.0%}")
    if result.errors:
        misses.append("ERRORS")
    print(
        f"{name:<17} {result.requests_per_second:>8.0f} {result.p50_ms:>8.1f} "
        # The share rounded down: 49.9 % shows as 49 %, not 50 %.
        f"{result.p99_ms:>8.1f} {result.errors:>7} {f'{int(ratio * 100)}%':>11}  "
        f"{path}" + (f"  <- {', '.join(misses)}" if misses else ""),
        flush=True,
    )
    return misses


def main():
    duration = os.environ.get("DURATION", "60s")
    connections = int(os.environ.get("CONNECTIONS", "64"))
    if shutil.which("wrk") is None:
        raise SystemExit(
            "wrk is not installed: apt-get install wrk (or brew install wrk)"
        )
    wrk = ["wrk", f"-t{min(THREADS, connections)}", f"-c{connections}"]
    wrk += [f"-d{duration}", f"--timeout={TIMEOUT}", "--latency"]
    failures = []
    with gunicorn() as (base_url, log):
        for _, path in [TRIVIAL, *PAGES]:  # warm: caches, lazy imports, connections
            if (status := get(base_url + path)) != 200:
                raise SystemExit(f"{path} answered {status}; is the catalogue loaded?")
        print(
            f"{' '.join(wrk)}, one page after another, against gunicorn "
            f"({worker_count()} workers, {cpu_count()} CPUs) at {base_url}; REDIS_URL "
            f"{'set' if os.environ.get('REDIS_URL') else 'not set'}; load average "
            f"{' / '.join(f'{load:.1f}' for load in os.getloadavg())}\n"
        )
        print(
            f"{'page':<17} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} "
            f"{'vs /healthz':>11}  path"
        )
        trivial = None
        for name, path in [TRIVIAL, *PAGES]:
            command = [*wrk, base_url + path]
            run = subprocess.run(command, capture_output=True, text=True, check=True)
            result = parse_wrk(run.stdout)
            trivial = trivial or result  # TRIVIAL comes first
            if report_row(name, path, result, trivial):
                failures.append(name)
    errors = [
        line for line in log.read_text().splitlines() if '"level": "ERROR"' in line
    ]
    if errors:
        print(f"\n{len(errors)} ERROR lines in the server log: {log}")
        failures.append("server log")
    else:
        log.unlink()
    print(
        f"\nTargets: each page >= {TARGET_RATIO:.0%} of /healthz's req/s; no "
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
