from django.contrib import admin
from django.urls import include, path

from practices import urls as practice_urls
from practices import views as practice_views

admin.site.site_header = "Practice Atlas curation"
admin.site.site_title = "Practice Atlas admin"

urlpatterns = [
    path("", practice_views.HomeView.as_view(), name="home"),
    path("practices/", include("practices.urls")),
    path("briefs/", include("briefs.urls")),
    path("countries/", include((practice_urls.country_patterns, "countries"))),
    path("themes/", include((practice_urls.theme_patterns, "themes"))),
    path("instruments/", include((practice_urls.instrument_patterns, "instruments"))),
    path("accessibility/", include("accessibility.urls")),
    path("admin/", admin.site.urls),
]
