from django.urls import path

from . import views

app_name = "briefing"
urlpatterns = [
    path("shortlist/", views.shortlist_view, name="shortlist"),
    *(
        path(
            f"shortlist/{action}/",
            views.ShortlistChangeView.as_view(action=action),
            name=f"shortlist-{action}",
        )
        for action in ("add", "note", "remove", "keep", "clear")
    ),
    path("briefing/", views.PackView.as_view(), name="pack"),
    path("briefing.pdf", views.PackPdfView.as_view(), name="pack-pdf"),
    path("briefing.csv", views.PackCsvView.as_view(), name="pack-csv"),
]
