"""Every operator command, every argument: hostile input is refused with a message naming the
argument, and nothing changes (issue 14: the commands took dates like 0001-01-01, control
characters and zero-width-only names that the web refused).

The walk reads each command's own parser, so a new command or argument is walked without
editing this file; it needs only a valid invocation in `BASE` (a test fails without one).
"""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command, get_commands, load_command_class
from django.utils import timezone

from tenants import services
from tenants.management.commands._common import OperatorCommand, parse_date
from tenants.models import Assignment, ClientOrganisation
from tenants.trail import Operator
from tenants.validators import date_bounds, date_clean, validate_date_in_range
from tests.test_tenants_commands import snapshot

OUR_APPS = ("tenants", "cases", "accounts", "billing", "reports", "boardroom", "sparring")

# A valid invocation of each command; each hostile value replaces one argument's value in it.
BASE: dict[str, list[str]] = {
    "assign": [
        "--firm", "acme", "--client", "a2", "--adviser", "idle@acme.test", "--kind", "backup",
        "--from", "2025-01-01", "--until", "2025-12-31",
    ],
    "create_client": [
        "--firm", "acme", "--slug", "c9", "--name", "Zorg", "--employees", "5",
        "--sector", "other", "--country", "NL",
        "--contract-start", "2025-01-01", "--contract-end", "2026-01-01",
    ],
    "create_firm": [
        "--slug", "foxtrot", "--name", "Foxtrot", "--anonymity-threshold", "5",
        "--retention-months", "12",
    ],
    "create_user": [
        "--email", "new@acme.test", "--name", "Nieuw", "--role", "contact_person",
        "--firm", "acme", "--client", "a1", "--language", "nl",
    ],
    "demo_logins": ["--firm-slug", "demo"],
    "export_client": ["--firm", "acme", "--slug", "a1", "--output", "{tmp}/a1.vtar.gz"],
    "import_client": ["{tmp}/missing.vtar.gz"],
    "migrate_tenants": ["--processes", "1", "--schema", "c_nothing_here"],
    "offboard_client": ["--firm", "acme", "--client", "a2", "--confirm", "a2"],
    "remove_person": [
        "--email", "hr@client-a1.test", "--firm", "acme", "--client", "a1",
        "--role", "contact_person",
    ],
    "rotate_keys": ["--rewrap", "--firm", "acme", "--client", "a1"],
    "seed_demo": [
        "--clients", "1", "--cases-per-client", "0", "--firm-slug", "demo2", "--seed", "7",
    ],
}  # fmt: skip
# Arguments for which every value of their type is valid.
ANY_INTEGER = {("seed_demo", "--seed")}
DJANGO_OPTIONS = {
    "help", "version", "verbosity", "settings", "pythonpath", "traceback", "no_color",
    "force_color", "skip_checks",
}  # fmt: skip

INVISIBLE = {
    "NUL": "a\x00b",
    "control character": "Zorg\x01groep",
    "zero-width only": "\u200b\u200b",
    "bidi override": "Zorg\u202egroep",
    "private use": "Zorg\ue000",
}
LONG = "x" * 10_000


def _dates() -> dict[str, str]:
    year = timezone.localdate().year
    return {
        "year 1": "0001-01-01",
        "year 9999": "9999-12-31",
        "51 years ago": f"{year - 51}-06-01",
        "51 years on": f"{year + 51}-06-01",
    }


def _commands() -> list[str]:
    return sorted(name for name, app in get_commands().items() if app.split(".")[0] in OUR_APPS)


def _arguments(name: str) -> list[tuple[str, object, bool]]:
    """(flag or positional name, argparse type, has choices) of every argument with a value."""
    parser = load_command_class(get_commands()[name], name).create_parser("manage.py", name)
    found = []
    for action in parser._actions:
        if action.dest in DJANGO_OPTIONS or action.nargs == 0:
            continue
        flag = action.option_strings[-1] if action.option_strings else action.dest
        found.append((flag, action.type, action.choices is not None))
    return found


