"""Time one upload request on the edit page (POST /edit/upload) for cheap-to-send, costly-to-
decode files, and for an ordinary large photo (issue 14, item 6).

    STUDIO_DEV_TOOLS=true python manage.py bench_uploads

Files: a 1 x 40,000,000 px grey PNG (about 76 KB: every row compresses to almost nothing,
yet decoding walks 40 million rows), the same turned on its side, the thinnest and largest
grey PNG the default limits accept (40 million pixels at 20:1), and a 4096 x 4096 photo-like
PNG. Printed per file: its size, the HTTP status, the request's wall time and what the page
said. Runs inside a transaction that is rolled back, with media in a temporary folder and
its own cache, so nothing of the studio's is touched; the worker's part is not timed here.
"""

import io
import struct
import tempfile
import time
import zlib

import PIL.Image
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.test import Client, override_settings


class Rollback(Exception):
    pass


def grey_png(width: int, height: int) -> bytes:
    """A valid greyscale PNG written row by row without Pillow (which would need the pixels
    in memory): each row is a filter byte and mid-grey pixels."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    compressor = zlib.compressobj(9)
    row = b"\x00" + b"\x80" * width
    rows_per_block = max(1, 1_000_000 // len(row))
    parts, remaining = [], height
    while remaining:
        count = min(rows_per_block, remaining)
        parts.append(compressor.compress(row * count))
        remaining -= count
    parts.append(compressor.flush())
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", b"".join(parts))
        + chunk(b"IEND", b"")
    )


def photo_png(side: int) -> bytes:
    grain = PIL.Image.effect_noise((side, side), 32).convert("L")
    gradient = PIL.Image.linear_gradient("L").resize((side, side))
    out = io.BytesIO()
    PIL.Image.merge("RGB", (gradient, grain, gradient.rotate(90))).save(out, "PNG")
    return out.getvalue()


class Command(BaseCommand):
    help = "Print the time of one edit-page upload request per costly file."

    def handle(self, *args, **options):
        files = [
            ("tall 1x40000000 PNG", "tall.png", grey_png(1, 40_000_000)),
            ("wide 40000000x1 PNG", "wide.png", grey_png(40_000_000, 1)),
            ("thin 1415x28268 PNG", "thin.png", grey_png(1415, 28_268)),  # the most allowed
            ("photo 4096x4096 PNG", "photo.png", photo_png(4096)),
        ]
        cache = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
        with (
            tempfile.TemporaryDirectory() as media,
            override_settings(MEDIA_ROOT=media, CACHES=cache, STUDIO_UPLOADS_PER_MINUTE=0),
        ):
            try:
                with transaction.atomic():
                    self._run(files)
                    raise Rollback
            except Rollback:
                pass

    def _run(self, files) -> None:
        person = get_user_model().objects.create_user("bench-uploads")
        client = Client()
        client.force_login(person)
        for label, name, data in files:
            upload = io.BytesIO(data)
            upload.name = name
            started = time.perf_counter()
            response = client.post("/edit/upload", {"file": upload})
            elapsed = time.perf_counter() - started
            said = response.json().get("error") or "stored"
            self.stdout.write(
                f"{label:<22} {len(data) / 1024:>8.0f} KiB  HTTP {response.status_code}  "
                f"{elapsed:6.2f} s  {said}"
            )
