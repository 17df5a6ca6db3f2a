"""Fill the gallery with many realistic images for benchmarks (never on a real database).

    python manage.py seed_gallery --images 1000000 [--users 200] [--seed 1]

Rows are written in large batches straight through the database cursor (one transaction per
batch); the full-text index is built once after the load where that is faster (FTS5
'rebuild', PostgreSQL GIN index created after the rows). All images share a few real
thumbnail files made here, so the pages and transfer sizes are real.
"""

import io
import random
import time
from datetime import timedelta
from pathlib import Path

import PIL.Image
import PIL.ImageDraw
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from gallery import media
from gallery.browse import prompts, search, similar
from gallery.imagesapi import registry
from gallery.models import Board, BoardImage, Favourite, Image

SUBJECTS = (
    "fox",
    "cat",
    "dog",
    "owl",
    "dragon",
    "robot",
    "astronaut",
    "lighthouse",
    "castle",
    "city",
    "forest",
    "mountain",
    "river",
    "ocean",
    "desert",
    "village",
    "market",
    "train",
    "bicycle",
    "sailboat",
    "teapot",
    "library",
    "garden",
    "cathedral",
    "bridge",
    "whale",
    "tiger",
    "horse",
    "butterfly",
    "samurai",
    "wizard",
    "knight",
    "dancer",
    "chef",
    "violinist",
    "skyscraper",
    "coffee cup",
    "vintage car",
    "space station",
    "treehouse",
    "waterfall",
    "volcano",
    "glacier",
)
ADJECTIVES = (
    "red",
    "blue",
    "golden",
    "misty",
    "ancient",
    "futuristic",
    "tiny",
    "giant",
    "cozy",
    "abandoned",
    "glowing",
    "snowy",
    "rainy",
    "sunlit",
    "neon",
    "wooden",
    "crystal",
    "paper",
    "floating",
    "sleepy",
    "curious",
    "majestic",
    "minimalist",
    "colorful",
    "dark",
    "serene",
)
PLACES = (
    "in the snow",
    "at dusk",
    "on a rooftop",
    "under the stars",
    "by the sea",
    "in a rainforest",
    "on mars",
    "in tokyo",
    "in paris",
    "in a snow globe",
    "at the edge of the world",
    "in an enchanted forest",
    "on a busy street",
    "in a quiet kitchen",
    "above the clouds",
)
STYLES = (
    "watercolor",
    "oil painting",
    "studio photograph",
    "portrait",
    "3d render",
    "pixel art",
    "cyberpunk",
    "art nouveau",
    "ukiyo-e woodblock print",
    "pencil sketch",
    "isometric",
    "cinematic still",
    "product shot",
    "children's book illustration",
    "low poly",
    "vaporwave",
    "film photograph",
    "charcoal drawing",
    "stained glass",
    "claymation",
)
LIGHT = (
    "golden hour",
    "soft light",
    "dramatic lighting",
    "backlit",
    "volumetric fog",
    "neon reflections",
    "overcast",
    "candlelight",
    "blue hour",
    "harsh noon sun",
)
SOURCES = [("generated", 80), ("edited", 12), ("upload", 6), ("composite", 2)]
FORMATS = [("image/png", 70), ("image/jpeg", 15), ("image/webp", 15)]
SIZES = [((1024, 1024), 60), ((1536, 1024), 20), ((1024, 1536), 20)]
QUALITIES = [("high", 25), ("medium", 40), ("low", 25), ("auto", 10)]
BACKGROUNDS = [("auto", 70), ("opaque", 20), ("transparent", 10)]
PROVENANCE = [("trusted", 70), ("valid", 10), ("none", 12), ("pending", 5), ("invalid", 3)]
BATCH = 5000
DESCRIBE_BATCH = 20_000
BENCH_BOARD = "bench board"


def _weighted(pairs):
    values, weights = zip(*pairs, strict=True)
    return list(values), list(weights)


def rare_words(count: int = 4000) -> list[str]:
    """Made-up words, each in about 1 of every 20,000 prompts: the 'rare word' searches."""
    rng = random.Random(99)
    syllables = ["ka", "zu", "mi", "tor", "vel", "qua", "rix", "bo", "len", "dra", "syl", "ph"]
    return sorted({"".join(rng.choice(syllables) for _ in range(4)) for _ in range(count)})


def seeded_prompt(rng: random.Random, rare: list[str]) -> str:
    """One prompt as people write them: a subject, where, and often a style and a light."""
    words = [rng.choice(ADJECTIVES), rng.choice(SUBJECTS), rng.choice(PLACES)]
    if rng.random() < 0.7:
        words.append(rng.choice(STYLES))
    if rng.random() < 0.5:
        words.append(rng.choice(LIGHT))
    if rng.random() < 0.2:
        words.append(rng.choice(rare))
    return ", ".join(words)


