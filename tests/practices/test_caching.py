"""Whole-page caching and conditional GET (practices/caching.py): pages come from
the cache, are never stale after a committed change, never carry one reader's data
to another, and still answer when the cache is down."""

import gzip
import io
import json
import logging
import os
import socket
import subprocess
import sys
import uuid
from datetime import datetime, timedelta
from functools import partial
from types import SimpleNamespace

import pytest
from django.conf import settings as django_settings
from django.contrib.sessions.middleware import SessionMiddleware
from django.core.cache import caches
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.http import HttpResponse
from django.middleware.csp import ContentSecurityPolicyMiddleware, get_nonce
from django.middleware.csrf import get_token
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone
from django.utils.http import http_date

from briefs.models import BriefSection, FeaturedPractice

# Imported once, as the module loads: it sets Django up, logging included, which
# would take the log capture away from a test that imported it.
from config import settings as config_settings
from config import wsgi
from config.cache import LOCAL_PAGES, LOGGER, OutageFilter, cache_settings
from practices import caching
from practices.models import CatalogueVersion, Practice, PracticeSource, Status
from tests.factories import (
    committed,
    make_brief,
    make_country,
    make_instrument,
    make_practice,
    make_project,
    make_region,
    make_theme,
    publishable_parts,
)

pytestmark = pytest.mark.django_db

REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379


def cache_state(response):
    return response.headers.get("X-Page-Cache")


@pytest.fixture
def practice():
    italy = make_country(code="IT", name="Italy")
    return make_practice(
        title="Export vouchers",
        slug="export-vouchers",
        countries=[italy],
        regions=[make_region(code="ITH5", name="Emilia-Romagna", country=italy)],
        themes=[make_theme(slug="markets", name="New markets")],
        project=make_project(slug="smes", acronym="SMES"),
        sources=["https://example.org/vouchers"],
    )


# Every public page type, with the content cached pages must not leak.
def public_urls(practice, brief):
    return [
        "/",
        "/practices/",
        "/practices/?country=IT&sort=newest",
        "/practices/?q=vouchers",
        practice.get_absolute_url(),
        f"/practices/compare/?p={practice.slug}",
        "/briefs/",
        brief.get_absolute_url(),
        "/countries/",
        "/countries/it/",
        "/themes/",
        "/themes/markets/",
        "/instruments/",
    ]


# --- hits and their cost ---------------------------------------------------------


def test_a_repeat_is_served_from_the_cache_for_one_query(
    client, practice, django_assert_num_queries
):
    url = practice.get_absolute_url()
    first = client.get(url)
    assert cache_state(first) == "miss"
    with django_assert_num_queries(1):  # the catalogue version, nothing else
        second = client.get(url)
    assert cache_state(second) == "hit"
    assert second.content == first.content
    assert second["Content-Type"] == first["Content-Type"]


def test_a_reader_with_a_basket_also_gets_hits(
    client, practice, django_assert_num_queries
):
    client.post(reverse("practices:compare-add"), {"slug": practice.slug})
    client.get("/practices/")  # shows (and so consumes) the "Added" message
    assert cache_state(client.get("/practices/")) == "miss"
    with django_assert_num_queries(2):  # the session (basket) + the version
        assert cache_state(client.get("/practices/")) == "hit"


def test_every_public_page_type_is_cached(client, practice):
    brief = make_brief(practices=[practice])
    for url in public_urls(practice, brief):
        client.get(url)
        response = client.get(url)
        assert response.status_code == 200, url
        assert cache_state(response) == "hit", url


def test_hits_get_fresh_headers_and_no_cookies(client, practice):
    url = practice.get_absolute_url()
    client.get(url)
    hit = client.get(url)
    assert cache_state(hit) == "hit"
    assert "default-src 'self'" in hit["Content-Security-Policy"]
    assert hit["X-Frame-Options"] == "DENY"
    assert not hit.cookies
    assert hit["Cache-Control"] == "max-age=0, must-revalidate, public"
    assert "Cookie" in hit["Vary"]


