from django.apps import AppConfig


class PracticesConfig(AppConfig):
    name = "practices"
    verbose_name = "Practices and taxonomies"

    def ready(self):
        from . import signals  # noqa: F401  (connects the search-index receivers)
