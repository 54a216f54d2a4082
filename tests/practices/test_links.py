"""manage.py check_links, practices/links.py and the link-check admin.

Every request goes to a local HTTP server started here (or to a closed local port,
or to a name under .invalid, which never resolves): the `no_internet` fixture fails
any test that tries to connect anywhere else."""

import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO

import pytest
from django.core.management import call_command, execute_from_command_line
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse

from practices import links
from practices.links import LinkChecker, Outcome
from practices.models import LinkCheck, PracticeSource
from tests.factories import make_brief, make_practice, make_project

TIMEOUT = 0.5  # seconds; the slow page takes longer than this
LOCAL_HOSTS = {"127.0.0.1", "localhost", "nonexistent.invalid"}
UNRESOLVABLE = "http://nonexistent.invalid/page"  # RFC 6761: never resolves


class Handler(BaseHTTPRequestHandler):
    """One behaviour per path; every request is logged on the server."""

    protocol_version = "HTTP/1.1"

    def do_HEAD(self):
        self.answer("HEAD")

    def do_GET(self):
        self.answer("GET")

    def answer(self, method):
        server = self.server
        with server.lock:
            server.requests.append(
                {
                    "method": method,
                    "path": self.path,
                    "host": self.headers["Host"].rsplit(":", 1)[0],
                    "agent": self.headers["User-Agent"],
                    "at": time.monotonic(),
                }
            )
        path = self.path
        if path == "/ok":
            self.reply(200, body=b"x" * 100_000)
        elif path == "/missing":
            self.reply(404)
        elif path == "/error":
            self.reply(500)
        elif path == "/moved":
            self.reply(301, location="/ok")
        elif path == "/found-missing":
            self.reply(302, location="/missing")
        elif path == "/loop":
            self.reply(302, location="/loop")
        elif path == "/to-ftp":
            self.reply(302, location="ftp://127.0.0.1/file")
        elif path == "/to-mailto":
            self.reply(302, location="mailto:someone@example.org")
        elif path == "/to-malformed":
            self.reply(302, location="http://[::1/page")
        elif path == "/no-location":
            self.reply(302)
        elif path == "/no-head":
            self.reply(405 if method == "HEAD" else 200)
        elif path == "/head-hangs-up":
            if method == "HEAD":
                self.close_connection = True  # no answer at all
                return
            self.reply(200)
        elif path == "/slow":
            time.sleep(TIMEOUT * 3)
            self.reply(200)
        elif path == "/busy":
            self.reply(429, headers={"Retry-After": "60"})
        elif path == "/unavailable":
            self.reply(503)
        elif path == "/flaky":
            self.reply(200 if server.flaky_ok else 404)
        elif path.startswith("/page"):
            self.reply(200)
        else:
            self.reply(404)

    def reply(self, status, location=None, headers=None, body=b"answer"):
        self.send_response(status)
        if location:
            self.send_header("Location", location)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            try:
                self.wfile.write(body)
            except OSError:  # the checker reads only the start of a body
                pass

    def log_message(self, *args):
        pass


