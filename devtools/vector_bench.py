"""bench_gallery --vectors N: the Similar prompts search at N prompts, without a database.

Embeds N seeded prompts (seed_gallery's generator) with the real model, as the worker does,
and times it; then holds their binary codes as every web process does (gallery.browse.nearest,
10% private to other people, so the visibility mask costs what it costs) and times queries
end to end: embedding the query, the Hamming scan, and the exact rerank of the candidates
(here read from memory; on a page they come from the database with the visibility check,
which bench_gallery's "similar prompts" scenario times). Recall@10 compares each query's ten
results with exact (brute-force cosine) search over all N vectors the viewer may see; ties
count as found (seeded prompts repeat, and equal prompts have equal scores).
"""

import os
import random
import statistics
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from devtools.management.commands.seed_gallery import rare_words, seeded_prompt
from gallery.browse import nearest, prompts, semantic

CHUNK = 20_000
K = 10


def run(count: int, queries: int, write, cache: str = "") -> dict:
    rng = random.Random(11)
    rare = rare_words()
    texts = [seeded_prompt(rng, rare) for _ in range(count)]
    prompts.embed(["warm up"])
    load = os.getloadavg()
    vectors = np.empty((count, prompts.DIMS), dtype=np.float16)
    codes = np.empty((count, prompts.CODE_BYTES), dtype=np.uint8)
    started = time.perf_counter()
    cached = Path(cache) if cache else None
    from_cache = cached is not None and cached.exists()
    if cached is not None and from_cache:
        vectors[:] = np.load(cached)[:count]
        codes[:] = prompts.code(vectors)
        write(f"vectors read from {cached} (not embedded again)")
    for start in range(count if from_cache else 0, count, CHUNK):
        chunk = prompts.embed(texts[start : start + CHUNK])
        vectors[start : start + len(chunk)] = chunk
        codes[start : start + len(chunk)] = prompts.code(chunk)
        if start and start % 200_000 == 0:
            write(f"  embedded {start:,} prompts, {time.perf_counter() - started:.0f} s")
    embed_s = time.perf_counter() - started
    if cached is not None and not from_cache:
        np.save(cached, vectors)
    if from_cache:  # what was timed is reading the file, not the model
        write(f"read {count:,} vectors in {embed_s:.1f} s; embedding was not timed")
    else:
        write(f"embedded {count:,} prompts in {embed_s:.1f} s ({count / embed_s:,.0f}/s)")

    owners = np.asarray([rng.randrange(200) for _ in range(count)], dtype=np.int64)
    shared = np.asarray([rng.random() >= 0.1 for _ in range(count)])
    words = codes.view(np.uint64)
    index = nearest.Codes(
        shared=nearest.Part(
            np.ascontiguousarray(words[shared].T), np.flatnonzero(shared), owners[shared]
        ),
        private=nearest.Part(
            np.ascontiguousarray(words[~shared].T), np.flatnonzero(~shared), owners[~shared]
        ),
        last_id=count,
    )
    viewer = SimpleNamespace(is_staff=False, pk=0)
    allowed = shared | (owners == viewer.pk)
    asked = [_query(rng, rare) for _ in range(queries)]

    def search(text: str, candidates: int) -> np.ndarray:
        vector = prompts.embed([text])[0]
        near, _ = nearest.nearest_in(
            index, prompts.code(vector)[0].tobytes(), user=viewer, count=candidates
        )
        return semantic.rerank(vector, near, vectors[near].astype(np.float32), limit=K)

    for text in asked[:5]:
        search(text, semantic.CANDIDATES)  # warm
    timings = []
    for text in asked:
        began = time.perf_counter()
        search(text, semantic.CANDIDATES)
        timings.append((time.perf_counter() - began) * 1000)

    recall = {}
    full = vectors.astype(np.float32)  # brute force reads every vector: convert them once
    exact_top = [_exact(prompts.embed([t])[0], full, allowed) for t in asked]
    del full
    for candidates in sorted({250, 500, 1000, semantic.CANDIDATES, 2000}):
        found = []
        for text, (vector, kth) in zip(asked, exact_top, strict=True):
            ids = search(text, candidates)
            scores = vectors[ids].astype(np.float32) @ vector
            found.append(np.sum(scores >= kth - 1e-3) / K)
        recall[candidates] = round(float(np.mean(found)), 4)
    parts = (index.shared, index.private)
    ordered = sorted(timings)
    return {
        "prompts": count,
        "embed_seconds": None if from_cache else round(embed_s, 1),
        "embed_per_second": None if from_cache else round(count / embed_s),
        "index_megabytes": round(
            sum(p.words.nbytes + p.image_ids.nbytes + p.owners.nbytes for p in parts) / 1e6, 1
        ),
        "queries": queries,
        "candidates": semantic.CANDIDATES,
        "query_ms": {
            "p50": round(statistics.median(ordered), 2),
            "p95": round(ordered[int(round(0.95 * (len(ordered) - 1)))], 2),
        },
        "recall_at_10": recall,
        "load_average": load,
        "load_average_end": os.getloadavg(),
    }


def _query(rng: random.Random, rare: list[str]) -> str:
    """A search as people type one: two or three words of a prompt."""
    words = seeded_prompt(rng, rare).replace(",", "").split()
    start = rng.randrange(max(1, len(words) - 2))
    return " ".join(words[start : start + rng.choice((2, 3))])


def _exact(vector: np.ndarray, vectors: np.ndarray, allowed: np.ndarray):
    """The query vector and the 10th best exact score among the vectors the viewer may see."""
    scores = vectors @ vector
    scores[~allowed] = -2
    kth = np.partition(scores, -K)[-K]
    return vector, float(kth)
