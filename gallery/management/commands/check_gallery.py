import hashlib
from datetime import timedelta

from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from gallery import media
from gallery.models import Image

FOLDERS = ("originals", "thumbnails")
# A worker writes an image's files before the transaction that adds its row commits; files
# younger than this may belong to a job that is being stored right now.
ORPHAN_GRACE = timedelta(hours=1)


class Command(BaseCommand):
    help = (
        "Check that the gallery's files and rows agree: orphan files (no row refers to them), "
        "rows whose files are missing, and originals whose sha256 does not match their row. "
        "With --repair: delete orphan files older than an hour and leftover temporary files, "
        "and rebuild missing thumbnails from their original. Originals are never rewritten "
        "and rows never deleted; those problems are reported for a person to decide. "
        "Exits 1 while problems remain."
    )

    def add_arguments(self, parser):
        parser.add_argument("--repair", action="store_true", help="fix what can be fixed")
        parser.add_argument(
            "--skip-sha256", action="store_true", help="do not read every original to hash it"
        )

    def handle(self, *args, repair=False, skip_sha256=False, **options):
        referenced: set[str] = set()
        missing, mismatched, rebuilt, checked = [], [], 0, 0
        rows = Image.objects.only("pk", "file", "sha256", "thumbnail", "thumbnail_small")
        for image in rows.iterator(chunk_size=2000):
            checked += 1
            names = [image.file.name, image.thumbnail.name, image.thumbnail_small.name]
            referenced.update(names)
            if not default_storage.exists(image.file.name):
                missing.append((image.pk, image.file.name))
                continue
            if not skip_sha256:
                digest = hashlib.sha256(media.read(image.file.name)).hexdigest()
                if digest != image.sha256:
                    mismatched.append((image.pk, image.file.name, digest))
                    continue
            lost_thumbs = [name for name in names[1:] if not default_storage.exists(name)]
            if lost_thumbs and repair:
                media.store(media.read(image.file.name))  # recreates the derived files only
                rebuilt += 1
            elif lost_thumbs:
                missing.extend((image.pk, name) for name in lost_thumbs)

        orphans, recent, temporary = [], [], []
        cutoff = timezone.now() - ORPHAN_GRACE
        for name in _files(FOLDERS):
            base = name.rsplit("/", 1)[-1]
            if base.startswith(".tmp-"):
                temporary.append(name)
            elif name not in referenced:
                (orphans if default_storage.get_modified_time(name) < cutoff else recent).append(
                    name
                )

        for pk, name in missing:
            self.stdout.write(f"row without file: image {pk} -> {name}")
        for pk, name, digest in mismatched:
            self.stdout.write(f"sha256 mismatch: image {pk} {name} now hashes to {digest}")
        for name in orphans:
            self.stdout.write(f"orphan file: {name}")
        for name in temporary:
            self.stdout.write(f"temporary file left by a crash: {name}")
        for name in recent:
            self.stdout.write(f"unreferenced but recent (a job may be storing it): {name}")

        if repair:
            for name in orphans + temporary:
                default_storage.delete(name)
            if orphans or temporary or rebuilt:
                self.stdout.write(
                    f"repaired: deleted {len(orphans)} orphan and {len(temporary)} temporary "
                    f"files, rebuilt thumbnails of {rebuilt} images"
                )
            orphans, temporary = [], []

        problems = len(missing) + len(mismatched) + len(orphans) + len(temporary)
        self.stdout.write(
            f"checked {checked} images: "
            f"{len(missing)} missing files, {len(mismatched)} sha256 mismatches, "
            f"{len(orphans)} orphan files, {len(temporary)} temporary files"
        )
        if problems:
            found = f"{problems} problem{'s' if problems != 1 else ''} found"
            raise CommandError(found + ("" if repair else "; see --repair"))


def _files(folders):
    """Every file name under the given storage folders, recursively."""
    stack = list(folders)
    while stack:
        folder = stack.pop()
        try:
            # Not exists(folder) first: on S3 a folder is only a prefix, never an object.
            subfolders, files = default_storage.listdir(folder)
        except FileNotFoundError:
            continue
        stack.extend(f"{folder}/{sub}" for sub in subfolders)
        yield from (f"{folder}/{name}" for name in files)
