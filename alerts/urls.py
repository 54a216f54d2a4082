from django.urls import path

from . import views

app_name = "alerts"
urlpatterns = [
    path("", views.AlertSignupView.as_view(), name="signup"),
    path("requested/", views.AlertRequestedView.as_view(), name="requested"),
    path("confirm/<str:token>/", views.AlertConfirmView.as_view(), name="confirm"),
    path(
        "unsubscribe/<str:token>/",
        views.AlertUnsubscribeView.as_view(),
        name="unsubscribe",
    ),
]
