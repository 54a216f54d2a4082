from django.urls import path, re_path

from . import views
from .models import Country, InstrumentType, Theme

app_name = "practices"
urlpatterns = [
    path("", views.PracticeListView.as_view(), name="list"),
    # Before <slug>/ so that "compare" is never read as a practice's slug.
    path("compare/", views.PracticeCompareView.as_view(), name="compare"),
    path(
        "compare/add/",
        views.CompareBasketView.as_view(action="add"),
        name="compare-add",
    ),
    path(
        "compare/remove/",
        views.CompareBasketView.as_view(action="remove"),
        name="compare-remove",
    ),
    path("<slug:slug>/", views.PracticeDetailView.as_view(), name="detail"),
    # Staff only, any status, never cached: publishing.views.StaffPreviewMixin.
    path("<slug:slug>/preview/", views.PracticePreviewView.as_view(), name="preview"),
]

# Taxonomy pages, mounted under their own prefixes and namespaces in config/urls.py.
country_patterns = [
    path(
        "",
        views.TermListView.as_view(
            model=Country,
            template_name="practices/country_list.html",
            heading="Countries",
            intro="Countries with at least one published practice. Each country's "
            "page lists its practices and the regions they name.",
            hide_empty=True,
        ),
        name="list",
    ),
    re_path(
        r"^(?P<code>[A-Za-z]{2})/$", views.CountryDetailView.as_view(), name="detail"
    ),
]
theme_patterns = [
    path(
        "",
        views.TermListView.as_view(
            model=Theme,
            heading="Themes",
            intro="What a practice addresses: the problem or goal it works on.",
        ),
        name="list",
    ),
    path(
        "<slug:slug>/",
        views.TermDetailView.as_view(
            model=Theme, filter_field="themes", filter_param="theme"
        ),
        name="detail",
    ),
]
instrument_patterns = [
    path(
        "",
        views.TermListView.as_view(
            model=InstrumentType,
            heading="Instrument types",
            intro="How a practice intervenes: the policy tool it uses.",
        ),
        name="list",
    ),
    path(
        "<slug:slug>/",
        views.TermDetailView.as_view(
            model=InstrumentType,
            filter_field="instruments",
            filter_param="instrument",
        ),
        name="detail",
    ),
]
