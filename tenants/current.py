"""The current client organisation: the one owner of "which client does this code run for".

Inside a client's schema (a request on its host, a task carrying its schema) the connection
knows its tenant. `current_client()` returns its ids without a query where it can;
`current_client_organisation()` the model row with its firm. Both raise Http404 in the public
schema, so a view that reaches them on the console host answers like an unknown page.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from django.db import connection
from django.http import Http404

from tenants.models import ClientOrganisation
from tenants.schemas import current_schema

# Set on a tenant built from the routing cache (routing fields only): see
# current_client_organisation.
ROUTE_ONLY = "_route_only"


@dataclasses.dataclass(frozen=True)
class ClientRef:
    client_id: int
    firm_id: int
    schema_name: str


def current_client() -> ClientRef:
    """The client organisation whose schema the connection uses (no query when the connection
    carries its tenant row); Http404 in the public schema."""
    schema = current_schema()
    if schema == "public":
        raise Http404
    tenant: Any = getattr(connection, "tenant", None)
    if getattr(tenant, "pk", None) and getattr(tenant, "firm_id", None):
        return ClientRef(client_id=tenant.pk, firm_id=tenant.firm_id, schema_name=schema)
    row = ClientOrganisation.objects.filter(schema_name=schema).values("pk", "firm_id").first()
    if row is None:
        raise Http404
    return ClientRef(client_id=row["pk"], firm_id=row["firm_id"], schema_name=schema)


def current_client_organisation() -> ClientOrganisation:
    """The current client's row, complete: the connection's tenant when it is a loaded row (no
    query), else read once and kept on that tenant; Http404 in the public schema.

    On a client host the tenant is built from the cached route (`tenants.middleware`) and holds
    only the routing fields (ids, schema, name, slug); its other fields are model defaults, not
    the client's (an employee count of None made the year's release fail). So such a tenant is
    never returned as the row."""
    tenant = getattr(connection, "tenant", None)
    if not isinstance(tenant, ClientOrganisation) or not tenant.pk or current_schema() == "public":
        return ClientOrganisation.objects.select_related("firm").get(pk=current_client().client_id)
    if not getattr(tenant, ROUTE_ONLY, False):
        return tenant
    row = getattr(tenant, "_loaded_row", None)
    if row is None:
        row = ClientOrganisation.objects.select_related("firm").get(pk=tenant.pk)
        tenant._loaded_row = row  # once per request
    return row
