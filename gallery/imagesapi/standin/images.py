"""Placeholder pictures: real, decodable images that are obviously not art.

A generation is a two-colour gradient with a few soft discs, all derived from a hash of the
prompt and the image's index, with the prompt written across it and a small STAND-IN label.
An edit is the first input image, resized to the output size, with such a backdrop blended in
only where the mask is transparent (everywhere without a mask), the prompt written in that area
and thumbnails of any further inputs; with a transparent background the edited area becomes a
cut-out. Outside the editable area a png keeps the input's pixels exactly.
"""

import colorsys
import hashlib
import io
import textwrap
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

# PNG level 2 keeps a 1024x1024 encode under 20 ms; the files are larger, which no one minds.
PNG_COMPRESS_LEVEL = 2
# WebP method 0 is the fastest encoder setting.
WEBP_METHOD = 0


@lru_cache(maxsize=16)
def generation(
    prompt: str, index: int, width: int, height: int, transparent: bool, label: str
) -> Image.Image:
    """The picture for one generated image (RGB, or RGBA when transparent). Cached: callers
    must not modify it."""
    image = _backdrop(prompt, index, width, height)
    draw = ImageDraw.Draw(image, "RGBA")  # "RGBA" blends translucent fills
    _draw_text(draw, (0, 0, width, height), prompt, index, label)
    if transparent:
        image.putalpha(_subject((0, 0, width, height), (width, height)))
    return image


@lru_cache(maxsize=32)
def generation_bytes(
    prompt: str,
    index: int,
    width: int,
    height: int,
    transparent: bool,
    label: str,
    output_format: str,
    compression: int,
) -> bytes:
    """A generated image, encoded; cached because benchmarks repeat the same prompts."""
    picture = generation(prompt, index, width, height, transparent, label)
    return encode(picture, output_format, compression)


def edit(
    first: Image.Image,
    others: list[Image.Image],
    mask: Image.Image | None,
    prompt: str,
    index: int,
    width: int,
    height: int,
    transparent: bool,
    label: str,
) -> Image.Image:
    """The first input resized to the output size, changed only where the mask is transparent
    (RGB, or RGBA when transparent: then the edited area is a cut-out subject)."""
    base = first.convert("RGBA").resize((width, height))
    if mask is None:
        editable = Image.new("L", (width, height), 255)
    else:
        alpha = mask.convert("RGBA").getchannel("A")
        alpha = alpha.resize((width, height), Image.Resampling.NEAREST)
        editable = alpha.point(lambda a: 255 if a == 0 else 0)
    area = editable.getbbox()
    if area is None:  # a fully opaque mask leaves nothing to edit
        return base if transparent else base.convert("RGB")

    changed = Image.blend(base, _backdrop(prompt, index, width, height).convert("RGBA"), 0.55)
    _draw_text(ImageDraw.Draw(changed, "RGBA"), area, prompt, index, label)
    if others:
        _paste_thumbnails(changed, others, area)
    if transparent:
        changed.putalpha(_subject(area, (width, height)))
    result = Image.composite(changed, base, editable)
    return result if transparent else result.convert("RGB")


