"""Similar prompts: images whose prompts mean what a search means ("a cat on a sofa" finds
"kitten sleeping on a couch"), offline.

The worker stores each prompt's vector (gallery.browse.features); a query is embedded in the
web process (a fraction of a millisecond), its binary code finds CANDIDATES near prompts in the
process's copy of the codes (gallery.browse.nearest), and their full vectors, read from the
database together with the visibility and filter check, give the exact cosine order.
Candidates below MIN_SIMILARITY are not shown: a search for something nobody asked for finds
nothing rather than the least unrelated prompts.
"""

import numpy as np

from gallery.browse import nearest, prompts

CANDIDATES = 1500
MIN_SIMILARITY = 0.2
LIMIT = 1000
INDEX = nearest.CodeIndex("gallery_promptembedding", "code", prompts.CODE_BYTES)


def ranked_ids(text: str, images, user, *, limit: int = LIMIT) -> list[int]:
    """Ids from `images` (a queryset the caller has limited to what `user` may see) whose
    prompts are closest in meaning to `text`, closest first."""
    vector = prompts.embed([text])[0]
    if not vector.any():
        return []
    near, _ = INDEX.nearest(
        prompts.code(vector)[0].tobytes(), user=user, count=CANDIDATES, using=images.db
    )
    rows = list(
        images.filter(pk__in=near.tolist(), prompt_embedding__isnull=False).values_list(
            "pk", "prompt_embedding__vector"
        )
    )
    if not rows:
        return []
    ids = np.array([pk for pk, _ in rows])
    vectors = np.stack([prompts.from_bytes(bytes(blob)) for _, blob in rows])
    return rerank(vector, ids, vectors, limit=limit).tolist()


def rerank(vector: np.ndarray, ids: np.ndarray, vectors: np.ndarray, *, limit: int) -> np.ndarray:
    """`ids` ordered by the exact cosine of their `vectors` with `vector`, best first, those
    below MIN_SIMILARITY left out."""
    scores = vectors @ vector
    order = np.argsort(-scores, kind="stable")
    order = order[scores[order] >= MIN_SIMILARITY]
    return ids[order[:limit]]
