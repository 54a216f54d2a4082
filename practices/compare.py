"""The comparison basket: up to four practices a reader puts side by side. The
basket lives in the session; the comparison itself is a plain, shareable URL
(/practices/compare/?p=<slug>&p=<slug>)."""

from urllib.parse import urlencode

from django.urls import reverse

SESSION_KEY = "compare"
MAX_ITEMS = 4


def basket(request):
    """Empty before SessionMiddleware (CachedPageMiddleware answers before it)."""
    return list(getattr(request, "session", {}).get(SESSION_KEY, []))


def compare_url(slugs):
    return reverse("practices:compare") + "?" + urlencode([("p", s) for s in slugs])


def context(request):
    """Template context processor: the basket, for the header link and buttons."""
    slugs = basket(request)
    return {
        "compare_slugs": slugs,
        "compare_link": compare_url(slugs) if slugs else "",
    }
