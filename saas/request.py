"""The request as our middleware leaves it: what it adds to Django's HttpRequest, typed.

Annotate with `AppRequest` where code reads these attributes (middleware, views, selectors)
instead of silencing the type checker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    from billing.selectors import AccessState
    from tenants.access import Role
    from tenants.models import ClientOrganisation, Firm
    from tenants.routing import Route


class AppRequest(HttpRequest):
    # tenants.middleware.TenantRoutingMiddleware: the client organisation of the host, if any.
    tenant: ClientOrganisation | None
    route: Route | None
    urlconf: str
    # tenants.middleware.AccessMiddleware: the chosen firm on the console; roles in the context.
    firm: Firm | None
    roles: frozenset[Role]
    # billing.middleware.SubscriptionAccessMiddleware: the firm's subscription state (lazy).
    billing: AccessState
