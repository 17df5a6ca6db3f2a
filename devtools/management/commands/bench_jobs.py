import json
import os
import time
from datetime import datetime

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from devtools.benchkit import (
    Lab,
    RSSSampler,
    last_json_line,
    load_average,
    percentile,
    start_redis,
    start_s3,
)

MiB = 1024 * 1024


class Command(BaseCommand):
    help = (
        "Throughput benchmark: N jobs against the stand-in at a given latency on a private "
        "studio (its own database, broker, stand-in and worker), with the thread-pool worker "
        "and, in the same run, Celery's default prefork pool as the baseline. Prints wall "
        "time, images per second, peak worker RSS, and the studio's own overhead per job "
        "(queue -> API call, API response -> visible) with the stand-in at zero latency."
    )

    def add_arguments(self, parser):
        parser.add_argument("--jobs", type=int, default=200)
        parser.add_argument("--latency", type=float, default=20.0, help="stand-in seconds")
        parser.add_argument(
            "--concurrency", type=int, default=0, help="worker threads (default: --jobs)"
        )
        parser.add_argument(
            "--prefork-jobs",
            type=int,
            default=0,
            help="jobs for the prefork baseline (default: two rounds of its pool)",
        )
        parser.add_argument("--overhead-jobs", type=int, default=50)
        parser.add_argument("--postgres", default="", help="a PostgreSQL server URL")
        parser.add_argument("--broker-url", default="", help="e.g. redis://127.0.0.1:6379/7")
        parser.add_argument(
            "--redis-port", type=int, default=0, help="broker: a private redis-server on this port"
        )
        parser.add_argument("--skip-prefork", action="store_true")
        parser.add_argument(
            "--s3",
            action="store_true",
            help="also run the thread pool with media on a private S3 server (moto), "
            "beside the local-disk figure",
        )
        parser.add_argument("--keep", action="store_true", help="keep the lab folder")
        parser.add_argument("--phase", default="", help="internal: run one phase in a lab")
        parser.add_argument("--one-at-a-time", action="store_true", help="internal")

    def handle(self, *args, **options):
        if options["phase"]:
            self.stdout.write(json.dumps(run_phase(options)))
            return
        jobs, latency = options["jobs"], options["latency"]
        threads = options["concurrency"] or jobs
        cpus = os.cpu_count() or 1
        prefork_jobs = options["prefork_jobs"] or 2 * cpus
        if options["redis_port"]:
            options["broker_url"] = f"redis://127.0.0.1:{options['redis_port']}/0"
        lab = Lab(
            postgres=options["postgres"],
            broker_url=options["broker_url"],
            env={
                # Rate limits set high for the run, as the target says.
                "STUDIO_MAX_CONCURRENT_CALLS": "100000",
                "STUDIO_IMAGES_PER_MINUTE": "0",
            },
        )
        where = f"{'PostgreSQL' if options['postgres'] else 'SQLite'} + " + (
            options["broker_url"].split("://")[0] if options["broker_url"] else "filesystem broker"
        )
        say = self.stdout.write
        say(f"bench_jobs: {jobs} jobs at {latency:g} s stand-in latency on {where}")
        say("stand-in: unsigned, one cached picture, so its own CPU cost stays out of the figures")
        say(f"load average at start: {load_average()} ({cpus} cores)")
        try:
            if options["redis_port"]:
                start_redis(lab, options["redis_port"])
            lab.manage("migrate", "--noinput")
            lab.start_standin("--latency", str(latency), "--no-sign")

            worker = lab.start_worker("threads", pool="threads", concurrency=threads)
            result = measure(lab, worker, "threads", jobs)
            say(report(f"threads pool, {threads} threads", jobs, result))

            lab.configure_standin(latency=0)
            overhead = last_json_line(
                lab.manage(
                    "bench_jobs",
                    "--phase",
                    "overhead",
                    "--jobs",
                    str(options["overhead_jobs"]),
                    "--one-at-a-time",
                )
            )
            lab.stop("threads")
            say(
                f"studio overhead per job at zero latency ({options['overhead_jobs']} jobs, "
                "one at a time):"
            )
            for key, label in [
                ("queue_to_call", "queue -> API call"),
                ("response_to_visible", "API response -> visible"),
                ("total", "total"),
            ]:
                values = overhead[key]
                say(
                    f"  {label:26} p50 {percentile(values, 0.5):6.1f} ms   "
                    f"p95 {percentile(values, 0.95):6.1f} ms"
                )

            if not options["skip_prefork"]:
                lab.configure_standin(latency=latency)
                worker = lab.start_worker("prefork", pool="prefork", concurrency=cpus)
                baseline = measure(lab, worker, "prefork", prefork_jobs)
                say(report(f"prefork pool, {cpus} processes (Celery's default)", prefork_jobs,
                           baseline))  # fmt: skip
                lab.stop("prefork")
                ratio = result["images_per_s"] / baseline["images_per_s"]
                say(f"threads pool vs prefork: {ratio:.1f}x the throughput")
            if options["s3"]:
                lab.configure_standin(latency=latency)
                lab.env.update(start_s3(lab))
                worker = lab.start_worker("threads-s3", pool="threads", concurrency=threads)
                on_s3 = measure(lab, worker, "threads-s3", jobs)
                say(report(f"threads pool, {threads} threads, media on S3 (moto)", jobs, on_s3))
                lab.stop("threads-s3")
                say(
                    f"media on S3 vs local disk: {on_s3['images_per_s']:.2f} vs "
                    f"{result['images_per_s']:.2f} images/s"
                )
            say(f"load average at end: {load_average()}")
        finally:
            lab.close(keep=options["keep"])


