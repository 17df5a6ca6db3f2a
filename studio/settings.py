"""Studio settings: one file, driven by environment variables.

Every default runs on a fresh machine with nothing else installed: SQLite (WAL), a
filesystem Celery broker under var/, media under var/media, and the offline stand-in image
API when OPENAI_API_KEY is unset. Scale-out is a matter of setting DATABASE_URL,
CELERY_BROKER_URL and the storage variables (see README).
"""

import os
import secrets
import tempfile
from decimal import Decimal
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    """A variable's value; NAME_FILE, when set, names a file holding it (for secrets)."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        return Path(path).read_text().strip()
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("true", "1", "yes"):
        return True
    if value.lower() in ("false", "0", "no"):
        return False
    raise ValueError(f"{name} must be true or false, not {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return default if value in (None, "") else int(value)


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return default if value in (None, "") else float(value)


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def local_secret_key(path: Path) -> str:
    """A key made once for this machine and kept in `path` (readable by its owner only), so
    sessions survive restarts. Two processes starting together agree: the file appears
    whole (linked into place) or not at all."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, made = tempfile.mkstemp(dir=path.parent, prefix=".secret_key-")
        try:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(50))
            os.link(made, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(made)
    return path.read_text().strip()


DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

# Everything the studio writes at run time lives under one folder.
STUDIO_VAR_DIR = Path(env("STUDIO_VAR_DIR") or BASE_DIR / "var")

# The key that signs sessions, CSRF tokens and gallery cursors. A server without one refuses
# to start: a key everybody knows would let anyone forge a session. On one's own machine
# (`make run` and the other make commands set STUDIO_LOCAL_SECRET_KEY=true; DEBUG does too)
# a key is made once and kept in var/secret_key.
SECRET_KEY = env("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not (DEBUG or env_bool("STUDIO_LOCAL_SECRET_KEY", False)):
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Set it (or DJANGO_SECRET_KEY_FILE) to a long random "
            'value, e.g. python -c "import secrets; print(secrets.token_urlsafe(50))"; on your '
            "own machine, STUDIO_LOCAL_SECRET_KEY=true keeps a generated one in var/."
        )
    SECRET_KEY = local_secret_key(STUDIO_VAR_DIR / "secret_key")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "gallery",
]
# Benchmarks, chaos runs and the gallery seeder (devtools/): for developers and the tests,
# never in the container image.
STUDIO_DEV_TOOLS = env_bool("STUDIO_DEV_TOOLS", False)
if STUDIO_DEV_TOOLS:
    INSTALLED_APPS.append("devtools")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "studio.security.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "studio.urls"
WSGI_APPLICATION = "studio.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "builtins": ["template_partials.templatetags.partials"],
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "studio.context_processors.studio",
            ],
        },
    }
]

