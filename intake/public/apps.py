from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntakePublicConfig(AppConfig):
    """The public-schema side of intake: adviser cards, short links, a content-free index."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "intake.public"
    label = "intake_public"
    verbose_name = _("Employee intake (index and links)")
