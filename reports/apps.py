from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    """Public schema: suppression, rollups for the portfolio, report batches, dashboards."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "reports"
    verbose_name = _("Reports")

    def ready(self) -> None:
        from django.apps import apps

        if apps.is_installed("cases"):
            from reports import hooks

            hooks.connect()
