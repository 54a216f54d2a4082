"""config/settings.py as production runs it: each test starts a fresh Python with
only the environment it names (a developer's .env fills in nothing the test sets;
an empty value counts as unset), so what is checked is the real module, not the
test settings."""

import ast
import os
import secrets
import string
import subprocess
import sys

import pytest
from django.conf import settings

MANAGE = str(settings.BASE_DIR / "manage.py")
# What a process needs from the outside world, and nothing about Django.
PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")


def random_secret_key(length=50):
    alphabet = string.ascii_letters + string.digits + "!@#%^&*(-_=+)"
    return "".join(secrets.choice(alphabet) for _ in range(length))


@pytest.fixture
def production_env(tmp_path, collected_static):
    """The environment of a production deployment behind an HTTPS proxy."""
    env = {name: os.environ[name] for name in PASSED_THROUGH if name in os.environ}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        SECRET_KEY=random_secret_key(),
        ALLOWED_HOSTS="atlas.example.org",
        HTTPS="true",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        EMAIL_URL="smtp+tls://atlas:not-a-secret@smtp.example.org:587",
        # Set (empty or default) so that a developer's .env cannot change them.
        DJANGO_DEBUG="false",
        ADMIN_PATH="admin/",
        TRUSTED_PROXY_COUNT="0",
        STATIC_ROOT=str(collected_static),
    )
    return env


def run(env, *args):
    return subprocess.run(
        [sys.executable, *args],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )


def output(result):
    return (
        f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    )


def test_check_deploy_has_no_warnings_with_production_values(production_env):
    result = run(production_env, MANAGE, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, output(result)
    assert "System check identified no issues" in result.stdout, output(result)


def test_check_deploy_warns_without_https(production_env):
    """The check above can fail: without HTTPS=true it names what is missing."""
    production_env["HTTPS"] = "false"
    result = run(production_env, MANAGE, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0, output(result)
    for warning in ("security.W004", "security.W008", "security.W012"):
        assert warning in result.stderr, output(result)


def test_check_deploy_asks_for_a_mail_server(production_env):
    """Without EMAIL_URL, alert mails would only be printed on the console."""
    production_env["EMAIL_URL"] = ""
    result = run(production_env, MANAGE, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0, output(result)
    assert "mail.E001" in result.stderr, output(result)


PRINT_SETTINGS = (
    "from django.conf import settings; "
    "print(settings.DEBUG, settings.SECURE_SSL_REDIRECT, "
    "settings.SESSION_COOKIE_SECURE, settings.SECURE_HSTS_SECONDS)"
)


def test_production_is_the_default(production_env):
    """DJANGO_DEBUG unset (empty, so .env cannot fill it in): DEBUG is off."""
    production_env.update(DJANGO_DEBUG="", HTTPS="")
    result = run(production_env, MANAGE, "shell", "-c", PRINT_SETTINGS)
    assert result.returncode == 0, output(result)
    # DEBUG off; without HTTPS=true no redirect, no secure-only cookie, no HSTS.
    assert result.stdout.split()[-4:] == ["False", "False", "False", "0"], output(
        result
    )


PRINT_DATABASE_OPTIONS = (
    "from django.conf import settings; print(settings.DATABASES['default']['OPTIONS'])"
)


def database_options(env):
    result = run(env, MANAGE, "shell", "-c", PRINT_DATABASE_OPTIONS)
    assert result.returncode == 0, output(result)
    return ast.literal_eval(result.stdout.splitlines()[-1])


def test_postgresql_connections_get_timeouts_and_keepalives_the_url_can_change(
    production_env,
):
    production_env["DATABASE_URL"] = "postgres://atlas@127.0.0.1:5432/atlas"
    assert database_options(production_env) == {
        "connect_timeout": 5,
        "options": "-c statement_timeout=5s -c jit=off",
        "answer_timeout": 7,  # config.postgresql: statement_timeout + 2 s
        "keepalives": 1,
        "keepalives_idle": 5,
        "keepalives_interval": 2,
        "keepalives_count": 3,
        "tcp_user_timeout": 10000,
    }
    production_env["DATABASE_STATEMENT_TIMEOUT"] = "0"  # no limit
    assert database_options(production_env)["answer_timeout"] == 0  # none either
    production_env["DATABASE_URL"] += (
        "?keepalives_idle=30&tcp_user_timeout=0&answer_timeout=20"
    )
    options = database_options(production_env)
    assert options["options"] == "-c statement_timeout=0s -c jit=off"
    assert options["answer_timeout"] == 20
    assert options["keepalives_idle"] == 30
    assert options["tcp_user_timeout"] == 0


@pytest.mark.parametrize("name", ["SECRET_KEY", "ALLOWED_HOSTS"])
def test_refuses_to_start_without_a_required_variable(production_env, name):
    production_env[name] = ""  # empty: as if unset, and .env cannot fill it
    result = run(production_env, MANAGE, "check")
    assert result.returncode != 0, output(result)
    assert "ImproperlyConfigured" in result.stderr, output(result)
    assert f"The environment variable {name} is not set" in result.stderr


ADMIN_PROBE = (
    "from django.test import Client; from django.urls import reverse; "
    "print(reverse('admin:index')); "
    "print(Client().get(reverse('admin:login')).status_code); "
    "print(Client().get('/admin/login/').status_code)"
)


def test_admin_path_moves_the_admin(production_env):
    production_env.update(ADMIN_PATH="curation/", ALLOWED_HOSTS="testserver")
    production_env["HTTPS"] = "false"  # the probe's test client speaks plain HTTP
    result = run(production_env, MANAGE, "shell", "-c", ADMIN_PROBE)
    assert result.returncode == 0, output(result)
    assert result.stdout.split()[-3:] == ["/curation/", "200", "404"], output(result)


def test_an_empty_admin_path_means_the_default(production_env):
    production_env.update(ADMIN_PATH="", ALLOWED_HOSTS="testserver", HTTPS="false")
    result = run(production_env, MANAGE, "shell", "-c", ADMIN_PROBE)
    assert result.returncode == 0, output(result)
    assert result.stdout.split()[-3:] == ["/admin/", "200", "200"], output(result)


def test_admin_path_can_have_several_segments(production_env):
    production_env.update(ADMIN_PATH="staff/atlas-2/", ALLOWED_HOSTS="testserver")
    production_env["HTTPS"] = "false"
    result = run(production_env, MANAGE, "shell", "-c", ADMIN_PROBE)
    assert result.returncode == 0, output(result)
    assert result.stdout.split()[-3:] == ["/staff/atlas-2/", "200", "404"]


@pytest.mark.parametrize(
    "value",
    ["/admin/", "admin", "curation", "cur ation/", "a//b/", "../x/", "a/./", "/"],
)
def test_an_invalid_admin_path_is_refused_with_a_clear_message(production_env, value):
    production_env["ADMIN_PATH"] = value
    result = run(production_env, "-c", "import config.settings")
    assert result.returncode != 0, output(result)
    assert "ImproperlyConfigured" in result.stderr, output(result)
    assert f"ADMIN_PATH={value!r} is not a valid admin path" in result.stderr
    assert "ending with '/'" in result.stderr and "no leading '/'" in result.stderr
