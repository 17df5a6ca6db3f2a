"""Nearest images by Hamming distance over short binary codes, held in each web process.

Both similarity searches keep one binary code per image in a table: a prompt vector's signs
(PromptEmbedding.code, 32 bytes) and a perceptual hash (PerceptualHash.phash, 8 bytes). Each
process holds a copy of the codes with each image's id, owner and visibility in numpy arrays
and compares the query's code with all of them (XOR and popcount, about 15 ms at a million
prompts). Why this and not a vector extension or a shared index file: it works the same on
SQLite and PostgreSQL, needs nothing installed in the database, and any number of processes
on any number of hosts stay current by reading only the rows with an id above the last one
they saw (a max(id) look per query, nothing more when nothing is new); everything is read
again every RELOAD_SECONDS to pick up changes of visibility and deletions. Memory per process
is the codes plus 17 bytes per image: about 50 MB at a million prompts.

The database stays the authority: callers confirm every candidate with visible_images(), so a
stale copy may hide an image shared a minute ago but never shows a private one.
"""

import threading
import time
from dataclasses import dataclass

import numpy as np
from django.db import connections

from gallery.models import Visibility

RELOAD_SECONDS = 600
SHARED = Visibility.SHARED.value


@dataclass
class Codes:
    codes: np.ndarray  # (n, words) uint64
    image_ids: np.ndarray  # int64
    owners: np.ndarray  # int64
    shared: np.ndarray  # bool
    last_id: int  # the highest row id read


class CodeIndex:
    """The codes of one table's `column`, `size` bytes each (a multiple of 8)."""

    def __init__(self, table: str, column: str, size: int):
        self.table, self.column, self.words = table, column, size // 8
        self._codes: dict[str, Codes] = {}
        self._loaded_at: dict[str, float] = {}
        self._loading: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self._codes.clear()
            self._loaded_at.clear()

    def current(self, using: str = "default") -> Codes:
        """The codes as the database has them now (new rows read; all of them now and then).
        One thread reads at a time; meanwhile the others use the copy they have, so a full
        read at a million rows (seconds) never holds up searches."""
        with self._lock:
            loading = self._loading.setdefault(using, threading.Lock())
            codes = self._codes.get(using)
        if codes is not None and not loading.acquire(blocking=False):
            return codes  # another thread is reading; this copy is at most moments old
        if codes is None:
            loading.acquire()
        try:
            with self._lock:
                codes = self._codes.get(using)
                stale = time.monotonic() - self._loaded_at.get(using, 0.0) > RELOAD_SECONDS
            newest = self._newest_id(using)
            if codes is None or stale or newest < codes.last_id:
                codes = self._read(using, after=0, into=None)
                with self._lock:
                    self._loaded_at[using] = time.monotonic()
            elif newest > codes.last_id:
                codes = self._read(using, after=codes.last_id, into=codes)
            with self._lock:
                self._codes[using] = codes
            return codes
        finally:
            loading.release()

    def nearest(self, code: bytes, *, user, count: int, using: str = "default"):
        """The ids of the (at most) `count` images nearest to `code` that `user` may see as
        far as this copy knows, nearest first, and their distances in bits."""
        return nearest_in(self.current(using), code, user=user, count=count)

    def _newest_id(self, using: str) -> int:
        with connections[using].cursor() as cursor:
            cursor.execute(f"SELECT max(id) FROM {self.table}")
            return cursor.fetchone()[0] or 0

    def _read(self, using: str, *, after: int, into: Codes | None) -> Codes:
        with connections[using].cursor() as cursor:
            cursor.execute(
                f"SELECT c.id, c.image_id, i.owner_id, i.visibility, c.{self.column} "
                f"FROM {self.table} c JOIN gallery_image i ON i.id = c.image_id "
                "WHERE c.id > %s ORDER BY c.id",
                [after],
            )
            rows = cursor.fetchall()
        last_id = rows[-1][0] if rows else after
        size = self.words * 8
        rows = [row for row in rows if len(row[4]) == size]
        fresh = Codes(
            codes=np.frombuffer(b"".join(bytes(row[4]) for row in rows), dtype=np.uint64).reshape(
                -1, self.words
            ),
            image_ids=np.fromiter((row[1] for row in rows), dtype=np.int64, count=len(rows)),
            owners=np.fromiter((row[2] for row in rows), dtype=np.int64, count=len(rows)),
            shared=np.fromiter((row[3] == SHARED for row in rows), dtype=bool, count=len(rows)),
            last_id=last_id,
        )
        if into is None:
            return fresh
        return Codes(
            codes=np.concatenate([into.codes, fresh.codes]),
            image_ids=np.concatenate([into.image_ids, fresh.image_ids]),
            owners=np.concatenate([into.owners, fresh.owners]),
            shared=np.concatenate([into.shared, fresh.shared]),
            last_id=fresh.last_id,
        )


def nearest_in(codes: Codes, code: bytes, *, user, count: int):
    """CodeIndex.nearest() over these codes (benchmarks hand over codes of their own)."""
    query = np.frombuffer(code, dtype=np.uint64)
    distances = np.bitwise_count(codes.codes ^ query).sum(axis=1, dtype=np.uint16)
    if not user.is_staff:
        allowed = codes.shared | (codes.owners == user.pk)
        distances[~allowed] = np.iinfo(np.uint16).max
    count = min(count, len(distances))
    if count == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint16)
    near = np.argpartition(distances, count - 1)[:count]
    near = near[np.argsort(distances[near], kind="stable")]
    near = near[distances[near] < np.iinfo(np.uint16).max]
    return codes.image_ids[near], distances[near]
