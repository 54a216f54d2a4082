"""Curators publish and unpublish while readers browse: no list, export or feed
request may fail because a practice changed status in the middle of it.

A change that another connection commits between two queries of a request is
simulated here, deterministically, at every query boundary of each request: the
N-th query of the request is followed by a practice being published (or taken
back to draft) and the catalogue version moving, as a curator's save would."""

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from practices.models import CatalogueVersion, Practice, Status
from tests.factories import make_country, make_practice, make_region, make_theme

pytestmark = pytest.mark.django_db

URLS = [
    "/practices/",
    "/practices/?country=IT&theme=skills",
    "/practices/?region=ITH5&sort=newest",
    "/practices/export.csv",
    "/practices/export.json?country=IT",
    "/practices/feed/",
]
MOST_QUERIES = 16  # more than any of these requests makes


@pytest.fixture
def catalogue_in_flux():
    italy = make_country(code="IT", name="Italy")
    region = make_region(code="ITH5", country=italy)
    skills = make_theme(slug="skills", name="Skills")
    terms = {"countries": [italy], "regions": [region], "themes": [skills]}
    for n in range(4):
        make_practice(title=f"Steady {n}", **terms)
    return make_practice(
        title="Flickering", status=Status.DRAFT, published_on=None, **terms
    )


class FlipAfter:
    """An execute wrapper that, after the request's n-th query, flips the
    practice between published and draft and moves the catalogue version."""

    def __init__(self, practice, n):
        self.practice, self.n, self.seen, self.flipping = practice, n, 0, False

    def __call__(self, execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        self.seen += 1
        if self.seen == self.n and not self.flipping:
            self.flipping = True
            published = Practice.objects.filter(
                pk=self.practice.pk, status=Status.PUBLISHED
            ).exists()
            Practice.objects.filter(pk=self.practice.pk).update(
                status=Status.DRAFT if published else Status.PUBLISHED,
                published_on=None if published else timezone.localdate(),
            )
            CatalogueVersion.bump()
        return result


@pytest.mark.parametrize("url", URLS)
def test_no_request_fails_when_a_practice_changes_status_under_it(
    catalogue_in_flux, url
):
    client = Client()  # re-raises any exception in the view: a 500 fails the test
    for n in range(1, MOST_QUERIES + 1):
        with connection.execute_wrapper(FlipAfter(catalogue_in_flux, n)):
            response = client.get(url)
            if response.streaming:
                b"".join(response.streaming_content)
        assert response.status_code == 200, (url, n)
