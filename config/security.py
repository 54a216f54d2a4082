"""What Django's own security settings leave out: the Permissions-Policy header,
request-size limits that answer a clear 4xx before any view runs, and the client
address the login throttle (django-axes) counts."""

from django.conf import settings
from django.contrib import admin
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse

# Browser features the site never uses, denied to it and to any frame. Only names
# Chromium knows, or it logs an error on every page: no `interest-cohort` (FLoC,
# replaced by `browsing-topics`) and no `bluetooth`.
DENIED_FEATURES = """accelerometer autoplay browsing-topics camera display-capture
    encrypted-media fullscreen geolocation gyroscope hid idle-detection magnetometer
    microphone midi payment picture-in-picture publickey-credentials-get
    screen-wake-lock serial usb xr-spatial-tracking""".split()
PERMISSIONS_POLICY = ", ".join(f"{feature}=()" for feature in DENIED_FEATURES)

# The list's own filter form produces at most about 4.3 KB (every option ticked, a
# long non-Latin search: tests/test_security.py). gunicorn's limits follow this one
# (config/gunicorn.py), with room for the method and path in at most 8,190 bytes.
MAX_QUERY_STRING_BYTES = 7168


def middleware(get_response):
    """The Permissions-Policy header on every response, and request-size limits: a
    query string over MAX_QUERY_STRING_BYTES answers 414, a body declared larger
    than DATA_UPLOAD_MAX_MEMORY_SIZE 413 (plus IMPORT_MAX_FILE_SIZE on the admin's
    import page, the one upload, which then answers the admin's own 413 page)."""

    def middleware(request):
        response = oversized(request) or get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response

    return middleware


def oversized(request):
    if len(request.META.get("QUERY_STRING", "")) > MAX_QUERY_STRING_BYTES:
        return refusal(
            414,
            f"This address is too long: its query string has more than "
            f"{MAX_QUERY_STRING_BYTES:,} characters. Remove some filters and "
            "try again.",
        )
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:  # as Django reads it: an invalid length is 0
        length = 0
    if limit is None or length <= limit:
        return None
    if request.path_info == reverse("admin:practices_practice_import"):
        if length <= limit + settings.IMPORT_MAX_FILE_SIZE:
            return None
        context = {
            "title": "File too large",
            "limit": settings.IMPORT_MAX_FILE_SIZE,
            "site_header": admin.site.site_header,
            "site_title": admin.site.site_title,
        }
        # Read (and drop) the rest of the file first: a browser still sending
        # when the connection closes may show a reset instead of the page.
        while request.read(64 * 1024):
            pass
        template = "admin/practices/practice/import_too_large.html"
        return render(request, template, context, status=413)
    return refusal(
        413,
        f"The data sent is too large: this site accepts at most "
        f"{limit:,} bytes in one request. Shorten it and try again.",
    )


def refusal(status, message):
    return HttpResponse(
        f"{message}\n", status=status, content_type="text/plain; charset=utf-8"
    )


def client_ip(request):
    """The address login failures are counted against: behind TRUSTED_PROXY_COUNT
    proxies that each append to X-Forwarded-For, the entry that many places from
    the right (further left the client wrote it); else REMOTE_ADDR."""
    count = settings.TRUSTED_PROXY_COUNT
    hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    client = hops[-count].strip() if count and len(hops) >= count else ""
    return client or request.META.get("REMOTE_ADDR", "")


def is_cross_site(request):
    """Sent by another site's page: the browser says so, or the Origin (which older
    browsers and other clients do not send) is not a trusted one. For the forms on
    cached pages that carry no CSRF token (the comparison and the shortlist)."""
    origin = request.headers.get("Origin")
    return request.headers.get("Sec-Fetch-Site") == "cross-site" or (
        origin is not None
        and origin != f"{request.scheme}://{request.get_host()}"
        and origin not in settings.CSRF_TRUSTED_ORIGINS
    )
