from django.apps import AppConfig


class IndicatorsConfig(AppConfig):
    name = "indicators"
    verbose_name = "Regional indicators (Eurostat)"

    def ready(self):
        from . import signals  # noqa: F401  (cached pages show the new figures)
