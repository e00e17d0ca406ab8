"""URLs of a client organisation's host (`<client>.<firm>.<base domain>`)."""

from django.urls import include, path
from django.views.i18n import set_language

from accounts.views import sign_out_here
from tenants import views
from tenants.access import public

urlpatterns = [
    path("", views.client_home, name="client_home"),
    path("i18n/setlang/", public(set_language), name="set_language"),
    # Sign-out posts to its own host: with Referrer-Policy same-origin a cross-host POST carries
    # "Origin: null" and fails the CSRF check. The session cookie is shared, so this ends it everywhere.
    path("accounts/logout/", sign_out_here, name="logout"),
    path("cases/", include("cases.urls")),
    path("sparring/", include("sparring.urls")),
    path("board/", include("boardroom.urls")),
    path("register/", include("thirdparty.urls")),
    path("intake/", include("intake.urls")),
]