# --- invalidation: the very next request after a change is fresh ----------------


@committed()
def edit_title(practice):
    practice.title = "Export vouchers, renewed"
    practice.save()
    return "Export vouchers, renewed"


@committed()
def rename_theme(practice):
    theme = practice.themes.get()
    theme.name = "Distant markets"
    theme.save()
    return "Distant markets"


@committed()
def rename_region(practice):
    region = practice.regions.get()
    region.name = "Emilia"
    region.save()
    return "Emilia</a>"


@committed()
def rename_project(practice):
    project = practice.project
    project.acronym = "SMEGO"
    project.save()
    return "SMEGO"


@committed()
def edit_source(practice):
    source = practice.sources.get()
    source.title = "The evaluation report"
    source.save()
    return "The evaluation report"


@committed()
def add_source(practice):
    PracticeSource.objects.create(
        practice=practice, url="https://example.org/new", title="A new source"
    )
    return "A new source"


@pytest.mark.parametrize(
    "change",
    [edit_title, rename_theme, rename_region, rename_project, edit_source, add_source],
)
def test_practice_page_is_fresh_after_a_change(client, practice, change):
    url = practice.get_absolute_url()
    client.get(url)
    assert cache_state(client.get(url)) == "hit"
    expected = change(Practice.objects.get(pk=practice.pk))
    response = client.get(url)
    assert cache_state(response) == "miss"
    assert expected in response.text


def test_list_is_fresh_after_an_edit(client, practice):
    client.get("/practices/")
    assert cache_state(client.get("/practices/")) == "hit"
    edit_title(practice)
    assert "Export vouchers, renewed" in client.get("/practices/").text


def test_publish_and_unpublish_through_the_admin(client, admin_client, practice):
    draft = make_practice(
        title="Draft of a scheme", status=Status.IN_REVIEW, **publishable_parts()
    )
    changelist = reverse("admin:practices_practice_changelist")
    client.get("/practices/")
    assert "Draft of a scheme" not in client.get("/practices/").text

    with committed():
        admin_client.post(
            changelist, {"action": "publish", "_selected_action": [draft.pk]}
        )
    assert "Draft of a scheme" in client.get("/practices/").text
    assert client.get(draft.get_absolute_url()).status_code == 200

    with committed():
        admin_client.post(
            changelist, {"action": "unpublish", "_selected_action": [draft.pk]}
        )
    assert "Draft of a scheme" not in client.get("/practices/").text
    assert client.get(draft.get_absolute_url()).status_code == 404


def test_unpublish_by_saving_and_delete(client, practice):
    url = practice.get_absolute_url()
    client.get(url)
    practice.status = Status.DRAFT
    with committed():
        practice.save()
    assert client.get(url).status_code == 404
    practice.instruments.add(make_instrument())  # all the publishing gate asks for
    for status in (Status.IN_REVIEW, Status.PUBLISHED):  # the workflow's moves
        practice.status = status
        with committed():
            practice.save()
    assert client.get(url).status_code == 200
    with committed():
        practice.delete()
    assert client.get(url).status_code == 404
    assert "Export vouchers" not in client.get("/practices/").text


def test_taxonomy_rename_reaches_every_page_that_shows_it(client, practice):
    urls = ["/", "/themes/", "/themes/markets/", "/practices/"]
    for url in urls:
        client.get(url)
    rename_theme(practice)
    for url in urls:
        assert "Distant markets" in client.get(url).text, url


