from django.urls import path

from . import views

app_name = "evidence"
urlpatterns = [path("", views.EvidenceScaleView.as_view(), name="scale")]
