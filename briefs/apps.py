from django.apps import AppConfig


class BriefsConfig(AppConfig):
    name = "briefs"
    verbose_name = "Policy briefs"

    def ready(self):
        from . import signals  # noqa: F401  (bumps the catalogue version on changes)
