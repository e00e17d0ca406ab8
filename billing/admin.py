from django.contrib import admin

from billing.models import ClientContract, FirmSubscription, WebhookEvent


@admin.register(FirmSubscription)
class FirmSubscriptionAdmin(admin.ModelAdmin):
    list_display = (
        "firm",
        "status",
        "quantity",
        "current_period_end",
        "stripe_customer_id",
        "updated_at",
    )
    list_filter = ("status",)
    search_fields = ("firm__name", "stripe_customer_id", "stripe_subscription_id")
    # Stripe is the source of truth: operators read here and change things in Stripe.
    readonly_fields = [field.name for field in FirmSubscription._meta.fields]


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ("stripe_event_id", "type", "outcome", "firm", "created", "received_at")
    list_filter = ("outcome", "type")
    search_fields = ("stripe_event_id", "detail")
    readonly_fields = [field.name for field in WebhookEvent._meta.fields]


@admin.register(ClientContract)
class ClientContractAdmin(admin.ModelAdmin):
    list_display = (
        "client",
        "fee_mode",
        "annual_fee",
        "hourly_rate",
        "hours_included_per_year",
        "starts_on",
    )
