from datetime import timedelta

from django.core.management.base import BaseCommand

from gallery import trash


class Command(BaseCommand):
    help = (
        "Delete forever what has been in the trash longer than 30 days: the images' files "
        "(originals, thumbnails, previews, ingredient thumbnails) leave storage, local or S3. "
        "Every worker does this once an hour."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than-days",
            type=float,
            default=trash.TRASH_DAYS,
            help=f"how long things stay in the trash (default: {trash.TRASH_DAYS})",
        )

    def handle(self, *args, older_than_days: float, **options):
        purged = trash.empty_trash(older_than=timedelta(days=older_than_days))
        self.stdout.write(f"Deleted {purged} images forever.")
