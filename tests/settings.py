"""Test settings: the real settings with test-only values and plain static storage."""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-not-a-secret")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")

from config.cache import cache_settings  # noqa: E402
from config.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Manifest storage needs collectstatic first; CI runs collectstatic on its own.
STORAGES["staticfiles"]["BACKEND"] = (  # noqa: F405
    "django.contrib.staticfiles.storage.StaticFilesStorage"
)
# The cache: this process's memory whatever REDIS_URL says (a .env may set it for
# `make run`). Tests that need Redis point at databases 1-3 themselves.
CACHES = cache_settings("", key_prefix="atlas-tests")
# django-axes announces itself at start-up, in every test process: noise in the
# test output (its warnings still show).
LOGGING["loggers"]["axes.apps"] = {"level": "WARNING"}  # noqa: F405
# Mail stays in memory (django.core.mail.outbox) whatever EMAIL_URL a .env sets;
# tests of real delivery point at their own SMTP server (tests/alerts/conftest.py).
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