def test_brief_pages_are_fresh_after_section_feature_and_brief_edits(client, practice):
    other = make_practice(title="Trade missions")
    brief = make_brief(title="Going global", practices=[practice, other])
    url = brief.get_absolute_url()
    client.get(url)
    assert cache_state(client.get(url)) == "hit"

    section = BriefSection.objects.get(brief=brief)
    section.heading = "What the evidence says"
    with committed():
        section.save()
    assert "What the evidence says" in client.get(url).text

    with committed():
        FeaturedPractice.objects.get(brief=brief, practice=other).delete()
    assert "Trade missions" not in client.get(url).text

    brief.title = "Going global, revised"
    with committed():
        brief.save()
    assert "Going global, revised" in client.get("/briefs/").text
    with committed():
        brief.delete()
    assert client.get(url).status_code == 404


def test_a_scheduled_publication_appears_at_midnight_without_an_edit(
    client, practice, monkeypatch
):
    today = timezone.localdate()
    make_practice(title="Starts tomorrow", published_on=today + timedelta(days=1))
    client.get("/practices/")
    assert "Starts tomorrow" not in client.get("/practices/").text
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: today + timedelta(1))
    assert "Starts tomorrow" in client.get("/practices/").text


def test_a_new_release_does_not_reuse_pages(client, practice, settings):
    client.get("/")
    assert cache_state(client.get("/")) == "hit"
    settings.RELEASE = "another-release"
    assert cache_state(client.get("/")) == "miss"


def test_the_release_is_the_git_commit():
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"],
        cwd=django_settings.BASE_DIR,
        capture_output=True,
        text=True,
    )
    if head.returncode:
        pytest.skip(f"not a git checkout: {head.stderr}")
    assert config_settings.default_release() == head.stdout.strip()


def test_without_git_the_release_follows_the_static_manifest(monkeypatch, tmp_path):
    """A deploy from an archive: a new manifest (new static files, whose hashed
    names cached pages link to) is a new release."""

    def no_git(*args, **kwargs):
        raise FileNotFoundError("git")

    monkeypatch.setattr(subprocess, "check_output", no_git)
    monkeypatch.setattr(config_settings, "STATIC_ROOT", tmp_path)
    releases = [config_settings.default_release()]
    manifest = tmp_path / "staticfiles.json"
    for paths in (
        {"css/site.css": "css/site.111.css"},
        {"css/site.css": "css/site.222.css"},
    ):
        manifest.write_text(json.dumps({"paths": paths}))
        releases.append(config_settings.default_release())
    assert releases[0] == "unversioned"
    assert len(set(releases)) == 3


def test_the_deploy_can_name_the_release():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SECRET_KEY": "x",
        "ALLOWED_HOSTS": "localhost",
        "RELEASE": "v42",
    }
    code = "from django.conf import settings; print(settings.RELEASE)"
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=django_settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.strip() == "v42"


def test_a_change_from_another_process_is_seen(client, practice):
    """Another instance's write reaches this one only through the version row."""
    url = practice.get_absolute_url()
    client.get(url)
    Practice.objects.filter(pk=practice.pk).update(title="Changed elsewhere")
    CatalogueVersion.objects.filter(pk=1).update(token=uuid.uuid4())
    assert "Changed elsewhere" in client.get(url).text


# --- conditional GET -------------------------------------------------------------


def age_the_catalogue(hours=1):
    """Move the last change into the past, as if made a while ago."""
    past = timezone.now() - timedelta(hours=hours)
    CatalogueVersion.objects.filter(pk=1).update(changed_at=past)
    return past


def test_if_none_match_answers_304_without_rendering(
    client, practice, django_assert_num_queries
):
    url = practice.get_absolute_url()
    etag = client.get(url)["ETag"]
    with django_assert_num_queries(1):  # the version: no rendering, no cache read
        response = client.get(url, headers={"if-none-match": etag})
    assert response.status_code == 304
    assert response["ETag"] == etag and not response.content

    edit_title(practice)  # a changed version gives 200 again, with a new ETag
    response = client.get(url, headers={"if-none-match": etag})
    assert response.status_code == 200
    assert response["ETag"] != etag
    assert "Export vouchers, renewed" in response.text


