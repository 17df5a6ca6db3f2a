"""Image files: originals stored byte-for-byte under their sha256, thumbnails derived from them.

Originals are content-addressed (`originals/ab/<sha256>.png`), so the same bytes are one file
however often they arrive, and a file is never rewritten once it exists. Writes go through
Django's storage API (local disk by default, S3-compatible storage when configured); the
local storage writes to a temporary name and renames, so a crash never leaves half a file
under a real name.
"""

import hashlib
import io
import os
import re
import tempfile
from dataclasses import dataclass

import PIL.Image
import PIL.ImageDraw
import PIL.ImageFont
import PIL.ImageOps
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage

CONTENT_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}
# What the image API may also return (gpt-image-2.6): stored like any output, never accepted
# as an upload.
OUTPUT_CONTENT_TYPES = {**CONTENT_TYPES, "GIF": "image/gif"}
OUTPUT_EXTENSIONS = {**EXTENSIONS, "image/gif": "gif", "image/svg+xml": "svg"}
SVG = "image/svg+xml"
THUMBNAIL_WIDTHS = (512, 256)


class NotAnImage(ValueError):
    """The bytes are not an image the studio accepts; the message says why."""


@dataclass(frozen=True)
class StoredImage:
    name: str
    sha256: str
    content_type: str
    byte_size: int
    width: int
    height: int
    thumbnail: str
    thumbnail_small: str
    thumbnail_width: int
    thumbnail_height: int

    def image_fields(self) -> dict:
        """The Image model's file fields for these stored bytes and their thumbnails."""
        return {
            "file": self.name,
            "sha256": self.sha256,
            "content_type": self.content_type,
            "byte_size": self.byte_size,
            "width": self.width,
            "height": self.height,
            "thumbnail": self.thumbnail,
            "thumbnail_small": self.thumbnail_small,
            "thumbnail_width": self.thumbnail_width,
            "thumbnail_height": self.thumbnail_height,
        }


