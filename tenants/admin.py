"""Platform operators' view of the public schema. Case data is in tenant schemas, never here."""

from django.contrib import admin

from tenants.models import (
    Assignment,
    ClientMembership,
    ClientOrganisation,
    Domain,
    Firm,
    FirmMembership,
)


@admin.register(Firm)
class FirmAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "anonymity_threshold", "retention_months", "created_at")
    search_fields = ("name", "slug")


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


@admin.register(ClientOrganisation)
class ClientOrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "firm", "slug", "schema_name", "status", "employee_count")
    list_filter = ("status", "sector", "firm")
    search_fields = ("name", "slug", "schema_name")
    # The schema is created by tenants.services.client_create; never rename it by hand.
    readonly_fields = ("schema_name", "schema_fingerprint", "schema_checked_at")
    inlines = [DomainInline]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False  # only through client_create, which provisions the schema


@admin.register(FirmMembership)
class FirmMembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "firm", "role", "created_at")
    list_filter = ("role", "firm")


@admin.register(ClientMembership)
class ClientMembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "client", "role", "created_at")
    list_filter = ("role",)


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ("adviser", "client", "kind", "starts_on", "ends_on")
    list_filter = ("kind",)
