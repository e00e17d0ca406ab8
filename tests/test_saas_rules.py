"""One owner per rule (issue 13, docs/architecture.md "Where each rule lives"): checks over the
source and the signal registry that fail when a copy of an owned rule comes back."""

from __future__ import annotations

import re
import weakref
from pathlib import Path

from django.db.models import signals

ROOT = Path(__file__).resolve().parent.parent
APPS = (
    "accounts",
    "audit",
    "billing",
    "boardroom",
    "cases",
    "credentials",
    "intake",
    "mail",
    "reports",
    "saas",
    "signup",
    "sparring",
    "tenants",
    "thirdparty",
    "workindex",
)


def _sources() -> list[Path]:
    return sorted(
        path
        for app in APPS
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.parts
    )


def test_no_model_signal_carries_domain_behaviour():
    """Services call their side effects themselves: `.update()` and bulk writes skip model
    signals, so no receiver of ours may hang on them."""
    ours = []
    for name in (
        "pre_init",
        "post_init",
        "pre_save",
        "post_save",
        "pre_delete",
        "post_delete",
        "m2m_changed",
    ):
        for _key, reference, *_async in getattr(signals, name).receivers:
            # Weak references (the default) are dereferenced; strong ones are the function.
            function = reference() if isinstance(reference, weakref.ReferenceType) else reference
            module = getattr(function, "__module__", "") or ""
            if module.split(".")[0] in APPS:
                ours.append(f"{name}: {module}.{getattr(function, '__qualname__', function)}")
    assert ours == []


# Operator commands that choose clients themselves, on purpose: migrations reach every schema
# (offboarded ones too, so a later restore is current), key rotation every client with a key.
_CHOOSE_THEIR_OWN = {
    "tenants/schemas.py",
    "tenants/management/commands/migrate_tenants.py",
    "tenants/management/commands/rotate_keys.py",
}


def test_only_tenants_schemas_decides_which_client_schemas_a_job_reaches():
    """`tenants.schemas.client_schemas` / `Reach` pick the schemas, `fan_out` queues them,
    `client_schema_task` guards a task that runs in one: no task writes its own copy."""
    copies = []
    for path in _sources():
        relative = path.relative_to(ROOT).as_posix()
        text = path.read_text()
        if relative not in _CHOOSE_THEIR_OWN and re.search(
            r"exclude\(\s*schema_name\s*=\s*[\"']public[\"']", text
        ):
            copies.append(f"{relative}: its own list of client schemas")
        if path.name == "tasks.py" and re.search(r"schema_name\s*==\s*[\"']public[\"']", text):
            copies.append(f"{relative}: its own public-schema guard (use client_schema_task)")
    assert copies == []


def test_only_tenants_access_says_who_serves_a_client():
    """ "An active adviser of the client's firm with an assignment in force" is `serves_client`
    (one user) and `serving_adviser_ids` (all of them). A query that joins assignments in force
    to the adviser membership, or checks the membership of the user it just found assigned,
    writes its own copy (the handover, the advisers of a client and sparring's notices each
    had one)."""
    copy = re.compile(
        r"in_force\([^)]*\)(?:(?!\n\n)[\s\S]){0,600}?"
        r"(?:firm_memberships__role|FirmMembership\.objects\.filter\(\s*user=)"
    )
    copies = [
        path.relative_to(ROOT).as_posix()
        for path in _sources()
        if path.relative_to(ROOT).as_posix() != "tenants/access.py"
        and copy.search(path.read_text())
    ]
    assert copies == []
