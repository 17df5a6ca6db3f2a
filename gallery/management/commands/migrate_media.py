import hashlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.management.base import BaseCommand, CommandError

from gallery.models import Image

# Previews of running jobs are deleted when the job ends, and temporary files are crash debris.
SKIPPED_FOLDERS = ("partials",)


class Command(BaseCommand):
    help = (
        "Copy the local media folder to the S3 bucket the studio is configured for "
        "(STUDIO_MEDIA_STORAGE=s3) and verify the sha256 of every file read back from the "
        "bucket, and of every image's original against its row. Files already in the bucket "
        "are verified, never overwritten. Safe to run again; exits 1 while problems remain."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--from",
            dest="source",
            default=None,
            help="the local media folder (default: STUDIO_MEDIA_ROOT)",
        )
        parser.add_argument("--jobs", type=int, default=16, help="files copied at a time")

    def handle(self, *args, source=None, jobs=16, **options):
        if settings.STUDIO_MEDIA_STORAGE != "s3":
            raise CommandError("Set STUDIO_MEDIA_STORAGE=s3 and the STUDIO_S3_* variables first.")
        folder = Path(source or settings.MEDIA_ROOT)
        if not folder.is_dir():
            raise CommandError(f"No media folder at {folder}.")
        local = FileSystemStorage(location=folder)
        names = list(_files(folder))
        self.stdout.write(f"{len(names)} files under {folder}")

        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            results = list(pool.map(lambda name: _copy(local, name), names))
        digests = {name: digest for name, _, digest, _ in results if digest}
        problems = [problem for _, _, _, problem in results if problem]
        copied = sum(1 for _, outcome, _, _ in results if outcome == "copied")
        present = sum(1 for _, outcome, _, _ in results if outcome == "present")
        copied_bytes = sum(
            (folder / name).stat().st_size for name, outcome, _, _ in results if outcome == "copied"
        )

        rows = 0
        for image in Image.objects.only("pk", "file", "sha256").iterator(chunk_size=2000):
            rows += 1
            digest = digests.get(image.file.name)
            if digest is None:
                problems.append(f"image {image.pk}: original {image.file.name} was not copied")
            elif digest != image.sha256:
                problems.append(
                    f"image {image.pk}: original {image.file.name} hashes to {digest}, "
                    f"its row says {image.sha256}"
                )

        for problem in problems:
            self.stdout.write(problem)
        self.stdout.write(
            f"copied {copied} files ({copied_bytes / 1e6:.1f} MB), {present} already in the "
            f"bucket; sha256 verified for {len(digests)} files read back from the bucket and "
            f"{rows} image originals against their rows; {len(problems)} problems"
        )
        if problems:
            raise CommandError(f"{len(problems)} problem{'s' if len(problems) != 1 else ''}")


def _files(folder: Path):
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        skipped = path.name.startswith(".tmp-") or name.split("/", 1)[0] in SKIPPED_FOLDERS
        if path.is_file() and not skipped:
            yield name


def _sha256_remote(name: str) -> str:
    digest = hashlib.sha256()
    with default_storage.open(name, "rb") as handle:
        for chunk in handle.chunks():
            digest.update(chunk)
    return digest.hexdigest()


def _copy(local: FileSystemStorage, name: str) -> tuple[str, str, str | None, str | None]:
    """(name, "copied" or "present", sha256 read back from the bucket or None, problem)."""
    with local.open(name, "rb") as handle:
        data = handle.read()
    expected = hashlib.sha256(data).hexdigest()
    outcome = "present" if default_storage.exists(name) else "copied"
    if outcome == "copied":
        default_storage.save(name, ContentFile(data))
    actual = _sha256_remote(name)
    if actual != expected:
        # Never overwritten: a person decides which copy is right.
        return (
            name,
            outcome,
            None,
            f"{name}: the bucket's copy hashes to {actual}, local {expected}",
        )
    return name, outcome, actual, None
