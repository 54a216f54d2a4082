import smtplib
from datetime import datetime

from django.core.mail import mailers
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from alerts import digest, mail
from alerts.models import Alert, Frequency
from alerts.tokens import LOCAL_SITE
from opendata.discovery import site_origin
from practices.listing import list_practices
from practices.models import CatalogueVersion


def moment(text):
    """An ISO 8601 date and time; in the site's time zone when it names none."""
    value = datetime.fromisoformat(text)
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def failure(error):
    """What went wrong in a send, without the text of the server's answer, which
    may quote the address: the error's kind and SMTP codes."""
    codes = [code for code, _ in getattr(error, "recipients", {}).values()]
    if code := getattr(error, "smtp_code", None):
        codes.append(code)
    return " ".join([type(error).__name__, *map(str, codes)])


class Command(BaseCommand):
    help = (
        "Send the e-mail alerts that are due: to each confirmed alert whose week or "
        "month has passed since its last digest, one digest of the practices of its "
        "list published or changed since, if there are any. Run it daily from cron."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--frequency",
            choices=Frequency.values,
            help="Only the weekly or the monthly alerts (default: every due one).",
        )
        parser.add_argument(
            "--now",
            type=moment,
            help="Send as at this moment, in ISO 8601 (e.g. 2026-12-07T03:00); "
            "default: now.",
        )

    def handle(self, *args, frequency=None, now=None, **options):
        now = now or timezone.now()
        lapsed, _ = Alert.objects.lapsed(now).delete()
        if lapsed:
            self.stdout.write(f"Deleted {lapsed} alerts never confirmed.")
        version = CatalogueVersion.current()
        sent, practices, nothing_new, failed = 0, 0, 0, []
        due = Alert.objects.due(now, frequency).order_by("pk")
        connection = mailers.default  # one for every digest; reopened after errors
        try:
            for alert_id in due.values_list("pk", flat=True):
                try:
                    count = self.send(alert_id, now, frequency, version, connection)
                except (smtplib.SMTPException, OSError) as error:
                    failed.append(f"alert {alert_id} ({failure(error)})")
                    connection.close()
                    continue
                if count:
                    sent, practices = sent + 1, practices + count
                elif count == 0:
                    nothing_new += 1
        finally:
            connection.close()
        if sent and not site_origin():
            self.stderr.write(f"SITE_URL is not set: the mails link to {LOCAL_SITE}.")
        self.stdout.write(
            f"Sent {sent} digest{'s' * (sent != 1)} ({practices} "
            f"practice{'s' * (practices != 1)}); {nothing_new} "
            f"alert{' had' if nothing_new == 1 else 's had'} nothing new."
        )
        if failed:
            raise CommandError(
                f"{len(failed)} digest{'s' * (len(failed) != 1)} could not be sent "
                f"(each is tried again at the next run): {'; '.join(failed)}."
            )

    def send(self, alert_id, now, frequency, version, connection):
        """Sends the alert's digest and records it in one transaction (a failed send
        leaves it due). The number of practices sent: 0 for none, None when the
        alert is no longer due or its filters no longer valid."""
        with transaction.atomic():
            alert = (
                Alert.objects.select_for_update()
                .due(now, frequency)
                .filter(pk=alert_id)
                .first()
            )
            if alert is None:  # unsubscribed, or sent by another run meanwhile
                return None
            listing = list_practices(alert.filters, version=version)
            if not listing.valid:  # a term it names has been deleted since
                problems = "; ".join(listing.errors)
                self.stderr.write(
                    f"Alert {alert.pk} not sent: its filters are no longer valid "
                    f"({problems})."
                )
                return None
            entries = digest.entries(listing.practices, alert.since, now)
            if not entries:  # never an empty digest; the next covers this time too
                return 0
            message = mail.digest(alert, listing, entries)
            alert.last_sent_at = now
            alert.save(update_fields=["last_sent_at"])
            connection.send_messages([message])
            return len(entries)
