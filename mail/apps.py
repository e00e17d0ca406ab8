from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _


class MailConfig(AppConfig):
    """The one e-mail outbox (public schema): every e-mail of the platform is a row here first."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "mail"
    verbose_name = _("E-mail outbox")

    def ready(self) -> None:
        # Each app says what its e-mails look like in `<app>/emails.py` (`mail.kinds.kind`);
        # import them all so a worker can render any row, whichever task it runs first.
        autodiscover_modules("emails")
