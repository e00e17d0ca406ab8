"""Create a user (or reuse the one with this e-mail address) and give them a role.

    manage.py create_user --email a@acme.nl --role adviser --firm acme --invite
    manage.py create_user --email hr@zorg.nl --role contact_person --client acme/zorggroep-noord
    printf '%s\\n' "$PASSWORD" | manage.py create_user --email … --role … --password-stdin

Passwords are never taken from the command line (they would land in shell history and `ps`).
Without --password-stdin or --invite the account has no usable password; the user can still
choose one through "forgot password".
"""

from __future__ import annotations

import sys
import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError, CommandParser
from django.db import transaction

from accounts.models import User
from mail.outbox import email_enqueue
from tenants import services
from tenants.emails import INVITATION
from tenants.management.commands._common import (
    OperatorCommand,
    check_length,
    client_get,
    firm_get,
    refusing,
)
from tenants.models import ClientMembership, ClientOrganisation, Firm, FirmMembership
from tenants.trail import Operator

FIRM_ROLES = FirmMembership.Role.values
CLIENT_ROLES = ClientMembership.Role.values
EMAIL_MAX_LENGTH = User._meta.get_field("email").max_length
NAME_MAX_LENGTH = User._meta.get_field("full_name").max_length


class Command(OperatorCommand):
    help = (
        "Create a user with a firm role (--firm) or a client role (--client FIRM/CLIENT, or "
        "--firm with --client). Changes nothing on bad input."
    )
    # Lets tests (and callers of call_command) hand in the password stream.
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--name", default="", help="Full name.")
        parser.add_argument("--role", required=True, choices=[*FIRM_ROLES, *CLIENT_ROLES])
        parser.add_argument("--firm", help="Short name of the firm.")
        parser.add_argument("--client", help="FIRM/CLIENT, or CLIENT together with --firm.")
        how = parser.add_mutually_exclusive_group()
        how.add_argument(
            "--password-stdin",
            action="store_true",
            help="Read the password from the first line of standard input.",
        )
        how.add_argument(
            "--invite", action="store_true", help="E-mail a link to choose a password."
        )
        parser.add_argument(
            "--language",
            choices=[code for code, _name in settings.LANGUAGES],
            default=settings.LANGUAGE_CODE,
            help="Language of the invitation e-mail.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        email = (options["email"] or "").strip()
        full_name = (options["name"] or "").strip()
        check_length(email, option="--email", limit=EMAIL_MAX_LENGTH)
        check_length(full_name, option="--name", limit=NAME_MAX_LENGTH)
        role = options["role"]
        firm, client = self._scope(role, options["firm"], options["client"])

        password = None
        if options["password_stdin"]:
            password = self._read_password(options.get("stdin") or sys.stdin, email, full_name)

        existing = User.objects.filter(email__iexact=email).exists()
        with refusing({"email": "--email", "full_name": "--name"}), transaction.atomic():
            user = services.user_create(
                actor=Operator("create_user"),
                email=email,
                full_name=full_name,
                password=password,
                firm=firm,
                client=client,
                role=role,
            )
            if options["invite"] and not user.has_usable_password():
                # In the creating transaction: a refused or rolled-back creation sends nothing.
                # Each run of the command is its own invitation.
                email_enqueue(
                    kind=INVITATION,
                    key=f"create_user:{uuid.uuid4()}",
                    recipient_id=user.pk,
                    params={"language": options["language"]},
                )

        where = f"firm {firm.slug}" if firm else f"client {client.firm.slug}/{client.slug}"
        verb = "Gave existing user" if existing else "Created"
        self.stdout.write(self.style.SUCCESS(f"{verb} {user.email} the role {role} at {where}."))
        if existing and password is not None:
            self.stdout.write("The account already existed: its password was left unchanged.")
        if options["invite"]:
            if user.has_usable_password():
                self.stdout.write("The account already has a password: no invitation sent.")
            else:
                self.stdout.write(f"Invitation e-mail to {user.email} sent (or queued).")
        elif password is None and not user.has_usable_password():
            self.stdout.write(
                "No password set: use --invite, or let the user choose one via 'forgot password'."
            )

    def _scope(
        self, role: str, firm_slug: str | None, client_arg: str | None
    ) -> tuple[Firm | None, ClientOrganisation | None]:
        """Resolve --firm/--client for the role: a firm for firm roles, a client otherwise."""
        if role in FIRM_ROLES:
            if client_arg:
                raise CommandError(f"The role {role} belongs to a firm: leave out --client.")
            if not firm_slug:
                raise CommandError(f"The role {role} needs --firm.")
            return firm_get(firm_slug), None
        if not client_arg:
            raise CommandError(f"The role {role} needs --client FIRM/CLIENT.")
        if "/" in client_arg:
            client_firm_slug, _, client_slug = client_arg.partition("/")
            if firm_slug and firm_slug.strip().lower() != client_firm_slug.strip().lower():
                raise CommandError(f"--firm {firm_slug} does not match --client {client_arg}.")
        elif firm_slug:
            client_firm_slug, client_slug = firm_slug, client_arg
        else:
            raise CommandError("Give --client as FIRM/CLIENT, or add --firm.")
        return None, client_get(firm_get(client_firm_slug), client_slug)

    def _read_password(self, stream: Any, email: str, full_name: str) -> str:
        line = stream.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise CommandError("--password-stdin: no password on standard input.")
        try:
            validate_password(password, user=User(email=email, full_name=full_name))
        except ValidationError as error:
            raise CommandError("Password refused: " + " ".join(error.messages)) from None
        return password
