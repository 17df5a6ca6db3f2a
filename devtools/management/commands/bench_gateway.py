"""Time the OpenAI-compatible endpoint with the official SDK against a private studio (web,
worker and stand-in as real processes, like the integration tests).

    STUDIO_DEV_TOOLS=true python manage.py bench_gateway [--parallel 50] [--latency 20]

Two phases, each on its own fresh studio:
1. Added latency at zero upstream latency: --runs sequential generations; for each, the
   client's wall time minus the upstream call's own time (the job's attempt record), so what
   remains is what the studio adds (queueing, the worker's claim, storing, C2PA, answering).
2. --parallel SDK calls at once against a stand-in that takes --latency seconds per call:
   the wall time until the last answer, and how many succeeded.
"""

import json
import secrets
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Time the OpenAI-compatible endpoint (/v1/) with the official SDK."

    def add_arguments(self, parser):
        parser.add_argument("--runs", type=int, default=30)
        parser.add_argument("--parallel", type=int, default=50)
        parser.add_argument("--latency", type=float, default=20.0)

    def handle(self, *args, runs: int, parallel: int, latency: float, **options):
        report = {"added_latency": self._added_latency(runs)}
        report["parallel"] = self._parallel(parallel, latency)
        self.stdout.write(json.dumps(report, indent=2))

    def _stack(self, folder: Path, latency: float, threads: int):
        from tests.stack import running_stack

        return running_stack(
            "embedded",
            folder,
            standin_latency=latency,
            concurrency=threads,
            web_workers=2,
            web_threads=threads,
            # One person sends everything: per-minute limits would refuse most of it.
            extra_env={"STUDIO_JOBS_PER_MINUTE": "0", "STUDIO_UPLOADS_PER_MINUTE": "0"},
        )

    def _client(self, stack):
        import openai

        script = (
            "import json; from django.contrib.auth import get_user_model; "
            "from gallery.gateway import tokens; "
            f"u = get_user_model().objects.create_user('bench{secrets.token_hex(3)}'); "
            "print(json.dumps(tokens.create_token(owner=u, name='bench', days=1)[1]))"
        )
        token = json.loads(stack.manage("shell", "-c", script).stdout.strip().splitlines()[-1])
        return openai.OpenAI(base_url=f"{stack.url}/v1", api_key=token, max_retries=0, timeout=600)

    def _added_latency(self, runs: int) -> dict:
        with tempfile.TemporaryDirectory() as folder, self._stack(Path(folder), 0.0, 8) as stack:
            client = self._client(stack)
            walls, jobs = [], []
            for i in range(runs + 2):
                started = time.perf_counter()
                raw = client.images.with_raw_response.generate(
                    prompt=f"bench {i}: a lighthouse", size="1024x1024", quality="low"
                )
                raw.parse()
                if i >= 2:  # the first calls warm up the processes
                    walls.append((time.perf_counter() - started) * 1000)
                    jobs.append(int(raw.headers["x-studio-job"]))
            script = (
                "import json; from gallery.models import Attempt; "
                f"print(json.dumps(dict(Attempt.objects.filter(job_id__in={jobs})"
                ".values_list('job_id', 'api_ms'))))"
            )
            api_ms = json.loads(stack.manage("shell", "-c", script).stdout.splitlines()[-1])
        added = sorted(
            wall - (api_ms.get(str(job)) or 0) for wall, job in zip(walls, jobs, strict=True)
        )
        return {
            "runs": runs,
            "wall_ms_p50": round(statistics.median(walls), 1),
            "upstream_ms_p50": round(statistics.median(v or 0 for v in api_ms.values()), 1),
            "added_ms_p50": round(statistics.median(added), 1),
            "added_ms_p95": round(added[int(0.95 * (len(added) - 1))], 1),
        }

    def _parallel(self, parallel: int, latency: float) -> dict:
        threads = max(parallel + 8, 16)
        with (
            tempfile.TemporaryDirectory() as folder,
            self._stack(Path(folder), latency, threads) as stack,
        ):
            client = self._client(stack)

            def one(i: int) -> bool:
                result = client.images.generate(
                    prompt=f"parallel {i}: a kite", size="1024x1024", quality="low"
                )
                return bool(result.data and result.data[0].b64_json)

            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=parallel) as pool:
                outcomes = list(pool.map(one, range(parallel)))
            wall = time.perf_counter() - started
        return {
            "calls": parallel,
            "upstream_latency_s": latency,
            "succeeded": sum(outcomes),
            "wall_s": round(wall, 2),
        }
