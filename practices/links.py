"""Checking that the catalogue's links still work (`manage.py check_links`).

Each distinct URL is checked once, politely: one request at a time per host, `delay`
seconds apart, hosts in parallel. HEAD first, then GET when HEAD gives no success, so
a server that mishandles HEAD never gets a link flagged. BROKEN (a final non-2xx
answer, a bad redirect, a malformed URL) and UNREACHABLE (no HTTP answer) are
failures; 429 and 503 (TRY_LATER) say nothing about the link, so they are not
recorded, nor are other schemes than http(s) (SKIPPED).
"""

import http.client
import logging
import queue
import socket
import ssl
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass
from enum import StrEnum
from urllib import request
from urllib.error import HTTPError, URLError
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

from django.conf import settings
from django.utils import timezone

from .models import LinkCheck, Practice, Project

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 10.0  # seconds, per connection attempt and per read
DEFAULT_DELAY = 1.0  # seconds between two requests to one host
DEFAULT_WORKERS = 4  # hosts checked in parallel
MAX_REDIRECTS = 5
BODY_BYTES = 1024  # read from a GET answer; the rest is never downloaded
TRY_LATER_STATUSES = frozenset({429, 503})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MALFORMED = "Malformed URL"


Outcome = StrEnum("Outcome", "OK BROKEN UNREACHABLE TRY_LATER SKIPPED")


@dataclass(frozen=True)
class LinkResult:
    url: str  # exactly as stored in the catalogue
    outcome: Outcome
    status_code: int | None = None
    error: str = ""
    final_url: str = ""  # where redirects led, when they did

    @property
    def ok(self):
        return self.outcome == Outcome.OK

    @property
    def recorded(self):
        return self.outcome in (Outcome.OK, Outcome.BROKEN, Outcome.UNREACHABLE)

    def describe(self):
        """ "200", "404 Not Found", "Connection refused"."""
        return " ".join(filter(None, [str(self.status_code or ""), self.error]))


class Stopped(BaseException):  # not an Exception: no check takes it for a failure
    """Raised inside a worker once the run is being stopped (Ctrl+C)."""


class RedirectError(Exception):
    """A redirect that is not followed; args: (status, message)."""


def prepare(url):
    """The address to request for `url`: http(s) only, non-ASCII and spaces in the
    path and query percent-encoded as a browser does, credentials and fragment
    dropped. None for another scheme; ValueError when there is nothing to request."""
    parts = urlsplit(url.strip())
    port = parts.port  # a non-numeric or out-of-range port raises ValueError
    if not parts.scheme:
        raise ValueError("no scheme")
    if parts.scheme.lower() not in ("http", "https"):
        return None
    host = parts.hostname
    if not host:
        raise ValueError("no host name")
    if any(char.isspace() or ord(char) < 32 for char in host):
        raise ValueError("space in the host name")
    if ":" in host:  # an IPv6 address needs no IDNA check
        host = f"[{host}]"
    else:
        try:
            host.encode("idna")
        except UnicodeError:
            raise ValueError("invalid host name") from None
    netloc = host if port is None else f"{host}:{port}"
    safe = "/:@!$&'()*+,;=%~"
    path = quote(parts.path, safe=safe) or "/"
    query = quote(parts.query, safe=safe + "?")
    return urlunsplit((parts.scheme.lower(), netloc, path, query, ""))


def host_key(url):
    """Which host a URL's requests count against for politeness."""
    with suppress(ValueError):  # a malformed URL: no host
        return urlsplit(url.strip()).hostname


class PoliteHandler(request.HTTPHandler, request.HTTPSHandler):
    """Opens http(s) connections, each request (redirect hops included) waiting its
    turn at its host: one at a time, `delay` seconds after the previous one ended."""

    def __init__(self, delay, stop):
        super().__init__()
        self.delay, self.stop = delay, stop
        self.hosts = {}  # host -> [lock, monotonic time the last request ended]

    def do_open(self, http_class, req, **kwargs):
        host = host_key(req.full_url)
        slot = self.hosts.setdefault(host, [threading.Lock(), float("-inf")])
        with slot[0]:
            self.stop.wait(slot[1] + self.delay - time.monotonic())
            if self.stop.is_set():
                raise Stopped
            try:
                return super().do_open(http_class, req, **kwargs)
            finally:
                slot[1] = time.monotonic()