def test_if_modified_since_answers_304_until_the_next_change(client, practice):
    url = practice.get_absolute_url()
    changed = age_the_catalogue()
    response = client.get(url)
    modified = response["Last-Modified"]
    assert modified == http_date(
        max(int(changed.timestamp()) + 1, midnight(), int(caching.STARTED_AT) + 1)
    )
    assert client.get(url, headers={"if-modified-since": modified}).status_code == 304

    edit_title(practice)
    response = client.get(url, headers={"if-modified-since": modified})
    assert response.status_code == 200
    assert "Export vouchers, renewed" in response.text


def midnight():
    today = timezone.make_aware(
        datetime.combine(timezone.localdate(), datetime.min.time())
    )
    return int(today.timestamp()) + 1


def test_last_modified_waits_until_the_second_of_the_change_is_over():
    """A second change in the same second would have the same HTTP date, so no date
    is given while that second lasts (the ETag still validates)."""
    old_enough = timezone.now() - timedelta(seconds=5)
    just_now = timezone.now() + timedelta(seconds=5)  # this second, as any clock has it

    def request(changed_at):  # catalogue_version(request) reads what the request holds
        return SimpleNamespace(catalogue_version=SimpleNamespace(changed_at=changed_at))

    assert caching.last_modified(request(just_now)) is None
    modified = caching.last_modified(request(old_enough))
    assert modified.timestamp() == max(
        int(old_enough.timestamp()) + 1, midnight(), int(caching.STARTED_AT) + 1
    )


def test_a_page_made_in_the_second_of_a_change_gets_its_date_once_it_is_over(
    client, practice, monkeypatch
):
    url = practice.get_absolute_url()
    now = timezone.now()
    CatalogueVersion.objects.update(changed_at=now - timedelta(minutes=1))
    with monkeypatch.context() as patch:
        # As if the process had started this very second: no Last-Modified yet.
        patch.setattr(caching, "STARTED_AT", now.timestamp() + 5)
        first = client.get(url)
        assert "Last-Modified" not in first and cache_state(first) == "miss"
        assert "Last-Modified" not in wsgi_get(url)[1]  # still that second
    monkeypatch.setattr(caching, "STARTED_AT", now.timestamp() - 60)  # it is over
    second = client.get(url)  # a hit inside Django, which adds it as it passes
    assert cache_state(second) == "hit" and second["Last-Modified"]
    third = wsgi_get(url)[1]
    assert third["X-Page-Cache"] == "hit"
    assert third["Last-Modified"] == second["Last-Modified"]


def test_conditional_get_with_a_basket_is_per_basket(client, practice):
    url = "/practices/"
    anonymous_etag = client.get(url)["ETag"]
    client.post(reverse("practices:compare-add"), {"slug": practice.slug})
    client.get(url)  # the message
    response = client.get(url, headers={"if-none-match": anonymous_etag})
    assert response.status_code == 200  # not the page without the basket
    assert response["Cache-Control"] == "max-age=0, must-revalidate, private"
    response = client.get(url, headers={"if-none-match": response["ETag"]})
    assert response.status_code == 304


# --- nothing personal in the cache ------------------------------------------------


def test_cached_pages_never_contain_a_csrf_token(client, practice):
    brief = make_brief(practices=[practice])
    client.post(reverse("practices:compare-add"), {"slug": practice.slug})
    for url in public_urls(practice, brief):
        for _ in range(2):
            response = client.get(url)
            assert b"csrfmiddlewaretoken" not in response.content, url
            assert "csrftoken" not in response.cookies, url


def test_a_page_that_renders_a_csrf_token_is_never_stored():
    """The safety net: even on a decorated view, a token makes the page personal."""

    def view(request):
        return HttpResponse(f"<input value='{get_token(request)}'>")

    cached_view = caching.public_page(view)
    factory = RequestFactory()
    for _ in range(2):
        request = factory.get("/with-a-token/")
        SessionMiddleware(lambda r: None).process_request(request)
        response = cached_view(request)
        assert cache_state(response) == "personal"  # not stored, so never a hit
        assert "ETag" not in response and "public" not in response["Cache-Control"]
        assert "private" in response["Cache-Control"]


