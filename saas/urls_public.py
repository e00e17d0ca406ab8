"""URLs of the base host: sign-in, sign-up, the firm console, the organisation chooser, admin."""

from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language
from django_otp.admin import OTPAdminSite

from intake import links as intake_links
from tenants.access import public

# The Django admin also demands a verified second factor (and platform staff).
admin.site.__class__ = OTPAdminSite

urlpatterns = [
    path("accounts/", include("accounts.urls")),
    path("i18n/setlang/", public(set_language), name="set_language"),
    path("admin/", admin.site.urls),
    path("billing/", include("billing.urls")),
    path("signup/", include("signup.urls")),
    # A client's short intake link (posters, QR codes); answers even when the client is closed.
    path("m/<str:code>/", intake_links.short_link, name="intake_short"),
    path("sparring/", include("sparring.urls_console")),
    path("console/credentials/", include("credentials.urls")),
    path("", include("workindex.urls")),
    path("", include("reports.urls")),
    path("", include("cases.urls_console")),
    path("", include("tenants.urls_console")),
]
