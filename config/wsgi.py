"""WSGI entry point: `gunicorn config.wsgi`. Stored pages are answered in front of
Django's handler (practices.caching.StoredPages)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

django_application = get_wsgi_application()

from practices.caching import StoredPages  # noqa: E402 (needs the apps loaded)

application = StoredPages(django_application)
