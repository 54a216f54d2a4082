"""Checking that the catalogue's links still work (`manage.py check_links`).

Each distinct URL is checked once, politely: one request at a time per host, `delay`
seconds apart, hosts in parallel. HEAD first, then GET (reading only BODY_BYTES)
when HEAD gives no success, so a server that mishandles HEAD never gets a link
flagged. Redirects are followed hop by hop, each hop a request of its own.

BROKEN (a final non-2xx answer, a bad redirect, a malformed URL) and UNREACHABLE
(no HTTP answer) count as failures; 429 and 503 (TRY_LATER) say nothing about the
link, so they are not recorded, nor are other schemes than http(s) (SKIPPED).
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
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from http import HTTPStatus
from urllib.error import URLError
from urllib.parse import quote, urljoin, urlsplit, urlunsplit
from urllib.request import HTTPErrorProcessor, Request, build_opener

from django.conf import settings
from django.utils import timezone

from .models import LinkCheck, PracticeSource, Project

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 10.0  # seconds, per connection attempt and per read
DEFAULT_DELAY = 1.0  # seconds between two requests to one host
DEFAULT_WORKERS = 4  # hosts checked in parallel
MAX_REDIRECTS = 5
BODY_BYTES = 1024  # read from a GET answer; the rest is never downloaded
TRY_LATER_STATUSES = frozenset({429, 503})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MALFORMED = "Malformed URL"


class Outcome(StrEnum):
    OK = "ok"
    BROKEN = "broken"
    UNREACHABLE = "unreachable"
    TRY_LATER = "try_later"
    SKIPPED = "skipped"


RECORDED_OUTCOMES = frozenset({Outcome.OK, Outcome.BROKEN, Outcome.UNREACHABLE})


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
        return self.outcome in RECORDED_OUTCOMES

    def describe(self):
        """A short account for people: "200", "404 Not Found", "Connection refused"."""
        parts = [str(self.status_code)] if self.status_code else []
        if self.error:
            parts.append(self.error)
        return " ".join(parts)


def user_agent():
    """Names the checker, and the site when SITE_URL is set, so that a webmaster
    who sees it in a log knows who is asking."""
    agent = "PracticeAtlasLinkChecker/1.0"
    return f"{agent} (+{settings.SITE_URL})" if settings.SITE_URL else agent


class MalformedURL(ValueError):
    pass


class Stopped(Exception):
    """Raised inside a worker once the run is being stopped (Ctrl+C)."""


class RedirectError(Exception):
    """A redirect that cannot be followed: too many, or to an unusable address."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


def prepare(url):
    """The address to request for `url`: http(s) only, non-ASCII and spaces in the
    path and query percent-encoded as a browser does, the fragment dropped.
    None for another scheme; raises MalformedURL when there is nothing to request."""
    text = url.strip()
    try:
        parts = urlsplit(text)
        port = parts.port  # a non-numeric or out-of-range port raises ValueError
    except ValueError as error:
        raise MalformedURL(str(error)) from None
    scheme = parts.scheme.lower()
    if not scheme:
        raise MalformedURL("no scheme")
    if scheme not in ("http", "https"):
        return None
    host = parts.hostname
    if not host:
        raise MalformedURL("no host name")
    if any(char.isspace() or ord(char) < 32 for char in host):
        raise MalformedURL("space in the host name")
    if ":" not in host:  # an IPv6 address needs no IDNA check
        try:
            host.encode("idna")
        except UnicodeError:
            raise MalformedURL("invalid host name") from None
    netloc = f"[{host}]" if ":" in host else host  # credentials are dropped
    if port is not None:
        netloc = f"{netloc}:{port}"
    safe = "/:@!$&'()*+,;=%~"
    path = quote(parts.path, safe=safe) or "/"
    query = quote(parts.query, safe=safe + "?")
    return urlunsplit((scheme, netloc, path, query, ""))


def host_key(url):
    """Which host a URL's requests count against for politeness."""
    try:
        return (urlsplit(url.strip()).hostname or "").lower()
    except ValueError:
        return ""


