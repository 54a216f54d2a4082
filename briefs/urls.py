from django.urls import path

from . import views

app_name = "briefs"
urlpatterns = [
    path("", views.BriefListView.as_view(), name="list"),
    path("<slug:slug>/", views.BriefDetailView.as_view(), name="detail"),
    path("<slug:slug>/pdf/", views.BriefPdfView.as_view(), name="pdf"),
    # Staff only, any status, never cached: publishing.views.StaffPreviewMixin.
    path("<slug:slug>/preview/", views.BriefPreviewView.as_view(), name="preview"),
]
