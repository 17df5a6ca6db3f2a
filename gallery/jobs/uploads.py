"""Uploaded images: checked by their content, stored byte-for-byte as gallery Images.

A file is judged by what it is, never by its name: Pillow must recognise it as PNG, JPEG or
WebP (the formats the image API takes), decode it completely (a truncated file is refused) and
stay under the byte and pixel limits. The stored original is exactly what was uploaded; where
a photo carries an EXIF orientation, the API is sent an upright copy (`for_api`) so that the
picture the model sees, the one the browser shows and the mask painted over it all agree.
"""

import hashlib
import io
import logging
from dataclasses import dataclass
from datetime import timedelta

import PIL.Image
import PIL.ImageOps
from django.conf import settings
from django.utils import timezone

from gallery import media, provenance
from gallery.jobs import engine
from gallery.jobs.refused import Refused
from gallery.models import Image, Profile

log = logging.getLogger(__name__)

# EXIF orientations that rotate by 90 or 270 degrees, so width and height swap.
_SWAPPED = {5, 6, 7, 8}
_ORIENTATION_TAG = 0x0112
_DECLARED = {"image/png": "PNG", "image/jpeg": "JPEG", "image/jpg": "JPEG", "image/webp": "WebP"}


class UploadRefused(Refused, ValueError):
    """The file cannot be used; the message says why and what to do."""


@dataclass(frozen=True)
class CheckedUpload:
    name: str
    data: bytes
    content_type: str
    # The size as shown upright (EXIF orientation applied): what the mask must match.
    width: int
    height: int


def check(data: bytes, *, name: str = "", declared_type: str = "") -> CheckedUpload:
    """Accept a PNG, JPEG or WebP file within the limits, or raise UploadRefused."""
    label = f"{name}: " if name else ""
    limit = settings.STUDIO_UPLOAD_MAX_BYTES
    if len(data) > limit:
        raise UploadRefused(
            f"{label}the file is {len(data) / 1e6:.1f} MB; the limit is {limit / 1e6:.0f} MB."
        )
    if not data:
        raise UploadRefused(f"{label}the file is empty.")
    unsupported = _unsupported_format(data)
    if unsupported:
        raise UploadRefused(
            f"{label}{unsupported} images are not supported; use PNG, JPEG or WebP."
        )
    try:
        content_type, _, _ = media.inspect(data)
        with PIL.Image.open(io.BytesIO(data)) as image:
            image.verify()
    except media.NotAnImage as error:
        raise UploadRefused(f"{label}{error}") from None
    except Exception:
        raise UploadRefused(f"{label}the file is damaged or truncated.") from None
    declared = _DECLARED.get(declared_type.lower())
    actual = _DECLARED[content_type]
    if declared and declared != actual:
        raise UploadRefused(
            f"{label}the file says it is {declared} but its content is {actual}; "
            "save it again in its real format."
        )
    width, height = oriented_size(data)
    return CheckedUpload(name, data, content_type, width, height)