class HostGate:
    """At most one request at a time per host, each starting at least `delay`
    seconds after the previous request to that host ended."""

    def __init__(self, delay, stop):
        self.delay = delay
        self.stop = stop
        self._lock = threading.Lock()
        self._hosts = {}  # host -> [lock, monotonic time the last request ended]

    @contextmanager
    def request(self, host):
        with self._lock:
            slot = self._hosts.setdefault(host, [threading.Lock(), None])
        with slot[0]:
            if slot[1] is not None:
                wait = slot[1] + self.delay - time.monotonic()
                if wait > 0:
                    self.stop.wait(wait)
            if self.stop.is_set():
                raise Stopped
            try:
                yield
            finally:
                slot[1] = time.monotonic()


class _EveryAnswer(HTTPErrorProcessor):
    """Return every HTTP answer as it is: no HTTPError, no automatic redirect (the
    checker follows redirects itself, each hop through the HostGate)."""

    def http_response(self, request, response):
        return response

    https_response = http_response


def describe_error(error, timeout):
    """A short, stable text for a failure to get an HTTP answer."""
    if isinstance(error, URLError):
        if not isinstance(error.reason, BaseException):
            return str(error.reason)[:200]
        error = error.reason
    if isinstance(error, socket.gaierror):
        return "Host name not found"
    if isinstance(error, ConnectionRefusedError):
        return "Connection refused"
    if isinstance(error, TimeoutError):
        return f"No answer within {timeout:g} s"
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"TLS certificate not accepted: {error.verify_message}"[:200]
    if isinstance(error, ssl.SSLError):
        return f"TLS error: {error.reason or error}"[:200]
    if isinstance(error, http.client.RemoteDisconnected):
        return "Connection closed without an answer"
    if isinstance(error, ConnectionResetError):
        return "Connection reset"
    if isinstance(error, http.client.HTTPException):
        return f"Invalid HTTP answer ({type(error).__name__})"
    if isinstance(error, OSError):
        return (error.strerror or str(error) or type(error).__name__)[:200]
    return f"{type(error).__name__}: {error}"[:200]


def classify(url, status, final_url):
    moved = final_url if final_url and final_url != prepare(url) else ""
    if 200 <= status < 300:
        return LinkResult(url, Outcome.OK, status, final_url=moved)
    if status in TRY_LATER_STATUSES:
        return LinkResult(url, Outcome.TRY_LATER, status, _phrase(status), moved)
    error = _phrase(status)
    if status in REDIRECT_STATUSES:
        error = "Redirect without a Location"
    if moved:
        error = f"{error} at {moved}"
    return LinkResult(url, Outcome.BROKEN, status, error[:255], moved)


def _hung_up(error):
    """Whether the server closed the connection instead of answering."""
    if isinstance(error, URLError):
        error = error.reason
    return isinstance(
        error, (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)
    )


def _phrase(status):
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown status"


class LinkChecker:
    def __init__(
        self,
        *,
        timeout=DEFAULT_TIMEOUT,
        delay=DEFAULT_DELAY,
        stop=None,
        agent=None,
    ):
        self.timeout = timeout
        self.stop = stop or threading.Event()
        self.gate = HostGate(delay, self.stop)
        self.agent = agent or user_agent()
        self._opener = build_opener(_EveryAnswer)

    def check(self, url):
        """Check one link; never raises, except Stopped once the run is stopping."""
        try:
            target = prepare(url)
        except MalformedURL as error:
            return LinkResult(url, Outcome.BROKEN, error=f"{MALFORMED}: {error}")
        if target is None:
            return LinkResult(url, Outcome.SKIPPED, error="Not an http(s) link")
        try:
            try:
                status, final = self._follow(target, "HEAD")
            except (OSError, http.client.HTTPException) as error:
                if not _hung_up(error):
                    raise
                status, final = None, ""  # some servers hang up on HEAD
            needs_get = status is None or not (
                200 <= status < 300 or status in TRY_LATER_STATUSES
            )
            if needs_get:
                status, final = self._follow(target, "GET")
        except Stopped:
            raise
        except RedirectError as error:
            return LinkResult(url, Outcome.BROKEN, error.status, error.message)
        except http.client.InvalidURL as error:
            return LinkResult(url, Outcome.BROKEN, error=f"{MALFORMED}: {error}"[:255])
        except (OSError, http.client.HTTPException) as error:
            error = describe_error(error, self.timeout)
            return LinkResult(url, Outcome.UNREACHABLE, error=error)
        except Exception as error:  # one odd link must not end the run
            logger.exception("Unexpected error checking %s", url)
            error = describe_error(error, self.timeout)
            return LinkResult(url, Outcome.UNREACHABLE, error=error)
        return classify(url, status, final)

    def _follow(self, url, method):
        """Request `url`, following redirects; returns (final status, final URL)."""
        for _hop in range(MAX_REDIRECTS + 1):
            with self.gate.request(host_key(url)):
                status, location = self._request(url, method)
            if status not in REDIRECT_STATUSES or not location:
                return status, url
            try:
                url = prepare(urljoin(url, location))
            except MalformedURL:
                raise RedirectError(status, "Redirects to a malformed URL") from None
            if url is None:
                raise RedirectError(status, "Redirects to a non-http(s) URL")
        raise RedirectError(status, f"More than {MAX_REDIRECTS} redirects")

    def _request(self, url, method):
        request = Request(
            url, method=method, headers={"User-Agent": self.agent, "Accept": "*/*"}
        )
        with self._opener.open(request, timeout=self.timeout) as response:
            if method == "GET":
                response.read(BODY_BYTES)
            return response.status, response.headers.get("Location", "")


