"""Time the Verify page's C2PA work and an image page's ingredient thumbnails on a file whose
manifest lists many ingredients (issue 14, item 5).

    STUDIO_DEV_TOOLS=true python manage.py bench_verify              300 ingredients
    STUDIO_DEV_TOOLS=true python manage.py bench_verify --ingredients 100

The file is an edit signed with the shared test credential
(../shared/fixtures/c2pa-signing/c2pa-test-credentials, ES256, no timestamp): a parent and
N - 1 components, each carrying its thumbnail. Signing takes a while, so the file is kept in
var/bench/ and reused. Printed: the manifest's size, verification.check() (what a Verify POST
does), and one provenance.ingredient_thumbnail() per listed ingredient (the image page's
thumbnail requests), first visit and again. Media and the cache
are temporary, so nothing of the studio's is touched.
"""

import io
import tempfile
import time
from pathlib import Path

import PIL.Image
from django.conf import settings
from django.core.cache import cache
from django.core.management.base import BaseCommand, CommandError
from django.test import override_settings

from gallery import provenance
from gallery.provenance import manifests, verification

CREDENTIALS = (
    Path(settings.BASE_DIR).parent
    / "shared"
    / "fixtures"
    / "c2pa-signing"
    / "c2pa-test-credentials"
)


def _png(number: int, size: int) -> bytes:
    out = io.BytesIO()
    colour = ((number * 37) % 256, (number * 91) % 256, (number * 13) % 256)
    PIL.Image.new("RGB", (size, size), colour).save(out, "PNG")
    return out.getvalue()


def many_ingredients(count: int) -> bytes:
    with override_settings(
        C2PA_SIGN_CERT_FILE=str(CREDENTIALS / "es256_certs.pem"),
        C2PA_SIGN_KEY_FILE=str(CREDENTIALS / "es256_private.key"),
        C2PA_SIGN_ALG="es256",
        C2PA_TSA_URL=None,
    ):
        return manifests.sign_edit(
            _png(0, 256),
            mime="image/png",
            parent=_png(1, 256),
            parent_mime="image/png",
            title="collage.png",
            description=f"a collage of {count} pictures",
            components=tuple((_png(n, 64), "image/png") for n in range(2, count + 1)),
        )


class Command(BaseCommand):
    help = "Print Verify and ingredient-thumbnail times for a many-ingredient manifest."

    def add_arguments(self, parser):
        parser.add_argument("--ingredients", type=int, default=300)

    def handle(self, *args, ingredients, **options):
        if ingredients < 1:
            raise CommandError("--ingredients must be at least 1")
        if not CREDENTIALS.is_dir():
            raise CommandError(f"The shared test credentials are not at {CREDENTIALS}")
        path = Path(settings.STUDIO_VAR_DIR) / "bench" / f"verify-{ingredients}-ingredients.png"
        if not path.exists():
            started = time.perf_counter()
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(many_ingredients(ingredients))
            self.stdout.write(f"signed {path} in {time.perf_counter() - started:.1f} s")
        data = path.read_bytes()
        reading = provenance.read(data, mime="image/png")
        listed = reading.summary["ingredients"]
        manifest_kib = len(reading.manifest_json or "") / 1024
        self.stdout.write(
            f"file {len(data) / 1024:.0f} KiB, manifest JSON {manifest_kib:.0f} KiB, "
            f"{len(listed)} ingredients, state {reading.state}"
        )
        with (
            tempfile.TemporaryDirectory() as media,
            override_settings(
                MEDIA_ROOT=media,
                CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
            ),
        ):
            cache.clear()
            started = time.perf_counter()
            result = verification.check(data, filename=path.name, mime="image/png")
            self.stdout.write(
                f"Verify (verification.check): {time.perf_counter() - started:.2f} s, "
                f"{len(result.thumbnails)} thumbnails inline"
            )
            # Every listed ingredient, as an image page listing them all would ask (pages now
            # list INGREDIENTS_SHOWN; the rest answer "no thumbnail" from the index).
            for visit in ("first", "second"):
                timings, found = [], 0
                for ingredient in listed:
                    started = time.perf_counter()
                    path = ingredient["path"]
                    found += (
                        provenance.ingredient_thumbnail(data, path, mime="image/png") is not None
                    )
                    timings.append(time.perf_counter() - started)
                self.stdout.write(
                    f"image page, {visit} visit: {len(listed)} thumbnail requests ({found} found) "
                    f"in {sum(timings):.2f} s, slowest {max(timings):.2f} s"
                )