def test_a_page_given_a_cookie_outside_public_page_is_never_stored():
    def page(request, cookie):
        response = HttpResponse("page", headers={"Last-Modified": http_date()})
        response.storable = True  # as public_page marks it
        if cookie:
            response.set_cookie("sessionid", "x")  # a session saved, say
        return response

    factory = RequestFactory()
    for path, cookie in [("/late-cookie/", True), ("/no-cookie/", False)]:
        caching.CachedPageMiddleware(partial(page, cookie=cookie))(factory.get(path))
    assert caching.stored_page(factory.get("/late-cookie/")) is None
    assert caching.stored_page(factory.get("/no-cookie/")).content == b"page"


def test_a_page_that_uses_the_csp_nonce_is_never_stored():
    """A nonce must never be served twice: a page that used it is personal too."""

    def view(request):
        return HttpResponse(f"<script nonce='{get_nonce(request)}'></script>")

    cached_view = caching.public_page(view)
    for _ in range(2):
        request = RequestFactory().get("/with-a-nonce/")
        SessionMiddleware(lambda r: None).process_request(request)
        ContentSecurityPolicyMiddleware(lambda r: None).process_request(request)
        response = cached_view(request)
        assert cache_state(response) == "personal"
        assert "ETag" not in response and "private" in response["Cache-Control"]


def test_two_readers_never_see_each_others_baskets(practice):
    other = make_practice(title="Trade missions", slug="trade-missions")
    alice, bob, carol = Client(), Client(), Client()
    alice.post(reverse("practices:compare-add"), {"slug": practice.slug})
    bob.post(reverse("practices:compare-add"), {"slug": other.slug})
    pages = {}
    for name, reader in [("alice", alice), ("bob", bob), ("carol", carol)]:
        reader.get("/practices/")  # consumes the "Added" message
        reader.get("/practices/")
        pages[name] = reader.get("/practices/")
        assert cache_state(pages[name]) == "hit"
    assert f"compare/?p={practice.slug}" in pages["alice"].text
    assert f"compare/?p={other.slug}" in pages["bob"].text
    assert "Compare (" not in pages["carol"].text
    assert f"p={other.slug}" not in pages["alice"].text
    assert f"p={practice.slug}" not in pages["bob"].text
    assert pages["carol"].text.count("Add to comparison") == 2


def test_messages_are_shown_once_and_never_cached(client, practice):
    url = practice.get_absolute_url()
    response = client.post(
        reverse("practices:compare-add"), {"slug": practice.slug, "next": url}
    )
    assert response.status_code == 302
    shown = client.get(url)
    assert "Added “Export vouchers” to the comparison" in shown.text
    assert cache_state(shown) is None  # bypassed: neither read nor stored
    assert "private" in shown["Cache-Control"]
    again = client.get(url)
    assert "Added “Export vouchers”" not in again.text
    assert cache_state(again) == "miss"


def test_signed_in_users_bypass_the_cache(client, admin_client, practice):
    url = practice.get_absolute_url()
    for _ in range(2):
        response = admin_client.get(url)
        assert response.status_code == 200 and cache_state(response) is None
        assert "private" in response["Cache-Control"]
        assert "ETag" not in response
    assert cache_state(client.get(url)) == "miss"  # nothing was stored for them


def test_errors_are_neither_cached_nor_validated(client, practice):
    for url in ["/practices/unknown/", "/practices/?country=XX", "/themes/unknown/"]:
        for _ in range(2):
            response = client.get(url)
            assert response.status_code in (400, 404)
            assert cache_state(response) is None and "ETag" not in response