def check_urls(
    urls, *, timeout=DEFAULT_TIMEOUT, delay=DEFAULT_DELAY, workers=DEFAULT_WORKERS
):
    """Check `urls`, yielding one LinkResult per URL as each finishes, in the calling
    thread. Closing the generator (or an exception such as KeyboardInterrupt while
    it waits) stops the workers before their next request."""
    stop = threading.Event()
    checker = LinkChecker(timeout=timeout, delay=delay, stop=stop)
    by_host = defaultdict(list)
    for url in sorted(set(urls)):
        by_host[host_key(url)].append(url)
    # Busiest hosts first: the longest queue bounds the run's duration.
    queues = sorted(by_host.values(), key=lambda urls: (-len(urls), urls[0]))
    results = queue.Queue()

    def run(host_urls):
        for url in host_urls:
            try:
                results.put(checker.check(url))
            except Stopped:
                return
            except Exception as error:  # never leave the caller waiting
                results.put(
                    LinkResult(url, Outcome.UNREACHABLE, error=describe_error(error, 0))
                )

    executor = ThreadPoolExecutor(
        max_workers=max(1, workers), thread_name_prefix="check_links"
    )
    try:
        for host_urls in queues:
            executor.submit(run, host_urls)
        for _ in range(sum(len(urls) for urls in queues)):
            yield results.get()
    finally:
        stop.set()
        executor.shutdown(wait=False, cancel_futures=True)


# --- the catalogue's links and their records -------------------------------------


def link_keepers():
    """What keeps links: [(model, URL field, name column, how a user is named,
    admin change page, that page's object id column)]."""
    from briefs.models import Brief  # briefs depends on practices, not the reverse

    return [
        (
            PracticeSource,
            "url",
            "practice__title",
            "practice “{}”",
            "practices_practice",
            "practice_id",
        ),
        (Brief, "source_url", "title", "brief “{}”", "briefs_brief", "pk"),
        (Project, "url", "acronym", "project {}", "practices_project", "pk"),
    ]


def catalogue_links():
    """Every distinct link the catalogue keeps, with who uses it:
    {url: ["practice “…”", "brief “…”", "project …"]}, sorted by URL. Drafts and
    archived records count too: curators fix links before publishing."""
    usages = defaultdict(list)
    for model, field, name, user, *_ in link_keepers():
        rows = model.objects.exclude(**{field: ""}).order_by(name, "pk")
        for url, label in rows.values_list(field, name):
            usages[url].append(user.format(label))
    return {url: list(dict.fromkeys(users)) for url, users in sorted(usages.items())}


def record(result, *, now=None):
    """Store `result` as the latest check of its URL: `failures` counts failed
    checks in a row and goes back to 0 on success. Returns the LinkCheck, or None
    for outcomes that are not recorded (try later, skipped)."""
    if not result.recorded:
        return None
    previous = (
        LinkCheck.objects.filter(url=result.url)
        .values_list("failures", flat=True)
        .first()
    )
    failures = 0 if result.ok else (previous or 0) + 1
    check, _ = LinkCheck.objects.update_or_create(
        url=result.url,
        defaults={
            "checked_at": now or timezone.now(),
            "ok": result.ok,
            "status_code": result.status_code,
            "error": result.error[:255],
            "failures": failures,
        },
    )
    return check
