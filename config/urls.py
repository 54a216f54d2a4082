from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from ops import health
from practices import urls as practice_urls
from practices import views as practice_views

admin.site.site_header = "Practice Atlas curation"
admin.site.site_title = "Practice Atlas admin"

urlpatterns = [
    path("", practice_views.HomeView.as_view(), name="home"),
    # Open data (exports, feed, sitemap, robots.txt); before practices.urls, whose
    # <slug>/ would otherwise take practices/feed/.
    path("", include("opendata.urls")),
    path("practices/", include("practices.urls")),
    path("briefs/", include("briefs.urls")),
    path("evidence/", include("evidence.urls")),
    path("countries/", include((practice_urls.country_patterns, "countries"))),
    path("regions/", include((practice_urls.region_patterns, "regions"))),
    path("themes/", include((practice_urls.theme_patterns, "themes"))),
    path("instruments/", include((practice_urls.instrument_patterns, "instruments"))),
    path("accessibility/", include("accessibility.urls")),
    path("", include("briefing.urls")),  # /shortlist/, /briefing/
    path("alerts/", include("alerts.urls")),
    path(settings.ADMIN_PATH, admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
]

# Operations: unhandled errors answer 503 with a friendly page while the database is
# unreachable, and the usual 500 page otherwise (ops/health.py).
handler500 = health.server_error