class RedirectHandler(request.HTTPRedirectHandler):
    max_repeats = max_redirections = MAX_REDIRECTS  # beyond them urllib raises

    def http_error_302(self, req, fp, code, msg, headers):
        try:  # no Location: urljoin gives back req.full_url; urllib raises the 30x
            target = urljoin(req.full_url, headers.get("Location", ""))
            problem = "" if prepare(target) else "a non-http(s) URL"
        except ValueError:
            problem = "a malformed URL"
        if problem:
            fp.close()
            raise RedirectError(code, f"Redirects to {problem}")
        return super().http_error_302(req, fp, code, msg, headers)

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302


def describe_error(error, timeout):
    """A short, stable text for a failure to get an HTTP answer."""
    if isinstance(error, URLError):
        if not isinstance(error.reason, BaseException):
            return str(error.reason)[:200]
        error = error.reason
    if isinstance(error, socket.gaierror):
        text = "Host name not found"
    elif isinstance(error, ConnectionRefusedError):
        text = "Connection refused"
    elif isinstance(error, TimeoutError):
        text = f"No answer within {timeout:g} s"
    elif isinstance(error, ssl.SSLCertVerificationError):
        text = f"TLS certificate not accepted: {error.verify_message}"
    elif isinstance(error, ssl.SSLError):
        text = f"TLS error: {error.reason or error}"
    elif isinstance(error, http.client.RemoteDisconnected):
        text = "Connection closed without an answer"
    elif isinstance(error, ConnectionResetError):
        text = "Connection reset"
    elif isinstance(error, http.client.HTTPException):
        text = f"Invalid HTTP answer ({type(error).__name__})"
    elif isinstance(error, OSError):
        text = error.strerror or str(error) or type(error).__name__
    else:
        text = f"{type(error).__name__}: {error}"
    return text[:200]


def classify(url, status, final_url):
    moved = final_url if final_url != prepare(url) else ""
    if 200 <= status < 300:
        return LinkResult(url, Outcome.OK, status, final_url=moved)
    error = http.client.responses.get(status, "Unknown status")
    if status in TRY_LATER_STATUSES:
        return LinkResult(url, Outcome.TRY_LATER, status, error, moved)
    if status in REDIRECT_STATUSES:
        error = "Redirect without a Location"
    if moved:
        error = f"{error} at {moved}"
    return LinkResult(url, Outcome.BROKEN, status, error[:255], moved)


class LinkChecker:
    def __init__(self, *, timeout=DEFAULT_TIMEOUT, delay=DEFAULT_DELAY, stop=None):
        self.timeout = timeout
        self.stop = stop or threading.Event()
        handler = PoliteHandler(delay, self.stop)
        self.opener = request.build_opener(handler, RedirectHandler)
        agent = "PracticeAtlasLinkChecker/1.0"  # so a webmaster knows who asks
        self.agent = f"{agent} (+{settings.SITE_URL})" if settings.SITE_URL else agent

    def check(self, url):
        """Check one link; never raises, except Stopped once the run is stopping."""
        try:
            target = prepare(url)
        except ValueError as error:
            return LinkResult(url, Outcome.BROKEN, error=f"{MALFORMED}: {error}")
        if target is None:
            return LinkResult(url, Outcome.SKIPPED, error="Not an http(s) link")
        try:
            try:
                status, final = self.fetch(target, "HEAD")
            except (OSError, http.client.HTTPException) as error:
                hung_up = ConnectionResetError | BrokenPipeError
                if not isinstance(getattr(error, "reason", error), hung_up):
                    raise
                status = None  # some servers hang up on HEAD
            if status not in range(200, 300) and status not in TRY_LATER_STATUSES:
                status, final = self.fetch(target, "GET")
        except RedirectError as error:
            return LinkResult(url, Outcome.BROKEN, *error.args)
        except http.client.InvalidURL as error:
            return LinkResult(url, Outcome.BROKEN, error=f"{MALFORMED}: {error}"[:255])
        except Exception as error:  # one odd link must not end the run
            if not isinstance(error, OSError | http.client.HTTPException):
                logger.exception("Unexpected error checking %s", url)
            error = describe_error(error, self.timeout)
            return LinkResult(url, Outcome.UNREACHABLE, error=error)
        return classify(url, status, final)

    def fetch(self, url, method):
        """(status, URL) of the answer to `url`, after redirects."""
        headers = {"User-Agent": self.agent, "Accept": "*/*"}
        try:
            asking = request.Request(url, method=method, headers=headers)
            with self.opener.open(asking, timeout=self.timeout) as response:
                if method == "GET":
                    response.read(BODY_BYTES)
                return response.status, response.url
        except HTTPError as answer:
            answer.close()
            if answer.msg.startswith(RedirectHandler.inf_msg):  # a redirect loop
                message = f"More than {MAX_REDIRECTS} redirects"
                raise RedirectError(answer.code, message) from None
            return answer.code, answer.url


