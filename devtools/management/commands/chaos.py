import json
import random
import re
import signal
import time
from collections import Counter

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Count

from devtools.benchkit import Lab, last_json_line, load_average, start_redis
from gallery.imagesapi.standin import faults

# `hang` needs a short client timeout to end; the lab sets one (see ENV).
FAULTS = [name for name in faults.FAULTS if name != "stream_cut"]
# Short leases so killed workers' jobs come back within seconds; and, since a worker dies
# every few seconds here, a job may lose its worker many times before it fails for it.
ENV = {
    "STUDIO_JOB_LEASE_SECONDS": "12",
    "STUDIO_DOORBELL_SECONDS": "3",
    "STUDIO_JOB_MAX_LOSSES": "20",
    "STUDIO_RETRY_BASE_DELAY": "0.5",
    "STUDIO_RETRY_MAX_DELAY": "4",
    "STUDIO_API_READ_TIMEOUT": "20",
    "STUDIO_MAX_CONCURRENT_CALLS": "100000",
    "STUDIO_IMAGES_PER_MINUTE": "0",
    "STUDIO_LOG_LEVEL": "WARNING",
}


class Command(BaseCommand):
    help = (
        "Chaos run on a private studio: N jobs from several people while worker processes "
        "are killed with SIGKILL at random, the broker is restarted empty, and the stand-in "
        "injects a mix of every fault. Prints submitted, succeeded, failed by reason, lost "
        "and duplicated (both must be 0), and exits 1 otherwise."
    )

    def add_arguments(self, parser):
        parser.add_argument("--jobs", type=int, default=500)
        parser.add_argument("--kill-every", type=float, default=10.0, help="seconds")
        parser.add_argument("--broker-restarts", type=int, default=2)
        parser.add_argument("--fault-rate", type=float, default=0.2)
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--latency", type=float, default=2.0, help="stand-in seconds")
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--concurrency", type=int, default=100, help="threads per worker")
        parser.add_argument("--people", type=int, default=5)
        parser.add_argument("--postgres", default="", help="a PostgreSQL server URL")
        parser.add_argument(
            "--redis-port",
            type=int,
            default=0,
            help="use Redis as the broker: a private redis-server on this port (0: embedded)",
        )
        parser.add_argument("--timeout", type=float, default=1200.0)
        parser.add_argument("--keep", action="store_true")
        parser.add_argument("--phase", default="", help="internal")

    def handle(self, *args, **options):
        if options["phase"] == "submit":
            self.stdout.write(json.dumps(submit(options["jobs"], options["people"])))
            return
        if options["phase"] == "progress":
            self.stdout.write(json.dumps(progress()))
            return
        if options["phase"] == "report":
            self.stdout.write(json.dumps(report()))
            return
        self.run(options)

    def run(self, options):
        say = self.stdout.write
        rng = random.Random(options["seed"])
        redis_port = options["redis_port"]
        broker_url = f"redis://127.0.0.1:{redis_port}/0" if redis_port else ""
        lab = Lab(postgres=options["postgres"], broker_url=broker_url, env=ENV)
        where = ("PostgreSQL" if options["postgres"] else "SQLite") + (
            f" + private Redis on port {redis_port}" if redis_port else " + filesystem broker"
        )
        say(
            f"chaos: {options['jobs']} jobs, SIGKILL a worker every {options['kill_every']:g} s, "
            f"{options['broker_restarts']} broker restarts, {options['fault_rate']:.0%} faults, "
            f"seed {options['seed']}, on {where}"
        )
        say(f"load average at start: {load_average()}")
        kills = restarts = 0
        try:
            if redis_port:
                start_redis(lab, redis_port)
            lab.manage("migrate", "--noinput")
            lab.start_standin(
                "--latency", str(options["latency"]), "--jitter", str(options["latency"] / 2),
                "--faults", ",".join(FAULTS), "--fault-rate", str(options["fault_rate"]),
                "--seed", str(options["seed"]), "--hang-seconds", "25", "--slow-seconds", "3",
                "--retry-after", "1", "--no-sign",
            )  # fmt: skip
            workers = [f"worker{i}" for i in range(options["workers"])]
            for name in workers:
                lab.start_worker(name, pool="threads", concurrency=options["concurrency"])
            submitted = last_json_line(
                lab.manage(
                    "chaos",
                    "--phase",
                    "submit",
                    "--jobs",
                    str(options["jobs"]),
                    "--people",
                    str(options["people"]),
                )  # fmt: skip
            )["submitted"]
            started = time.monotonic()
            next_kill = started + options["kill_every"]
            restart_every = 15.0
            next_restart = started + restart_every
            next_look = started
            while True:
                now = time.monotonic()
                if now > started + options["timeout"]:
                    say("timed out waiting for the jobs; counting what is left as lost")
                    break
                if now >= next_kill:
                    victim = rng.choice(workers)
                    lab.stop(victim, sig=signal.SIGKILL)
                    lab.start_worker(victim, pool="threads", concurrency=options["concurrency"])
                    kills += 1
                    next_kill = time.monotonic() + options["kill_every"]
                if restarts < options["broker_restarts"] and now >= next_restart:
                    restart_broker(lab, redis_port)
                    restarts += 1
                    next_restart = time.monotonic() + restart_every
                if now >= next_look:
                    state = last_json_line(lab.manage("chaos", "--phase", "progress"))
                    say(f"  {now - started:6.0f} s: {state}")
                    if not state["unfinished"] and restarts >= options["broker_restarts"]:
                        break
                    next_look = time.monotonic() + 5
                time.sleep(0.2)
            elapsed = time.monotonic() - started
            for name in workers:
                lab.stop(name)
            result = last_json_line(lab.manage("chaos", "--phase", "report"))
            check = lab_check_gallery(lab)
        finally:
            lab.close(keep=options["keep"])
        say(f"elapsed {elapsed:.0f} s; {kills} workers killed; {restarts} broker restarts")
        say(f"submitted:  {submitted}")
        say(f"succeeded:  {result['succeeded']}")
        say(f"failed:     {result['failed']}")
        for reason, count in sorted(result["failed_by_reason"].items(), key=lambda x: -x[1]):
            say(f"  {count:4}  {reason}")
        say(f"canceled:   {result['canceled']}")
        say(f"lost:       {result['lost']}  (unfinished, or finished without its images)")
        say(f"duplicated: {result['duplicated']}  (more images stored than asked for)")
        say(f"unreadable failure reasons: {result['unreadable']}")
        say(f"check_gallery: {check}")
        say(f"load average at end: {load_average()}")
        if result["lost"] or result["duplicated"] or result["unreadable"]:
            raise CommandError("chaos found lost, duplicated or unexplained jobs")


