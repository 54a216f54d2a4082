"""Practice Atlas settings: one module, every deployment difference comes from the
environment (or a git-ignored .env file). Production values are the defaults."""

import hashlib
import re
import subprocess
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from config.cache import LOGGER as CACHE_LOGGER
from config.cache import cache_settings
from config.mail import mailer_settings

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")  # optional; never committed


DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "The environment variable SECRET_KEY is not set. Set it (or add it to .env); "
        "`make run` writes a local one for you."
    )
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
if not ALLOWED_HOSTS and not DEBUG:
    raise ImproperlyConfigured(
        "The environment variable ALLOWED_HOSTS is not set: list the host names "
        "this site answers to, e.g. ALLOWED_HOSTS=atlas.example.org"
    )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.sitemaps",  # the sitemap.xml template (opendata/discovery.py)
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",  # full-text search on PostgreSQL; inert on SQLite
    "django_filters",
    "axes",  # admin login throttling: see "Security" below
    "simple_history",  # change history of practices and briefs, with revert
    "publishing",  # the curation workflow and publication rule shared by both
    "practices",
    "evidence",  # evidence grades and outcome figures of practices
    "briefs",
    "accessibility",
    "opendata",  # exports, feed, sitemap, data dictionary, bulk import
    "indicators",  # Eurostat's figures on regions: their context on region pages
    "briefing",  # a reader's shortlist and briefing packs (HTML, PDF, CSV)
    "alerts",  # e-mail alerts of new matches, double opt-in, without an account
]

MIDDLEWARE = [
    "ops.observability.RequestIdMiddleware",  # outermost: ids every log line
    # Stores pages with every header the middleware below adds; they are served
    # back before Django's handler (config/wsgi.py, practices/caching.py).
    "practices.caching.CachedPageMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # directly after Security
    # Compresses pages, exports and feeds (WhiteNoise serves static files already
    # compressed). Django pads each response at random against BREACH, which
    # matters on pages that carry a CSRF token.
    "django.middleware.gzip.GZipMiddleware",
    # Header middleware this far out so that every response gets their headers,
    # including the 400s Django answers from inside CommonMiddleware (bad Host).
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.security.middleware",  # Permissions-Policy; 414 / 413 before any view
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes requires
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"  # runserver too: with StoredPages

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "practices.compare.context",
            ],
        },
    },
]

