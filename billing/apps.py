from django.apps import AppConfig
from django.core import checks


class BillingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "billing"

    def ready(self) -> None:
        checks.register(check_configuration, checks.Tags.compatibility)


def check_configuration(app_configs, **kwargs):  # type: ignore[no-untyped-def]
    """Fail at start, not at the first invoice, when a tier string is malformed."""
    from django.core.exceptions import ImproperlyConfigured

    from billing import conf

    errors = []
    for name, read in (
        ("STRIPE_PRICE_TIERS", lambda: conf.price_for_quantity(1)),
        ("BILLING_CLIENT_FEE_TIERS", conf.client_fee_tiers),
    ):
        try:
            read()
        except ImproperlyConfigured as error:
            errors.append(checks.Error(str(error), id=f"billing.E{len(errors) + 1:03d}", obj=name))
    return errors
