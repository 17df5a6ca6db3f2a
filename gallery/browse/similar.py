"""Similar images: pictures that look alike, by perceptual hash (the only code that imports
imagehash).

The worker hashes each image's thumbnail when it lands (gallery.browse.features): a 64-bit
pHash (the signs of an 8x8 block of the picture's lowest frequencies), which barely changes
under resizing, recompression or small edits. Images whose hashes differ in at most
MAX_DISTANCE bits are near; gallery.browse.nearest finds them among all images.
"""

import io

import imagehash
import numpy as np
import PIL.Image

from gallery.access import visible_images
from gallery.browse import nearest

HASH_BYTES = 8
MAX_DISTANCE = 12
LIMIT = 12
INDEX = nearest.CodeIndex("gallery_perceptualhash", "phash", HASH_BYTES)


def perceptual_hash(data: bytes) -> bytes:
    """The 8-byte pHash of an encoded picture."""
    with PIL.Image.open(io.BytesIO(data)) as picture:
        bits = imagehash.phash(picture.convert("RGB")).hash
    return np.packbits(bits.flatten()).tobytes()


def similar_images(image, user, *, limit: int = LIMIT) -> list[tuple[object, int]]:
    """Up to `limit` other images `user` may see that look like `image`, nearest first,
    each with its distance in bits (0: the same picture to the eye)."""
    code = getattr(getattr(image, "perceptual_hash", None), "phash", None)
    if code is None:
        return []
    ids, distances = INDEX.nearest(bytes(code), user=user, count=limit * 4 + 1)
    near = {
        int(pk): int(d)
        for pk, d in zip(ids, distances, strict=True)
        if d <= MAX_DISTANCE and pk != image.pk
    }
    found = visible_images(user).filter(pk__in=list(near)).select_related("owner")
    ranked = sorted(found, key=lambda other: (near[other.pk], -other.pk))
    return [(other, near[other.pk]) for other in ranked[:limit]]
