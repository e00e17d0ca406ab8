"""Take a role away from a person, or deactivate their account everywhere.

    manage.py remove_person --email hr@client.test --firm acme --client zorggroep --role contact_person
    manage.py remove_person --email adviser@acme.test --firm acme --role adviser
    manage.py remove_person --email someone@example.test --deactivate

Takes effect at once: an adviser's assignments to the firm's clients end, and every session of
the person ends. Never removes a firm's last administrator. What the person wrote stays with
the client. Each change is one row on the firm's audit trail ("operator command remove_person").
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from tenants import services
from tenants.management.commands._common import (
    OperatorCommand,
    client_get,
    firm_get,
    refusing,
    user_get,
)
from tenants.models import ClientMembership, FirmMembership
from tenants.trail import Operator

FIRM_ROLES = FirmMembership.Role.values
CLIENT_ROLES = ClientMembership.Role.values


class Command(OperatorCommand):
    help = "Remove one role of a person (--firm, --role, --client for client roles), or --deactivate the account."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True, help="The person's e-mail address.")
        parser.add_argument("--firm", help="Short name of the firm.")
        parser.add_argument("--client", help="Short name of the client (client roles).")
        parser.add_argument("--role", choices=[*FIRM_ROLES, *CLIENT_ROLES])
        parser.add_argument(
            "--deactivate",
            action="store_true",
            help="Close the account everywhere (no sign-in, every session and assignment ends).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        actor = Operator("remove_person")
        user = user_get(options["email"])
        if options["deactivate"]:
            if options["firm"] or options["client"] or options["role"]:
                raise CommandError("--deactivate closes the whole account; give only --email.")
            with refusing():
                services.user_deactivate(actor=actor, user=user)
            self.stdout.write(self.style.SUCCESS(f"Deactivated {user.email}; sessions ended."))
            return
        if not options["firm"] or not options["role"]:
            raise CommandError("Give --firm and --role (and --client for a client role).")
        firm = firm_get(options["firm"])
        role = options["role"]
        if role in CLIENT_ROLES:
            if not options["client"]:
                raise CommandError(f"--role {role} needs --client.")
            client = client_get(firm, options["client"])
            membership = ClientMembership.objects.filter(
                user=user, client=client, role=role
            ).first()
        else:
            if options["client"]:
                raise CommandError(f"--role {role} is a firm role; leave out --client.")
            membership = FirmMembership.objects.filter(user=user, firm=firm, role=role).first()
        if membership is None:
            raise CommandError(f"{user.email} has no role {role} there; nothing changed.")
        with refusing():
            services.membership_remove(actor=actor, firm=firm, membership=membership)
        self.stdout.write(
            self.style.SUCCESS(f"Removed the role {role} of {user.email}; sessions ended.")
        )
