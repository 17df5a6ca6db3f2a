from datetime import timedelta

from django.core.management.base import BaseCommand

from gallery.jobs import limits, pending_uploads


class Command(BaseCommand):
    help = (
        "Delete files picked on the edit page but never part of a submitted edit, once they "
        "have waited longer than a day (their files too, where no other image uses them), and "
        "forget rate-limit counters that ended long ago. Every worker does this once an hour."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than-hours",
            type=float,
            default=pending_uploads.PENDING_FOR.total_seconds() / 3600,
            help="how long an upload may stay pending (default: 24)",
        )

    def handle(self, *args, older_than_hours: float, **options):
        deleted = pending_uploads.delete_expired(older_than=timedelta(hours=older_than_hours))
        pruned = limits.prune()
        self.stdout.write(
            f"Deleted {deleted} pending uploads and {pruned} old rate-limit counters."
        )
