from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntakeConfig(AppConfig):
    """The employee's way in: intake page, anonymous mailbox, oral-report record and journal."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "intake"
    verbose_name = _("Employee intake")
