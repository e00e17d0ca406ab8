from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ThirdPartyConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "thirdparty"
    verbose_name = _("Register of acts by third parties")