@pytest.fixture(autouse=True)
def no_internet(monkeypatch):
    """Refuse any connection that is not local, and ignore proxy settings."""
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)
    create_connection = socket.create_connection

    def local_only(address, *args, **kwargs):
        if address[0] not in LOCAL_HOSTS:
            raise AssertionError(f"The tests tried to reach {address[0]}")
        return create_connection(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", local_only)


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    httpd.requests = []
    httpd.lock = threading.Lock()
    httpd.flaky_ok = False
    httpd.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def closed_port():
    """A local port nothing listens on: connections are refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/gone"


def run(*args, **options):
    options.setdefault("timeout", TIMEOUT)
    options.setdefault("delay", 0)
    out = StringIO()
    call_command("check_links", *args, stdout=out, **options)
    return out.getvalue()


def paths(server, method=None):
    return [r["path"] for r in server.requests if method in (None, r["method"])]


# --- checking one link -------------------------------------------------------------


@pytest.mark.parametrize(
    "path, outcome, status, error",
    [
        ("/ok", Outcome.OK, 200, ""),
        ("/missing", Outcome.BROKEN, 404, "Not Found"),
        ("/error", Outcome.BROKEN, 500, "Internal Server Error"),
        ("/moved", Outcome.OK, 200, ""),
        ("/found-missing", Outcome.BROKEN, 404, "Not Found at http://"),
        ("/loop", Outcome.BROKEN, 302, "More than 5 redirects"),
        ("/to-ftp", Outcome.BROKEN, 302, "Redirects to a non-http(s) URL"),
        ("/to-mailto", Outcome.BROKEN, 302, "Redirects to a non-http(s) URL"),
        ("/to-malformed", Outcome.BROKEN, 302, "Redirects to a malformed URL"),
        ("/no-location", Outcome.BROKEN, 302, "Redirect without a Location"),
        ("/no-head", Outcome.OK, 200, ""),
        ("/head-hangs-up", Outcome.OK, 200, ""),
        ("/slow", Outcome.UNREACHABLE, None, f"No answer within {TIMEOUT:g} s"),
        ("/busy", Outcome.TRY_LATER, 429, "Too Many Requests"),
        ("/unavailable", Outcome.TRY_LATER, 503, "Service Unavailable"),
    ],
)
def test_answers_are_classified(server, path, outcome, status, error):
    result = LinkChecker(timeout=TIMEOUT, delay=0).check(server.base + path)
    assert (result.outcome, result.status_code) == (outcome, status)
    assert result.error.startswith(error)
    assert result.ok == (outcome == Outcome.OK)


def test_a_redirect_records_where_it_led(server):
    result = LinkChecker(timeout=TIMEOUT, delay=0).check(server.base + "/moved")
    assert result.final_url == server.base + "/ok"
    assert paths(server) == ["/moved", "/ok"]  # HEAD was enough


def test_get_is_used_only_when_head_gives_no_success(server):
    checker = LinkChecker(timeout=TIMEOUT, delay=0)
    for path in ["/ok", "/no-head", "/missing", "/busy"]:
        checker.check(server.base + path)
    methods = [(r["method"], r["path"]) for r in server.requests]
    assert methods == [
        ("HEAD", "/ok"),
        ("HEAD", "/no-head"),
        ("GET", "/no-head"),
        ("HEAD", "/missing"),  # a 404 to HEAD is confirmed by GET
        ("GET", "/missing"),
        ("HEAD", "/busy"),  # 429: asking again now would be rude
    ]


def test_network_failures_are_results_not_exceptions(closed_port):
    checker = LinkChecker(timeout=TIMEOUT, delay=0)
    refused = checker.check(closed_port)
    assert (refused.outcome, refused.error) == (
        Outcome.UNREACHABLE,
        "Connection refused",
    )
    started = time.monotonic()
    unknown = checker.check(UNRESOLVABLE)
    assert (unknown.outcome, unknown.error) == (
        Outcome.UNREACHABLE,
        "Host name not found",
    )
    assert time.monotonic() - started < 30  # the resolver answered; no hang


@pytest.mark.parametrize(
    "url, error",
    [
        ("not a url", "Malformed URL: no scheme"),
        ("http://exa mple.org/", "Malformed URL: space in the host name"),
        ("http://[::1/", "Malformed URL: Invalid IPv6 URL"),
        ("http:///path-only", "Malformed URL: no host name"),
        ("http://127.0.0.1:99999/", "Malformed URL: Port out of range"),
        ("http://a..b.example/", "Malformed URL: invalid host name"),
    ],
)
def test_malformed_urls_are_broken_without_a_request(url, error):
    result = LinkChecker(timeout=TIMEOUT, delay=0).check(url)
    assert result.outcome == Outcome.BROKEN
    assert result.error.startswith(error)


def test_other_schemes_are_skipped():
    result = LinkChecker(timeout=TIMEOUT, delay=0).check("ftp://example.org/file")
    assert result.outcome == Outcome.SKIPPED and not result.recorded


def test_paths_are_encoded_as_a_browser_would(server):
    result = LinkChecker(timeout=TIMEOUT, delay=0).check(
        server.base + "/page with spaces/è?q=a b#part"
    )
    assert result.outcome == Outcome.OK
    assert paths(server) == ["/page%20with%20spaces/%C3%A8?q=a%20b"]


def test_user_agent_names_the_checker_and_the_site(server):
    LinkChecker(timeout=TIMEOUT, delay=0).check(server.base + "/ok")
    with override_settings(SITE_URL="https://atlas.example.org"):
        LinkChecker(timeout=TIMEOUT, delay=0).check(server.base + "/ok")
    assert [r["agent"] for r in server.requests] == [
        "PracticeAtlasLinkChecker/1.0",
        "PracticeAtlasLinkChecker/1.0 (+https://atlas.example.org)",
    ]


# --- politeness --------------------------------------------------------------------


def test_requests_to_one_host_are_spaced_by_the_delay(server):
    # Redirect hops and GET fallbacks are requests too: 6 requests in all.
    urls = [server.base + p for p in ["/page1", "/moved", "/no-head", "/page2"]]
    results = list(links.check_urls(urls, timeout=TIMEOUT, delay=0.3, workers=4))
    assert {r.outcome for r in results} == {Outcome.OK}
    times = [r["at"] for r in server.requests]
    assert len(times) == 6
    gaps = [later - earlier for earlier, later in zip(times, times[1:], strict=False)]
    assert min(gaps) >= 0.3


def test_different_hosts_are_checked_in_parallel(server):
    port = server.server_address[1]
    urls = [
        f"http://{host}:{port}/page{n}"
        for host in ("127.0.0.1", "localhost")
        for n in range(3)
    ]
    list(links.check_urls(urls, timeout=TIMEOUT, delay=0.3, workers=2))
    hosts = [r["host"] for r in server.requests]
    # Both hosts were being worked on at once: their requests interleave.
    assert hosts.index("localhost") < max(
        i for i, host in enumerate(hosts) if host == "127.0.0.1"
    )
    server.requests.clear()
    list(links.check_urls(urls, timeout=TIMEOUT, delay=0.1, workers=1))
    hosts = [r["host"] for r in server.requests]
    assert hosts == sorted(hosts, key=hosts.index)  # one host after the other


# --- the command -------------------------------------------------------------------


@pytest.fixture
def linked_records(db, server, closed_port):
    base = server.base
    make_practice(
        title="Export vouchers",
        sources=[base + "/ok", base + "/missing", base + "/moved", closed_port],
    )
    make_practice(title="Trade missions", sources=[base + "/missing", UNRESOLVABLE])
    make_brief(title="SME brief", source_url=base + "/found-missing")
    make_project(acronym="GLOBAL", url=base + "/busy")
    return base


def test_command_records_every_link_once_and_prints_a_summary(
    server, linked_records, closed_port
):
    base = linked_records
    out = run(workers=2)
    checks = {c.url: c for c in LinkCheck.objects.all()}
    assert set(checks) == {
        base + "/ok",
        base + "/missing",
        base + "/moved",
        base + "/found-missing",
        closed_port,
        UNRESOLVABLE,
    }  # /busy answered 429: nothing recorded
    assert (checks[base + "/ok"].ok, checks[base + "/ok"].status_code) == (True, 200)
    assert (checks[base + "/moved"].ok, checks[base + "/moved"].status_code) == (
        True,
        200,
    )
    missing = checks[base + "/missing"]
    assert (missing.ok, missing.status_code, missing.error, missing.failures) == (
        False,
        404,
        "Not Found",
        1,
    )
    assert checks[closed_port].error == "Connection refused"
    assert checks[closed_port].status_code is None
    assert checks[UNRESOLVABLE].error == "Host name not found"
    # Used by two practices, requested once (HEAD, then GET to confirm the 404).
    assert paths(server).count("/missing") == 2 + 2  # its own and /found-missing's

    assert (
        "Checked 7 links: 2 OK, 2 broken, 2 unreachable, 1 to try later, 0 skipped."
        in out
    )
    assert (
        f"  {base}/missing\n    404 Not Found · used by practice “Export vouchers”, "
        "practice “Trade missions”"
    ) in out
    assert (
        f"  {base}/found-missing\n    404 Not Found at {base}/missing · used by "
        in (out)
    )
    assert "brief “SME brief”" in out
    assert f"  {closed_port}\n    Connection refused · used by practice" in out
    assert f"  {base}/busy\n    429 Too Many Requests · used by project GLOBAL" in out
    assert f"] OK 200  {base}/ok" in out  # progress lines


def test_failures_count_in_a_row_and_reset_on_success(server, db):
    url = server.base + "/flaky"
    make_practice(sources=[url])
    run()
    run()
    assert LinkCheck.objects.get(url=url).failures == 2
    first = LinkCheck.objects.get(url=url).checked_at
    server.flaky_ok = True
    run()
    check = LinkCheck.objects.get(url=url)
    assert (check.ok, check.status_code, check.error, check.failures) == (
        True,
        200,
        "",
        0,
    )
    assert check.checked_at > first
    server.flaky_ok = False
    run()
    assert LinkCheck.objects.get(url=url).failures == 1


def test_try_later_leaves_the_previous_result_alone(server, db):
    url = server.base + "/unavailable"
    make_practice(sources=[url])
    earlier = datetime(2026, 1, 1, tzinfo=UTC)
    LinkCheck.objects.create(url=url, checked_at=earlier, ok=True, status_code=200)
    out = run()
    check = LinkCheck.objects.get(url=url)
    assert (check.ok, check.status_code, check.checked_at) == (True, 200, earlier)
    assert "1 to try later" in out


def test_exit_status_is_zero_with_broken_links_unless_asked(linked_records):
    out = run()  # no exception: exit status 0
    assert "2 broken, 2 unreachable" in out
    with pytest.raises(CommandError, match="4 links are broken or unreachable") as e:
        run(fail_on_broken=True)
    assert e.value.returncode == 1


def test_fail_on_broken_sets_the_process_exit_status(linked_records, capsys):
    argv = ["manage.py", "check_links", "--fail-on-broken", "--delay", "0"]
    with pytest.raises(SystemExit) as exit:
        execute_from_command_line([*argv, "--timeout", str(TIMEOUT)])
    assert exit.value.code == 1
    assert "4 links are broken or unreachable" in capsys.readouterr().err


def test_only_checks_the_given_links(server, linked_records):
    base = linked_records
    out = run(only=[base + "/ok", base + "/missing"])
    assert set(LinkCheck.objects.values_list("url", flat=True)) == {
        base + "/ok",
        base + "/missing",
    }
    assert set(paths(server)) == {"/ok", "/missing"}
    assert "Checked 2 links: 1 OK, 1 broken" in out
    with pytest.raises(CommandError, match="Not used by any practice"):
        run(only=[base + "/page-nobody-uses"])


def test_dry_run_lists_links_and_requests_nothing(server, linked_records):
    base = linked_records
    out = run(dry_run=True)
    assert "Would check 7 links on 2 hosts" in out
    assert f"  {base}/missing\n    used by practice “Export vouchers”, " in out
    assert f"  {UNRESOLVABLE}\n    used by practice “Trade missions”" in out
    assert server.requests == []
    assert not LinkCheck.objects.exists()


def test_stale_days_skips_links_recently_checked_ok(server, db):
    fresh, old, failing = (server.base + p for p in ["/page1", "/page2", "/page3"])
    make_practice(sources=[fresh, old, failing])
    now = datetime.now(UTC)
    LinkCheck.objects.create(url=fresh, checked_at=now - timedelta(days=2), ok=True)
    LinkCheck.objects.create(url=old, checked_at=now - timedelta(days=9), ok=True)
    LinkCheck.objects.create(url=failing, checked_at=now, ok=False, failures=1)
    out = run(stale_days=7)
    assert "Skipping 1 links checked OK within the last 7 days." in out
    assert sorted(paths(server)) == ["/page2", "/page3"]
    with pytest.raises(CommandError, match="not both"):
        run(stale_days=7, only=[fresh])  # one or the other


def test_malformed_and_other_links_in_the_data_are_reported(server, db):
    practice = make_practice(title="Odd sources", sources=[server.base + "/ok"])
    for position, url in enumerate(["not a url", "ftp://example.org/file"], 1):
        PracticeSource.objects.create(
            practice=practice, url=url, title="odd", position=position
        )
    out = run()
    assert (
        "Checked 3 links: 1 OK, 1 broken, 0 unreachable, 0 to try later, 1 skipped"
        in (out)
    )
    assert "  not a url\n    Malformed URL: no scheme · used by practice “Odd" in out
    assert LinkCheck.objects.get(url="not a url").ok is False
    assert not LinkCheck.objects.filter(url__startswith="ftp:").exists()


def test_results_for_links_no_longer_used_are_forgotten(server, db):
    make_practice(sources=[server.base + "/ok"])
    gone = server.base + "/page-removed"
    LinkCheck.objects.create(url=gone, checked_at=datetime.now(UTC), ok=True)
    run(only=[server.base + "/ok"])
    assert LinkCheck.objects.filter(url=gone).exists()  # a partial run keeps it
    assert "Forgot 1 results for links no longer used." in run()
    assert not LinkCheck.objects.filter(url=gone).exists()


def test_ctrl_c_stops_cleanly_keeping_what_was_recorded(server, db, monkeypatch):
    urls = [f"{server.base}/page{n}" for n in range(6)]
    make_practice(sources=urls)
    record = links.record
    calls = []

    def record_then_interrupt(result):
        calls.append(result)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return record(result)

    monkeypatch.setattr(links, "record", record_then_interrupt)
    out = StringIO()
    with pytest.raises(CommandError, match="Interrupted after 2 of 6 links") as e:
        call_command("check_links", timeout=TIMEOUT, delay=0.2, stdout=out)
    assert e.value.returncode == 130
    assert LinkCheck.objects.count() == 2
    assert "Checked 2 links: 2 OK" in out.getvalue()
    time.sleep(0.6)  # the workers stopped: no request after the interrupt
    assert len(server.requests) <= 4


# --- the admin ---------------------------------------------------------------------


@pytest.fixture
def checked(db):
    when = datetime(2026, 11, 20, 12, tzinfo=UTC)
    good = make_practice(
        title="All good",
        sources=["https://good.example/1", "https://good.example/2"],
    )
    broken = make_practice(
        title="Has a broken link",
        sources=[
            "https://good.example/1",
            "https://gone.example/",
            "https://down.example/",
        ],
    )
    unchecked = make_practice(title="Never checked", sources=["https://new.example/"])
    make_practice(title="No sources")
    for url in ["https://good.example/1", "https://good.example/2"]:
        LinkCheck.objects.create(url=url, checked_at=when, ok=True, status_code=200)
    LinkCheck.objects.create(
        url="https://gone.example/",
        checked_at=when,
        ok=False,
        status_code=404,
        error="Not Found",
        failures=3,
    )
    LinkCheck.objects.create(
        url="https://down.example/",
        checked_at=when,
        ok=False,
        error="Connection refused",
        failures=1,
    )
    return good, broken, unchecked


def test_link_check_changelist_filters_and_is_read_only(admin_client, checked):
    changelist = reverse("admin:practices_linkcheck_changelist")
    response = admin_client.get(changelist)
    assert response.status_code == 200
    assert "https://gone.example/" in response.text
    failing = admin_client.get(changelist, {"failures": "3"}).text
    assert "https://gone.example/" in failing
    assert "https://down.example/" not in failing
    assert "https://good.example/1" not in failing
    not_ok = admin_client.get(changelist, {"ok__exact": "0"}).text
    assert "https://down.example/" in not_ok and "https://good.example/1" not in not_ok
    assert "https://down.example/" in admin_client.get(changelist, {"q": "down"}).text
    assert admin_client.get(reverse("admin:practices_linkcheck_add")).status_code == 403
    check = LinkCheck.objects.get(url="https://good.example/1")
    page = admin_client.get(
        reverse("admin:practices_linkcheck_change", args=[check.pk])
    )
    assert page.status_code == 200
    assert "All good" in page.text and "Has a broken link" in page.text
    assert 'name="url"' not in page.text  # view only


@pytest.mark.parametrize(
    "value, titles",
    [
        ("broken", {"Has a broken link"}),
        ("ok", {"All good"}),
        ("unchecked", {"Never checked"}),
        (None, {"All good", "Has a broken link", "Never checked", "No sources"}),
    ],
)
def test_practices_filter_by_source_link_status(admin_client, checked, value, titles):
    params = {"links": value} if value else {}
    response = admin_client.get(reverse("admin:practices_practice_changelist"), params)
    shown = {p.title for p in response.context["cl"].result_list}
    assert shown == titles


def test_practice_list_counts_broken_links(admin_client, checked):
    response = admin_client.get(reverse("admin:practices_practice_changelist"))
    counts = {p.title: p.broken_link_count for p in response.context["cl"].result_list}
    assert counts == {
        "All good": 0,
        "Has a broken link": 2,
        "Never checked": 0,
        "No sources": 0,
    }
    assert '<th scope="col" class="sortable column-broken_links">' in response.text


def test_practice_form_shows_each_sources_link_status(admin_client, checked):
    _, broken, _ = checked
    response = admin_client.get(
        reverse("admin:practices_practice_change", args=[broken.pk])
    )
    assert response.status_code == 200
    assert "OK (200) · checked 20 Nov 2026" in response.text
    assert (
        "Broken (404) · 3 failed checks in a row · checked 20 Nov 2026" in response.text
    )
    assert "Unreachable (Connection refused) · checked 20 Nov 2026" in response.text
    _, _, unchecked = checked
    response = admin_client.get(
        reverse("admin:practices_practice_change", args=[unchecked.pk])
    )
    assert "Not checked" in response.text


def test_link_status_costs_no_query_per_source(admin_client, checked):
    good, broken, _ = checked
    # Caches warmed (content types), as in test_used_by_costs_no_query_per_source.
    admin_client.get(reverse("admin:practices_practice_change", args=[good.pk]))
    counts = []
    for practice in (good, broken):  # 2 and 3 sources
        url = reverse("admin:practices_practice_change", args=[practice.pk])
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(url).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_every_link_in_the_real_catalogue_is_checkable(catalogue):
    urls = links.catalogue_links()
    assert len(urls) > 100
    assert [url for url in urls if links.prepare(url) is None] == []  # all http(s)
    assert f"Would check {len(urls)} links" in run(dry_run=True)


def test_used_by_costs_no_query_per_source(admin_client, db):
    url = "https://shared.example/"
    check = LinkCheck.objects.create(url=url, checked_at=datetime.now(UTC), ok=True)
    page = reverse("admin:practices_linkcheck_change", args=[check.pk])
    admin_client.get(page)  # caches warmed (content types), as in the other tests
    counts = []
    for title in ("First user", "Second user", "Third user"):
        make_practice(title=title, sources=[url])
        with CaptureQueriesContext(connection) as queries:
            response = admin_client.get(page)
        assert response.status_code == 200 and title in response.text
        counts.append(len(queries))
    assert counts[0] == counts[1] == counts[2]
