"""Two worker hosts and a web host, each a process with its own var/ folder and nothing shared
but PostgreSQL, Redis and an S3 server (moto, started here): 100 jobs across them, one worker
host SIGKILLed mid-run. Nothing is lost, nothing duplicated, and the web host sends every image
exactly as stored. The counts are printed (pytest -s)."""

import hashlib
import os
import signal
import time

import psycopg
import pytest

from tests.integration.test_s3_media import KEYS
from tests.stack import Browser, Stack, free_port, running_stack

pytestmark = pytest.mark.integration

JOBS = 100

_QUEUE_JOBS = f"""
from django.contrib.auth import get_user_model
from gallery import jobs, tasks
owner, _ = get_user_model().objects.get_or_create(username="two-hosts")
for i in range({JOBS}):
    job = jobs.create_job(owner=owner, prompt=f"two hosts, job {{i}}: a tern", model="gpt-image-1",
                          size="1024x1024", quality="low", visibility="shared")
    tasks.run_job.delay(job.pk)
"""


@pytest.fixture(scope="module")
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def test_two_worker_hosts_one_killed_lose_and_duplicate_nothing(tmp_path, s3_endpoint, request):
    import boto3

    bucket = "two-hosts"
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", **KEYS).create_bucket(
        Bucket=bucket
    )
    shared = {
        "STUDIO_MEDIA_STORAGE": "s3",
        "STUDIO_S3_BUCKET": bucket,
        "STUDIO_S3_ENDPOINT_URL": s3_endpoint,
        "STUDIO_S3_REGION": "us-east-1",
        "STUDIO_S3_ACCESS_KEY_ID": KEYS["aws_access_key_id"],
        "STUDIO_S3_SECRET_ACCESS_KEY": KEYS["aws_secret_access_key"],
        # A dead host's jobs come back within seconds rather than a minute.
        "STUDIO_JOB_LEASE_SECONDS": "4",
        "STUDIO_DOORBELL_SECONDS": "2",
    }
    with running_stack(
        "postgresql+redis", tmp_path / "web", standin_latency=1.5, extra_env=shared
    ) as web:
        # The web host runs no worker of its own.
        own = web.processes.pop("worker")
        own.terminate()
        own.wait(timeout=30)
        hosts = {}
        for name in ("host-a", "host-b"):
            host = Stack(
                tmp_path / name,
                database_url=web.env["DATABASE_URL"],
                broker_url=web.env["CELERY_BROKER_URL"],
                extra_env={**shared, "STUDIO_STANDIN_PORT": str(web.standin_port)},
            )
            host.var_dir.mkdir()
            # Stopped however the test ends: a surviving worker host left running would take
            # later tests' messages from the same Redis database.
            request.addfinalizer(host.stop)
            host.start_worker(name)
            hosts[name] = host
        database = web.env["DATABASE_URL"]

        def counts() -> dict[str, int]:
            with psycopg.connect(database) as db:
                rows = db.execute("select status, count(*) from gallery_job group by status")
                return dict(rows.fetchall())

        web.manage("shell", "-c", _QUEUE_JOBS)
        deadline = time.monotonic() + 120
        while counts().get("succeeded", 0) < 20:
            assert time.monotonic() < deadline, counts()
            time.sleep(0.1)
        victim = hosts["host-a"].processes["host-a"]
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait()
        at_kill = counts()

        deadline = time.monotonic() + 300
        while counts().get("queued", 0) + counts().get("running", 0):
            assert time.monotonic() < deadline, f"jobs never finished: {counts()}"
            time.sleep(0.5)

        with psycopg.connect(database) as db:
            final = counts()
            images = db.execute(
                "select id, sha256, file, thumbnail_small from gallery_image"
            ).fetchall()
            per_job = db.execute(
                "select job_id, count(*) from gallery_image group by job_id having count(*) > 1"
            ).fetchall()
            recovered = db.execute("select count(*) from gallery_job where losses > 0").fetchone()
            lost_calls = db.execute(
                "select count(*) from gallery_attempt where outcome = 'worker_lost'"
            ).fetchone()
            survivors = db.execute(
                "select count(*) from gallery_job where lease_holder like %s",
                [f"%:{hosts['host-b'].processes['host-b'].pid}:%"],
            ).fetchone()

        browser = Browser(web.url)
        browser.signup("reader")
        readable = 0
        for image_id, sha256, _file, _thumb in images:
            original = browser.client.get(f"/images/{image_id}/original")
            thumb = browser.client.get(f"/images/{image_id}/thumbnail/256.webp")
            if (
                original.status_code == 200
                and hashlib.sha256(original.content).hexdigest() == sha256
                and thumb.status_code == 200
                and thumb.content[:4] == b"RIFF"
            ):
                readable += 1

        lost = JOBS - final.get("succeeded", 0) - final.get("failed", 0)
        print(
            f"\ntwo hosts: {JOBS} jobs; at the kill {at_kill}; final {final}; "
            f"lost {lost}, duplicated {len(per_job)}; {len(images)} images, {readable} readable "
            f"from the web host; {recovered[0]} jobs taken over after the kill "
            f"({lost_calls[0]} calls cut off), {survivors[0]} finished by host-b"
        )
        assert final == {"succeeded": JOBS}
        assert per_job == []
        assert len(images) == JOBS
        assert readable == JOBS
        assert at_kill.get("succeeded", 0) < JOBS  # the kill really came mid-run