class AtomicFileSystemStorage(FileSystemStorage):
    """Local storage that writes each file under a temporary name and renames it into
    place, so readers and crash recovery only ever see whole files."""

    def _save(self, name, content):
        path = self.path(name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                for chunk in content.chunks():
                    f.write(chunk)
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        return name


def inspect(data: bytes) -> tuple[str, int, int]:
    """(content type, width, height) of an accepted image, judged by its content, never
    its name. Refuses other formats, truncated files and decompression bombs."""
    content_type, image = _open(data)
    image.close()
    return content_type, image.width, image.height


def _open(data: bytes, formats: dict = CONTENT_TYPES) -> tuple[str, PIL.Image.Image]:
    """The accepted image, decoded (see inspect). The limits are checked on the header,
    before any pixel is decoded: a few kilobytes can declare an image that takes seconds."""
    try:
        image = PIL.Image.open(io.BytesIO(data))
        kind = image.format
        check_dimensions(*image.size)
        if kind not in formats:
            raise NotAnImage(f"{kind or 'This'} images are not supported; use PNG, JPEG or WebP.")
        image.load()
    except NotAnImage:
        raise
    except PIL.Image.DecompressionBombError:
        raise NotAnImage("The image has too many pixels to open safely.") from None
    except Exception:
        raise NotAnImage("The file is not a readable PNG, JPEG or WebP image.") from None
    return formats[kind], image


def check_dimensions(width: int, height: int) -> None:
    """Refuse sizes whose decoding costs far more than their pixels are worth: more than
    STUDIO_UPLOAD_MAX_PIXELS, or a side more than STUDIO_UPLOAD_MAX_ASPECT_RATIO times the
    other (a 1 x 40,000,000 PNG is 76 KB and takes seconds: decoders pay per row)."""
    if width < 1 or height < 1:
        raise NotAnImage("The image has no pixels.")
    if width * height > settings.STUDIO_UPLOAD_MAX_PIXELS:
        raise NotAnImage(
            f"The image is {width}x{height} pixels; the limit is "
            f"{settings.STUDIO_UPLOAD_MAX_PIXELS:,} pixels."
        )
    ratio = settings.STUDIO_UPLOAD_MAX_ASPECT_RATIO
    if max(width, height) > ratio * min(width, height):
        raise NotAnImage(
            f"The image is {width}x{height} pixels; one side may be at most {ratio:g} times "
            "the other."
        )


def store_output(data: bytes) -> StoredImage:
    """Store what the image API returned: PNG, JPEG or WebP like any image, and the newer
    models' GIF (thumbnails from its first frame) and SVG (kept as sent; its thumbnails are
    a labelled tile, since the studio does not render vector files)."""
    if is_svg(data):
        return _store_svg(data)
    return store(data, formats=OUTPUT_CONTENT_TYPES)


def store(data: bytes, *, formats: dict = CONTENT_TYPES) -> StoredImage:
    """Store the original exactly as given, plus WebP thumbnails as separate files.

    The image is decoded once, and each smaller thumbnail is made from the one before:
    a worker stores hundreds of these at a time, so this is its main CPU cost."""
    content_type, image = _open(data, formats)
    sha256 = hashlib.sha256(data).hexdigest()
    _save_once(_original_name(sha256, content_type), data)
    with image:
        return _stored(data, sha256, content_type, *image.size, **_thumbnails(image, sha256))


def store_original(data: bytes) -> StoredImage:
    """Store the original exactly as given, and nothing else: no pixel is decoded, so this
    is cheap whatever the file. Its thumbnails are empty until make_thumbnails() has run (the
    worker's job); the thumbnail size is what they will be. Refuses what inspect() refuses,
    judged by the header (callers that must know the pixels decode, call inspect first)."""
    try:
        with PIL.Image.open(io.BytesIO(data)) as image:
            kind, (width, height) = image.format, image.size
    except Exception:
        raise NotAnImage("The file is not a readable PNG, JPEG or WebP image.") from None
    if kind not in CONTENT_TYPES:
        raise NotAnImage(f"{kind or 'This'} images are not supported; use PNG, JPEG or WebP.")
    check_dimensions(width, height)
    content_type = CONTENT_TYPES[kind]
    sha256 = hashlib.sha256(data).hexdigest()
    _save_once(_original_name(sha256, content_type), data)
    thumb_w, thumb_h = _thumbnail_size(width, height, THUMBNAIL_WIDTHS[0])
    return _stored(
        data,
        sha256,
        content_type,
        width,
        height,
        thumbnail="",
        thumbnail_small="",
        thumbnail_width=thumb_w,
        thumbnail_height=thumb_h,
    )


def make_thumbnails(data: bytes) -> dict:
    """Decode a stored original and write its thumbnails; returns the Image fields for them."""
    _, image = _open(data)
    with image:
        return _thumbnails(image, hashlib.sha256(data).hexdigest())


def _original_name(sha256: str, content_type: str) -> str:
    return f"originals/{sha256[:2]}/{sha256}.{OUTPUT_EXTENSIONS[content_type]}"


def _stored(data, sha256, content_type, width, height, **thumbnails) -> StoredImage:
    return StoredImage(
        name=_original_name(sha256, content_type),
        sha256=sha256,
        content_type=content_type,
        byte_size=len(data),
        width=width,
        height=height,
        **thumbnails,
    )


def _thumbnail_size(width: int, height: int, target: int) -> tuple[int, int]:
    # What Image.thumbnail((target, target * 4)) makes of a width x height image.
    scale = min(1.0, target / width, target * 4 / height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _thumbnails(image: PIL.Image.Image, sha256: str) -> dict:
    thumbs = []
    PIL.ImageOps.exif_transpose(image, in_place=True)
    mode = "RGBA" if _has_alpha(image) else "RGB"
    # Work on the decoded image itself (the original bytes are already stored): every
    # full-size copy costs as much as the resizing.
    thumb = image if image.mode == mode else image.convert(mode)
    for target in THUMBNAIL_WIDTHS:
        # reducing_gap=1.0 lets Pillow shrink by whole factors with a box filter first
        # (several times faster than LANCZOS over the full image, and as sharp).
        thumb.thumbnail((target, target * 4), PIL.Image.Resampling.LANCZOS, reducing_gap=1.0)
        out = io.BytesIO()
        thumb.save(out, "WEBP", quality=72, method=2)
        thumb_name = f"thumbnails/{sha256[:2]}/{sha256}-{target}.webp"
        _save_once(thumb_name, out.getvalue())
        thumbs.append((thumb_name, thumb.size))
        thumb = thumb.copy()
    (large, (thumb_w, thumb_h)), (small, _) = thumbs
    return {
        "thumbnail": large,
        "thumbnail_small": small,
        "thumbnail_width": thumb_w,
        "thumbnail_height": thumb_h,
    }


def is_svg(data: bytes) -> bool:
    head = data[:1024].lstrip().lower()
    return head.startswith((b"<svg", b"<?xml")) and b"<svg" in data[:4096].lower()


_SVG_ROOT = re.compile(rb"<svg\b[^>]*>", re.IGNORECASE | re.DOTALL)
_SVG_NUMBER = r'\s*=\s*["\']\s*([0-9.]+)\s*(?:px)?\s*["\']'


def _store_svg(data: bytes) -> StoredImage:
    if len(data) > settings.STUDIO_UPLOAD_MAX_BYTES:
        raise NotAnImage("The SVG file is larger than the upload limit.")
    root = _SVG_ROOT.search(data[:65536])
    if root is None:
        raise NotAnImage("The file is not an SVG image.")
    tag = root.group(0).decode("utf-8", errors="replace")
    width, height = _svg_size(tag)
    sha256 = hashlib.sha256(data).hexdigest()
    name = f"originals/{sha256[:2]}/{sha256}.svg"
    _save_once(name, data)
    thumbs = []
    for target in THUMBNAIL_WIDTHS:
        scale = min(1.0, target / width)
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        tile = PIL.Image.new("RGB", size, (238, 240, 244))
        draw = PIL.ImageDraw.Draw(tile)
        draw.rectangle((0, 0, size[0] - 1, size[1] - 1), outline=(150, 156, 168), width=2)
        font = PIL.ImageFont.load_default(size=max(12, min(size) // 6))
        draw.text((size[0] / 2, size[1] / 2), "SVG", font=font, anchor="mm", fill=(60, 64, 72))
        out = io.BytesIO()
        tile.save(out, "WEBP", quality=72, method=2)
        thumb_name = f"thumbnails/{sha256[:2]}/{sha256}-{target}.webp"
        _save_once(thumb_name, out.getvalue())
        thumbs.append((thumb_name, size))
    (large, (thumb_w, thumb_h)), (small, _) = thumbs
    return StoredImage(
        name=name,
        sha256=sha256,
        content_type=SVG,
        byte_size=len(data),
        width=width,
        height=height,
        thumbnail=large,
        thumbnail_small=small,
        thumbnail_width=thumb_w,
        thumbnail_height=thumb_h,
    )


def _svg_size(tag: str) -> tuple[int, int]:
    """The SVG's size in pixels from its width/height attributes, else its viewBox."""
    found = {}
    for attribute in ("width", "height"):
        match = re.search(rf"\b{attribute}{_SVG_NUMBER}", tag)
        if match:
            found[attribute] = float(match[1])
    if len(found) < 2:
        box = re.search(r'viewBox\s*=\s*["\']([^"\']+)["\']', tag)
        numbers = box[1].replace(",", " ").split() if box else []
        if len(numbers) == 4:
            found = {"width": float(numbers[2]), "height": float(numbers[3])}
    width, height = round(found.get("width", 1024)), round(found.get("height", 1024))
    if not (0 < width <= 100_000 and 0 < height <= 100_000):
        raise NotAnImage("The SVG image has no usable size.")
    return width, height


def _has_alpha(image: PIL.Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info


def store_derived(data: bytes, *, folder: str, extension: str) -> str:
    """Store a derived file (a mask, say) content-addressed under `folder`; returns its name."""
    sha256 = hashlib.sha256(data).hexdigest()
    name = f"{folder}/{sha256[:2]}/{sha256}.{extension}"
    _save_once(name, data)
    return name


def store_derived_as(name: str, data: bytes) -> str:
    """Store a derived file under a name the caller derives from its source (an index kept
    beside the original it describes, say); an existing file of that name is kept."""
    _save_once(name, data)
    return name


def _save_once(name: str, data: bytes) -> None:
    if not default_storage.exists(name):
        default_storage.save(name, ContentFile(data))


def read(name: str) -> bytes:
    with default_storage.open(name, "rb") as f:
        return f.read()


def open_file(name: str):
    """A binary file handle for streaming a stored file to a client."""
    if not default_storage.exists(name):
        raise FileNotFoundError(name)
    return default_storage.open(name, "rb")


def delete_file(name: str) -> None:
    """Remove a stored file (an original or a derived one) for good, from whichever storage
    is configured; a file already gone is fine. Callers check no other image still uses it:
    originals and thumbnails are content-addressed and may be shared."""
    default_storage.delete(name)


def store_partial(job_id: int, name: str, data: bytes) -> str:
    """Keep one streamed preview of a job under partials/<job_id>/, a derived file that
    delete_partials() removes when the job finishes. Checked to be an image like any other."""
    content_type, _, _ = inspect(data)
    path = f"partials/{job_id}/{name}.{EXTENSIONS[content_type]}"
    default_storage.delete(path)
    return default_storage.save(path, ContentFile(data))


def delete_partial(name: str) -> None:
    default_storage.delete(name)


def delete_partials(job_id: int) -> None:
    folder = f"partials/{job_id}"
    try:
        _, files = default_storage.listdir(folder)
    except FileNotFoundError:
        return
    for name in files:
        default_storage.delete(f"{folder}/{name}")
