"""What many tests share: where things are, and whether PostgreSQL and Redis are running."""

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The shared fixtures are read where they are (beside the repository), not copied: the product
# needs none of them at run time.
SHARED_FIXTURES = ROOT.parent / "shared" / "fixtures"
C2PA_FIXTURES = SHARED_FIXTURES / "c2pa"


def finished(image):
    """An upload as the worker leaves it (uploads.finish_upload): thumbnails made, Content
    Credentials read."""
    from gallery.jobs import uploads

    uploads.finish_upload(image.pk)
    image.refresh_from_db()
    return image


def postgres_url() -> str | None:
    """A fresh database on the local PostgreSQL, or None when none is running."""
    if shutil.which("psql") is None:
        return None
    probe = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-tAc", "select 1"],
        capture_output=True,
        text=True,
    )
    return "postgres://postgres@127.0.0.1:5432/" if probe.returncode == 0 else None


def redis_url() -> str | None:
    import redis

    try:
        redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return None
    return "redis://127.0.0.1:6379/"