def restart_broker(lab: Lab, redis_port: int) -> None:
    """Restart the broker the way a crash does: everything it held is gone."""
    if redis_port:
        lab.stop("redis", sig=signal.SIGKILL)
        start_redis(lab, redis_port)
        return
    queue = lab.dir / "broker" / "queue"
    for message in queue.glob("*.msg"):
        message.unlink(missing_ok=True)


def lab_check_gallery(lab: Lab) -> str:
    """check_gallery's findings; files a SIGKILL left half-written are expected here, and
    --repair must clear them."""
    try:
        return lab.manage("check_gallery").strip().splitlines()[-1]
    except RuntimeError as error:
        findings = [line for line in str(error).splitlines() if ": " in line][-6:]
        repaired = lab.manage("check_gallery", "--repair").strip().splitlines()[-1]
        return "\n  ".join(["found:", *findings, f"after --repair: {repaired}"])


def submit(count: int, people: int) -> dict:
    from gallery import jobs, tasks

    owners = [
        get_user_model().objects.get_or_create(username=f"chaos-{i}")[0] for i in range(people)
    ]
    with transaction.atomic():
        ids = [
            jobs.create_job(
                owner=owners[i % people],
                prompt=f"chaos job {i}: a lighthouse in a storm",
                model="gpt-image-1",
                size="1024x1024",
                quality="low",
                n=1 + (i % 3 == 0),
            ).pk
            for i in range(count)
        ]
    for pk in ids:
        tasks.run_job.delay(pk)
    return {"submitted": len(ids)}


def progress() -> dict:
    from gallery.models import Job

    counts: Counter[str] = Counter(
        dict(Job.objects.values_list("status").annotate(jobs=Count("id")).order_by())
    )
    return {
        "unfinished": counts["queued"] + counts["running"],
        **{status: counts[status] for status in ("queued", "running", "succeeded", "failed")},
    }


def report() -> dict:
    from gallery.models import Image, Job

    images = dict(
        Image.objects.filter(job__isnull=False)
        .values_list("job_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    result: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    unreadable = 0
    for job in Job.objects.only("pk", "status", "params", "error", "error_code"):
        stored = images.get(job.pk, 0)
        if stored > job.n:
            result["duplicated"] += 1
        if job.status in (Job.Status.QUEUED, Job.Status.RUNNING):
            result["lost"] += 1
        elif job.status == Job.Status.SUCCEEDED:
            result["succeeded"] += 1
            if stored != job.n:
                result["lost"] += 1
        elif job.status == Job.Status.FAILED:
            result["failed"] += 1
            reasons[reason(job)] += 1
            if len(job.error) < 20 or "Traceback" in job.error:
                unreadable += 1
        else:
            result["canceled"] += 1
    return {
        **{key: result[key] for key in ("succeeded", "failed", "canceled", "lost", "duplicated")},
        "failed_by_reason": dict(reasons),
        "unreadable": unreadable,
    }


def reason(job) -> str:
    text = job.error.split(". ", 1)[0] if not job.error.startswith("Gave up") else job.error
    text = re.sub(r"\s*\(request id: \w+\)", "", text.replace("\n", " "))
    return f"{job.error_code or '-'}: {text[:110]}"
