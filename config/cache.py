"""The cache framework's wiring (CACHES) and how a cache outage is logged.

REDIS_URL set: every instance shares one Redis through django-redis. A dead or
unreachable Redis must not take pages down with it, so errors are ignored (a read
misses, a write is dropped) and the sockets give up after SOCKET_TIMEOUT seconds.
REDIS_URL unset: each process caches in its own memory. Either way practices/caching.py
keys pages by the catalogue version, so no instance can serve a page older than the
last committed edit."""

import logging
import threading
import time

# Connect and read timeouts, in seconds: what one cache call may cost while Redis
# is unreachable. A refused connection (Redis stopped) fails at once.
SOCKET_TIMEOUT = 0.25

# django-redis logs the errors it ignores to this logger (DJANGO_REDIS_LOGGER), as
# does practices/caching.py; OutageFilter turns them into warnings.
LOGGER = "config.cache"


def cache_settings(redis_url, key_prefix="atlas"):
    """CACHES for a Redis URL (redis://host:port/db), or local memory without one."""
    if not redis_url:
        return {
            "default": {
                "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                "KEY_PREFIX": key_prefix,
            }
        }
    return {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": key_prefix,
            "OPTIONS": {
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": SOCKET_TIMEOUT,
                "SOCKET_TIMEOUT": SOCKET_TIMEOUT,
            },
        }
    }


class OutageFilter(logging.Filter):
    """On the cache logger: one WARNING line per `interval` instead of an ERROR with
    a traceback for every failed cache call (two per page while Redis is down)."""

    interval = 60  # seconds

    def __init__(self):
        super().__init__()
        self._lock = threading.Lock()
        self.quiet_until = 0.0

    def filter(self, record):
        now = time.monotonic()
        with self._lock:
            if now < self.quiet_until:
                return False
            self.quiet_until = now + self.interval
        if record.exc_info:
            error = record.exc_info[1]
            cause = error.__cause__ or error  # django-redis wraps the redis error
            record.msg = "%s: %s"
            record.args = (type(cause).__name__, cause)
            record.exc_info = record.exc_text = None
        record.msg = (
            "Cache unavailable, pages are served uncached: "
            f"{record.msg} (further cache errors in the next {self.interval} s "
            "are not logged)"
        )
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True
