"""Host name → client organisation, without a SQL query per request once warm.

The stock django-tenants middleware queries `Domain` on every request. We cache the answer in the
`routing` cache (Redis in production, shared by all processes; local memory in development),
including "no such host" for a short while so random hosts cannot hammer the database.
Entries are dropped on commit whenever a domain or a client organisation changes
(`Domain.save/delete`, `ClientOrganisation.save`), so a suspended client stops resolving at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches

from tenants.models import ClientOrganisation, Domain
from tenants.routing_cache import client_key, forget_client_hosts, forget_host, host_key

_MISSING = "-"
_NEGATIVE_SECONDS = 30


@dataclass(frozen=True)
class Route:
    client_id: int
    schema_name: str
    firm_id: int
    firm_slug: str
    name: str
    slug: str
    # Hash of the schema's applied migrations; compared per request with what the code expects
    # (tenants.migration_runner.schema_is_current). Default: entries cached before it existed.
    schema_fingerprint: str = ""


def normalise_host(raw_host: str) -> str:
    """Lower-case host without port or trailing dot."""
    host = raw_host.strip().lower()
    if host.startswith("["):  # IPv6 literal
        return host.split("]")[0] + "]"
    host = host.rsplit(":", 1)[0] if ":" in host else host
    return host.rstrip(".")


def route_for_host(host: str) -> Route | None:
    """Return the active client organisation served on `host`, or None. Cached."""
    cache = caches["routing"]
    cached = cache.get(host_key(host))
    if cached == _MISSING:
        return None
    if cached is not None:
        return Route(**cached)
    route = _load_route(host)
    if route is None:
        cache.set(host_key(host), _MISSING, _NEGATIVE_SECONDS)
        return None
    cache.set(host_key(host), route.__dict__, settings.TENANT_ROUTING_CACHE_SECONDS)
    hosts = set(cache.get(client_key(route.client_id)) or ())
    hosts.add(host)
    cache.set(client_key(route.client_id), sorted(hosts), settings.TENANT_ROUTING_CACHE_SECONDS)
    return route


def _load_route(host: str) -> Route | None:
    domain = (
        Domain.objects.select_related("tenant__firm")
        .filter(domain=host, tenant__status=ClientOrganisation.Status.ACTIVE)
        .first()
    )
    if domain is None:
        return None
    client = domain.tenant
    return Route(
        client_id=client.pk,
        schema_name=client.schema_name,
        firm_id=client.firm_id,
        firm_slug=client.firm.slug,
        name=client.name,
        slug=client.slug,
        schema_fingerprint=client.schema_fingerprint,
    )


def forget_client(client_id: int) -> None:
    """Drop every cached host of a client (after its status or schema changed)."""
    hosts = Domain.objects.filter(tenant_id=client_id).values_list("domain", flat=True)
    forget_client_hosts(client_id, list(hosts))


__all__ = ["Route", "forget_client", "forget_host", "normalise_host", "route_for_host"]
