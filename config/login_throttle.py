"""The admin's login throttle: django-axes' database handler with a second limit."""

from axes.handlers.database import AxesDatabaseHandler
from django.conf import settings
from django.db.models import Sum


class LoginThrottle(AxesDatabaseHandler):
    """Failures count per username from one address (locked after AXES_FAILURE_LIMIT)
    and per address under any usernames (after LOGIN_ADDRESS_FAILURE_LIMIT), the two
    sets of AXES_LOCKOUT_PARAMETERS. django-axes compares the larger count with one
    limit: an office behind one address would be locked out by one person's typos."""

    def get_failures(self, request, credentials=None):
        by_username, by_address = (
            attempts.aggregate(failures=Sum("failures_since_start"))["failures"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        )
        if by_address >= settings.LOGIN_ADDRESS_FAILURE_LIMIT:
            return max(by_username, settings.AXES_FAILURE_LIMIT)
        return by_username

    def reset_user_attempts(self, request, credentials=None):
        """A successful sign-in clears that username's failures from the address,
        not other usernames' (which still count towards the address's limit)."""
        return self.filter_user_attempts(request, credentials)[0].delete()[0]
