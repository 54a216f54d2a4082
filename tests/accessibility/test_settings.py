import os

import pytest

from tests.test_settings import PASSED_THROUGH, output, run


@pytest.mark.parametrize(
    "name",
    ["FEEDBACK_CLIENT_HOURLY_LIMIT", "FEEDBACK_DAILY_CAP", "FEEDBACK_RETENTION_DAYS"],
)
def test_a_feedback_limit_under_one_is_refused_with_a_clear_message(name):
    env = {var: os.environ[var] for var in PASSED_THROUGH if var in os.environ}
    env.update(SECRET_KEY="tests-only", ALLOWED_HOSTS="testserver", **{name: "0"})
    result = run(env, "-c", "import config.settings")
    assert result.returncode != 0, output(result)
    assert "ImproperlyConfigured" in result.stderr, output(result)
    assert "must be whole numbers of 1 or more" in result.stderr, output(result)
