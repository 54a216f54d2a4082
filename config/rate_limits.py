"""Counts per client address and clock hour, behind the limits of the public forms
that take no account (the accessibility feedback form, e-mail alert sign-ups)."""

from django.core.cache import cache
from django.utils import timezone

from config.security import client_ip

HOUR = 3600  # seconds


def count_this_hour(request, scope):
    """Counts one more `scope` action by the request's client address (the one the
    login throttle uses) in this clock hour. Returns the count and the seconds
    left in the hour. Atomic (add, then incr): one count for every instance that
    shares Redis. The count is 0 when the cache cannot say (an outage, or the count
    evicted between add and incr): a form stays open rather than refuse everyone."""
    hour, into_hour = divmod(int(timezone.now().timestamp()), HOUR)
    key = f"{scope}:{client_ip(request)}:{hour}"
    cache.add(key, 0, timeout=HOUR)
    try:
        count = cache.incr(key) or 0  # None: django-redis ignored an outage
    except ValueError:  # evicted between add and incr
        count = 0
    return count, HOUR - into_hour