def check_urls(
    urls, *, timeout=DEFAULT_TIMEOUT, delay=DEFAULT_DELAY, workers=DEFAULT_WORKERS
):
    """Check `urls`, yielding one LinkResult per URL as each finishes, in the calling
    thread; each host's links one after the other, hosts in parallel. Closing the
    generator (or KeyboardInterrupt while it waits) stops the workers before their
    next request."""
    stop = threading.Event()
    checker = LinkChecker(timeout=timeout, delay=delay, stop=stop)
    by_host = defaultdict(list)
    for url in sorted(set(urls)):
        by_host[host_key(url)].append(url)
    results = queue.SimpleQueue()

    def run(host_urls):
        with suppress(Stopped):
            for url in host_urls:
                results.put(checker.check(url))

    executor = ThreadPoolExecutor(max(1, workers), thread_name_prefix="check_links")
    try:
        # Busiest hosts first: the longest queue bounds the run's duration.
        for host_urls in sorted(by_host.values(), key=len, reverse=True):
            executor.submit(run, host_urls)
        for _ in range(sum(map(len, by_host.values()))):
            yield results.get()
    finally:
        stop.set()
        executor.shutdown(wait=False, cancel_futures=True)


# --- the catalogue's links and their records -------------------------------------


def link_keepers():
    """What keeps links: [(model, URL lookup, name column, how a user is named)]."""
    from briefs.models import Brief  # briefs depends on practices, not the reverse

    return [
        (Practice, "sources__url", "title", "practice “{}”"),
        (Brief, "source_url", "title", "brief “{}”"),
        (Project, "url", "acronym", "project {}"),
    ]


def catalogue_links():
    """Every distinct link the catalogue keeps, with who uses it:
    {url: ["practice “…”", "brief “…”", "project …"]}, sorted by URL. Drafts and
    archived records count too: curators fix links before publishing."""
    usages = defaultdict(list)
    for model, field, name, user in link_keepers():
        rows = model.objects.filter(**{f"{field}__gt": ""}).order_by(name, "pk")
        for url, label in rows.values_list(field, name):
            usages[url].append(user.format(label))
    return {url: list(dict.fromkeys(users)) for url, users in sorted(usages.items())}


def record(result):
    """Store `result` as the latest check of its URL; `failures` counts failed checks
    in a row. Returns the LinkCheck, or None for outcomes that are not recorded."""
    if not result.recorded:
        return None
    checks = LinkCheck.objects.filter(url=result.url)
    previous = checks.values_list("failures", flat=True).first() or 0
    defaults = {
        "checked_at": timezone.now(),
        "ok": result.ok,
        "status_code": result.status_code,
        "error": result.error[:255],
        "failures": 0 if result.ok else previous + 1,
    }
    return LinkCheck.objects.update_or_create(url=result.url, defaults=defaults)[0]
