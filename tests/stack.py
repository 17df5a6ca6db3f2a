"""Start the real studio in subprocesses for integration and browser tests: the stand-in
image API, a Celery worker and the web server (gunicorn), on free ports, with their own
var/ folder and, optionally, PostgreSQL and Redis."""

import os
import secrets
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
# Lets the tests read /healthz's details, as a monitoring system would.
HEALTH_TOKEN = secrets.token_urlsafe(16)
HEALTH_HEADERS = {"Authorization": f"Bearer {HEALTH_TOKEN}"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Stack:
    def __init__(
        self,
        var_dir: Path,
        *,
        database_url: str = "",
        broker_url: str = "",
        standin_latency: float = 0.0,
        standin_args: tuple[str, ...] = (),
        concurrency: int = 8,
        web_workers: int = 1,
        web_threads: int = 8,
        extra_env: dict | None = None,
    ):
        self.var_dir = var_dir
        self.web_port = free_port()
        self.standin_port = free_port()
        self.url = f"http://127.0.0.1:{self.web_port}"
        self.standin_url = f"http://127.0.0.1:{self.standin_port}"
        self.env = {
            **{
                k: v
                for k, v in os.environ.items()
                if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL")
            },
            "DJANGO_SETTINGS_MODULE": "studio.settings",
            "STUDIO_VAR_DIR": str(var_dir),
            "STUDIO_STANDIN_PORT": str(self.standin_port),
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": broker_url,
            "STUDIO_HEALTH_TOKEN": HEALTH_TOKEN,
            "STUDIO_RETRY_BASE_DELAY": "0.2",
            "STUDIO_RETRY_MAX_DELAY": "1",
            "PYTHONUNBUFFERED": "1",
            **(extra_env or {}),
        }
        self.standin_latency = standin_latency
        self.standin_args = standin_args
        self.concurrency = concurrency
        self.web_workers, self.web_threads = web_workers, web_threads
        self.processes: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, Path] = {}

    def manage(
        self, *args: str, check: bool = True, timeout: float = 120
    ) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=check,
        )

    def _spawn(self, name: str, cmd: list[str]) -> None:
        log = self.var_dir / f"{name}.log"
        self.logs[name] = log
        self.processes[name] = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=self.env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start(self) -> "Stack":
        self.var_dir.mkdir(parents=True, exist_ok=True)
        self.manage("migrate", "--noinput")
        self._spawn(
            "standin",
            [
                sys.executable,
                "manage.py",
                "standin_api",
                "--port",
                str(self.standin_port),
                "--latency",
                str(self.standin_latency),
                *self.standin_args,
            ],
        )
        self.start_worker()
        self._spawn(
            "web",
            [
                sys.executable,
                "-m",
                "gunicorn",
                "studio.wsgi",
                "--bind",
                f"127.0.0.1:{self.web_port}",
                "--worker-class",
                "gthread",
                "--threads",
                str(self.web_threads),
                "--workers",
                str(self.web_workers),
            ],
        )
        self.wait_until_healthy()
        return self

    def start_worker(self, name: str = "worker") -> None:
        from gallery.management.commands.run_studio import worker_command

        self._spawn(name, [*worker_command(self.concurrency), "--hostname", f"{name}@%h"])

    def wait_until_healthy(self, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        report: dict = {}
        while time.monotonic() < deadline:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise RuntimeError(
                        f"{name} exited early:\n{self.logs[name].read_text()[-3000:]}"
                    )
            try:
                response = httpx.get(f"{self.url}/healthz", headers=HEALTH_HEADERS, timeout=5)
                report = response.json()
                if report.get("ok"):
                    return report
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(0.3)
        raise RuntimeError(f"studio not healthy after {timeout} s: {report}\n{self.tail()}")

    def tail(self) -> str:
        return "\n".join(
            f"--- {name}\n{log.read_text()[-2000:]}"
            for name, log in self.logs.items()
            if log.exists()
        )

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


class Browser:
    """A signed-in httpx session against a running stack, the way a form-posting browser
    without JavaScript would use it."""

    def __init__(self, base_url: str):
        self.client = httpx.Client(base_url=base_url, timeout=30, follow_redirects=True)

    def csrf(self, path: str) -> str:
        response = self.client.get(path)
        response.raise_for_status()
        return self.client.cookies["csrftoken"]

    def signup(self, username: str, password: str = "a-long-pass-phrase-9") -> None:
        token = self.csrf("/accounts/signup/")
        response = self.client.post(
            "/accounts/signup/",
            data={
                "username": username,
                "password1": password,
                "password2": password,
                "csrfmiddlewaretoken": token,
            },
        )
        response.raise_for_status()
        assert "Sign out" in response.text, response.text[:2000]


@contextmanager
def running_stack(kind: str, folder: Path, **options):
    """A started Stack on the embedded default (kind "embedded") or on a fresh PostgreSQL
    database and a Redis database of its own (kind "postgresql+redis"; skips the test with
    a clear message where either is not running). Dropped and stopped afterwards."""
    from tests.helpers import postgres_url, redis_url

    database = None
    if kind == "postgresql+redis":
        pg, rd = postgres_url(), redis_url()
        if not (pg and rd):
            pytest.skip("PostgreSQL (127.0.0.1:5432) or Redis (127.0.0.1:6379) is not running")
        database = f"studio_it_{secrets.token_hex(4)}"
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", database], check=True)
        options |= {
            "database_url": f"{pg}{database}",
            "broker_url": f"{rd}{secrets.randbelow(15) + 1}",
        }
    stack = Stack(folder, **options)
    try:
        yield stack.start()
    finally:
        stack.stop()
        if database:
            subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--force", database])
