"""Store the prompt vectors and perceptual hashes that images stored before the similarity
searches (or while no worker ran) lack. The worker does this for every image that lands."""

import time

from django.core.management.base import BaseCommand

from gallery.browse import features


class Command(BaseCommand):
    help = (
        "Store the prompt vectors and perceptual hashes images lack (for Similar prompts/images)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=features.BATCH)

    def handle(self, *args, batch: int, **options):
        started = time.perf_counter()
        stored = features.backfill(batch=batch)
        took = time.perf_counter() - started
        self.stdout.write(
            f"Stored {stored:,} prompt vectors and perceptual hashes in {took:.1f} s."
        )