# SQLite in WAL mode with IMMEDIATE transactions: the web process and the worker write at
# the same time, and IMMEDIATE makes a writer wait for the lock (up to `timeout`) instead of
# failing with "database is locked" when it upgrades a read transaction.
# A web process keeps its connection between requests (opening one costs PostgreSQL a new
# backend process, several milliseconds a page); the worker closes its own after each use
# (gallery.jobs.engine.db_slot, and studio.celery sets this to 0 there).
SQLITE_PATH = STUDIO_VAR_DIR / "studio.sqlite3"
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL") or f"sqlite:///{SQLITE_PATH}",
        conn_max_age=int(env("STUDIO_DB_CONN_MAX_AGE") or 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A fresh checkout has no var/ yet, and SQLite does not create folders.
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
CSRF_FAILURE_VIEW = "studio.security.csrf_failure"
# Who may sign up: "open" (anyone who reaches the site), "invite" (with a code from a
# staff member, made at /accounts/invites/), or "closed" (staff create accounts in the admin).
STUDIO_SIGNUP = env("STUDIO_SIGNUP") or "open"
if STUDIO_SIGNUP not in ("open", "invite", "closed"):
    raise ValueError("STUDIO_SIGNUP must be open, invite or closed")
# Who sees a new job and its images unless the person chose otherwise: "shared" (every
# signed-in person) or "private" (the owner and staff). Each person can set their own default.
STUDIO_DEFAULT_VISIBILITY = env("STUDIO_DEFAULT_VISIBILITY") or "shared"
if STUDIO_DEFAULT_VISIBILITY not in ("shared", "private"):
    raise ValueError("STUDIO_DEFAULT_VISIBILITY must be shared or private")
# Password-reset mail goes through Django's email settings; by default it is printed to the
# web process's console.
EMAIL_BACKEND = env("EMAIL_BACKEND") or "django.core.mail.backends.console.EmailBackend"
EMAIL_HOST = env("EMAIL_HOST") or "localhost"
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL") or "studio@localhost"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "gallery:create"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TZ") or "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = STUDIO_VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env("STUDIO_MEDIA_ROOT") or STUDIO_VAR_DIR / "media")
STORAGES: dict[str, dict] = {
    "default": {"BACKEND": "gallery.media.storage.AtomicFileSystemStorage"},
    # The container image collects static files at build time into hashed, compressed
    # names (STUDIO_COLLECTED_STATIC=true); a checkout serves them from static/ directly.
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if env_bool("STUDIO_COLLECTED_STATIC", False)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Media on S3-compatible storage for studios on several machines (gallery/media/s3.py):
# private objects, reached only through the views that authorise each request. Unset keys
# fall back to boto3's own chain (AWS_* variables, an instance role).
STUDIO_MEDIA_STORAGE = env("STUDIO_MEDIA_STORAGE") or "local"
if STUDIO_MEDIA_STORAGE not in ("local", "s3"):
    raise ValueError("STUDIO_MEDIA_STORAGE must be local or s3")
if STUDIO_MEDIA_STORAGE == "s3":
    if not env("STUDIO_S3_BUCKET"):
        raise ValueError("STUDIO_MEDIA_STORAGE=s3 needs STUDIO_S3_BUCKET")
    STORAGES["default"] = {
        "BACKEND": "gallery.media.s3.PrivateS3Storage",
        "OPTIONS": {
            "bucket_name": env("STUDIO_S3_BUCKET"),
            "endpoint_url": env("STUDIO_S3_ENDPOINT_URL") or None,
            "region_name": env("STUDIO_S3_REGION") or None,
            "access_key": env("STUDIO_S3_ACCESS_KEY_ID") or None,
            "secret_key": env("STUDIO_S3_SECRET_ACCESS_KEY") or None,
            "querystring_expire": env_int("STUDIO_S3_URL_SECONDS", 60),
        },
    }
WHITENOISE_USE_FINDERS = not env_bool("STUDIO_COLLECTED_STATIC", False)
WHITENOISE_AUTOREFRESH = DEBUG

# --- Celery -------------------------------------------------------------------------------
# Default broker: kombu's filesystem transport under var/broker (no server needed). The
# database is the source of truth for jobs; the broker only rings the doorbell.
BROKER_DIR = STUDIO_VAR_DIR / "broker"
CELERY_BROKER_URL = env("CELERY_BROKER_URL") or "filesystem://"
if CELERY_BROKER_URL.startswith("filesystem://"):
    # kombu's own transport writes message files in place, and a worker polling the folder
    # can read one half-written and crash with JSONDecodeError; this one renames whole files.
    CELERY_BROKER_TRANSPORT = "studio.broker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        # The transport polls its folder; the default 1 s would dominate a job's latency.
        "polling_interval": 0.02,
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- The image API --------------------------------------------------------------------------
# The key itself is never put into settings: gallery.imagesapi.client reads it from the
# environment of the process that calls the API. Settings only know whether one is set.
OPENAI_KEY_IS_SET = bool(env("OPENAI_API_KEY"))
STUDIO_STANDIN_PORT = env_int("STUDIO_STANDIN_PORT", 8001)
# What `manage.py run_studio` starts (its options override these): the web server's address,
# the worker's threads (API calls in flight), and the stand-in's seconds per request.
STUDIO_HOST = env("STUDIO_HOST") or "127.0.0.1"
STUDIO_PORT = env_int("STUDIO_PORT", 8000)
STUDIO_WORKER_CONCURRENCY = env_int("STUDIO_WORKER_CONCURRENCY", 200)
STUDIO_STANDIN_LATENCY = env_float("STUDIO_STANDIN_LATENCY", 2.0)
USING_STANDIN = not OPENAI_KEY_IS_SET
OPENAI_BASE_URL = (
    env("OPENAI_BASE_URL")
    or (
        "https://api.openai.com/v1"
        if OPENAI_KEY_IS_SET
        else f"http://127.0.0.1:{STUDIO_STANDIN_PORT}/v1"
    )
).rstrip("/")
# Generations take up to two minutes; high quality and multi-image edits longer.
STUDIO_API_CONNECT_TIMEOUT = env_float("STUDIO_API_CONNECT_TIMEOUT", 10.0)
STUDIO_API_READ_TIMEOUT = env_float("STUDIO_API_READ_TIMEOUT", 300.0)
# The largest image the studio downloads when an answer links to one (`url`) instead of
# carrying it (`b64_json`).
STUDIO_API_MAX_IMAGE_BYTES = env_int("STUDIO_API_MAX_IMAGE_BYTES", 64 * 1024 * 1024)
# Retries of transient API failures: attempts per job and the backoff schedule.
STUDIO_JOB_MAX_ATTEMPTS = env_int("STUDIO_JOB_MAX_ATTEMPTS", 4)
STUDIO_RETRY_BASE_DELAY = env_float("STUDIO_RETRY_BASE_DELAY", 2.0)
STUDIO_RETRY_MAX_DELAY = env_float("STUDIO_RETRY_MAX_DELAY", 120.0)
# The job engine (gallery/jobs/engine.py). A worker holds a lease on each job it runs and renews
# it while alive; a job whose lease runs out is taken up again, at most STUDIO_JOB_MAX_LOSSES times.
STUDIO_JOB_LEASE_SECONDS = env_float("STUDIO_JOB_LEASE_SECONDS", 60.0)
STUDIO_JOB_MAX_LOSSES = env_int("STUDIO_JOB_MAX_LOSSES", 3)
# How often each worker re-rings the doorbell for jobs nobody is coming for.
STUDIO_DOORBELL_SECONDS = env_float("STUDIO_DOORBELL_SECONDS", 30.0)
# Limits across every worker, enforced through the database: concurrent API calls, and
# images asked for per rolling minute (0 = no limit; OpenAI's tiers start at 5).
STUDIO_MAX_CONCURRENT_CALLS = env_int("STUDIO_MAX_CONCURRENT_CALLS", 200)
STUDIO_IMAGES_PER_MINUTE = env_int("STUDIO_IMAGES_PER_MINUTE", 0)
# Database connections one worker process opens at most, however many threads it runs.
STUDIO_WORKER_DB_CONNECTIONS = env_int("STUDIO_WORKER_DB_CONNECTIONS", 16)
# A file of model definitions replaces the built-in registry (see gallery/imagesapi/registry.py).
STUDIO_MODELS_FILE = env("STUDIO_MODELS_FILE")
# The model the form starts with; empty means the newest model the API key can use.
STUDIO_DEFAULT_MODEL = env("STUDIO_DEFAULT_MODEL") or ""
# How often each worker asks GET /models which image models the key can use (and on start).
STUDIO_MODELS_REFRESH_SECONDS = env_float("STUDIO_MODELS_REFRESH_SECONDS", 3600.0)
# A JSON object {"model-id": {"text_input": "5.00", ...}} (USD per million tokens) that
# overrides the registry's prices, e.g. a gateway's (CometAPI's differ from OpenAI's).
STUDIO_PRICES_FILE = env("STUDIO_PRICES_FILE")
# The whole studio's spending limit per calendar month in USD; empty means none.
STUDIO_MONTHLY_BUDGET_USD = (
    Decimal(env("STUDIO_MONTHLY_BUDGET_USD")) if env("STUDIO_MONTHLY_BUDGET_USD") else None
)

# --- C2PA provenance ----------------------------------------------------------------------
TRUST_DIR = BASE_DIR / "gallery" / "provenance" / "trust"
# Trust anchors: the official C2PA trust list shipped with the project, plus any PEM files
# the operator lists in C2PA_TRUST_ANCHORS (comma-separated paths).
C2PA_TRUST_ANCHOR_FILES = [TRUST_DIR / "C2PA-TRUST-LIST.pem"] + [
    Path(p) for p in env_list("C2PA_TRUST_ANCHORS", [])
]
C2PA_TRUST_CONFIG_FILE = TRUST_DIR / "eku_oids.txt"
# The legacy interim trust list (contentcredentials.org/trust/anchors.pem, frozen since
# 2026-01-01): PEM files, comma-separated. Not shipped; when set, the Verify page says whether
# a signer missing from the official list was on this older list.
C2PA_LEGACY_TRUST_ANCHOR_FILES = [Path(p) for p in env_list("C2PA_LEGACY_TRUST_ANCHORS", [])]
# The studio's own signing credential (for images it changes). Unset: a development
# credential is generated under var/c2pa-dev/ on first use and never leaves the machine.
C2PA_SIGN_CERT_FILE = env("C2PA_SIGN_CERT_FILE")
C2PA_SIGN_KEY_FILE = env("C2PA_SIGN_KEY_FILE")
C2PA_SIGN_ALG = env("C2PA_SIGN_ALG") or "es256"
C2PA_TSA_URL = env("C2PA_TSA_URL") or None
C2PA_DEV_DIR = STUDIO_VAR_DIR / "c2pa-dev"

# --- Serving media ---------------------------------------------------------------------------
# Media is only ever sent by a view that checked who may see it. "off": Django streams it;
# "x-accel-redirect" (nginx) or "x-sendfile" (Apache, lighttpd): the view answers with a
# header and the front server sends the file. The prefix is nginx's `internal` location for
# the media folder, or for x-sendfile the media folder's path as the front server sees it.
STUDIO_MEDIA_ACCEL = env("STUDIO_MEDIA_ACCEL") or "off"
if STUDIO_MEDIA_ACCEL not in ("off", "x-accel-redirect", "x-sendfile"):
    raise ValueError("STUDIO_MEDIA_ACCEL must be off, x-accel-redirect or x-sendfile")
if STUDIO_MEDIA_ACCEL != "off" and STUDIO_MEDIA_STORAGE == "s3":
    raise ValueError("STUDIO_MEDIA_ACCEL serves local media only; leave it off with S3")
STUDIO_MEDIA_ACCEL_PREFIX = env("STUDIO_MEDIA_ACCEL_PREFIX") or (
    "/protected-media/" if STUDIO_MEDIA_ACCEL != "x-sendfile" else str(MEDIA_ROOT)
)

# --- Uploads --------------------------------------------------------------------------------
STUDIO_UPLOAD_MAX_BYTES = env_int("STUDIO_UPLOAD_MAX_BYTES", 50 * 1024 * 1024)
STUDIO_UPLOAD_MAX_PIXELS = env_int("STUDIO_UPLOAD_MAX_PIXELS", 40_000_000)
# One side at most this many times the other: decoders pay per row (or column), so a thin
# image costs far more than its pixel count says.
STUDIO_UPLOAD_MAX_ASPECT_RATIO = env_int("STUDIO_UPLOAD_MAX_ASPECT_RATIO", 20)
DATA_UPLOAD_MAX_MEMORY_SIZE = 16 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 4 * 1024 * 1024

# --- Security -------------------------------------------------------------------------------
# STUDIO_HTTPS=true when the studio is served over STUDIO_HTTPS (behind a TLS-terminating proxy
# that sets X-Forwarded-Proto): secure cookies, HSTS and redirects to https.
STUDIO_HTTPS = env_bool("STUDIO_HTTPS", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if STUDIO_HTTPS else None
SECURE_SSL_REDIRECT = STUDIO_HTTPS
SESSION_COOKIE_SECURE = STUDIO_HTTPS
CSRF_COOKIE_SECURE = STUDIO_HTTPS
SECURE_HSTS_SECONDS = 31_536_000 if STUDIO_HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = STUDIO_HTTPS
SECURE_HSTS_PRELOAD = STUDIO_HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Per-person limits per minute (0: none): jobs started, and files uploaded (gallery/jobs/limits.py).
STUDIO_JOBS_PER_MINUTE = env_int("STUDIO_JOBS_PER_MINUTE", 20)
STUDIO_UPLOADS_PER_MINUTE = env_int("STUDIO_UPLOADS_PER_MINUTE", 30)
# The OpenAI-compatible endpoint (/v1/): how long a request waits for its job before it
# answers 504 (the job goes on), and how long a `response_format: url` link works.
STUDIO_GATEWAY_TIMEOUT = env_float("STUDIO_GATEWAY_TIMEOUT", 600.0)
STUDIO_GATEWAY_URL_SECONDS = env_int("STUDIO_GATEWAY_URL_SECONDS", 3600)
# /healthz tells anonymous callers only whether the studio is healthy; staff, and callers
# sending "Authorization: Bearer <this token>" (a monitoring system), get every part's detail.
STUDIO_HEALTH_TOKEN = env("STUDIO_HEALTH_TOKEN")
STUDIO_LOGIN_MAX_FAILURES = env_int("STUDIO_LOGIN_MAX_FAILURES", 5)
STUDIO_LOGIN_LOCKOUT_SECONDS = env_int("STUDIO_LOGIN_LOCKOUT_SECONDS", 900)

# Django's cache (CACHE_URL=redis://... shares it across machines). Rate limits and the
# sign-in throttle count in the database instead (gallery/jobs/limits.py), where the check
# and the count are one atomic step on every engine.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env("CACHE_URL"),
    }
    if env("CACHE_URL")
    else {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(STUDIO_VAR_DIR / "cache"),
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("STUDIO_LOG_LEVEL") or "INFO"},
    "loggers": {"httpx": {"level": "WARNING"}, "httpcore": {"level": "WARNING"}},
}