class Command(BaseCommand):
    help = "Fill the gallery with N realistic images across many users (for bench_gallery)."

    def add_arguments(self, parser):
        parser.add_argument("--images", type=int, default=100_000)
        parser.add_argument("--users", type=int, default=200)
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, images: int, users: int, seed: int, **options):
        database = Path(str(connection.settings_dict["NAME"])).name
        if "bench" not in database.lower():
            raise CommandError(
                f"seed_gallery fills a database with fake images; it only writes to one named for "
                f"benchmarks (the name must contain 'bench'), and this one is {database!r}. "
                "Point DATABASE_URL at a throw-away database, e.g. "
                "sqlite:////tmp/gallery_bench.sqlite3."
            )
        if images < 1 or users < 1:
            raise CommandError("--images and --users must be at least 1")
        rng = random.Random(seed)
        started = time.monotonic()
        people = self._users(users)
        files = self._files(rng)
        vendor = connection.vendor
        self._drop_search_index(vendor)
        columns, rows = self._rows(rng, images, people, files)
        table = Image._meta.db_table
        sql = (
            f"INSERT INTO {table} ({', '.join(columns)}) "
            f"VALUES ({', '.join(['%s'] * len(columns))})"
        )
        written = 0
        batch: list[tuple] = []
        for row in rows:
            batch.append(row)
            if len(batch) == BATCH:
                written += self._write(sql, batch)
                batch = []
                if written % 100_000 == 0:
                    self.stdout.write(f"  {written:,} rows, {time.monotonic() - started:.0f} s")
        written += self._write(sql, batch)
        load = time.monotonic() - started
        self.stdout.write(f"{written:,} rows loaded in {load:.0f} s; building the search index")
        self._build_search_index(vendor)
        self.stdout.write(f"index built at {time.monotonic() - started:.0f} s; describing images")
        self._describe(files, started)
        self._boards(rng, people)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {written:,} images for {len(people)} people in "
                f"{time.monotonic() - started:.0f} s ({vendor})."
            )
        )

    def _users(self, count: int):
        User = get_user_model()
        existing = set(
            User.objects.filter(username__startswith="seed").values_list("username", flat=True)
        )
        names = [f"seed{i:04d}" for i in range(count)]
        User.objects.bulk_create(
            [User(username=n, password="!") for n in names if n not in existing]
        )
        return list(User.objects.filter(username__in=names).values_list("pk", flat=True))

    def _files(self, rng: random.Random):
        """A few real image files and their thumbnails, shared by all seeded rows."""
        stored = []
        for i in range(8):
            picture = PIL.Image.new("RGB", (1024, 1024), (rng.randrange(256), 90, 160))
            draw = PIL.ImageDraw.Draw(picture)
            for _ in range(12):
                x, y, r = rng.randrange(1024), rng.randrange(1024), rng.randrange(40, 300)
                colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
                draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
            draw.text((40, 40), f"seed {i}", fill=(255, 255, 255))
            buffer = io.BytesIO()
            picture.save(buffer, "PNG")
            stored.append(media.store(buffer.getvalue()))
        return stored

    def _rows(self, rng, count, people, files):
        fields = [f for f in Image._meta.concrete_fields if not f.primary_key]
        columns = [connection.ops.quote_name(f.column) for f in fields]
        defaults = {
            f.attname: f.get_db_prep_save(f.get_default(), connection)
            for f in fields
            if f.has_default() and not callable(f.default)
        }
        created_field = Image._meta.get_field("created_at")
        cost_field = Image._meta.get_field("cost_usd")
        models = registry.model_ids()
        rare = rare_words()
        sources, source_w = _weighted(SOURCES)
        formats, format_w = _weighted(FORMATS)
        sizes, size_w = _weighted(SIZES)
        qualities, quality_w = _weighted(QUALITIES)
        backgrounds, background_w = _weighted(BACKGROUNDS)
        states, state_w = _weighted(PROVENANCE)
        visibility = "visibility" in {f.attname for f in fields}
        now = timezone.now()
        start = now - timedelta(days=365)
        step = (now - start) / count
        prices = [cost_field.get_db_prep_save(p, connection) for p in ("0.011", "0.042", "0.167")]

        def rows():
            for i in range(count):
                width, height = rng.choices(sizes, size_w)[0]
                thumb = files[i % len(files)]
                prompt = seeded_prompt(rng, rare)
                source = rng.choices(sources, source_w)[0]
                state = rng.choices(states, state_w)[0]
                values = {
                    **defaults,
                    "owner_id": people[(int(rng.paretovariate(1.2)) - 1) % len(people)],
                    "job_id": None,
                    "index": 0,
                    "source": source,
                    "file": thumb.name,
                    "sha256": thumb.sha256,
                    "content_type": rng.choices(formats, format_w)[0],
                    "byte_size": rng.randrange(200_000, 3_000_000),
                    "width": width,
                    "height": height,
                    "thumbnail": thumb.thumbnail,
                    "thumbnail_small": thumb.thumbnail_small,
                    "thumbnail_width": thumb.thumbnail_width,
                    "thumbnail_height": thumb.thumbnail_height,
                    "prompt": prompt,
                    "revised_prompt": (
                        f"A detailed image of a {prompt}" if rng.random() < 0.1 else ""
                    ),
                    "model": models[i % len(models)] if source != "upload" else "",
                    "quality": rng.choices(qualities, quality_w)[0],
                    "background": rng.choices(backgrounds, background_w)[0],
                    "provenance_state": state,
                    "ai_generated": state in ("trusted", "valid") and source != "upload",
                    "provenance": None,
                    "manifest_json": "",
                    "cost_usd": rng.choice(prices),
                    "created_at": created_field.get_db_prep_save(start + step * i, connection),
                }
                if visibility:
                    values["visibility"] = "private" if rng.random() < 0.1 else "shared"
                yield tuple(values.get(f.attname) for f in fields)

        return columns, rows()

    def _write(self, sql: str, batch: list[tuple]) -> int:
        if not batch:
            return 0
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # COPY is several times faster than INSERTs on PostgreSQL.
                columns = sql[sql.index("(") : sql.index(")") + 1]
                table = Image._meta.db_table
                with cursor.cursor.copy(f"COPY {table} {columns} FROM STDIN") as copy:
                    for row in batch:
                        copy.write_row(row)
            else:
                cursor.executemany(sql, batch)
        return len(batch)

    def _drop_search_index(self, vendor: str) -> None:
        with connection.cursor() as cursor:
            if vendor == "sqlite":
                for name in search.SQLITE_TRIGGERS:
                    cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
            elif vendor == "postgresql":
                cursor.execute("DROP INDEX IF EXISTS gallery_image_search")
                cursor.execute("DROP INDEX IF EXISTS gallery_image_search_bucketed")

    def _build_search_index(self, vendor: str) -> None:
        with connection.cursor() as cursor:
            if vendor == "sqlite":
                for table in search.SQLITE_TABLES:
                    cursor.execute(f"INSERT INTO {table}({table}) VALUES ('rebuild')")
                for sql in search.SQLITE_TRIGGERS.values():
                    cursor.execute(sql)
            elif vendor == "postgresql":
                cursor.execute("SET maintenance_work_mem = '256MB'")
        if vendor == "postgresql":
            search.create_postgres_gin(connection)
        search.optimize()

    def _describe(self, files, started: float) -> None:
        """Every seeded image's prompt vector (the real model, as the worker makes them) and
        perceptual hash (of the shared thumbnail it shows), for Similar prompts and images."""
        hashes = {
            f.thumbnail_small: similar.perceptual_hash(media.read(f.thumbnail_small)) for f in files
        }
        after, done = 0, 0
        while True:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    "SELECT id, prompt, thumbnail_small FROM gallery_image WHERE id > %s "
                    "ORDER BY id LIMIT %s",
                    [after, DESCRIBE_BATCH],
                )
                rows = cursor.fetchall()
                if not rows:
                    return
                vectors = prompts.embed([prompt for _, prompt, _ in rows])
                codes = prompts.code(vectors)
                cursor.executemany(
                    "INSERT INTO gallery_promptembedding (image_id, vector, code) "
                    "VALUES (%s, %s, %s)",
                    [
                        (pk, prompts.to_bytes(vector), code.tobytes())
                        for (pk, _, _), vector, code in zip(rows, vectors, codes, strict=True)
                    ],
                )
                cursor.executemany(
                    "INSERT INTO gallery_perceptualhash (image_id, phash) VALUES (%s, %s)",
                    [(pk, hashes[thumb]) for pk, _, thumb in rows if thumb in hashes],
                )
            after, done = rows[-1][0], done + len(rows)
            if done % 100_000 == 0:
                self.stdout.write(f"  {done:,} described, {time.monotonic() - started:.0f} s")

    def _boards(self, rng: random.Random, people) -> None:
        """A board with 500 images and some stars for the first seeded person."""
        owner = people[0]
        board, _ = Board.objects.get_or_create(owner_id=owner, name=BENCH_BOARD)
        last = Image.objects.order_by("-id").values_list("id", flat=True).first() or 0
        picks = {rng.randrange(1, last + 1) for _ in range(500)}
        ids = list(Image.objects.filter(pk__in=picks).values_list("pk", flat=True))
        BoardImage.objects.bulk_create(
            [BoardImage(board=board, image_id=pk) for pk in ids], ignore_conflicts=True
        )
        Favourite.objects.bulk_create(
            [Favourite(user_id=owner, image_id=pk) for pk in ids[:200]], ignore_conflicts=True
        )
