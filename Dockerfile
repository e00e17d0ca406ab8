# syntax=docker/dockerfile:1
# One image for every process of Vertrouwd; the command picks the role (docker/entrypoint.sh):
#   web | worker | beat | migrate | manage <command…>
# Build: docker build -t vertrouwd:$(git rev-parse --short HEAD) .

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- builder: compilers and headers, only to build wheels into a virtual environment ----------
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential libpq-dev libffi-dev \
 && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
# Dependencies first (pyproject.toml declares no packages of its own), so code changes reuse
# this layer.
COPY pyproject.toml /build/pyproject.toml
RUN pip install --upgrade pip setuptools wheel \
 && pip install /build \
 && pip uninstall -y vertrouwd

# Static files with content-hashed names (whitenoise's CompressedManifestStaticFilesStorage is
# selected because DEBUG and VERTROUWD_TESTING are off). The keys below exist for this one build
# step only; settings refuse to start without real ones. DATABASE_URL is never connected to.
WORKDIR /app
COPY . /app
RUN DEBUG=0 SECRET_KEY=collectstatic-only-not-a-secret-0123456789abcdef \
    MASTER_KEY=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= \
    DATABASE_URL=postgres://build@127.0.0.1:1/build STATIC_ROOT=/app/staticfiles \
    python manage.py collectstatic --noinput --verbosity 0 \
 && python -m compileall -q /app

# --- final: runtime libraries only, no compilers, non-root ------------------------------------
FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="vertrouwd" \
      org.opencontainers.image.description="Vertrouwd: web, worker, beat and migrations by command"
# WeasyPrint (PDF reports) needs Pango, HarfBuzz and fonts at run time; tini reaps children and
# passes SIGTERM on for a graceful stop.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 \
      fonts-dejavu-core fontconfig tini \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 vertrouwd \
 && useradd --system --uid 10001 --gid vertrouwd --home-dir /app --no-create-home \
      --shell /usr/sbin/nologin vertrouwd
COPY --from=builder /opt/venv /opt/venv
COPY --from=builder --chown=root:root /app /app
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DJANGO_SETTINGS_MODULE=saas.settings \
    STATIC_ROOT=/app/staticfiles \
    VERTROUWD_DATA_DIR=/tmp/vertrouwd \
    XDG_CACHE_HOME=/tmp/.cache \
    PORT=8000
WORKDIR /app
# Numeric, so Kubernetes can verify runAsNonRoot. The code is owned by root: read-only to the app.
USER 10001:10001
EXPOSE 8000
ENTRYPOINT ["/usr/bin/tini", "--", "/app/docker/entrypoint.sh"]
CMD ["web"]
