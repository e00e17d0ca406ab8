"""Development only: print the demo firm's logins with a fixed password and fresh backup codes.

    manage.py demo_logins [--firm-slug demo]        (python3 dev.py logins)

`dev.py start` runs it on every start, so a restarted demo prints its logins again; run it any
time for new backup codes (each works once). Every demo user (an address under the reserved
`.test` domain, member of the demo firm or one of its clients) gets the documented password
`DEMO_PASSWORD`, so signing out never locks a newcomer out. Refused unless `DEBUG` is on: a
known password must never reach a real installation.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import CommandError, CommandParser
from django.db import transaction
from django.db.models import Q
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from accounts.services import backup_codes_regenerate
from saas import hosts
from tenants.management.commands._common import OperatorCommand, firm_get
from tenants.models import ClientMembership

DEMO_PASSWORD = "vertrouwd-demo"  # noqa: S105 -- documented, DEBUG only


def demo_users(firm_slug: str) -> list[tuple[User, str, str]]:
    """(user, role, where) for every demo user of the firm: firm people first, then clients."""
    firm = firm_get(firm_slug)
    rows: list[tuple[User, str, str]] = []
    for membership in firm.memberships.select_related("user").order_by("role", "user__email"):
        rows.append((membership.user, membership.role, firm.slug))
    client_memberships = (
        ClientMembership.objects.filter(client__firm=firm)
        .select_related("user", "client")
        .order_by("client__slug", "role", "user__email")
    )
    for membership in client_memberships:
        where = hosts.client_host(client_slug=membership.client.slug, firm_slug=firm.slug)
        rows.append((membership.user, membership.role, where))
    return [row for row in rows if row[0].email.endswith(".test")]


class Command(OperatorCommand):
    help = "DEBUG only: give the demo users the demo password and print fresh backup codes."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--firm-slug", default="demo")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError(
                "demo_logins only runs with DEBUG=1 (development): it sets a known password."
            )
        rows = demo_users(options["firm_slug"])
        if not rows:
            raise CommandError(f"The firm “{options['firm_slug']}” has no demo users.")
        password_hash = make_password(DEMO_PASSWORD)
        codes: dict[int, str] = {}
        with transaction.atomic():
            users = {user.pk for user, _role, _where in rows}
            User.objects.filter(pk__in=users).update(password=password_hash, is_active=True)
            enrolled = set(
                TOTPDevice.objects.filter(Q(user_id__in=users), confirmed=True).values_list(
                    "user_id", flat=True
                )
            )
            for user, _role, _where in rows:
                if user.pk in enrolled and user.pk not in codes:
                    codes[user.pk] = backup_codes_regenerate(user=user)[0]
        self.stdout.write(f"Open {hosts.console_url()}")
        self.stdout.write(f"Demo password (every demo user): {DEMO_PASSWORD}")
        self.stdout.write(
            "Second step: the backup code below instead of an app code (each works once). "
            "New codes: python3 dev.py logins, or “My account” → new backup codes. "
            "“(enrol)”: the first sign-in shows the QR code for an authenticator app."
        )
        self.stdout.write("")
        table = [("E-MAIL", "ROLE", "WHERE", "BACKUP CODE")]
        table += [
            (user.email, role, where, codes.get(user.pk, "(enrol)")) for user, role, where in rows
        ]
        widths = [max(len(row[column]) for row in table) for column in range(len(table[0]))]
        for row in table:
            self.stdout.write(
                "  ".join(
                    cell.ljust(width) for cell, width in zip(row, widths, strict=True)
                ).rstrip()
            )
