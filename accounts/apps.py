from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from accounts.sessions import stamp_session

        # Session bookkeeping (infrastructure, like the routing cache): see accounts.sessions.
        user_logged_in.connect(stamp_session, dispatch_uid="accounts.stamp_session")
