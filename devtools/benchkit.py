"""What the bench_jobs and chaos commands share: a private studio (its own var/ folder and
database, optionally PostgreSQL and Redis), the stand-in API and Celery workers as
subprocesses, and a sampler of the workers' memory."""

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


class Lab:
    """A throwaway studio. `postgres` is a server URL (a fresh database is created on it
    and dropped afterwards); `broker_url` any Celery broker URL (default: the embedded
    filesystem broker in the lab's own folder)."""

    def __init__(self, *, postgres: str = "", broker_url: str = "", env: dict | None = None):
        # SIGTERM ends the run through `finally`, so the lab's processes and database go too.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        self.dir = Path(tempfile.mkdtemp(prefix="studio-lab-"))
        self.database = ""
        self.postgres = postgres
        database_url = ""
        if postgres:
            self.database = f"studio_lab_{secrets.token_hex(4)}"
            self._admin_sql(f'CREATE DATABASE "{self.database}"')
            parts = urlsplit(postgres)
            database_url = urlunsplit(parts._replace(path=f"/{self.database}"))
        self.standin_port = free_port()
        self.env = {
            **{
                k: v
                for k, v in os.environ.items()
                if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL")
            },
            "DJANGO_SETTINGS_MODULE": "studio.settings",
            "STUDIO_VAR_DIR": str(self.dir),
            "STUDIO_STANDIN_PORT": str(self.standin_port),
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": broker_url,
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        self.processes: dict[str, subprocess.Popen] = {}

    def _admin_sql(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.postgres, autocommit=True) as conn:
            conn.execute(sql)

    def manage(self, *args: str, timeout: float = 3600) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"manage.py {' '.join(args)} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
            )
        return done.stdout

    def spawn(self, name: str, cmd: list[str]) -> subprocess.Popen:
        log = (self.dir / f"{name}.log").open("a")
        process = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes[name] = process
        return process

    def log(self, name: str) -> str:
        path = self.dir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def start_standin(self, *args: str) -> None:
        self.spawn(
            "standin",
            [sys.executable, "manage.py", "standin_api", "--port", str(self.standin_port), *args],
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.standin_control}/health", timeout=2).raise_for_status()
                return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError(f"the stand-in did not start:\n{self.log('standin')[-2000:]}")

    @property
    def standin_control(self) -> str:
        return f"http://127.0.0.1:{self.standin_port}/_standin"

    def configure_standin(self, **changes) -> None:
        httpx.post(f"{self.standin_control}/config", json=changes, timeout=10).raise_for_status()

    def start_worker(self, name: str, *, pool: str, concurrency: int) -> subprocess.Popen:
        cmd = [
            sys.executable, "-m", "celery", "-A", "studio", "worker",
            "--pool", pool, "--concurrency", str(concurrency), "--loglevel", "INFO",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
            "--hostname", f"{name}@%h",
        ]  # fmt: skip
        offset = len(self.log(name))
        process = self.spawn(name, cmd)
        deadline = time.monotonic() + 120
        while " ready." not in self.log(name)[offset:]:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker {name} did not start:\n{self.log(name)[-3000:]}")
            time.sleep(0.1)
        return process

    def stop(self, name: str, sig=signal.SIGTERM, timeout: float = 30) -> None:
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, sig)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def close(self, *, keep: bool = False) -> None:
        for name in list(self.processes):
            self.stop(name, timeout=10)
        if self.database:
            self._admin_sql(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        if not keep:
            shutil.rmtree(self.dir, ignore_errors=True)


class RSSSampler(threading.Thread):
    """Peak resident memory of a process and all its children (prefork workers are a
    parent and its pool), sampled from /proc every 0.2 s."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0
        self.cpu_seconds = 0.0
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            rss, cpu = tree_usage(self.pid)
            self.peak = max(self.peak, rss)
            self.cpu_seconds = max(self.cpu_seconds, cpu)
            self.stopping.wait(0.2)

    def stop(self) -> int:
        self.stopping.set()
        self.join()
        return self.peak


def tree_usage(pid: int) -> tuple[int, float]:
    """(resident bytes, CPU seconds used so far) of a process and its descendants."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    total, cpu, todo = 0, 0.0, [pid]
    tick = os.sysconf("SC_CLK_TCK")
    while todo:
        current = todo.pop()
        todo.extend(children.get(current, []))
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            # utime, stime, and the same for waited-for children (prefork's pool)
            cpu += sum(int(value) for value in fields[11:15]) / tick
        except (OSError, ValueError):
            pass
    return total, cpu


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def last_json_line(output: str) -> dict:
    return json.loads(output.strip().splitlines()[-1])


def start_redis(lab: Lab, port: int) -> None:
    """A private redis-server that keeps nothing on disk (a restart empties it, like this
    project's production Redis)."""
    import redis

    if shutil.which("redis-server") is None:
        raise RuntimeError("redis-server is not installed")
    lab.spawn(
        "redis",
        ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no",
         "--bind", "127.0.0.1"],
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while True:
        try:
            redis.Redis(port=port, socket_connect_timeout=1).ping()
            return
        except redis.RedisError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def start_s3(lab: Lab) -> dict:
    """A private S3 server (moto's server mode) with one bucket; returns the environment that
    points a studio's media at it."""
    import boto3

    port = free_port()
    lab.spawn("s3", [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)])
    endpoint = f"http://127.0.0.1:{port}"
    keys = {"aws_access_key_id": "bench", "aws_secret_access_key": "bench-secret"}
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **keys)
    deadline = time.monotonic() + 30
    while True:
        try:
            client.create_bucket(Bucket="bench-media")
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    return {
        "STUDIO_MEDIA_STORAGE": "s3",
        "STUDIO_S3_BUCKET": "bench-media",
        "STUDIO_S3_ENDPOINT_URL": endpoint,
        "STUDIO_S3_REGION": "us-east-1",
        "STUDIO_S3_ACCESS_KEY_ID": keys["aws_access_key_id"],
        "STUDIO_S3_SECRET_ACCESS_KEY": keys["aws_secret_access_key"],
    }
