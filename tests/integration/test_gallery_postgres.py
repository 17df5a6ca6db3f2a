"""Unit-test modules whose subject differs by database, run again in a pytest of its own
whose DATABASE_URL points at the local PostgreSQL, so `make test-all` covers both engines:
the gallery's search, filters and pages (tsvector, the btree_gin filter columns, the bucketed
newest-first index), and the fuzz tests of every form and query parameter (PostgreSQL refuses
strings SQLite stores, NUL among them)."""

import os
import subprocess
import sys

import pytest

from tests.helpers import ROOT, postgres_url


@pytest.mark.parametrize(
    "module", ["test_gallery_search.py", "test_similarity.py", "test_fuzz.py", "test_edits_fuzz.py"]
)
def test_unit_suite_passes_on_postgresql(tmp_path, module):
    url = postgres_url()
    if url is None:
        pytest.skip("no PostgreSQL on 127.0.0.1:5432")
    name = module.removeprefix("test_").removesuffix(".py")
    env = {
        **os.environ,
        "DATABASE_URL": f"{url}{name}_pg_{os.getpid()}",
        "STUDIO_VAR_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"tests/unit/{module}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert " passed" in result.stdout.splitlines()[-1]
