import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Start the whole studio in the foreground: the web server, a Celery worker and, "
        "when OPENAI_API_KEY is unset, the offline stand-in image API. Ctrl+C stops all."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("STUDIO_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("STUDIO_PORT", "8000")))
        parser.add_argument(
            "--concurrency",
            type=int,
            default=int(os.environ.get("STUDIO_WORKER_CONCURRENCY", "200")),
            help="API calls one worker keeps in flight (threads)",
        )

    def handle(self, *args, **options):
        python = sys.executable
        commands = {
            "web": [
                python,
                "-m",
                "gunicorn",
                "studio.wsgi",
                "--bind",
                f"{options['host']}:{options['port']}",
                "--worker-class",
                "gthread",
                "--workers",
                "2",
                "--threads",
                "8",
                "--access-logfile",
                "-",
            ],
            "worker": worker_command(options["concurrency"]),
        }
        if settings.USING_STANDIN:
            commands["standin"] = [
                python,
                "manage.py",
                "standin_api",
                "--port",
                str(settings.STANDIN_PORT),
                "--latency",
                os.environ.get("STUDIO_STANDIN_LATENCY", "2"),
            ]
        processes = {name: subprocess.Popen(cmd) for name, cmd in commands.items()}
        url = f"http://{options['host']}:{options['port']}/"
        self.stdout.write(self.style.SUCCESS(f"Studio is starting at {url}"))
        if settings.USING_STANDIN:
            self.stdout.write("No OPENAI_API_KEY: images come from the offline stand-in API.")
        stopping = False

        def stop(*_):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        exit_code = 0
        while not stopping:
            for name, process in processes.items():
                if process.poll() is not None:
                    self.stderr.write(
                        f"{name} stopped (exit {process.returncode}); stopping the rest"
                    )
                    exit_code, stopping = 1, True
            time.sleep(0.5)
        for process in processes.values():
            if process.poll() is None:
                process.terminate()
        for process in processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        sys.exit(exit_code)


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
