"""Liveness and readiness, answered for any host before tenant routing (probes use the pod IP)."""

from __future__ import annotations

import json
from collections.abc import Callable

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse


def _database_ok() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return True, "ok"
    except Exception as error:
        return False, type(error).__name__


def _broker_ok() -> tuple[bool, str]:
    if not settings.REDIS_URL:
        return True, "in-process"
    try:
        import redis

        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1).ping()
        return True, "ok"
    except Exception as error:
        return False, type(error).__name__


class HealthMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path == "/healthz":
            return HttpResponse("ok", content_type="text/plain")
        if request.path == "/readyz":
            database, database_detail = _database_ok()
            broker, broker_detail = _broker_ok()
            ready = database and broker
            body = json.dumps(
                {"database": database_detail, "broker": broker_detail, "ready": ready}
            )
            return HttpResponse(body, status=200 if ready else 503, content_type="application/json")
        return self.get_response(request)
