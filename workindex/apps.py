from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkindexConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "workindex"
    verbose_name = _("Work index")
