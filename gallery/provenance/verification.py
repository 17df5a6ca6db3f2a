"""Verifying an uploaded file's Content Credentials, and adding it to the gallery on request.

This is the one place where C2PA reading happens in a web request (DESIGN.md: the explicit
"verify an uploaded file" page). Nothing here touches the gallery until add_to_gallery() is
called; until then the bytes wait in storage under `verify-pending/` (so any web machine can
finish the "Add to gallery" step) and are removed after PENDING_MAX_AGE.
"""

from __future__ import annotations

import base64
import logging
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import PurePath

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from gallery import media, provenance
from gallery.jobs import uploads
from gallery.media import untrusted
from gallery.models import Image

log = logging.getLogger(__name__)

PENDING_DIR = "verify-pending"
PENDING_MAX_AGE = timedelta(hours=1)

# What the Verify page accepts, by content: MIME type -> (name, usual file extensions).
FORMATS = {
    "image/jpeg": ("JPEG", {"jpg", "jpeg", "jpe", "jfif"}),
    "image/png": ("PNG", {"png"}),
    "image/webp": ("WebP", {"webp"}),
    "image/avif": ("AVIF", {"avif"}),
    "image/heic": ("HEIC", {"heic", "heif"}),
    "image/gif": ("GIF", {"gif"}),
    "image/tiff": ("TIFF", {"tif", "tiff"}),
}
ACCEPTED_NAMES = ", ".join(name for name, _ in FORMATS.values())
_AVIF_BRANDS = {b"avif", b"avis"}
_HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}


@dataclass
class Verification:
    """What the Verify page shows about one uploaded file."""

    filename: str
    mime: str
    byte_size: int
    provenance: provenance.Provenance
    # Plain sentences about the file itself (a misleading name, damaged pixels).
    notes: list[str] = field(default_factory=list)
    # Why the file cannot be added to the gallery, or "" when it can.
    not_addable: str = ""
    # Ingredient path ("0.1") -> data: URL of the thumbnail the manifest carries.
    thumbnails: dict[str, str] = field(default_factory=dict)

    @property
    def format_name(self) -> str:
        return FORMATS[self.mime][0]


def sniff(data: bytes) -> str | None:
    """The MIME type of an accepted image format judged by the first bytes, else None."""
    head = bytes(data[:64])
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "image/tiff"
    if head[4:8] == b"ftyp":
        # ISO BMFF: the major brand, then the compatible brands (AVIF files may say mif1 first).
        size = int.from_bytes(head[:4], "big")
        brands = {head[i : i + 4] for i in range(8, min(size, len(head)), 4)}
        if brands & _AVIF_BRANDS:
            return "image/avif"
        if brands & _HEIC_BRANDS:
            return "image/heic"
    return None


def check(data: bytes, *, filename: str, mime: str) -> Verification:
    """Read the Content Credentials of an upload whose format `sniff` recognised."""
    reading = provenance.read(data, mime=mime, thumbnails=True)
    result = Verification(filename=filename, mime=mime, byte_size=len(data), provenance=reading)
    extension = PurePath(filename).suffix.lower().lstrip(".")
    name, extensions = FORMATS[mime]
    if extension and extension not in extensions:
        result.notes.append(
            f"The file is named .{extension}, but its content is a {name} image; the studio "
            "goes by the content."
        )
    if mime in media.EXTENSIONS:
        try:
            media.inspect(data)
        except media.NotAnImage as error:
            result.notes.append(
                f"The picture cannot be decoded: {error} The file may be cut short or damaged."
            )
            result.not_addable = "The picture cannot be decoded, so it cannot be stored."
    else:
        result.not_addable = (
            f"{name} files can be verified here but not added to the gallery, which keeps "
            "PNG, JPEG and WebP."
        )
    for key, (thumbnail, _declared) in reading.thumbnails.items():
        # Drawn again, like the stored images' ingredient thumbnails (media.untrusted): the
        # manifest's bytes and declared type are never shown as they are.
        picture = untrusted.redraw(thumbnail) if key else None
        if picture is not None:
            encoded = base64.b64encode(picture).decode("ascii")
            result.thumbnails[key] = f"data:image/webp;base64,{encoded}"
    return result


def stash(data: bytes) -> str:
    """Keep an upload for a later "Add to gallery"; returns the token that names it."""
    _forget_old()
    token = secrets.token_urlsafe(18)
    default_storage.save(_pending_name(token), ContentFile(data))
    return token


def take(token: str) -> bytes | None:
    """The stashed bytes for `token` (removing them), or None when gone or expired."""
    name = _pending_name(token)
    try:
        if not default_storage.exists(name):
            return None
        with default_storage.open(name, "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    default_storage.delete(name)
    return data


def add_to_gallery(*, owner, data: bytes, visibility: str | None = None) -> Image:
    """Store an upload as an original (byte-for-byte); its thumbnails and Content Credentials
    summary follow from the worker (uploads.finish_upload, which the caller enqueues).
    Without a visibility the owner's preference applies."""
    return uploads.store_unprocessed(owner=owner, data=data, visibility=visibility)


def _pending_name(token: str) -> str:
    # Tokens come from token_urlsafe; anything else never names a file.
    if not token or not all(c.isalnum() or c in "-_" for c in token):
        token = "invalid"
    return f"{PENDING_DIR}/{token}.bin"


def _forget_old() -> None:
    cutoff = timezone.now() - PENDING_MAX_AGE
    try:
        _, names = default_storage.listdir(PENDING_DIR)
    except (FileNotFoundError, NotImplementedError):
        return
    for name in names:
        path = f"{PENDING_DIR}/{name}"
        try:
            if default_storage.get_modified_time(path) < cutoff:
                default_storage.delete(path)
        except (FileNotFoundError, NotImplementedError):
            continue