def _unsupported_format(data: bytes) -> str | None:
    """Name formats people try often, so the message says what they sent."""
    head = data[:512].lstrip()
    if head.startswith(b"<") and (b"<svg" in data[:4096].lower() or head.startswith(b"<?xml")):
        return "SVG"
    if data[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftypmsf1", b"ftyphevc"):
        return "HEIC"
    if data[4:12] in (b"ftypavif", b"ftypavis"):
        return "AVIF"
    return None


def _orientation(image: PIL.Image.Image) -> int:
    try:
        return int(image.getexif().get(_ORIENTATION_TAG) or 1)
    except Exception:  # a damaged EXIF block only loses the orientation
        return 1


def oriented_size(data: bytes) -> tuple[int, int]:
    with PIL.Image.open(io.BytesIO(data)) as image:
        width, height = image.size
        if _orientation(image) in _SWAPPED:
            return height, width
        return width, height


def for_api(data: bytes, content_type: str) -> tuple[bytes, str]:
    """The bytes to send to the API for a stored original: the original itself, or, when it
    carries an EXIF rotation, an upright lossless PNG copy (the original stays untouched)."""
    with PIL.Image.open(io.BytesIO(data)) as image:
        if _orientation(image) == 1:
            return data, content_type
        upright = PIL.ImageOps.exif_transpose(image)
        out = io.BytesIO()
        upright.save(out, "PNG", compress_level=3)
        return out.getvalue(), "image/png"


def store_upload(
    *, owner, upload: CheckedUpload, visibility: str | None = None, pending: bool = False
) -> Image:
    """An upload as a gallery Image (source UPLOAD): the original bytes stored exactly, shared
    or private as asked, else as the owner's default. Its thumbnails and Content Credentials
    come later, from the worker (finish_upload; the caller enqueues it): until then the
    image is "processing". The same file uploaded twice by one person is one Image.
    `pending`: picked on the edit page, not yet submitted (see gallery/jobs/pending_uploads.py)."""
    sha256 = hashlib.sha256(upload.data).hexdigest()
    existing = _existing(owner, sha256)
    if existing is not None:
        return existing
    return store_unprocessed(owner=owner, data=upload.data, visibility=visibility, pending=pending)


def store_unprocessed(
    *, owner, data: bytes, visibility: str | None = None, pending: bool = False
) -> Image:
    """Store the bytes of an upload byte-for-byte and its row, with no decoding and no C2PA
    read: what a web request may afford whatever the file. Provenance "pending" marks it
    as processing until finish_upload() has run."""
    stored = media.store_original(data)
    return Image.objects.create(
        owner=owner,
        source=Image.Source.UPLOAD,
        **stored.image_fields(),
        prompt="",
        visibility=visibility or Profile.default_visibility_for(owner),
        provenance_state=Image.Provenance.PENDING,
        pending_since=timezone.now() if pending else None,
    )


def finish_upload(image_id: int) -> bool:
    """The derived work of an upload, in the worker: thumbnails and the Content Credentials
    summary. Idempotent (a second run, or a run for a finished image, changes nothing);
    returns whether it did the work. Like a job's API call, the slow part holds no database
    connection."""
    with engine.db_slot():
        pending = Image.objects.filter(pk=image_id, provenance_state=Image.Provenance.PENDING)
        found = pending.values_list("file", "content_type").first()
    if found is None:
        return False
    name, content_type = found
    try:
        data = media.read(name)
    except FileNotFoundError:
        data = b""  # read() calls that unreadable; check_gallery reports the missing file
    try:
        thumbnails = media.make_thumbnails(data)
    except media.NotAnImage as error:
        # Checked before it was stored, so only a changed limit or a damaged file gets here.
        log.warning("upload %s: no thumbnails: %s", image_id, error)
        thumbnails = {}
    reading = provenance.read(data, mime=content_type)
    with engine.db_slot():
        pending.update(
            **thumbnails,
            provenance_state=reading.state,
            ai_generated=reading.ai_generated,
            provenance=reading.summary,
            manifest_json=reading.manifest_json or "",
        )
    return True


def unfinished_inputs(job) -> list[int]:
    """The job's input images still waiting for finish_upload (uploaded with the form)."""
    return list(
        Image.objects.filter(
            used_as_input__job=job, provenance_state=Image.Provenance.PENDING
        ).values_list("pk", flat=True)
    )


def unfinished(*, older_than: timedelta) -> list[int]:
    """Uploads still processing after `older_than`: their message to the worker may have been
    lost (the worker's doorbell sends them again)."""
    cutoff = timezone.now() - older_than
    return list(
        Image.objects.filter(
            provenance_state=Image.Provenance.PENDING,
            source=Image.Source.UPLOAD,
            created_at__lt=cutoff,
        ).values_list("pk", flat=True)[:1000]
    )


def _existing(owner, sha256: str) -> Image | None:
    # Not one in the trash: the same file uploaded again is a new image, sharing its file.
    return Image.objects.filter(
        owner=owner, sha256=sha256, source=Image.Source.UPLOAD, trashed_at__isnull=True
    ).first()
