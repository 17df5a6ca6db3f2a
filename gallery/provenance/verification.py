"""Verifying an uploaded file's Content Credentials, and adding it to the gallery on request.

This is the one place where C2PA reading happens in a web request (DESIGN.md: the explicit
"verify an uploaded file" page). `headline()` says what the reading means in one plain
sentence; the checked image is shown drawn again (media.untrusted), inline. Nothing here
touches the gallery until add_to_gallery() is called; until then the bytes wait in storage
under `verify-pending/` (so any web machine can finish the "Add to gallery" step) and are
removed after PENDING_MAX_AGE, or at once when the session that sent them stops offering them.
"""

from __future__ import annotations

import base64
import logging
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import PurePath

from django.conf import settings
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
# The checked image is shown as a picture drawn again from the upload, this big at most.
PREVIEW_SIDE = 1024
# Direct ingredients offered in the compare slider (a collage may list hundreds).
COMPARED = 12
_AVIF_BRANDS = {b"avif", b"avis"}
_HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}


@dataclass(frozen=True)
class Headline:
    """The one sentence the Verify page leads with, and how it should look."""

    text: str
    tone: str  # "good" | "caution" | "bad" | "neutral"
    # Which trust list the signer is on: "official", "legacy", "none", or "" when unsigned.
    trust: str = ""


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
    # The checked image drawn again (a WebP data: URL), or "" when it cannot be drawn.
    preview: str = ""
    # The signer is missing from the official trust list but on the legacy interim one.
    on_legacy_list: bool = False

    @property
    def headline(self) -> Headline:
        return headline(self.provenance.summary, on_legacy_list=self.on_legacy_list)

    @property
    def compared(self) -> list[dict]:
        """The direct ingredients (an edit's inputs) whose thumbnail can be set beside the
        checked image."""
        if not self.preview:
            return []
        return [
            {**ingredient, "thumbnail_url": self.thumbnails[key]}
            for ingredient in provenance.shown_ingredients(self.provenance.summary)
            if ingredient["depth"] == 1
            and (key := provenance.ingredient_key(ingredient["path"])) in self.thumbnails
        ][:COMPARED]

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
            result.thumbnails[key] = _data_url(picture)
    # The upload is shown the same way, inline: nothing is kept to serve it from.
    preview = untrusted.redraw(
        data, largest_side=PREVIEW_SIDE, max_pixels=settings.STUDIO_UPLOAD_MAX_PIXELS
    )
    result.preview = _data_url(preview) if preview else ""
    if reading.state == provenance.VALID and _signer_untrusted(reading.summary):
        result.on_legacy_list = provenance.on_legacy_list(data, mime=mime)
    return result


def headline(summary: dict, *, on_legacy_list: bool = False) -> Headline:
    """The verdict in plain words: who made the image by its credentials, whether the
    signature holds, and whether the signer is on a trust list (the official C2PA list, or
    the legacy interim one that came before it)."""
    state = summary["state"]
    if state == provenance.NONE:
        return Headline("No Content Credentials", "neutral")
    if state == provenance.TAMPERED:
        return Headline("Changed after signing", "bad")
    if state == provenance.UNREADABLE:
        if (summary.get("error") or "").startswith("Remote:"):
            return Headline("Content Credentials kept online: not checked", "neutral")
        return Headline("Content Credentials present but unreadable", "neutral")
    origin = _origin(summary)
    if state == provenance.INVALID:
        codes = {failure["code"] for failure in summary["failures"]}
        if "signingCredential.expired" in codes:
            problem = "signing certificate expired, so the signature cannot be confirmed"
        elif "signingCredential.revoked" in codes:
            problem = "signing certificate revoked"
        else:
            problem = "signing certificate not valid for Content Credentials"
        # Only say the signer is off the list when the check said so.
        trust = "none" if "signingCredential.untrusted" in codes else ""
        return Headline(f"{origin} · {problem}", "bad", trust)
    if state == provenance.TRUSTED:
        return Headline(
            f"{origin} · signature valid · signer on the C2PA trust list", "good", "official"
        )
    if on_legacy_list:
        return Headline(
            f"{origin} · signature valid · signer on the legacy interim trust list, "
            "not on the official C2PA list",
            "caution",
            "legacy",
        )
    return Headline(
        f"{origin} · signature valid · signer not on the trust list: "
        "we cannot confirm who signed it",
        "caution",
        "none",
    )


def _origin(summary: dict) -> str:
    """ "Made by OpenAI's image model", "Edited with generative AI by Adobe Inc.", or
    "Signed by <organisation>": what the credentials claim, before any verdict on them."""
    signer = summary.get("signer") or {}
    ai = summary.get("ai_source")
    if ai:
        maker = signer.get("organisation")
        if ai["in_ingredient"]:
            # The AI claim sits in an ingredient's manifest (OpenAI's pattern): its signer.
            for ingredient in summary.get("ingredients") or []:
                if ingredient["path"] == ai["path"] and ingredient.get("signer"):
                    maker = ingredient["signer"].get("organisation") or maker
        if ai["digital_source_type"] == "trainedAlgorithmicMedia":
            if not maker:
                return "Made by an AI image model"
            if _plain_name(maker):
                return f"Made by {_possessive(maker)} image model"
            return f"Made by an AI image model, signed by {maker}"
        return f"Edited with generative AI by {maker}" if maker else "Edited with generative AI"
    name = signer.get("organisation") or signer.get("common_name")
    return f"Signed by {name}" if name else "Signed by an unnamed signer"


def _plain_name(name: str) -> bool:
    # "OpenAI", "Amazon Web Services, Inc." read well as "…'s image model"; a certificate
    # name like "Studio development (TEST)" does not.
    return "(" not in name and len(name.split()) <= 5


def _possessive(name: str) -> str:
    name = name.strip().removesuffix(",").strip()
    for suffix in (", Inc.", " Inc.", ", LLC", " LLC", " Ltd.", " Ltd", " GmbH"):
        name = name.removesuffix(suffix)
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def _signer_untrusted(summary: dict) -> bool:
    return any(f["code"] == "signingCredential.untrusted" for f in summary["failures"])


def _data_url(picture: bytes) -> str:
    return "data:image/webp;base64," + base64.b64encode(picture).decode("ascii")


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


def forget(token: str) -> None:
    """Delete a stashed upload nobody will add any more."""
    default_storage.delete(_pending_name(token))


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