def test_the_accessibility_statement_is_not_cached(client, practice):
    """Its feedback form carries a CSRF token."""
    for _ in range(2):
        response = client.get(reverse("accessibility:statement"))
        assert b"csrfmiddlewaretoken" in response.content
        assert cache_state(response) is None


# --- the basket forms, without CSRF tokens ---------------------------------------


@pytest.fixture
def strict_client():
    return Client(enforce_csrf_checks=True)


def test_basket_forms_work_without_a_token(strict_client, practice):
    response = strict_client.post(
        reverse("practices:compare-add"),
        {"slug": practice.slug},
        headers={"origin": "http://testserver", "sec-fetch-site": "same-origin"},
    )
    assert response.status_code == 302
    assert strict_client.session["compare"] == [practice.slug]
    response = strict_client.post(
        reverse("practices:compare-remove"), {"slug": practice.slug}
    )
    assert response.status_code == 302  # no Origin at all: older browsers, curl
    assert strict_client.session["compare"] == []


@pytest.mark.parametrize(
    "headers",
    [
        {"sec-fetch-site": "cross-site"},
        {"origin": "https://evil.example"},
        {"origin": "null"},
        {"origin": "https://testserver"},  # another scheme is another origin
    ],
)
def test_cross_site_basket_posts_are_refused(strict_client, practice, headers):
    response = strict_client.post(
        reverse("practices:compare-add"), {"slug": practice.slug}, headers=headers
    )
    assert response.status_code == 403
    assert "compare" not in strict_client.session


def test_trusted_origins_may_post(strict_client, practice, settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://atlas.example.org"]
    response = strict_client.post(
        reverse("practices:compare-add"),
        {"slug": practice.slug},
        headers={"origin": "https://atlas.example.org"},
    )
    assert response.status_code == 302


def test_the_session_cookie_stays_same_site():
    """CompareBasketView skips CSRF tokens because of this (see its comment)."""
    assert django_settings.SESSION_COOKIE_SAMESITE in ("Lax", "Strict")


# --- the cache backend: local memory, Redis, dead Redis ---------------------------


def test_local_memory_without_redis_url_and_redis_with_it():
    assert cache_settings("")["default"]["BACKEND"] == (
        "django.core.cache.backends.locmem.LocMemCache"
    )
    redis = cache_settings("redis://cache:6379/0", key_prefix="x")["default"]
    assert redis["BACKEND"] == "django_redis.cache.RedisCache"
    assert redis["LOCATION"] == "redis://cache:6379/0" and redis["KEY_PREFIX"] == "x"
    assert redis["OPTIONS"]["IGNORE_EXCEPTIONS"] is True
    assert redis["OPTIONS"]["SOCKET_CONNECT_TIMEOUT"] <= 0.25
    assert redis["OPTIONS"]["SOCKET_TIMEOUT"] <= 0.25


@pytest.mark.parametrize(
    "redis_url, backend",
    [
        ("", "django.core.cache.backends.locmem.LocMemCache"),
        ("redis://127.0.0.1:6379/3", "django_redis.cache.RedisCache"),
    ],
)
def test_the_real_settings_read_redis_url(redis_url, backend):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SECRET_KEY": "x",
        "ALLOWED_HOSTS": "localhost",
        "REDIS_URL": redis_url,
    }
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.CACHES['default']['BACKEND'], settings.SESSION_ENGINE)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=django_settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out == [backend, "django.contrib.sessions.backends.db"]


@pytest.fixture
def outage_log(caplog):
    """Capture the cache logger, with its once-a-minute filter reset."""
    for log_filter in logging.getLogger(LOGGER).filters:
        if isinstance(log_filter, OutageFilter):
            log_filter.quiet_until = 0.0
    caplog.set_level(logging.WARNING, logger=LOGGER)
    return caplog


