"""`manage.py run_studio` for real, as `make run` starts it: it says the studio is ready only
once the web answers, restarts a worker, web server or stand-in that was SIGKILLed (the
restarted worker runs jobs again), and SIGINT stops everything, leaving no process behind.
The restart times are printed (pytest -s), never asserted."""

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from gallery.management.commands.run_studio import backoff
from tests.stack import ROOT, free_port

pytestmark = pytest.mark.integration


def test_backoff_doubles_up_to_its_cap():
    assert [backoff(n) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]


class Studio:
    def __init__(self, var_dir: Path):
        self.var_dir = var_dir
        self.port, self.standin_port = free_port(), free_port()
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "DATABASE"))},
            "DJANGO_SETTINGS_MODULE": "studio.settings",
            "STUDIO_VAR_DIR": str(var_dir),
            "STUDIO_PORT": str(self.port),
            "STUDIO_STANDIN_PORT": str(self.standin_port),
            "STUDIO_STANDIN_LATENCY": "0",
            "STUDIO_WORKER_CONCURRENCY": "4",
            "CELERY_BROKER_URL": "",
            "PYTHONUNBUFFERED": "1",
        }
        self.log = var_dir / "run_studio.log"

    def manage(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=180,
            check=True,
        )

    def start(self) -> None:
        self.manage("migrate", "--noinput")
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "run_studio"],
            cwd=ROOT,
            env=self.env,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output(self) -> str:
        return self.log.read_text()

    def wait_for(self, what, timeout: float = 90):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = what()
            if found:
                return found
            assert self.process.poll() is None, f"run_studio exited:\n{self.output()[-4000:]}"
            time.sleep(0.1)
        raise AssertionError(f"gave up after {timeout} s waiting; output:\n{self.output()[-4000:]}")

    def pids(self, name: str) -> list[int]:
        return [int(p) for p in re.findall(rf"started {name} \(pid (\d+)\)", self.output())]

    def answers(self, port: int = 0, path: str = "/accounts/login/") -> bool:
        try:
            httpx.get(f"http://127.0.0.1:{port or self.port}{path}", timeout=2)
        except httpx.HTTPError:
            return False
        return True

    def heartbeat_after(self, moment: datetime) -> bool:
        with sqlite3.connect(self.var_dir / "studio.sqlite3") as db:
            rows = db.execute("select seen_at from gallery_workerheartbeat").fetchall()
        # Django keeps SQLite datetimes as naive UTC text.
        return any(datetime.fromisoformat(seen) > moment for (seen,) in rows)

    def processes_left(self) -> list[str]:
        """Every process on the machine whose environment names this studio's var folder
        (the supervisor, gunicorn's master and workers, celery, the stand-in)."""
        marker = f"STUDIO_VAR_DIR={self.var_dir}".encode()
        left = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                environ = Path(f"/proc/{pid}/environ").read_bytes()
                status = Path(f"/proc/{pid}/stat").read_text().split()[2]
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
            if marker in environ.split(b"\0") and status != "Z":
                left.append(f"{pid}: {cmdline.decode(errors='replace')}")
        return left


def now_utc() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_run_studio_restarts_crashed_processes_and_stops_cleanly(tmp_path):
    studio = Studio(tmp_path)
    studio.start()
    try:
        studio.wait_for(lambda: "Studio is ready at" in studio.output(), timeout=120)
        # "ready" is printed only once the web answers.
        assert studio.answers()
        assert f"http://127.0.0.1:{studio.port}/" in studio.output()
        studio.wait_for(lambda: studio.heartbeat_after(datetime(2000, 1, 1)))

        # A SIGKILLed worker is logged and restarted, and the new one beats and runs jobs.
        [worker] = studio.pids("worker")
        killed = time.monotonic()
        killed_at = now_utc()
        os.kill(worker, signal.SIGKILL)
        new_worker = studio.wait_for(lambda: (p := studio.pids("worker")[1:]) and p[0])
        restarted = time.monotonic() - killed
        studio.wait_for(lambda: studio.heartbeat_after(killed_at))
        beating = time.monotonic() - killed
        assert new_worker != worker
        assert re.search(rf"worker \(pid {worker}\) was killed by SIGKILL", studio.output())
        done = studio.manage("generate", "a kestrel hovering", "--wait", "--timeout", "120")
        assert "originals/" in done.stdout, done.stdout + done.stderr
        print(f"\nworker: new pid {restarted:.1f} s after SIGKILL, heartbeat at {beating:.1f} s")

        # A SIGKILLed web server comes back and answers.
        [web] = studio.pids("web")
        killed = time.monotonic()
        os.kill(web, signal.SIGKILL)
        new_web = studio.wait_for(lambda: (p := studio.pids("web")[1:]) and p[0])
        assert new_web != web
        assert re.search(rf"web \(pid {web}\) was killed by SIGKILL", studio.output())
        studio.wait_for(lambda: studio.answers() and os.kill(new_web, 0) is None)
        print(f"web: answering again {time.monotonic() - killed:.1f} s after SIGKILL")

        # So does the stand-in image API.
        [standin] = studio.pids("standin")
        killed = time.monotonic()
        os.kill(standin, signal.SIGKILL)
        new_standin = studio.wait_for(lambda: (p := studio.pids("standin")[1:]) and p[0])
        assert new_standin != standin
        studio.wait_for(lambda: studio.answers(studio.standin_port, "/v1/models"))
        print(f"stand-in: answering again {time.monotonic() - killed:.1f} s after SIGKILL")

        # Ctrl+C stops everything and leaves nothing running.
        studio.process.send_signal(signal.SIGINT)
        assert studio.process.wait(timeout=60) == 0, studio.output()[-4000:]
        deadline = time.monotonic() + 10
        while studio.processes_left() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert studio.processes_left() == []
        assert not studio.answers()
    finally:
        if studio.process.poll() is None:
            os.killpg(studio.process.pid, signal.SIGKILL)
