"""Load test: `make loadtest` (which first runs `make setup`), or
`.venv/bin/python -m config.loadtest` on a database that is already set up.

Starts gunicorn with config/gunicorn.py on a free loopback port (production
settings, DEBUG off, the real catalogue; REDIS_URL is passed through when set), loads
each page once, then runs `wrk --latency` against each in turn and prints req/s, p50,
p99 and errors per page, with each page's throughput as a share of /healthz on the
same server. /healthz (a database and a cache round trip, no template) is the
trivial view: the floor every page is compared with.

Targets: every page at least 50 % of /healthz's req/s, and no errors (non-2xx/3xx
responses or socket errors). Exit status 1 when a page misses one.

Environment: DURATION (wrk's -d, default 60s), CONNECTIONS (default 64).
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
# A response slower than this counts as an error (a socket timeout in wrk's terms).
TIMEOUT = "2s"


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


_MS_PER_UNIT = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _ms(value, unit):
    return float(value) * _MS_PER_UNIT[unit]


def parse_wrk(output):
    """Reads wrk's --latency report; the error lines are absent when there were none."""

    def find(pattern):
        match = re.search(pattern, output, re.MULTILINE)
        if match is None:
            raise ValueError(f"wrk output has no match for {pattern!r}:\n{output}")
        return match

    def percentile(p):
        value, unit = find(rf"^\s+{p}%\s+([\d.]+)(us|ms|s|m|h)\s*$").groups()
        return _ms(value, unit)

    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return WrkResult(
        requests_per_second=float(find(r"^Requests/sec:\s+([\d.]+)").group(1)),
        p50_ms=percentile(50),
        p99_ms=percentile(99),
        requests=int(find(r"^\s+(\d+) requests in ").group(1)),
        non_2xx_3xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(map(int, sockets.groups())) if sockets else 0,
    )


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url, timeout=30):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


class Server:
    """gunicorn with config/gunicorn.py on a free loopback port; its logs go to a
    temporary file (a 60 s run writes tens of MB), kept only when errors show up."""

    def __init__(self):
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.NamedTemporaryFile(  # closed in stop()
            prefix="loadtest-gunicorn-", suffix=".log", delete=False
        )
        env = {
            **os.environ,
            "PORT": str(self.port),
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DJANGO_DEBUG": "false",
            # A loopback server without TLS: local host names, no HTTPS redirect.
            "ALLOWED_HOSTS": "127.0.0.1",
            "HTTPS": "false",
        }
        self.process = subprocess.Popen(
            [
                str(BASE_DIR / ".venv/bin/gunicorn"),
                "-c",
                str(BASE_DIR / "config/gunicorn.py"),
                "config.wsgi",
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.wait_until_up()

    def wait_until_up(self, seconds=30):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited early; its log: {self.log.name}")
            try:
                get(self.base_url + TRIVIAL[1], timeout=2)
                return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise SystemExit(
            f"gunicorn did not answer in {seconds} s; log: {self.log.name}"
        )

    def error_lines(self):
        text = Path(self.log.name).read_text(errors="replace")
        return [line for line in text.splitlines() if '"level": "ERROR"' in line]

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def run_wrk(url, duration, connections):
    command = [
        "wrk",
        f"-t{min(THREADS, connections)}",
        f"-c{connections}",
        f"-d{duration}",
        f"--timeout={TIMEOUT}",
        "--latency",
        url,
    ]
    completed = subprocess.run(command, capture_output=True, text=True, check=True)
    return parse_wrk(completed.stdout)


HEADER = (
    f"{'page':<17} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} "
    f"{'vs /healthz':>11}  path"
)


def report_row(name, path, result, trivial):
    """Prints one row of the table; returns the targets the page misses."""
    ratio = result.requests_per_second / trivial.requests_per_second
    share = f"{int(ratio * 100)}%"  # rounded down: 49.9 % shows as 49 %, not 50 %
    misses = []
    if (name, path) != TRIVIAL and ratio < TARGET_RATIO:
        misses.append(f"BELOW {TARGET_RATIO:.0%}")
    if result.errors:
        misses.append("ERRORS")
    print(
        f"{name:<17} {result.requests_per_second:>8.0f} {result.p50_ms:>8.1f} "
        f"{result.p99_ms:>8.1f} {result.errors:>7} {share:>11}  {path}"
        + (f"  <- {', '.join(misses)}" if misses else ""),
        flush=True,
    )
    return misses


def load_average():
    return "{:.1f} / {:.1f} / {:.1f}".format(*os.getloadavg())


def main():
    duration = os.environ.get("DURATION", "60s")
    connections = int(os.environ.get("CONNECTIONS", "64"))
    if shutil.which("wrk") is None:
        raise SystemExit(
            "wrk is not installed: apt-get install wrk (or brew install wrk)"
        )

    failures = []
    server = Server()
    try:
        for _, path in [TRIVIAL, *PAGES]:  # warm: caches, lazy imports, connections
            status = get(server.base_url + path)
            if status != 200:
                raise SystemExit(f"{path} answered {status}; is the catalogue loaded?")
        print(
            f"wrk -t{min(THREADS, connections)} -c{connections} -d{duration} "
            f"--timeout={TIMEOUT} --latency, one page after another, against "
            f"gunicorn ({worker_count()} workers) at {server.base_url}; "
            f"REDIS_URL {'set' if os.environ.get('REDIS_URL') else 'not set'}; "
            f"{cpu_count()} CPUs, load average {load_average()} (1/5/15 min)\n"
        )
        print(HEADER, flush=True)
        trivial = run_wrk(server.base_url + TRIVIAL[1], duration, connections)
        if report_row(*TRIVIAL, trivial, trivial):
            failures.append(TRIVIAL[0])
        for name, path in PAGES:
            result = run_wrk(server.base_url + path, duration, connections)
            if report_row(name, path, result, trivial):
                failures.append(name)
        errors_logged = server.error_lines()
    finally:
        server.stop()

    print(
        f"\nLoad average at the end: {load_average()}. Targets: each page >= "
        f"{TARGET_RATIO:.0%} of /healthz's req/s; no non-2xx/3xx responses or "
        f"socket errors (including responses slower than {TIMEOUT})."
    )
    if errors_logged:
        print(f"{len(errors_logged)} ERROR lines in the server log: {server.log.name}")
        failures.append("server log")
    else:
        os.unlink(server.log.name)
    if failures:
        print("Missed: " + ", ".join(failures))
        return 1
    print("All targets met.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