def test_a_dead_redis_serves_pages_uncached_and_warns(
    client, practice, settings, outage_log
):
    settings.CACHES = cache_settings("redis://127.0.0.1:6390/1")  # nothing listens
    url = practice.get_absolute_url()
    for _ in range(2):
        response = client.get(url)
        assert response.status_code == 200 and cache_state(response) == "miss"
        assert "Export vouchers" in response.text
    edit_title(practice)
    assert "Export vouchers, renewed" in client.get(url).text
    warnings = [r for r in outage_log.records if r.name == LOGGER]
    assert len(warnings) == 1  # once a minute, not on every call
    assert warnings[0].levelno == logging.WARNING and not warnings[0].exc_info
    assert "Cache unavailable" in warnings[0].getMessage()
    assert "ConnectionError" in warnings[0].getMessage()


def redis_or_skip():
    try:
        socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=1).close()
    except OSError as error:
        reason = f"Redis is not reachable at {REDIS_HOST}:{REDIS_PORT} ({error})"
        if os.environ.get("CI"):
            pytest.fail(f"CI is set, so Redis must run: {reason}", pytrace=False)
        pytest.skip(reason)


@pytest.fixture
def redis_cache(settings):
    """The page cache in Redis database 1, under a prefix of its own."""
    redis_or_skip()
    settings.CACHES = cache_settings(
        f"redis://{REDIS_HOST}:{REDIS_PORT}/1", key_prefix=f"atlas-test-{uuid.uuid4()}"
    )
    yield caches["default"]
    caches["default"].delete_pattern("*")  # this prefix's keys only
    caches[LOCAL_PAGES].clear()


def test_pages_are_cached_in_redis_and_fresh_after_an_edit(
    client, practice, redis_cache
):
    url = practice.get_absolute_url()
    assert cache_state(client.get(url)) == "miss"
    assert redis_cache.keys("page:*")
    assert cache_state(Client().get(url)) == "hit"  # another reader, same entry
    edit_title(practice)
    response = client.get(url)
    assert cache_state(response) == "miss"
    assert "Export vouchers, renewed" in response.text


@pytest.mark.parametrize("surface", ["page", "list", "feed"])
def test_with_a_shared_cache_a_hit_reads_no_database_and_unpublishing_shows_at_once(
    client, practice, redis_cache, django_assert_num_queries, surface
):
    url = {
        "page": practice.get_absolute_url(),
        "list": reverse("practices:list"),
        "feed": "/practices/feed/",
    }[surface]
    assert "Export vouchers" in client.get(url).text
    with django_assert_num_queries(0):  # the version comes from the cache too
        assert cache_state(client.get(url)) == "hit"
    practice.status = Status.DRAFT  # unpublished
    with committed():
        practice.save()
    response = client.get(url)
    assert cache_state(response) != "hit" and "Export vouchers" not in response.text


def wsgi_get(path, query="", method="GET", **headers):
    """(status, headers, body) of the site's real WSGI entry point (config/wsgi.py),
    which the test client does not use. `headers` as WSGI names: HTTP_COOKIE=…"""
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "testserver",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
        **headers,
    }
    started = []
    # As the test client does: the test's database connection stays open.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        body = wsgi.application(
            environ, lambda status, headers: started.extend([status, headers])
        )
        content = b"".join(body)
        getattr(body, "close", lambda: None)()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    status, header_list = started
    return int(status.split()[0]), dict(header_list), content


def stop_at_django(monkeypatch):
    """From now on Django's handler answers 500 to a request that reaches its
    middleware."""

    def no_further(self, request):
        raise AssertionError("a stored page went past the front")

    monkeypatch.setattr(SessionMiddleware, "process_request", no_further)


def test_a_process_answers_from_its_copy_only_while_the_version_holds(
    client, practice, redis_cache
):
    url = practice.get_absolute_url()
    client.get(url)  # stored in Redis
    assert wsgi_get(url)[1]["X-Page-Cache"] == "hit"  # and copied here
    redis_cache.delete_pattern("page:*")  # only the copy is left
    assert wsgi_get(url)[1]["X-Page-Cache"] == "hit"
    edit_title(practice)  # a new catalogue version
    _, headers, body = wsgi_get(url)
    assert headers["X-Page-Cache"] == "miss" and b"Export vouchers, renewed" in body


