from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SparringConfig(AppConfig):
    """Sparring threads: their content lives in each client organisation's schema."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "sparring"
    verbose_name = _("Sparring")
