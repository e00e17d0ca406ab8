"""Time the adviser's everyday pages: case list, case page and "my day".

    .venv/bin/python bench/casework.py [--big-cases 10000] [--clients 50] [--cases-per-client 200]
                                       [--samples 50] [--keep]

Builds, in a database of its own (`vertrouwd_bench_cases`, on the app's server: the embedded
PostgreSQL under `.data/` when DATABASE_URL is unset), one firm with one client organisation
holding 10,000 cases and 50 more with 200 cases each, all assigned to one adviser (synthetic
cases from `cases.demo.seed_cases`). Then requests each page through Django's test client with
the right host and a verified session, production settings (DEBUG off), and reports the median
and p95 server time (request in, response out, in-process: routing, middleware, queries,
decryption, template) and the number of SQL queries per page. Goal: p95 under 150 ms per page.
Exits 1 when the goal is missed. Drops the database at the end unless --keep.
"""

from __future__ import annotations

import argparse
import base64
import math
import os
import random
import secrets
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH_DATABASE = "vertrouwd_bench_cases"
GOAL_P95_MS = 150.0


def server_and_url() -> tuple[dict[str, str], str]:
    """How to reach the server's `postgres` database, and the DATABASE_URL of the bench one."""
    url = os.environ.get("DATABASE_URL")
    if url:
        parts = urlsplit(url)
        return (
            {"conninfo": urlunsplit(parts._replace(path="/postgres"))},
            urlunsplit(parts._replace(path=f"/{BENCH_DATABASE}")),
        )
    sys.path.insert(0, str(ROOT))
    from saas.embedded_db import embedded_database

    data_dir = Path(os.environ.get("VERTROUWD_DATA_DIR", ROOT / ".data")).resolve()
    embedded = embedded_database(data_dir)
    host = embedded["HOST"]
    return (
        {"host": host, "user": embedded["USER"], "dbname": "postgres"},
        f"postgresql://{embedded['USER']}@{quote(host, safe='')}/{BENCH_DATABASE}",
    )


