# Studio: one image for every role. The default command serves the web app (gunicorn); the
# worker runs the same image with
#   celery -A studio worker --pool threads --concurrency 200 --loglevel INFO --without-gossip --without-mingle
# (gallery/management/commands/run_studio.py worker_command) and migrations with
#   python manage.py migrate --noinput
# compose.yaml shows the whole topology.

# --- builder: the dependencies, installed into a virtual environment ---------------------------
FROM python:3.11-slim-bookworm AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

# A compiler for any dependency without a wheel for this platform. Not version-pinned: Debian
# replaces point versions in its archive, and this stage ships nothing but the venv.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

# Only the lock file is copied, so this layer is rebuilt when the dependencies change, not on
# every source edit: every package at the version and hash `make lock` pinned. The project
# itself runs from /app (it reads templates/, static/ and gallery/provenance/trust/ next to its
# source), so only its dependencies go into the venv.
WORKDIR /src
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements.lock

# --- runtime ------------------------------------------------------------------------------------
FROM python:3.11-slim-bookworm AS runtime

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=studio.settings \
    STUDIO_VAR_DIR=/var/lib/studio

# A fixed uid/gid so files on mounted volumes keep one owner across rebuilds and hosts. The
# run-time folders exist in the image, owned by the user, so named volumes mounted on them
# start out with that owner too. Home is the writable var folder (/app is read-only to it).
RUN groupadd --system --gid 10001 studio \
    && useradd --system --uid 10001 --gid studio --home-dir /var/lib/studio --no-create-home \
       --shell /usr/sbin/nologin studio \
    && install -d -o studio -g studio -m 0755 /var/lib/studio /var/lib/studio/media \
    && install -d -o studio -g studio -m 0700 /var/lib/studio/c2pa-dev

COPY --from=builder /opt/venv /opt/venv

WORKDIR /app
COPY manage.py pyproject.toml ./
COPY studio/ studio/
COPY gallery/ gallery/
COPY templates/ templates/
COPY static/ static/

# Static files are collected at build time into hashed, compressed names under
# $STUDIO_VAR_DIR/static (owned by root: read-only for the app), served by whitenoise.
# Settings need no database for this, and collecting signs nothing: the settings only insist
# on a key being set, so a throwaway one stands in (the running container needs a real one).
ENV STUDIO_COLLECTED_STATIC=true
RUN DJANGO_SECRET_KEY=collectstatic-signs-nothing python manage.py collectstatic --noinput \
    && python -m compileall -q /app

# Numeric, so Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
USER 10001:10001
EXPOSE 8000

# /healthz answers 200 only when the database, broker, a worker heartbeat and the image API are
# all reachable (503 otherwise). No curl in the slim image, so Python asks. The worker, migrate
# and stand-in services replace this check in compose.yaml.
HEALTHCHECK --interval=30s --timeout=10s --start-period=40s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=8)"]

# 32 threads a process: a request to the OpenAI-compatible endpoint (/v1/) holds its thread
# while its job runs. GUNICORN_CMD_ARGS (gunicorn's own variable) adds or overrides options.
CMD ["gunicorn", "studio.wsgi", "--bind", "0.0.0.0:8000", "--worker-class", "gthread", "--workers", "2", "--threads", "32", "--access-logfile", "-"]
