"""Mounted at the site root before practices.urls, so that practices/feed/ and the
export files are never read as practice slugs."""

from django.contrib.sitemaps import views as sitemaps
from django.urls import path

from indicators.views import FiguresCsvView
from practices.caching import public_page

from . import discovery, feeds, views

app_name = "opendata"
urlpatterns = [
    path(
        "practices/export.csv",
        views.PracticeExportView.as_view(format="csv"),
        name="export-csv",
    ),
    path(
        "practices/export.json",
        views.PracticeExportView.as_view(format="json"),
        name="export-json",
    ),
    path("data/", views.DataPageView.as_view(), name="data"),
    path("data/catalog.jsonld", views.CatalogView.as_view(), name="catalog"),
    path("data/regional-figures.csv", FiguresCsvView.as_view(), name="figures-csv"),
    path("practices/feed/", feeds.practice_feed, name="feed"),
    path("follow/", views.FollowView.as_view(), name="follow"),
    path(
        "practices/compare/export.csv",
        views.ComparisonExportView.as_view(),
        name="compare-csv",
    ),
    path(
        "sitemap.xml",
        public_page(sitemaps.index),
        {"sitemaps": discovery.SITEMAPS, "sitemap_url_name": "opendata:sitemap-part"},
        name="sitemap",
    ),
    path(
        "sitemap-<section>.xml",
        public_page(sitemaps.sitemap),
        {"sitemaps": discovery.SITEMAPS},
        name="sitemap-part",
    ),
    path("robots.txt", discovery.RobotsView.as_view(), name="robots"),
]