def measure(lab: Lab, worker, tag: str, jobs: int) -> dict:
    sampler = RSSSampler(worker.pid)
    sampler.start()
    time.sleep(0.5)
    cpu_before = sampler.cpu_seconds
    try:
        result = last_json_line(lab.manage("bench_jobs", "--phase", tag, "--jobs", str(jobs)))
    finally:
        peak = sampler.stop()
    result["peak_rss"] = peak
    result["cpu_per_job_ms"] = (sampler.cpu_seconds - cpu_before) / jobs * 1000
    return result


def report(label: str, jobs: int, result: dict) -> str:
    return (
        f"{label}: {jobs} jobs, {result['succeeded']} succeeded, {result['images']} images in "
        f"{result['wall']:.1f} s = {result['images_per_s']:.2f} images/s; "
        f"peak worker RSS {result['peak_rss'] / MiB:.0f} MiB; worker CPU "
        f"{result['cpu_per_job_ms']:.0f} ms per job"
    )


def run_phase(options) -> dict:
    """Inside the lab: queue the jobs, wait for all to finish, and measure."""
    from gallery import jobs, tasks
    from gallery.models import Attempt, Image, Job

    owner, _ = get_user_model().objects.get_or_create(username=f"bench-{options['phase']}")

    def new_job(i: int):
        return jobs.create_job(
            owner=owner,
            # One prompt for all: the stand-in renders it once and, unsigned, answers at
            # almost no CPU cost of its own, so the figures measure the studio.
            prompt="benchmark: a lighthouse at dusk",
            model="gpt-image-1",
            size="1024x1024",
            quality="low",
        )

    started = time.time()
    ids = []
    if options["one_at_a_time"]:
        for i in range(options["jobs"]):
            job = new_job(i)
            tasks.run_job.delay(job.pk)
            ids.append(job.pk)
            wait_for(Job.objects.filter(pk=job.pk))
    else:
        with transaction.atomic():
            ids = [new_job(i).pk for i in range(options["jobs"])]
        for pk in ids:
            tasks.run_job.delay(pk)
        wait_for(Job.objects.filter(pk__in=ids))
    done = list(Job.objects.filter(pk__in=ids))
    finished = max(_finished_at(job) for job in done).timestamp()
    images = Image.objects.filter(job_id__in=ids).count()
    queue_to_call, response_to_visible = [], []
    attempts = {a.job_id: a for a in Attempt.objects.filter(job_id__in=ids).order_by("number")}
    for job in done:
        attempt = attempts[job.pk]
        called = attempt.started_at.timestamp()
        answered = called + (attempt.api_ms or 0) / 1000
        queue_to_call.append((called - job.created_at.timestamp()) * 1000)
        response_to_visible.append((_finished_at(job).timestamp() - answered) * 1000)
    return {
        "succeeded": sum(job.status == Job.Status.SUCCEEDED for job in done),
        "images": images,
        "wall": finished - started,
        "images_per_s": images / (finished - started),
        "queue_to_call": queue_to_call,
        "response_to_visible": response_to_visible,
        "total": [a + b for a, b in zip(queue_to_call, response_to_visible, strict=True)],
    }


def _finished_at(job) -> datetime:
    """When a job finished; wait_for() returned, so every job has."""
    assert job.finished_at is not None
    return job.finished_at


def wait_for(jobs, timeout: float = 3600) -> None:
    deadline = time.monotonic() + timeout
    while jobs.unfinished().exists():
        if time.monotonic() > deadline:
            raise RuntimeError("jobs did not finish in time")
        time.sleep(0.02)
