"""The adviser's "my day" on the console (base host)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tenants.access import Role, allow
from workindex import selectors


@allow(Role.ADVISER)
def my_day(request: HttpRequest) -> HttpResponse:
    day = selectors.my_day(user=request.user, firm=request.firm, request=request)
    return render(request, "cases/my_day.html", {"day": day})
