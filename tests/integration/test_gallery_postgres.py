"""The gallery's search, filters and pages on PostgreSQL: tests/unit/test_gallery_search.py again,
in a pytest of its own whose DATABASE_URL points at the local PostgreSQL (tsvector, the
btree_gin filter columns, the bucketed newest-first index), so `make test` covers both
engines."""

import os
import subprocess
import sys

import pytest

from tests.helpers import ROOT, postgres_url


def test_gallery_search_suite_passes_on_postgresql(tmp_path):
    url = postgres_url()
    if url is None:
        pytest.skip("no PostgreSQL on 127.0.0.1:5432")
    env = {
        **os.environ,
        "DATABASE_URL": f"{url}gallery_pg_{os.getpid()}",
        "STUDIO_VAR_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/unit/test_gallery_search.py",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert " passed" in result.stdout.splitlines()[-1]
