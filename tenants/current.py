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
    """The current client's row: the connection's tenant (no query), else read once; Http404
    in the public schema."""
    tenant = getattr(connection, "tenant", None)
    if isinstance(tenant, ClientOrganisation) and tenant.pk and current_schema() != "public":
        return tenant
    return ClientOrganisation.objects.select_related("firm").get(pk=current_client().client_id)
