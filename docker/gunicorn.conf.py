"""Gunicorn settings for the `web` role (docker/entrypoint.sh); every value can be set by env.

SIGTERM (Kubernetes stopping a pod) makes gunicorn stop accepting connections and gives running
requests `graceful_timeout` seconds to finish; the pod's terminationGracePeriodSeconds must be
longer than that (the Helm chart sets both).
"""

from __future__ import annotations

import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


bind = f"{os.environ.get('HOST', '0.0.0.0')}:{_int('PORT', 8000)}"  # noqa: S104 — inside a pod
workers = _int("WEB_CONCURRENCY", 2)
# Threads: requests mostly wait on PostgreSQL; each thread keeps its own persistent connection.
worker_class = "gthread"
threads = _int("GUNICORN_THREADS", 4)
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 25)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# Restart workers now and then so a slow leak cannot grow without bound.
max_requests = _int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 200)
# Heartbeat files: the root filesystem is read-only; /tmp is an emptyDir in the chart.
worker_tmp_dir = os.environ.get("GUNICORN_WORKER_TMP_DIR", "/tmp")  # noqa: S108
# Import the app before forking: workers share memory and a broken settings file fails at once.
preload_app = True
accesslog = "-"
# No client address (%(h)s) and no user agent (%(a)s): the employee intake promises reporters that
# no IP address or browser detail is logged anywhere (docs/architecture.md, "Employee intake").
access_log_format = '%(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# The ingress terminates TLS; trust its X-Forwarded-* headers (settings.BEHIND_TLS_PROXY).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "*")
proxy_allow_ips = forwarded_allow_ips
