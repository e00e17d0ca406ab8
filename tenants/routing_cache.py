"""The routing cache's keys and how to drop them: what `tenants.models` needs on save, apart
from `tenants.routing` (which reads the models), so the two import each other in neither
direction at run time."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.cache import caches


def host_key(host: str) -> str:
    return f"host:{host}"


def client_key(client_id: int) -> str:
    return f"client-hosts:{client_id}"


def forget_host(host: str) -> None:
    caches["routing"].delete(host_key(host))


def forget_client_hosts(client_id: int, hosts: Iterable[str]) -> None:
    """Drop the cached routes of these hosts and every host cached for the client."""
    cache = caches["routing"]
    known = set(cache.get(client_key(client_id)) or ()) | set(hosts)
    cache.delete_many([host_key(host) for host in known] + [client_key(client_id)])
