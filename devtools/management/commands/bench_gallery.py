"""Measure the gallery on a seeded database (see seed_gallery): p50/p95 per scenario.

    python manage.py bench_gallery [--runs 20] [--json] [--database-url URL]

Each scenario is timed three ways: through the real view (Django test Client: middleware,
session, queries, template rendering), at the query level (gallery.browse, which runs every
query the page needs and builds its Image objects), and the page's SQL alone (the statements
browse ran, replayed through the cursor). In the same run the naive approach (icontains +
OFFSET) is timed for the searches and the deep page, as the baseline. Also printed: the
first page's transfer size
(HTML plus thumbnails at 1x and 2x) and the cost per insert of the full-text index.
"""

import json
import os
import re
import statistics
import sys
import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.http import QueryDict
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse

from devtools import vector_bench
from devtools.management.commands.seed_gallery import BENCH_BOARD, rare_words
from gallery import access, browse
from gallery.browse import search
from gallery.imagesapi import registry
from gallery.models import Board, Image, PromptEmbedding

SCROLLS = 1000


def _percentiles(samples: list[float]) -> dict:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return {"p50": round(statistics.median(ordered), 2), "p95": round(p95, 2)}


class Command(BaseCommand):
    help = "Benchmark the gallery views and queries against the naive baseline."

    def add_arguments(self, parser):
        parser.add_argument("--runs", type=int, default=20)
        parser.add_argument("--naive-runs", type=int, default=5)
        parser.add_argument("--json", action="store_true")
        parser.add_argument("--database-url", default="")
        parser.add_argument("--user", default="seed0000")
        parser.add_argument(
            "--vectors",
            type=int,
            default=0,
            help="only the Similar prompts search at this many prompts, without a database",
        )
        parser.add_argument("--queries", type=int, default=200)
        parser.add_argument(
            "--vectors-cache",
            default="",
            help="a .npy file: the embedded vectors are saved there, or read from it if it exists",
        )

    def handle(self, *args, runs, naive_runs, database_url, user, vectors, queries, **options):
        if vectors:
            report = vector_bench.run(vectors, queries, self.stdout.write, options["vectors_cache"])
            self.stdout.write(json.dumps(report, indent=2))
            return
        if database_url and os.environ.get("DATABASE_URL") != database_url:
            # Settings are read once at start-up: run again with the other database.
            os.environ["DATABASE_URL"] = database_url
            os.execv(sys.executable, [sys.executable, *sys.argv])
        person = get_user_model().objects.filter(username=user).first()
        if person is None or not Image.objects.exists():
            raise CommandError(f"No user {user} or no images: run seed_gallery first.")
        total = Image.objects.count()
        scenarios = self._scenarios(person)
        report = {
            "database": connection.vendor,
            "images": total,
            "runs": runs,
            "load_average": os.getloadavg(),
            "scenarios": {},
        }
        client = Client()
        client.force_login(person)
        with override_settings(ALLOWED_HOSTS=["*"], DEBUG=False):
            for name, params in scenarios.items():
                report["scenarios"][name] = self._measure(client, person, params, runs)
            for name, naive in self._baselines(person, scenarios).items():
                samples = [self._time(naive) for _ in range(naive_runs)]
                entry = report["scenarios"][name]
                entry["naive_ms"] = _percentiles(samples)
                entry["naive_sql_ms"] = _percentiles(self._sql_times(naive, naive_runs))
                entry["speedup_p50"] = round(
                    entry["naive_ms"]["p50"] / max(entry["query_ms"]["p50"], 0.01), 1
                )
                entry["sql_speedup_p50"] = round(
                    entry["naive_sql_ms"]["p50"] / max(entry["sql_ms"]["p50"], 0.01), 1
                )
            report["first_page_bytes"] = self._transfer(client)
        report["index_cost_per_insert_ms"] = self._index_cost(person)
        report["load_average_end"] = os.getloadavg()
        if options["json"]:
            self.stdout.write(json.dumps(report, indent=2))
        else:
            self._print(report)

    def _scenarios(self, person) -> dict[str, dict]:
        newest = access.visible_images(person).exclude(source=Image.Source.UPLOAD).order_by("-id")
        self.scrolls = min(SCROLLS, newest.count() // browse.PAGE_SIZE - 1)
        deep = newest.values_list("id", flat=True)[self.scrolls * browse.PAGE_SIZE - 1]
        rare = next(w for w in rare_words() if Image.objects.search(w).exists())
        board = Board.objects.filter(owner=person, name=BENCH_BOARD).first()
        model = registry.model_ids()[0]
        scenarios = {
            "first page": {},
            f"page after {self.scrolls:,} scrolls": {"cursor": browse.encode_cursor(deep)},
            "common word (in)": {"q": "in"},
            "common word (portrait)": {"q": "portrait"},
            f"rare word ({rare})": {"q": rare},
            'phrase ("golden hour")': {"q": '"golden hour"'},
            "prefix (cyber*)": {"q": "cyber*"},
            "search + 3 filters": {
                "q": "fox",
                "model": model,
                "quality": "high",
                "format": "png",
            },
        }
        if board is not None:
            scenarios["a board"] = {"board": str(board.pk)}
        if PromptEmbedding.objects.exists():
            scenarios["similar prompts"] = {"q": "a cat asleep on a sofa", "similar": "1"}
        return scenarios

    def _baselines(self, person, scenarios) -> dict:
        """The naive approach: substring scan and OFFSET, newest first. Like browse(), each
        call builds its query for the person (visible images, uploads left out)."""

        def base():
            return access.visible_images(person).exclude(source=Image.Source.UPLOAD)

        newest = ("-id",)
        size = browse.PAGE_SIZE + 1
        baselines = {}
        for name, params in scenarios.items():
            if "q" in params and len(params) == 1:
                text = params["q"].replace('"', "").replace("*", "")
                baselines[name] = lambda t=text: list(
                    search.naive(base(), t).order_by(*newest)[:size]
                )
            elif "cursor" in params:
                offset = self.scrolls * browse.PAGE_SIZE
                baselines[name] = lambda o=offset: list(base().order_by(*newest)[o : o + size])
        return baselines

    def _measure(self, client, person, params, runs) -> dict:
        url = reverse("gallery:gallery")
        data = QueryDict(mutable=True)
        data.update(params)
        for _ in range(2):  # warm caches, as a person's second visit would be
            browse.browse(person, data)
            client.get(url, params)
        query = [self._time(lambda: browse.browse(person, data)) for _ in range(runs)]
        views = []
        for _ in range(runs):
            started = time.perf_counter()
            response = client.get(url, params)
            views.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise CommandError(f"{params}: status {response.status_code}")
        page = browse.browse(person, data)
        return {
            "params": params,
            "results_on_page": len(page.images),
            "view_ms": _percentiles(views),
            "query_ms": _percentiles(query),
            "sql_ms": _percentiles(self._sql_times(lambda: browse.browse(person, data), runs)),
        }

    @staticmethod
    def _sql_times(function, runs) -> list[float]:
        """The SQL statements `function` runs, alone, as the database runs them: captured
        once and replayed, every row fetched (no ORM, no Python around them)."""
        with CaptureQueriesContext(connection) as captured:
            function()
        statements = [q["sql"] for q in captured.captured_queries]
        times = []
        with connection.cursor() as cursor:
            for _ in range(runs):
                started = time.perf_counter()
                for sql in statements:
                    cursor.execute(sql)
                    cursor.fetchall()
                times.append((time.perf_counter() - started) * 1000)
        return times

    @staticmethod
    def _time(function) -> float:
        started = time.perf_counter()
        function()
        return (time.perf_counter() - started) * 1000

    def _transfer(self, client) -> dict:
        html = client.get(reverse("gallery:gallery")).content
        sizes = {"html": len(html), "thumbnails_1x": 0, "thumbnails_2x": 0, "tiles": 0}
        for match in re.finditer(rb'srcset="([^ ]+) 256w, ([^ ]+) 512w"', html):
            sizes["tiles"] += 1
            for key, thumb in (("thumbnails_1x", match[1]), ("thumbnails_2x", match[2])):
                response = client.get(thumb.decode())
                sizes[key] += sum(len(chunk) for chunk in response.streaming_content)
        tiles = max(sizes["tiles"], 1)
        sizes["total_1x"] = sizes["html"] + sizes["thumbnails_1x"]
        sizes["total_2x"] = sizes["html"] + sizes["thumbnails_2x"]
        sizes["average_thumbnail_2x"] = sizes["thumbnails_2x"] // tiles
        return sizes

    def _index_cost(self, person, count: int = 200) -> dict:
        """Insert `count` images one at a time with and without the full-text index (both
        rolled back); the difference is what the index costs per insert."""
        template = Image.objects.first()
        if template is None:
            raise CommandError("No image to copy: the index cost needs at least one image.")

        def insert_many() -> float:
            started = time.perf_counter()
            for i in range(count):
                template.pk = None
                template.prompt = f"bench insert {i} a misty fox at dusk, watercolor"
                template.save(force_insert=True)
            return (time.perf_counter() - started) * 1000 / count

        results = {}
        for label, disable in (("with_index", False), ("without_index", True)):
            with transaction.atomic():
                if disable:
                    self._disable_search_index()
                results[label] = round(insert_many(), 3)
                transaction.set_rollback(True)
        results["index_ms"] = round(results["with_index"] - results["without_index"], 3)
        return results

    def _disable_search_index(self) -> None:
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                for name in search.SQLITE_TRIGGERS:
                    cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
            elif connection.vendor == "postgresql":
                cursor.execute(
                    "ALTER TABLE gallery_image DISABLE TRIGGER gallery_image_search_vector"
                )
                cursor.execute("DROP INDEX gallery_image_search")
                cursor.execute("DROP INDEX gallery_image_search_bucketed")

    def _print(self, report: dict) -> None:
        load = " ".join(f"{n:.2f}" for n in report["load_average"])
        self.stdout.write(
            f"{report['database']}: {report['images']:,} images, {report['runs']} runs each, "
            f"load average {load}"
        )
        self.stdout.write(
            f"{'scenario':<34} {'view p50':>9} {'view p95':>9} {'query p50':>10} "
            f"{'query p95':>10} {'sql p50':>8} {'sql p95':>8} {'naive p50':>10} {'speedup':>8} "
            f"{'naive sql':>10} {'speedup':>8} {'rows':>5}"
        )
        for name, entry in report["scenarios"].items():
            naive = entry.get("naive_ms", {}).get("p50")
            naive_sql = entry.get("naive_sql_ms", {}).get("p50")
            self.stdout.write(
                f"{name:<34} {entry['view_ms']['p50']:>9.1f} {entry['view_ms']['p95']:>9.1f} "
                f"{entry['query_ms']['p50']:>10.2f} {entry['query_ms']['p95']:>10.2f} "
                f"{entry['sql_ms']['p50']:>8.2f} {entry['sql_ms']['p95']:>8.2f} "
                f"{(f'{naive:.1f}' if naive is not None else '-'):>10} "
                f"{(str(entry['speedup_p50']) + 'x' if naive is not None else '-'):>8} "
                f"{(f'{naive_sql:.1f}' if naive is not None else '-'):>10} "
                f"{(str(entry.get('sql_speedup_p50')) + 'x' if naive is not None else '-'):>8} "
                f"{entry['results_on_page']:>5}"
            )
        sizes = report["first_page_bytes"]
        self.stdout.write(
            f"first page: HTML {sizes['html'] / 1024:.0f} KiB, {sizes['tiles']} tiles; total "
            f"{sizes['total_1x'] / 1e6:.2f} MB at 1x, {sizes['total_2x'] / 1e6:.2f} MB at 2x; "
            f"average 2x thumbnail {sizes['average_thumbnail_2x'] / 1024:.1f} KiB"
        )
        cost = report["index_cost_per_insert_ms"]
        self.stdout.write(
            f"insert: {cost['with_index']:.2f} ms with the full-text index, "
            f"{cost['without_index']:.2f} ms without: index cost {cost['index_ms']:.2f} ms"
        )
        end = " ".join(f"{n:.2f}" for n in report["load_average_end"])
        self.stdout.write(f"load average at the end: {end}")