def recreate_database(server: dict[str, str], *, drop_only: bool = False) -> None:
    import psycopg

    with psycopg.connect(**server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{BENCH_DATABASE}"')


def setup_django(bench_url: str) -> None:
    os.environ["DATABASE_URL"] = bench_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "saas.settings"
    # Production settings (DEBUG off) with throwaway keys; no Redis: locmem cache, eager tasks.
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("MASTER_KEY", base64.b64encode(secrets.token_bytes(32)).decode())
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.pop("REDIS_URL", None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings

    # No collectstatic for a benchmark: unhashed static URLs (a lookup either way).
    settings.STORAGES["staticfiles"] = {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
    }


def p95(samples: list[float]) -> float:
    """Nearest-rank 95th percentile."""
    ordered = sorted(samples)
    return ordered[math.ceil(0.95 * len(ordered)) - 1]


def build(big_cases: int, clients: int, cases_per_client: int) -> dict[str, object]:
    """Create the firm, the adviser, the clients and their cases; return what the pages need."""
    from django.db import transaction
    from django_otp.plugins.otp_totp.models import TOTPDevice
    from django_tenants.utils import tenant_context

    from cases.demo import seed_cases
    from tenants import services

    firm = services.firm_create(slug="benchcases", name="Bench Casework")
    adviser = services.user_create(
        email="adviser@bench.test", full_name="Bench Adviser", firm=firm, role="adviser"
    )
    TOTPDevice.objects.create(user=adviser, name="Authenticator", confirmed=True)
    started = time.perf_counter()
    made = []
    plan = [("big", big_cases)] + [
        (f"c{number}", cases_per_client) for number in range(1, clients + 1)
    ]
    for slug, count in plan:
        with transaction.atomic():
            client = services.client_create(
                firm=firm, slug=slug, name=f"Organisatie {slug}", employee_count=250
            )
            services.assignment_create(client=client, adviser=adviser)
            with tenant_context(client):
                seed_cases(client=client, count=count, rng=random.Random(f"bench/{slug}"))
        made.append(client)
        if len(made) % 10 == 0:
            print(f"  … {len(made)}/{len(plan)} clients seeded", file=sys.stderr, flush=True)
    total = big_cases + clients * cases_per_client
    elapsed = time.perf_counter() - started
    print(f"Seeded {len(plan)} client organisations, {total:,} cases, in {elapsed:.1f} s")
    return {"adviser": adviser, "big": made[0]}


def signed_in(host: str, user: object) -> object:
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    browser = Client(HTTP_HOST=host)
    browser.force_login(user)
    session = browser.session
    session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=user).persistent_id
    session.save()
    return browser


def measure(browser: object, paths: list[str]) -> tuple[list[float], list[float], list[int]]:
    """Server time and this process's CPU time (ms) of each GET, and query counts (own pass).

    The CPU time leaves out waiting: for PostgreSQL (another process) and for a busy machine.
    """
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for path in paths[:5]:
        with CaptureQueriesContext(connection) as captured:
            response = browser.get(path)
        assert response.status_code == 200, (path, response.status_code)
        counts.append(len(captured))
    times, cpu = [], []
    for path in paths:
        started, started_cpu = time.perf_counter(), time.process_time()
        response = browser.get(path)
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    return times, cpu, counts


def run(big_cases: int, clients: int, cases_per_client: int, samples: int) -> bool:
    from django.conf import settings
    from django.core.management import call_command
    from django_tenants.utils import tenant_context

    from cases.models import Case
    from tenants import provisioning

    started = time.perf_counter()
    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    provisioning.forget_template_state()
    provisioning.ensure_template()
    print(f"Set up {BENCH_DATABASE} and the template in {time.perf_counter() - started:.1f} s")
    built = build(big_cases, clients, cases_per_client)
    big = built["big"]
    host = big.domains.get(is_primary=True).domain
    with tenant_context(big):
        references = list(Case.objects.exclude(phase="closed").values_list("reference", flat=True))
    rng = random.Random(1)
    pages = {
        "case list": (host, ["/cases/"] * samples),
        "case list, page 40 of all": (host, ["/cases/?status=all&page=40"] * samples),
        "case page": (host, [f"/cases/{rng.choice(references)}/" for _ in range(samples)]),
        "my day": (settings.BASE_DOMAIN, ["/console/my-day/"] * samples),
    }
    rows = []
    for name, (page_host, paths) in pages.items():
        browser = signed_in(page_host, built["adviser"])
        for _ in range(3):  # warm caches: routing, templates, the data key
            browser.get(paths[0])
        times, cpu, counts = measure(browser, paths)
        rows.append((name, times, cpu, counts))

    print()
    print(
        f"Pages of an adviser ({big_cases:,} cases in one client; my day over {clients + 1} "
        f"clients), {samples} samples, ms (load average {os.getloadavg()[0]:.1f})"
    )
    print(f"{'page':<28} {'median':>8} {'p95':>8} {'CPU med':>8} {'CPU p95':>8} {'queries':>8}")
    met = True
    for name, times, cpu, counts in rows:
        queries = "/".join(str(count) for count in sorted(set(counts)))
        print(
            f"{name:<28} {statistics.median(times):>8.1f} {p95(times):>8.1f} "
            f"{statistics.median(cpu):>8.1f} {p95(cpu):>8.1f} {queries:>8}"
        )
        met &= p95(times) < GOAL_P95_MS
    print(f"\nGoal p95 < {GOAL_P95_MS:.0f} ms on every page: {'met' if met else 'MISSED'}")
    return met


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--big-cases", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--cases-per-client", type=int, default=200)
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--keep", action="store_true", help=f"keep the {BENCH_DATABASE} database")
    options = parser.parse_args()
    if min(options.big_cases, options.clients, options.cases_per_client, options.samples) < 1:
        parser.error("every number must be at least 1")
    server, bench_url = server_and_url()
    recreate_database(server)
    try:
        setup_django(bench_url)
        return (
            0
            if run(options.big_cases, options.clients, options.cases_per_client, options.samples)
            else 1
        )
    finally:
        if options.keep:
            print(f"Kept the database {BENCH_DATABASE}.")
        else:
            from django.conf import settings

            if settings.configured:
                from django.db import connections

                connections.close_all()
            recreate_database(server, drop_only=True)


if __name__ == "__main__":
    sys.exit(main())
