from django.urls import path, re_path

from indicators.views import PeersMethodView

from . import views
from .models import InstrumentType, Theme

add_to_basket = views.CompareBasketView.as_view(action="add")
remove_from_basket = views.CompareBasketView.as_view(action="remove")

app_name = "practices"
urlpatterns = [
    path("", views.PracticeListView.as_view(), name="list"),
    # Before <slug>/ so that "compare" is never read as a practice's slug.
    path("compare/", views.PracticeCompareView.as_view(), name="compare"),
    path("compare/add/", add_to_basket, name="compare-add"),
    path("compare/remove/", remove_from_basket, name="compare-remove"),
    path("<slug:slug>/", views.PracticeDetailView.as_view(), name="detail"),
    # Staff only, any status, never cached: publishing.views.StaffPreviewMixin.
    path("<slug:slug>/preview/", views.PracticePreviewView.as_view(), name="preview"),
]


def term_patterns(model, param):
    """A taxonomy's index and term pages (param: see TermDetailView)."""
    detail = views.TermDetailView.as_view(model=model, filter_param=param)
    return [
        path("", views.TermListView.as_view(model=model), name="list"),
        path("<slug:slug>/", detail, name="detail"),
    ]


# Mounted under their own prefixes and namespaces in config/urls.py.
country_patterns = [
    path("", views.CountryListView.as_view(), name="list"),
    re_path(
        r"^(?P<code>[A-Za-z]{2})/$", views.CountryDetailView.as_view(), name="detail"
    ),
]
region_patterns = [
    path(
        "how-peers-are-found/", PeersMethodView.as_view(), name="peers-method"
    ),  # not a code: a code has no hyphen
    re_path(
        r"^(?P<code>[A-Za-z]{2}[A-Za-z0-9]{1,3})/$",
        views.RegionDetailView.as_view(),
        name="detail",
    ),
]
theme_patterns = term_patterns(Theme, "theme")
instrument_patterns = term_patterns(InstrumentType, "instrument")
