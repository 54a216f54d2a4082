from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    name = "evidence"
    verbose_name = "Evidence: grades and outcome figures"

    def ready(self):
        from . import signals  # noqa: F401  (keeps facet values and caches current)
