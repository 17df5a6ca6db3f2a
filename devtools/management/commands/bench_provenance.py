"""Time provenance.read() per file: median and p95 over N repetitions.

    python manage.py bench_provenance                   the shared C2PA fixtures, 50 reads each
    python manage.py bench_provenance IMAGE ... -n 200

The first read of each file is not timed (it builds the cached c2pa Context).
"""

import statistics
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from gallery import provenance

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".tif", ".tiff", ".avif"}


class Command(BaseCommand):
    help = "Print median/p95 provenance.read() time per file."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="*", type=Path)
        parser.add_argument("-n", "--repeat", type=int, default=50)

    def handle(self, *args, files, repeat, **options):
        if repeat < 1:
            raise CommandError("--repeat must be at least 1")
        if not files:
            fixtures = Path(settings.BASE_DIR).parent / "shared" / "fixtures" / "c2pa"
            files = sorted(p for p in fixtures.glob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
            if not files:
                raise CommandError(f"No files given and no fixtures in {fixtures}")
        largest = max(files, key=lambda p: p.stat().st_size)
        self.stdout.write(
            f"{'file':<50} {'KiB':>7} {'state':<11} {'median ms':>9} {'p95 ms':>8} (n={repeat})"
        )
        for path in files:
            data = path.read_bytes()
            state = provenance.read(data).state
            timings = []
            for _ in range(repeat):
                start = time.perf_counter()
                provenance.read(data)
                timings.append((time.perf_counter() - start) * 1000)
            timings.sort()
            p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
            marker = "  <- largest" if path == largest else ""
            self.stdout.write(
                f"{path.name:<50} {len(data) / 1024:>7.0f} {state:<11} "
                f"{statistics.median(timings):>9.2f} {p95:>8.2f}{marker}"
            )
