import ctypes
import logging
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field

import httpx
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

log = logging.getLogger("studio.supervisor")

# Restart delays after a crash: 1 s, 2 s, 4 s ... up to 30 s while a process keeps crashing;
# a process that stayed up STABLE_SECONDS starts again from 1 s the next time it dies.
BACKOFF_FIRST = 1.0
BACKOFF_MAX = 30.0
STABLE_SECONDS = 30.0
STOP_GRACE_SECONDS = 15.0


def backoff(crashes: int) -> float:
    """Seconds to wait before the restart that follows `crashes` crashes in a row (1, 2, ...)."""
    return min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** max(0, crashes - 1))


class Command(BaseCommand):
    help = (
        "Start the whole studio in the foreground: the web server, a Celery worker and, "
        "when OPENAI_API_KEY is unset, the offline stand-in image API. A process that crashes "
        "is restarted with backoff; Ctrl+C stops all."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default=settings.STUDIO_HOST)
        parser.add_argument("--port", type=int, default=settings.STUDIO_PORT)
        parser.add_argument(
            "--concurrency",
            type=int,
            default=settings.STUDIO_WORKER_CONCURRENCY,
            help="API calls one worker keeps in flight (threads)",
        )

    def handle(self, *args, **options):
        host, port = options["host"], options["port"]
        _refuse_busy_port(host, port, "the web server", "make run PORT=8002")
        commands = {"web": web_command(host, port)}
        commands["worker"] = worker_command(options["concurrency"])
        if settings.USING_STANDIN:
            _refuse_busy_port(
                "127.0.0.1",
                settings.STUDIO_STANDIN_PORT,
                "the stand-in API",
                "make run STANDIN_PORT=8003",
            )
            commands["standin"] = [
                sys.executable,
                "manage.py",
                "standin_api",
                "--port",
                str(settings.STUDIO_STANDIN_PORT),
                "--latency",
                str(settings.STUDIO_STANDIN_LATENCY),
            ]
        url = f"http://{host}:{port}/"
        # The sign-in page: any visitor gets it, and it needs the database but not a worker.
        probe = (
            f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}{reverse('login')}"
        )
        self.stdout.write(f"Studio is starting at {url} ...")
        if settings.USING_STANDIN:
            self.stdout.write("No OPENAI_API_KEY: images come from the offline stand-in API.")
        supervisor = Supervisor(commands)

        def on_ready():
            self.stdout.write(self.style.SUCCESS(f"Studio is ready at {url}"))

        supervisor.run(ready_url=probe, on_ready=on_ready)


@dataclass
class Supervised:
    name: str
    command: list[str]
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    crashes: int = 0
    restart_at: float = field(default=0.0)


class Supervisor:
    """Keeps each process running until told to stop: a process that exits is logged and
    started again after a backoff; SIGINT or SIGTERM stops every process and returns."""

    def __init__(self, commands: dict[str, list[str]]):
        self.children = [Supervised(name, command) for name, command in commands.items()]
        self.stopping = False

    def run(self, *, ready_url: str, on_ready) -> None:
        def stop(signum, _frame):
            if self.stopping:  # a second Ctrl+C: stop waiting for a clean shutdown
                self._kill_all()
            self.stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            for child in self.children:
                self._start(child)
            ready = False
            while not self.stopping:
                for child in self.children:
                    self._watch(child)
                if not ready and _answers(ready_url):
                    ready = True
                    on_ready()
                time.sleep(0.2 if ready else 0.1)
        finally:
            self._stop_all()

    def _start(self, child: Supervised) -> None:
        child.process = subprocess.Popen(child.command, preexec_fn=_die_with_parent)
        child.started_at = time.monotonic()
        log.info("started %s (pid %d)", child.name, child.process.pid)

    def _watch(self, child: Supervised) -> None:
        now = time.monotonic()
        if child.process is None:
            if now >= child.restart_at and not self.stopping:
                self._start(child)
            return
        code = child.process.poll()
        if code is None:
            if child.crashes and now - child.started_at >= STABLE_SECONDS:
                child.crashes = 0
            return
        child.crashes += 1
        delay = backoff(child.crashes)
        log.warning(
            "%s (pid %d) %s after %.0f s; restarting in %.0f s (crash %d in a row)",
            child.name,
            child.process.pid,
            _describe_exit(code),
            now - child.started_at,
            delay,
            child.crashes,
        )
        child.process, child.restart_at = None, now + delay

    def _stop_all(self) -> None:
        running = [c.process for c in self.children if c.process and c.process.poll() is None]
        for process in running:
            process.terminate()
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for process in running:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.info("stopped %s", ", ".join(child.name for child in self.children))

    def _kill_all(self) -> None:
        for child in self.children:
            if child.process and child.process.poll() is None:
                child.process.kill()


def _answers(url: str) -> bool:
    """Whether the web server gives any HTTP answer."""
    try:
        httpx.get(url, timeout=2.0)
    except httpx.HTTPError:
        return False
    return True


def _describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


def _die_with_parent() -> None:
    """In the child, before exec: on Linux, ask for SIGTERM when the supervisor dies, so even a
    SIGKILLed supervisor leaves no processes behind."""
    if sys.platform.startswith("linux"):
        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _refuse_busy_port(host: str, port: int, what: str, hint: str) -> None:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            raise CommandError(
                f"Port {port} on {host} is not free for {what} ({exc.strerror}); "
                f"stop what uses it or choose another port, e.g. `{hint}`."
            ) from None


def web_command(host: str, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "studio.wsgi",
        "--bind",
        f"{host}:{port}",
        "--worker-class",
        "gthread",
        "--workers",
        "2",
        # A request to the OpenAI-compatible endpoint (/v1/) holds its thread while its job
        # runs (seconds to a minute), so there are enough for a team's scripts at once.
        "--threads",
        "32",
        "--access-logfile",
        "-",
    ]


def worker_command(concurrency: int) -> list[str]:
    """The worker command line, shared with the tests and the Dockerfile's documentation:
    a thread pool, because a worker mostly waits on the image API."""
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "studio",
        "worker",
        "--pool",
        "threads",
        "--concurrency",
        str(concurrency),
        "--loglevel",
        "INFO",
        "--without-gossip",
        "--without-mingle",
    ]
