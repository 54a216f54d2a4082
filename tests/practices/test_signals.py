"""Derived state (practices/signals.py): the search index and the catalogue version
follow every change, once per transaction, when it commits."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from practices.models import CatalogueVersion, Practice, Status
from practices.search import search
from tests.factories import (
    EVIDENCE_INLINES,
    committed,
    make_country,
    make_practice,
    make_region,
    make_theme,
)

pytestmark = pytest.mark.django_db


def found(query):
    return set(search(Practice.objects.all(), query).values_list("slug", flat=True))


def derived_writes(queries):
    """(search index writes, catalogue version bumps) among the queries."""
    sql = [q["sql"] for q in queries]
    return (
        sum(s.startswith('UPDATE "practices_practice" SET "search_text"') for s in sql),
        sum(s.startswith('UPDATE "practices_catalogueversion"') for s in sql),
    )


def test_one_admin_save_reindexes_and_bumps_the_version_once(client, editor):
    italy, spain = make_country(code="IT"), make_country(code="ES", name="Spain")
    practice = make_practice(
        slug="vouchers",
        status=Status.DRAFT,
        countries=[italy],
        regions=[make_region(code="ITH5", country=italy)],
        themes=[make_theme(name="Old theme")],
        sources=["https://example.org/old"],
    )
    source = practice.sources.get()
    region = make_region(code="ES51", name="Cataluña", country=spain)
    theme = make_theme(name="Zebra markets")
    client.force_login(editor)
    before = CatalogueVersion.current()
    data = {
        "title": practice.title,
        "slug": practice.slug,
        "summary": practice.summary,
        "attribution": practice.attribution,
        # Three relations change, each one removal and one addition.
        "countries": [spain.pk],
        "regions": [region.pk],
        "themes": [theme.pk],
        # Two sources: one edited, one added.
        "sources-TOTAL_FORMS": "2",
        "sources-INITIAL_FORMS": "1",
        **EVIDENCE_INLINES,
        "sources-0-id": source.pk,
        "sources-0-practice": practice.pk,
        "sources-0-position": "0",
        "sources-0-title": "The evaluation",
        "sources-0-url": "https://example.org/evaluation",
        "sources-1-practice": practice.pk,
        "sources-1-position": "1",
        "sources-1-title": "The call",
        "sources-1-url": "https://example.org/call",
    }
    url = reverse("admin:practices_practice_change", args=[practice.pk])
    with CaptureQueriesContext(connection) as queries, committed():
        response = client.post(url, data)
    assert response.status_code == 302, response.context["errors"]
    assert derived_writes(queries) == (1, 1)
    # And that one pass saw every change.
    assert CatalogueVersion.current() != before
    assert found("zebra cataluna spain") == {"vouchers"}
    assert found("old") == set()
    titles = practice.sources.order_by("position").values_list("title", flat=True)
    assert list(titles) == ["The evaluation", "The call"]


def test_nothing_is_derived_before_the_commit_nor_after_a_rollback():
    practice = make_practice(slug="vouchers", title="Export vouchers")
    before = CatalogueVersion.current()
    with committed():
        with transaction.atomic():
            practice.title = "Zebra vouchers"
            practice.save()
            assert found("zebra") == set()
            assert CatalogueVersion.current() == before
        assert found("zebra") == set()  # not yet: the transaction commits now
    assert found("zebra") == {"vouchers"}
    assert CatalogueVersion.current() != before

    before = CatalogueVersion.current()
    with committed():
        with pytest.raises(RuntimeError), transaction.atomic():
            practice.title = "Quagga vouchers"
            practice.save()
            raise RuntimeError("rolled back")
    assert CatalogueVersion.current() == before
    assert found("quagga") == set()


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_a_save_is_derived_at_once():
    """A shell save (autocommit): no callback waits for a commit that never comes."""
    practice = make_practice(slug="vouchers", title="Export vouchers")
    before = CatalogueVersion.current()
    practice.title = "Zebra vouchers"
    practice.save()
    assert found("zebra") == {"vouchers"}
    assert CatalogueVersion.current() != before


@pytest.mark.django_db(transaction=True)
def test_a_bulk_action_in_the_admin_derives_once(admin_client):
    """The admin runs actions outside a transaction: the action makes it one."""
    practices = [make_practice() for _ in range(2)]
    data = {
        "action": "set_review_date",
        "_selected_action": [p.pk for p in practices],
        "apply": "Set the review date",
        "review_by": "2099-01-01",
    }
    url = reverse("admin:practices_practice_changelist")
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.post(url, data)
    assert response.status_code == 302
    # Each practice re-indexed once, the version bumped once.
    assert derived_writes(queries) == (2, 1)
