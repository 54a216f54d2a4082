"""Open data: exports, the data page, syndication and discovery. Mounted at the
site root (config/urls.py), before practices.urls, so that practices/feed/ and the
export files are never read as practice slugs."""

from django.urls import path

from . import discovery, feeds, views

app_name = "opendata"
urlpatterns = [
    # --- exports and the data page (views.py) ---
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
    # --- syndication and discovery (feeds.py, discovery.py) ---
    path("practices/feed/", feeds.practice_feed, name="feed"),
    path("sitemap.xml", discovery.sitemap, name="sitemap"),
    path("robots.txt", discovery.robots_txt, name="robots"),
]
