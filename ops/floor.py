"""The framework's floor for the load test: a minimal Django app, one view and no
middleware, served by gunicorn with the site's own config (ops/loadtest.py).
`gunicorn -c config/gunicorn.py ops.floor`."""

from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.http import HttpResponse
from django.urls import path

settings.configure(
    DEBUG=False,
    ALLOWED_HOSTS=["127.0.0.1"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[],
    SECRET_KEY="floor-only-no-secrets-here",
)


def ok(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("", ok)]
application = get_wsgi_application()