def _with(base: list[str], flag: str, value: str, *, positional: bool) -> list[str]:
    if positional:
        return [value]
    args = list(base)
    if flag in args:
        args[args.index(flag) + 1] = value
    else:
        args += [flag, value]
    return args


def _refused(name: str, args: list[str]) -> str:
    before = snapshot()
    with pytest.raises(CommandError) as refused:
        call_command(name, *args, stdout=io.StringIO(), stderr=io.StringIO())
    assert snapshot() == before, (name, args)
    return str(refused.value)


def test_every_command_of_ours_is_an_operator_command_with_a_base_invocation():
    names = _commands()
    assert set(names) == set(BASE)
    for name in names:
        assert isinstance(load_command_class(get_commands()[name], name), OperatorCommand), name


@pytest.mark.parametrize("name", sorted(BASE))
def test_every_argument_refuses_hostile_values_and_changes_nothing(cast, tmp_path, name):
    base = [part.replace("{tmp}", str(tmp_path)) for part in BASE[name]]
    for flag, kind, choices in _arguments(name):
        positional = not flag.startswith("-")
        values = dict(INVISIBLE)
        if kind is parse_date:
            values |= _dates()
        elif kind is int and (name, flag) not in ANY_INTEGER:
            values |= {"negative": "-1", "huge": str(10**12)}
        elif kind is None:
            values |= {"10,000 characters": LONG}
        for label, value in values.items():
            message = _refused(name, _with(base, flag, value, positional=positional))
            if label in INVISIBLE or kind is parse_date:
                # Said about the argument itself, not some later failure.
                assert flag in message, (name, flag, label, message)
            if label in INVISIBLE and kind is None and not choices:
                assert "Remove the invisible or control characters" in message, message


def test_dates_passed_around_argparse_meet_the_same_range_in_the_services(cast):
    """call_command(..., starts_on=date) skips argparse's type: the service refuses it."""
    with pytest.raises(CommandError, match="--from: Enter a date within fifty years of today"):
        call_command(
            "assign", firm="acme", client="a2", adviser="idle@acme.test",
            starts_on=datetime.date(1, 1, 1), stdout=io.StringIO(),
        )  # fmt: skip
    with pytest.raises(CommandError, match="--contract-end: Enter a date within fifty years"):
        call_command(
            "create_client", firm="acme", slug="c9", name="Zorg", employees=5,
            contract_end=datetime.date(9999, 12, 31), stdout=io.StringIO(),
        )  # fmt: skip
    assert not Assignment.objects.filter(client=cast.a2).exists()
    assert not ClientOrganisation.objects.filter(slug="c9").exists()
    with pytest.raises(ValidationError) as refused:
        services.client_update(
            actor=Operator("test"), client=cast.a1, contract_starts_on=datetime.date(1, 1, 1)
        )
    assert refused.value.message_dict == {  # Dutch, the default language
        "contract_starts_on": ["Vul een datum in die hooguit vijftig jaar van vandaag af ligt."]
    }
    cast.a1.refresh_from_db()
    assert cast.a1.contract_starts_on.year > 1


def test_the_date_range_is_whole_years_and_survives_29_february():
    assert date_bounds(datetime.date(2028, 2, 29)) == (
        datetime.date(1978, 1, 1),
        datetime.date(2078, 12, 31),
    )
    low, high = date_bounds()
    for inside in (low, high, timezone.localdate()):
        validate_date_in_range(inside)
        assert parse_date(inside.isoformat()) == inside
        assert date_clean(inside, field="x") == inside
    for outside in (low - datetime.timedelta(days=1), high + datetime.timedelta(days=1)):
        with pytest.raises(ValidationError):
            validate_date_in_range(outside)
    assert date_clean(None, field="x") is None
    with pytest.raises(ValidationError) as refused:
        date_clean(timezone.now(), field="on")  # a datetime is not a date
    assert refused.value.message_dict == {"on": ["Vul een geldige datum in."]}
