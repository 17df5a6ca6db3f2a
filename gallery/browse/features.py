"""What the similarity searches need of each image, made in the worker when it lands: its
prompt's vector (gallery.browse.prompts) and its thumbnail's perceptual hash
(gallery.browse.similar). describe() is idempotent; backfill() does it for every image that
lacks either (`manage.py describe_images`)."""

import logging

from django.db.models import Q

from gallery import media
from gallery.browse import prompts, similar
from gallery.jobs import engine
from gallery.models import Image, PerceptualHash, PromptEmbedding

log = logging.getLogger(__name__)
BATCH = 512


def describe(image_ids: list[int]) -> int:
    """Store the prompt vectors and perceptual hashes these images lack; returns how many
    rows it stored. Like a job's API call, the slow part holds no database connection."""
    with engine.db_slot():
        rows = list(
            Image.objects.filter(pk__in=image_ids, purged_at=None).values_list(
                "pk", "prompt", "thumbnail_small", "prompt_embedding", "perceptual_hash"
            )
        )
    to_embed = [(pk, prompt) for pk, prompt, _, vector, _ in rows if vector is None and prompt]
    to_hash = [(pk, thumb) for pk, _, thumb, _, phash in rows if phash is None and thumb]
    vectors = prompts.embed([prompt for _, prompt in to_embed])
    codes = prompts.code(vectors)
    embeddings = [
        PromptEmbedding(image_id=pk, vector=prompts.to_bytes(vector), code=code.tobytes())
        for (pk, _), vector, code in zip(to_embed, vectors, codes, strict=True)
    ]
    hashes = []
    for pk, thumbnail in to_hash:
        try:
            hashes.append(
                PerceptualHash(image_id=pk, phash=similar.perceptual_hash(media.read(thumbnail)))
            )
        except (OSError, ValueError) as error:  # a missing or damaged thumbnail
            log.warning("image %s: no perceptual hash: %s", pk, error)
    with engine.db_slot():
        PromptEmbedding.objects.bulk_create(embeddings, ignore_conflicts=True)
        PerceptualHash.objects.bulk_create(hashes, ignore_conflicts=True)
    return len(embeddings) + len(hashes)


def backfill(*, batch: int = BATCH) -> int:
    """describe() every image that lacks a vector or a hash, in id order; returns how many
    rows it stored."""
    lacking = Image.objects.filter(
        (Q(prompt_embedding__isnull=True) & ~Q(prompt=""))
        | (Q(perceptual_hash__isnull=True) & ~Q(thumbnail_small=""))
    ).order_by("pk")
    stored, after = 0, 0
    while True:
        ids = list(lacking.filter(pk__gt=after).values_list("pk", flat=True)[:batch])
        if not ids:
            return stored
        stored += describe(ids)
        after = ids[-1]
