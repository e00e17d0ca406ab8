"""URLs of a client organisation's host (`<client>.<firm>.<base domain>`)."""

from django.urls import include, path
from django.views.i18n import set_language

from tenants import views
from tenants.access import public

urlpatterns = [
    path("", views.client_home, name="client_home"),
    path("i18n/setlang/", public(set_language), name="set_language"),
    path("cases/", include("cases.urls")),
    path("sparring/", include("sparring.urls")),
]
