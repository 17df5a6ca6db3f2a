"""Without DJANGO_SECRET_KEY a server refuses to start (issue 14, item 13); on one's own
machine (STUDIO_LOCAL_SECRET_KEY=true, which the Makefile sets, or DEBUG) a key is made once
and kept in var/secret_key, readable by its owner only."""

import stat
import subprocess
import sys

from tests.helpers import ROOT

SHOW_KEY = "from django.conf import settings; print(settings.SECRET_KEY)"


def start(var_dir, **env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", SHOW_KEY],
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "studio.settings",
            "STUDIO_VAR_DIR": str(var_dir),
            **env,
        },
        capture_output=True,
        text=True,
    )


def test_production_settings_refuse_to_start_without_a_secret_key(tmp_path):
    for debug in ({}, {"DJANGO_DEBUG": "false"}):
        refused = start(tmp_path, **debug)
        assert refused.returncode != 0
        assert "DJANGO_SECRET_KEY is not set" in refused.stderr
    assert not (tmp_path / "secret_key").exists()
    given = start(tmp_path, DJANGO_SECRET_KEY="k" * 50)
    assert given.returncode == 0 and given.stdout.split()[-1] == "k" * 50


def test_on_ones_own_machine_a_key_is_made_once_and_kept_private(tmp_path):
    first = start(tmp_path, STUDIO_LOCAL_SECRET_KEY="true")
    assert first.returncode == 0, first.stderr
    key = first.stdout.split()[-1]
    assert len(key) >= 50 and "insecure" not in key
    path = tmp_path / "secret_key"
    assert path.read_text().strip() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = start(tmp_path, DJANGO_DEBUG="true")  # DEBUG is one's own machine too
    assert again.stdout.split()[-1] == key
    other = tmp_path / "elsewhere"
    assert start(other, STUDIO_LOCAL_SECRET_KEY="true").stdout.split()[-1] != key
