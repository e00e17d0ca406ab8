"""Celery app. Tasks carry the tenant schema in a message header (tenant-schemas-celery)."""

from __future__ import annotations

import os

from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saas.settings")

app = CeleryApp("vertrouwd")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
