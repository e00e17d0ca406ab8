from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SparringPublicConfig(AppConfig):
    """The public-schema side of sparring: a content-free index, preferences and the outbox."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "sparring.public"
    label = "sparring_public"
    verbose_name = _("Sparring (index and notifications)")
