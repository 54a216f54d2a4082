from django.apps import AppConfig


class AlertsConfig(AppConfig):
    """E-mail alerts of new matches for any list, without an account."""

    name = "alerts"
