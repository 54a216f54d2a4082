from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accessibility.models import Feedback


class Command(BaseCommand):
    help = (
        "Delete accessibility feedback reports (handled or not) received more than "
        "FEEDBACK_RETENTION_DAYS days ago. Run it daily."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=settings.FEEDBACK_RETENTION_DAYS,
            help="Keep the reports of the last N days (default: "
            "FEEDBACK_RETENTION_DAYS, %(default)s).",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Count the reports that would be deleted; delete nothing.",
        )

    def handle(self, *args, days, dry_run, **options):
        if days < 1:
            raise CommandError("--days must be 1 or more.")
        received_before = timezone.now() - timedelta(days=days)
        old = Feedback.objects.filter(created_at__lt=received_before)
        count = old.count() if dry_run else old.delete()[0]
        self.stdout.write(
            f"{'Would delete' if dry_run else 'Deleted'} {count} feedback reports "
            f"received before {timezone.localtime(received_before):%Y-%m-%d %H:%M}."
        )
