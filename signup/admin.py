from django.contrib import admin

from signup.models import FirmSignup


@admin.register(FirmSignup)
class FirmSignupAdmin(admin.ModelAdmin):
    list_display = ("firm", "accepted_by", "terms_url", "terms_accepted_at")
    search_fields = ("firm__name", "firm__slug", "accepted_by__email")
    # Evidence of an acceptance: never edited.
    readonly_fields = [field.name for field in FirmSignup._meta.fields]
