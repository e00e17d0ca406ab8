from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BoardroomConfig(AppConfig):
    """Tenant schema: annual reports, board signals and the adviser's other activities."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "boardroom"
    verbose_name = _("Annual reports and board signals")