def partial(final: Image.Image, stage: int, stages: int) -> Image.Image:
    """A preview for streaming: the final picture at reduced detail, sharper at later stages."""
    factor = 2 ** (stages - stage + 2)  # e.g. of 3 stages: 1/32, 1/16, 1/8 resolution
    small = final.resize((max(1, final.width // factor), max(1, final.height // factor)))
    return small.resize(final.size, Image.Resampling.BILINEAR)


def encode(image: Image.Image, output_format: str, compression: int) -> bytes:
    """Bytes in the requested format; `compression` (0-100) is the quality for jpeg and webp."""
    out = io.BytesIO()
    if output_format == "jpeg" and image.mode != "RGB":
        image = image.convert("RGB")
    if output_format == "png":
        image.save(out, "PNG", compress_level=PNG_COMPRESS_LEVEL)
    elif output_format == "jpeg":
        image.save(out, "JPEG", quality=compression)
    else:
        image.save(out, "WEBP", quality=compression, method=WEBP_METHOD)
    return out.getvalue()


def _backdrop(prompt: str, index: int, width: int, height: int) -> Image.Image:
    """Gradient and discs, from a hash of the prompt and the image's index."""
    digest = hashlib.sha256(f"{prompt}\0{index}".encode()).digest()
    image = _gradient(digest).resize((width, height), Image.Resampling.BILINEAR)
    _draw_discs(ImageDraw.Draw(image, "RGBA"), image.size, digest)
    return image


def _subject(box: tuple[int, int, int, int], size: tuple[int, int]) -> Image.Image:
    """An alpha channel: a rounded "subject" inset in `box`, fully transparent around it."""
    left, top, right, bottom = box
    inset = max(1, min(right - left, bottom - top) // 14)
    alpha = Image.new("L", size, 0)
    ImageDraw.Draw(alpha).rounded_rectangle(
        (left + inset, top + inset, right - inset, bottom - inset), radius=inset * 2, fill=255
    )
    return alpha


def _gradient(digest: bytes) -> Image.Image:
    """A small two-colour gradient whose direction (vertical through diagonal to horizontal,
    either way round) and colours come from the digest; resizing it up is cheap."""
    ramp = Image.linear_gradient("L")
    ramp = Image.blend(ramp, ramp.transpose(Image.Transpose.ROTATE_90), digest[2] / 255)
    if digest[3] % 2:
        ramp = ramp.transpose(Image.Transpose.ROTATE_180)
    first, second = _colours(digest)
    channels = [
        ramp.point([round(a + (b - a) * v / 255) for v in range(256)])
        for a, b in zip(first, second, strict=True)
    ]
    return Image.merge("RGB", channels)


def _colours(digest: bytes) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Two saturated colours a third of the colour wheel apart, so the gradient is visible."""
    hue = digest[0] / 256
    colours = []
    for offset in (0.0, 0.33 + digest[1] / 1024):
        r, g, b = colorsys.hsv_to_rgb((hue + offset) % 1.0, 0.65, 0.85)
        colours.append((round(r * 255), round(g * 255), round(b * 255)))
    return colours[0], colours[1]


def _draw_discs(draw: ImageDraw.ImageDraw, size: tuple[int, int], digest: bytes) -> None:
    width, height = size
    for i in range(4):
        x = digest[4 + i] * width // 256
        y = digest[8 + i] * height // 256
        r = (32 + digest[12 + i] % 64) * min(width, height) // 256
        shade = 255 if digest[16 + i] % 2 else 0
        draw.ellipse((x - r, y - r, x + r, y + r), fill=(shade, shade, shade, 56))


@lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _draw_text(
    draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], prompt: str, index: int, label: str
) -> None:
    """The prompt, wrapped and centred in `box`, and the STAND-IN label in its corner."""
    left, top, right, bottom = box
    width, height = right - left, bottom - top
    em = max(14, min(width, height) // 22)
    font = _font(em)
    # The default font's glyphs average a little over half the font size in width.
    columns = max(8, int(width * 0.84 / (em * 0.55)))
    max_lines = max(1, int(height * 0.6 / (em * 1.25)))
    lines = textwrap.wrap(" ".join(prompt.split()), columns) or [""]
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: columns - 1] + "…"
    first_line = top + (height - len(lines) * em * 1.25) / 2
    for number, line in enumerate(lines):
        draw.text(
            (left + width / 2, first_line + number * em * 1.25),
            line,
            font=font,
            anchor="ma",
            fill=(255, 255, 255, 255),
            stroke_width=max(1, em // 12),
            stroke_fill=(0, 0, 0, 255),
        )

    small = _font(max(10, em * 2 // 3))
    margin = max(6, min(width, height) // 10)  # inside the transparent cut-out's inset
    tag = f"STAND-IN · {label} · #{index + 1}"
    corner = (right - margin, bottom - margin)
    x0, y0, x1, y1 = draw.textbbox(corner, tag, font=small, anchor="rd")
    pad = max(3, em // 6)
    draw.rectangle((x0 - pad, y0 - pad, x1 + pad, y1 + pad), fill=(0, 0, 0, 200))
    draw.text(corner, tag, font=small, anchor="rd", fill="#ffd400")


def _paste_thumbnails(image: Image.Image, others: list[Image.Image], area: tuple) -> None:
    """Small copies of the further inputs in a row along the top of the edited area."""
    left, top, right, bottom = area
    side = max(16, min(right - left, bottom - top) // 5)
    gap = max(2, side // 10)
    inset = min(right - left, bottom - top) // 12  # clear of the transparent cut-out's corners
    x, y = left + inset, top + inset
    for other in others:
        thumb = other.convert("RGBA")
        thumb.thumbnail((side, side))
        frame = Image.new("RGBA", (thumb.width + 4, thumb.height + 4), (255, 255, 255, 255))
        if x + frame.width > right or y + frame.height > bottom:
            break
        frame.alpha_composite(thumb, (2, 2))
        image.alpha_composite(frame, (x, y))
        x += frame.width + gap


def gif(frames: list[Image.Image], duration_ms: int) -> bytes:
    """An animated GIF of `frames`, each shown for `duration_ms`."""
    out = io.BytesIO()
    converted = [
        frame.convert("RGB").quantize(colors=128, method=Image.Quantize.FASTOCTREE)
        for frame in frames
    ]
    converted[0].save(
        out,
        "GIF",
        save_all=True,
        append_images=converted[1:],
        duration=duration_ms,
        loop=0,
        optimize=False,
    )
    return out.getvalue()


def svg(prompt: str, index: int, width: int, height: int, label: str) -> bytes:
    """A vector placeholder: the generation's two colours as a gradient, the prompt as text."""
    from xml.sax.saxutils import escape

    digest = hashlib.sha256(f"{prompt}\0{index}".encode()).digest()
    first, second = _colours(digest)
    em = max(14, min(width, height) // 22)
    lines = textwrap.wrap(" ".join(prompt.split()), 40)[:6] or [""]
    text = "".join(
        f'<tspan x="50%" dy="{em * 1.25 if n else 0:.0f}">{escape(line)}</tspan>'
        for n, line in enumerate(lines)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">'
        '<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">'
        f'<stop offset="0" stop-color="rgb{first}"/><stop offset="1" stop-color="rgb{second}"/>'
        "</linearGradient></defs>"
        '<rect width="100%" height="100%" fill="url(#g)"/>'
        f'<text x="50%" y="{height // 2}" font-family="sans-serif" font-size="{em}" '
        f'fill="#fff" stroke="#000" stroke-width="1" text-anchor="middle">{text}</text>'
        f'<text x="{width - 12}" y="{height - 12}" font-family="sans-serif" '
        f'font-size="{max(10, em * 2 // 3)}" fill="#ffd400" text-anchor="end">'
        f"STAND-IN · {escape(label)} · #{index + 1}</text></svg>"
    ).encode()
