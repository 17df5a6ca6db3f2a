"""Pictures that come from somewhere the studio does not control (the thumbnails a C2PA
manifest carries for its ingredients, the file checked on the Verify page), made safe to
show: decoded by Pillow and drawn again as a new WebP, so neither their bytes nor the type
they claim ever reach a browser."""

import io

import PIL.Image

# Only these decoders run: Pillow's other plugins include formats it hands to outside
# programs (EPS to Ghostscript) or that nobody puts in a manifest.
DECODERS = ("JPEG", "PNG", "WEBP", "GIF")
MAX_PIXELS = 4096 * 4096
LARGEST_SIDE = 512


def redraw(
    data: bytes, *, largest_side: int = LARGEST_SIDE, max_pixels: int = MAX_PIXELS
) -> bytes | None:
    """A WebP of at most `largest_side` pixels a side drawn from `data`, or None when `data`
    is not a picture in DECODERS within `max_pixels` (the size is read before decoding)."""
    try:
        with PIL.Image.open(io.BytesIO(data), formats=DECODERS) as image:
            width, height = image.size
            if not 0 < width * height <= max_pixels:
                return None
            image.draft("RGB", (largest_side, largest_side))  # JPEG: decode at a reduced size
            has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
            picture = image.convert("RGBA" if has_alpha else "RGB")
        picture.thumbnail((largest_side, largest_side), PIL.Image.Resampling.LANCZOS)
        out = io.BytesIO()
        picture.save(out, "WEBP", quality=80, method=2)
        return out.getvalue()
    except Exception:  # any decoder failure on hostile bytes means "no picture here"
        return None
