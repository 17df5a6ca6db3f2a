"""Time the gallery's first page for a non-staff person, with the visibility filter, on a
database filled with synthetic image rows (no files).

    DATABASE_URL=postgres://.../studio_bench python manage.py migrate
    DATABASE_URL=postgres://.../studio_bench python manage.py bench_visibility --images 200000

Prints median/p95 per query and PostgreSQL's plan for the first one. Rows it adds belong to
users named bench-*; --clean removes them. Use a database of its own: it writes rows.
"""

import os
import random
import statistics
import time
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import connection
from django.utils import timezone

from gallery import access
from gallery.models import Image, Visibility


class Command(BaseCommand):
    help = "Time visible_images(user) gallery pages over many synthetic rows."

    def add_arguments(self, parser):
        parser.add_argument("--images", type=int, default=100_000)
        parser.add_argument("--private", type=float, default=0.2, help="share of private rows")
        parser.add_argument("--people", type=int, default=50)
        parser.add_argument("-n", "--repeat", type=int, default=50)
        parser.add_argument("--clean", action="store_true")

    def handle(self, *args, images, private, people, repeat, clean, **options):
        User = get_user_model()
        if clean:
            Image.objects.filter(owner__username__startswith="bench-").delete()
            User.objects.filter(username__startswith="bench-").delete()
            return
        owners = [User.objects.get_or_create(username=f"bench-{i}")[0] for i in range(people)]
        have = Image.objects.filter(owner__username__startswith="bench-").count()
        self._fill(owners, max(0, images - have), private)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE gallery_image")  # fresh statistics for the planner
        viewer = owners[0]
        load = os.getloadavg()
        self.stdout.write(
            f"{Image.objects.count()} images, {private:.0%} private, viewer owns "
            f"{Image.objects.filter(owner=viewer).count()}; {connection.vendor}; "
            f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
        )
        queries = {
            "gallery page (newest 49 by id)": lambda: access.visible_images(viewer).order_by("-id")[
                :49
            ],
            "gallery page (newest 49 by created_at)": lambda: access.visible_images(
                viewer
            ).order_by("-created_at", "-id")[:49],
            "deep page (before = middle id)": lambda: (
                access.visible_images(viewer).filter(pk__lt=self._middle).order_by("-id")[:49]
            ),
            "own private only": lambda: (
                access.visible_images(viewer)
                .filter(visibility=Visibility.PRIVATE)
                .order_by("-id")[:49]
            ),
        }
        self._middle = Image.objects.order_by("-id").values_list("id", flat=True)[images // 2]
        for label, build in queries.items():
            timings = []
            for _ in range(repeat):
                started = time.perf_counter()
                list(build().values_list("id", flat=True))
                timings.append((time.perf_counter() - started) * 1000)
            timings.sort()
            p95 = timings[min(len(timings) - 1, int(len(timings) * 0.95))]
            self.stdout.write(
                f"{label:<42} median {statistics.median(timings):7.2f} ms  p95 {p95:7.2f} ms"
            )
        if connection.vendor == "postgresql":
            sql, params = access.visible_images(viewer).order_by("-id")[:49].query.sql_with_params()
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN ANALYZE {sql}", params)
                self.stdout.write("\n".join(row[0] for row in cursor.fetchall()))

    def _fill(self, owners, count, private):
        now = timezone.now()
        batch = []
        for i in range(count):
            batch.append(
                Image(
                    owner=random.choice(owners),
                    source=Image.Source.UPLOAD,
                    file=f"bench/{i}.png",
                    sha256=f"{i:064x}",
                    content_type="image/png",
                    byte_size=1,
                    width=1,
                    height=1,
                    thumbnail="bench/t.webp",
                    thumbnail_small="bench/s.webp",
                    thumbnail_width=1,
                    thumbnail_height=1,
                    prompt=f"bench image {i}",
                    visibility=Visibility.PRIVATE if random.random() < private else "shared",
                    created_at=now - timedelta(seconds=count - i),
                )
            )
            if len(batch) == 5000:
                Image.objects.bulk_create(batch)
                batch = []
        Image.objects.bulk_create(batch)
