"""CACHES and how a cache outage is logged. With a Redis URL every instance shares
one Redis; a dead Redis must not take pages down with it, so errors are ignored and
each call gives up after SOCKET_TIMEOUT seconds."""

import logging
import time

SOCKET_TIMEOUT = 0.25  # seconds; a refused connection (Redis stopped) fails at once
# The cache of each process's copies of pages it served from Redis, and how many
# it keeps: at most ~30 MB (a list page is ~150 KB, ~20 KB compressed).
LOCAL_PAGES, LOCAL_PAGES_MAX = "local-pages", 200

# django-redis logs the errors it ignores here (DJANGO_REDIS_LOGGER).
LOGGER = "config.cache"


def cache_settings(redis_url, key_prefix="atlas"):
    """CACHES for a Redis URL (redis://host:port/db), or local memory without one."""
    if not redis_url:
        backend = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    else:
        backend = {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": redis_url,
            "OPTIONS": {
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": SOCKET_TIMEOUT,
                "SOCKET_TIMEOUT": SOCKET_TIMEOUT,
            },
        }
    caches = {"default": {**backend, "KEY_PREFIX": key_prefix}}
    if redis_url:
        # Each process's copies of the pages it served from Redis: a hit then
        # reads only the catalogue version there (practices/caching.py).
        caches[LOCAL_PAGES] = {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": LOCAL_PAGES,  # its own store, not the default's
            "OPTIONS": {"MAX_ENTRIES": LOCAL_PAGES_MAX},
        }
    return caches


class OutageFilter(logging.Filter):
    """One WARNING line per `interval` instead of an ERROR with a traceback for every
    failed cache call. No lock: a race would only let a second line through."""

    interval = 60  # seconds
    quiet_until = 0.0

    def filter(self, record):
        now = time.monotonic()
        if now < self.quiet_until:
            return False
        self.quiet_until = now + self.interval
        if record.exc_info:
            error = record.exc_info[1]
            error = error.__cause__ or error  # django-redis wraps the redis error
            record.msg, record.args = "%s: %s", (type(error).__name__, error)
            record.exc_info = record.exc_text = None
        record.msg = (
            f"Cache unavailable, pages are served uncached: {record.msg} (further "
            f"cache errors in the next {self.interval} s are not logged)"
        )
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True