# Embedded default: a SQLite file under var/; PostgreSQL in production.
DATABASES = {
    "default": env.db(
        "DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}"
    )
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# SQLite has no INCLUDE columns: the list's covering index is a plain one there.
SILENCED_SYSTEM_CHECKS = ["models.W040"]
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A server that stops answering gets the 503 page within seconds instead of a
    # request hanging until gunicorn kills the worker. DATABASE_URL's own query
    # parameters win (?connect_timeout=N, ?keepalives_idle=N, ?options=…):
    # - connect_timeout: a new connection that does not complete;
    # - statement_timeout: a live server whose statement waits (for a lock) or runs
    #   too long; the server cancels it (0: no limit, e.g. for a long migration);
    # - keepalives and tcp_user_timeout: a server or network gone silent; the kernel
    #   drops the connection when probes or sent data stay unacknowledged;
    # - answer_timeout (config.postgresql): a server or proxy that acknowledges but
    #   never answers; a little longer than statement_timeout, so that a running
    #   server's own cancellation comes first.
    statement_timeout = env.int("DATABASE_STATEMENT_TIMEOUT", default=5)
    DATABASES["default"]["ENGINE"] = "config.postgresql"
    DATABASES["default"]["OPTIONS"] = {
        "connect_timeout": 5,
        # jit off: its compilation took 3 s of CPU for the 10k home page's 1.7 s
        # count, which runs in tens of milliseconds without it (measured); JIT
        # pays off for long analytic queries, never for a page's.
        "options": f"-c statement_timeout={statement_timeout}s -c jit=off",
        "answer_timeout": statement_timeout + 2 if statement_timeout else 0,
        "keepalives": 1,
        "keepalives_idle": 5,
        "keepalives_interval": 2,
        "keepalives_count": 3,
        "tcp_user_timeout": 10000,  # milliseconds
        **DATABASES["default"].get("OPTIONS", {}),
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"django.contrib.auth.password_validation.{name}", "OPTIONS": options}
    for name, options in (
        ("UserAttributeSimilarityValidator", {}),
        ("MinimumLengthValidator", {"min_length": 12}),  # curators' accounts only
        ("CommonPasswordValidator", {}),
        ("NumericPasswordValidator", {}),
    )
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/Brussels"

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_ROOT = BASE_DIR / "static" / "root"  # served at /: favicon.ico
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Security (Permissions-Policy and request-size limits: config/security.py) ---
# Django's defaults already send nosniff, Referrer-Policy and Cross-Origin-Opener-
# Policy "same-origin", X-Frame-Options DENY and HttpOnly session cookies.
# No JavaScript and no inline styles on the site: the admin's scripts carry a nonce.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
CSRF_COOKIE_HTTPONLY = True  # nothing reads it from a script; forms carry the token
# A request body may hold DATA_UPLOAD_MAX_MEMORY_SIZE (Django's 2.5 MB); one to the
# admin's import page may also hold a file of this many bytes (a bigger file is
# imported with manage.py import_practices). Over FILE_UPLOAD_MAX_MEMORY_SIZE
# (Django's 2.5 MB), the file is kept on disk: the import reads it as a stream.
IMPORT_MAX_FILE_SIZE = env.int("IMPORT_MAX_FILE_SIZE", default=10 * 1024 * 1024)

# HTTPS=true: behind a TLS-terminating proxy that sets X-Forwarded-Proto.
HTTPS = env.bool("HTTPS", default=False)
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz/?$"]  # for load balancers' plain HTTP
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

ADMIN_PATH = env.str("ADMIN_PATH", default="") or "admin/"
if not re.fullmatch(r"(?:(?!\.{1,2}/)[A-Za-z0-9._~-]+/)+", ADMIN_PATH):
    raise ImproperlyConfigured(
        f"ADMIN_PATH={ADMIN_PATH!r} is not a valid admin path: use one or more "
        "segments of letters, digits, '.', '_', '~' or '-' (not '.' or '..' alone), "
        "each ending with '/' and with no leading '/', e.g. ADMIN_PATH=curation/"
    )

# Curators sign in through the admin only: without a safe `next`, its index (not
# Django's /accounts/profile/, which this site does not have).
LOGIN_REDIRECT_URL = "admin:index"

# Four eyes (publishing/workflow.py): whoever submits a record for review cannot
# publish it. A team of one curator sets this to true to publish their own.
ALLOW_SELF_PUBLISHING = env.bool("ALLOW_SELF_PUBLISHING", default=False)

# Admin login throttling (django-axes): failures are kept in the database, so
# every worker sees them.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses locked-out attempts
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "config.login_throttle.LoginThrottle"  # the limit per address
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_FAILURE_LIMIT = 5  # one username from one address
# Any usernames from one address: one person's typos never lock out an office behind
# one address; a spray of guesses across many usernames is stopped.
LOGIN_ADDRESS_FAILURE_LIMIT = env.int("LOGIN_ADDRESS_FAILURE_LIMIT", default=20)
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "axes/lockout.html"
AXES_CLIENT_IP_CALLABLE = "config.security.client_ip"
# Reverse proxies appending to X-Forwarded-For: behind one, set 1, or every curator
# shares the proxy's address and one person's failures lock out the rest.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# Accessibility statement: the enforcement body of the operator's member state.
ACCESSIBILITY_CONTACT_EMAIL = env.str("ACCESSIBILITY_CONTACT_EMAIL", default="")
ACCESSIBILITY_ENFORCEMENT_BODY_NAME = env.str(
    "ACCESSIBILITY_ENFORCEMENT_BODY_NAME", default=""
)
ACCESSIBILITY_ENFORCEMENT_BODY_URL = env.str(
    "ACCESSIBILITY_ENFORCEMENT_BODY_URL", default=""
)
if ACCESSIBILITY_ENFORCEMENT_BODY_URL and not (
    ACCESSIBILITY_ENFORCEMENT_BODY_URL.startswith(("https://", "http://"))
):
    raise ImproperlyConfigured(
        "ACCESSIBILITY_ENFORCEMENT_BODY_URL must be an http(s) address, e.g. "
        "https://enforcement-body.example.eu/complaints"
    )

# The accessibility feedback form's limits (accessibility/views.py): reports one
# client address may send in a clock hour, reports accepted in a day from everyone
# (then curators see a notice in the admin), and the days a report is kept before
# `manage.py purge_feedback` deletes it.
FEEDBACK_CLIENT_HOURLY_LIMIT = env.int("FEEDBACK_CLIENT_HOURLY_LIMIT", default=10)
FEEDBACK_DAILY_CAP = env.int("FEEDBACK_DAILY_CAP", default=200)
FEEDBACK_RETENTION_DAYS = env.int("FEEDBACK_RETENTION_DAYS", default=365)
if min(FEEDBACK_CLIENT_HOURLY_LIMIT, FEEDBACK_DAILY_CAP, FEEDBACK_RETENTION_DAYS) < 1:
    raise ImproperlyConfigured(
        "FEEDBACK_CLIENT_HOURLY_LIMIT, FEEDBACK_DAILY_CAP and FEEDBACK_RETENTION_DAYS "
        "must be whole numbers of 1 or more."
    )

SITE_NAME = "Practice Atlas"

# This site's public address, e.g. https://atlas.example.org.
SITE_URL = env.str("SITE_URL", default="")

# --- E-mail (alerts: README "E-mail alerts") ---------------------------------------
# EMAIL_URL: consolemail:// by default, so `make run` prints mails on its output;
# in production an SMTP server (config/mail.py), which `check --deploy` asks for.
MAILERS = mailer_settings(
    env.str("EMAIL_URL", default="") or "consolemail://",
    timeout=env.int("EMAIL_TIMEOUT", default=10),  # seconds: never a hung request
)
DEFAULT_FROM_EMAIL = env.str(
    "DEFAULT_FROM_EMAIL", default=f"{SITE_NAME} <alerts@localhost>"
)
# E-mail alerts (alerts/): sign-ups one client address may make per clock hour,
# alerts pending or active per e-mail address, and the days a confirmation link
# works (an alert not confirmed by then is deleted).
ALERT_SIGNUPS_PER_CLIENT_HOURLY = env.int("ALERT_SIGNUPS_PER_CLIENT_HOURLY", default=10)
ALERT_MAX_PER_ADDRESS = env.int("ALERT_MAX_PER_ADDRESS", default=10)
ALERT_CONFIRMATION_DAYS = env.int("ALERT_CONFIRMATION_DAYS", default=7)
if (
    min(ALERT_SIGNUPS_PER_CLIENT_HOURLY, ALERT_MAX_PER_ADDRESS, ALERT_CONFIRMATION_DAYS)
    < 1
):
    raise ImproperlyConfigured(
        "ALERT_SIGNUPS_PER_CLIENT_HOURLY, ALERT_MAX_PER_ADDRESS and "
        "ALERT_CONFIRMATION_DAYS must be whole numbers of 1 or more."
    )

# --- Logs: one line per record on stderr, with the request id ---------------------
LOG_FORMAT = env.str("LOG_FORMAT", default="plain" if DEBUG else "json")
if LOG_FORMAT not in ("json", "plain"):
    raise ImproperlyConfigured("LOG_FORMAT must be json or plain.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "ops.observability.RequestIdFilter"},
        "refused_request": {"()": "ops.observability.RefusedRequestFilter"},
        "cache_outage": {"()": "config.cache.OutageFilter"},
    },
    "formatters": {
        "json": {"()": "ops.observability.JsonFormatter"},
        "plain": {
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id", "refused_request"],
            "formatter": LOG_FORMAT,
        }
    },
    # Django's own loggers (django.request logs unhandled errors) go through the
    # root handler only, instead of also through Django's default DEBUG console.
    "loggers": {
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        CACHE_LOGGER: {"filters": ["cache_outage"]},  # see DJANGO_REDIS_LOGGER
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# --- Cache and scale-out --------------------------------------------------------
# App servers keep no state: sessions (the comparison basket) live in the database,
# Django's default, and the cache is one shared Redis when REDIS_URL is set.
CACHES = cache_settings(
    env.str("REDIS_URL", default=""),
    key_prefix=env.str("CACHE_KEY_PREFIX", default="atlas"),
)
# A Redis error never fails a request; it is logged once a minute.
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
DJANGO_REDIS_LOGGER = CACHE_LOGGER

# Public pages are cached whole (0: off): practices/caching.py.
PAGE_CACHE_SECONDS = env.int("PAGE_CACHE_SECONDS", default=600)


def default_release():
    """The git commit checked out; without git, a digest of the static manifest, so
    cached pages never link to static files the new release lacks."""
    git = ["git", "-C", str(BASE_DIR), "rev-parse", "HEAD"]
    try:
        return subprocess.check_output(
            git, text=True, stderr=subprocess.DEVNULL
        ).strip()
    except (OSError, subprocess.SubprocessError):
        manifest = STATIC_ROOT / "staticfiles.json"
        if manifest.exists():
            return hashlib.sha256(manifest.read_bytes()).hexdigest()
        return "unversioned"


# In every cached page's key and ETag: releases never share pages.
RELEASE = env.str("RELEASE", default="") or default_release()
