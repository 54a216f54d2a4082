"""MAILERS (Django 6.1's mail settings) from one EMAIL_URL, read by django-environ:
consolemail:// (mails printed on stdout), smtp://HOST:PORT, smtp+tls://USER:PASSWORD
@HOST:587 (STARTTLS), smtp+ssl://USER:PASSWORD@HOST:465 (TLS from the start)."""

import environ
from django.core.exceptions import ImproperlyConfigured

SMTP = "django.core.mail.backends.smtp.EmailBackend"
# django-environ's names for the parts of the URL, and the SMTP backend's options.
SMTP_OPTIONS = {
    "EMAIL_HOST": "host",
    "EMAIL_PORT": "port",
    "EMAIL_HOST_USER": "username",
    "EMAIL_HOST_PASSWORD": "password",
    "EMAIL_USE_TLS": "use_tls",
    "EMAIL_USE_SSL": "use_ssl",
}


def mailer_settings(url, timeout):
    """MAILERS with a "default" mailer for `url`; an SMTP server that does not
    answer gives up after `timeout` seconds."""
    try:
        parsed = environ.Env.email_url_config(url)
    except (ImproperlyConfigured, ValueError):  # not echoed: it may hold a password
        raise ImproperlyConfigured(
            "EMAIL_URL is not a mail server's URL: use consolemail://, "
            "smtp://HOST:PORT, smtp+tls://USER:PASSWORD@HOST:587 or "
            "smtp+ssl://USER:PASSWORD@HOST:465."
        ) from None
    mailer = {"BACKEND": parsed["EMAIL_BACKEND"]}
    if mailer["BACKEND"] == SMTP:
        options = {
            option: parsed[name]
            for name, option in SMTP_OPTIONS.items()
            if parsed.get(name) not in (None, "")
        }
        mailer["OPTIONS"] = {**options, "timeout": timeout}
    return {"default": mailer}
