"""Time edit round-trips against the in-process stand-in API at zero latency.

    python manage.py bench_edits -n 20

Three cases: one 1024x1024 PNG with a mask; the same with "keep unmasked pixels" (adds the
composite and its signing); sixteen 1024x1024 inputs (one PNG, fifteen JPEG). For each it
prints the median and p95 of the whole service path (create_edit_job + claim + run_job:
reading inputs, the API call, storing outputs, C2PA reads, composites, lineage) and of the
API call alone (edits.run_edit), plus the bytes of the multipart request body as sent.

Everything runs inside a transaction that is rolled back and with media in a temporary folder,
so the database and var/media are left as they were.
"""

import io
import os
import statistics
import tempfile
import time
from typing import Any

import PIL.Image
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test import override_settings

from gallery import imagesapi, jobs
from gallery.imagesapi.standin.server import StandinServer
from gallery.jobs import edits, uploads


class Rollback(Exception):
    pass


def _picture(seed: int, fmt: str) -> bytes:
    """A photo-like 1024x1024 image: a gradient with grain, so it compresses like a photo."""
    grain = PIL.Image.effect_noise((1024, 1024), 24 + seed).convert("L")
    gradient = PIL.Image.linear_gradient("L").resize((1024, 1024))
    image = PIL.Image.merge("RGB", (gradient, grain, gradient.rotate(90 + seed)))
    out = io.BytesIO()
    image.save(out, fmt, **({"quality": 88} if fmt == "JPEG" else {"compress_level": 6}))
    return out.getvalue()


def _mask() -> bytes:
    mask = PIL.Image.new("RGBA", (1024, 1024), (0, 0, 0, 255))
    mask.paste((0, 0, 0, 0), (256, 256, 768, 768))
    out = io.BytesIO()
    mask.save(out, "PNG")
    return out.getvalue()


class Command(BaseCommand):
    help = "Print median edit round-trip times and request sizes against the stand-in API."

    def add_arguments(self, parser):
        parser.add_argument("-n", "--repeat", type=int, default=20)

    def handle(self, *args, repeat, **options):
        if repeat < 1:
            raise CommandError("--repeat must be at least 1")
        server = StandinServer(host="127.0.0.1", port=0, latency=0.0)
        server.start()
        sent: list[int] = []

        def count_bytes(request):
            sent.append(int(request.headers.get("content-length", 0)))

        client = imagesapi.client._http()
        client.event_hooks["request"].append(count_bytes)
        try:
            with (
                tempfile.TemporaryDirectory() as media,
                override_settings(OPENAI_BASE_URL=server.url, MEDIA_ROOT=media),
            ):
                self._run(repeat, sent)
        finally:
            client.event_hooks["request"].remove(count_bytes)
            server.stop()
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        self.stdout.write(f"load average: {load}")

    def _run(self, repeat: int, sent: list[int]) -> None:
        first = _picture(0, "PNG")
        others = [_picture(i, "JPEG") for i in range(1, 16)]
        mask = _mask()
        cases: list[tuple[str, list[bytes], dict[str, Any]]] = [
            ("1 image + mask", [first], {"mask": mask}),
            ("1 image + mask, keep unmasked", [first], {"mask": mask, "keep_unmasked": True}),
            ("16 images", [first, *others], {}),
        ]
        self.stdout.write(
            f"{'case':<32} {'total ms':>9} {'p95':>7} {'API ms':>8} {'p95':>7} "
            f"{'bytes sent':>11}  (median of n={repeat}, stand-in at zero latency)"
        )
        try:
            with transaction.atomic():
                owner, _ = get_user_model().objects.get_or_create(username="bench-edits")
                for name, pictures, extra in cases:
                    images = [
                        uploads.store_upload(owner=owner, upload=uploads.check(data))
                        for data in pictures
                    ]
                    totals, api = [], []
                    for _ in range(repeat + 1):  # the first round warms caches, untimed
                        start = time.perf_counter()
                        job = edits.create_edit_job(
                            owner=owner,
                            prompt="bench",
                            model="gpt-image-1",
                            images=images,
                            size="1024x1024",
                            quality="low",
                            **extra,
                        )
                        claimed = jobs.claim_job(job.pk)
                        if claimed is None:
                            raise CommandError(f"{name}: job {job.pk} could not be claimed")
                        job = claimed
                        if jobs.run_job(job) is not None:
                            raise CommandError(f"{name}: the edit failed: {job.error}")
                        totals.append((time.perf_counter() - start) * 1000)
                        start = time.perf_counter()
                        edits.run_edit(job)
                        api.append((time.perf_counter() - start) * 1000)
                    totals, api = sorted(totals[1:]), sorted(api[1:])
                    self.stdout.write(
                        f"{name:<32} {statistics.median(totals):>9.1f} {_p95(totals):>7.1f} "
                        f"{statistics.median(api):>8.1f} {_p95(api):>7.1f} {sent[-1]:>11,}"
                    )
                raise Rollback
        except Rollback:
            pass


def _p95(values: list[float]) -> float:
    return values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