def test_a_hit_without_cookies_is_served_before_djangos_handler(
    client, practice, caplog, monkeypatch
):
    url = practice.get_absolute_url()
    client.get(url)  # stored
    through_django = client.get(url, HTTP_COOKIE="theme=dark")
    assert cache_state(through_django) == "hit"
    stop_at_django(monkeypatch)
    status, headers, body = wsgi_get(url)
    assert status == 200 and headers["X-Page-Cache"] == "hit"
    assert body == through_django.content
    for name in ["Content-Type", "ETag", "Last-Modified", "Cache-Control", "Vary"]:
        assert headers.get(name) == through_django.get(name), name
    # Every header the site's middleware adds was stored with the page.
    for name in [
        "Content-Security-Policy",
        "X-Frame-Options",
        "Permissions-Policy",
        "X-Content-Type-Options",
        "Referrer-Policy",
        "Cross-Origin-Opener-Policy",
    ]:
        assert headers[name] == through_django[name], name
    assert "Set-Cookie" not in headers
    # Its own request id, and its line in the log, as every request.
    assert headers["X-Request-ID"] != through_django["X-Request-ID"]
    assert wsgi_get(url, HTTP_X_REQUEST_ID="abc.123")[1]["X-Request-ID"] == "abc.123"
    lines = [r for r in caplog.records if r.name == "practice_atlas.requests"]
    assert lines[-1].status == 200 and lines[-1].request_id == "abc.123"


def test_the_front_answers_conditional_gets_and_head(client, practice, monkeypatch):
    url = practice.get_absolute_url()
    etag = client.get(url)["ETag"]  # stored
    stop_at_django(monkeypatch)
    status, headers, body = wsgi_get(url, HTTP_IF_NONE_MATCH=etag)
    assert status == 304 and headers["ETag"] == etag and body == b""
    assert "Cookie" in headers["Vary"]
    status, headers, _ = wsgi_get(url, method="HEAD")
    assert status == 200 and headers["X-Page-Cache"] == "hit"
    assert wsgi_get(url, query="never=stored")[0] == 500  # a miss goes on


def test_a_miss_a_cookie_a_post_or_a_bad_host_goes_on_to_django(client, practice):
    url = practice.get_absolute_url()
    status, headers, _ = wsgi_get(url)
    assert status == 200 and headers["X-Page-Cache"] == "miss"  # stored now
    assert wsgi_get(url)[1]["X-Page-Cache"] == "hit"
    _, headers, _ = wsgi_get(url, HTTP_COOKIE="sessionid=x")
    assert headers["X-Page-Cache"] == "hit"  # public_page's, inside Django
    assert wsgi_get(url, method="POST")[0] == 403  # CSRF, in Django
    status, headers, _ = wsgi_get(url, HTTP_HOST="evil.example")
    assert status == 400 and "default-src" in headers["Content-Security-Policy"]


def test_gzip_and_plain_readers_get_their_own_stored_page(client, practice):
    url = practice.get_absolute_url()
    plain = client.get(url)
    packed = client.get(url, headers={"accept-encoding": "gzip, deflate"})
    assert cache_state(packed) == "miss"  # not the plain page
    for response in [
        client.get(url),
        client.get(url, headers={"accept-encoding": "gzip"}),
    ]:
        assert cache_state(response) == "hit"
    _, headers, body = wsgi_get(url, HTTP_ACCEPT_ENCODING="br, gzip")
    assert headers["Content-Encoding"] == "gzip" and headers["X-Page-Cache"] == "hit"
    assert gzip.decompress(body) == plain.content
    _, headers, body = wsgi_get(url)
    assert "Content-Encoding" not in headers and body == plain.content
    assert packed["Content-Length"] == str(len(packed.content))
