"""Time the reports: portfolio, client dashboard, one annual report (HTML, PDF), a batch of them.

    .venv/bin/python bench/reports.py [--clients 1000] [--cases-per-client 200]
                                      [--batch-clients 300] [--batch-processes 2]
                                      [--samples 30] [--keep]

In a database of its own (`vertrouwd_bench_reports`, on the app's server: the embedded
PostgreSQL under `.data/` when DATABASE_URL is unset), `manage.py seed_demo` builds firm
"demo" with 1,000 client organisations x 200 cases and firm "batch" with 300 x 200, then the
nightly rollup task fills the public rollups (seed_demo writes cases in bulk, without the
per-change hook). Then, in one run, production settings (DEBUG off, no Redis: locmem cache,
tasks in-process), through Django's test client with verified sessions:

* the firm portfolio dashboard (firm admin, 1,000 clients) from the rollups: the first request
  (suppression computed) and p50/p95 of the following ones, against computing the same case
  counts by querying every client schema;
* the client dashboard (a contact person, the default period), first request per client and
  p50/p95 over clients already seen;
* one annual report: the content and HTML, and the PDF (WeasyPrint);
* the batch of all annual reports of firm "batch" (300 drafts with their PDFs), run as the
  celery tasks would, split over `--batch-processes` processes (a worker with that concurrency).

Goals: portfolio p95 < 300 ms at 1,000 clients; client dashboard p95 < 150 ms; one PDF < 3 s;
300 PDFs < 5 minutes on 2 cores. Exits 1 when a goal is missed. Drops the database at the end
unless --keep.
"""

from __future__ import annotations

import argparse
import base64
import math
import multiprocessing
import os
import secrets
import statistics
import sys
import time
import warnings
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH_DATABASE = "vertrouwd_bench_reports"
GOALS_MS = {"portfolio": 300.0, "client dashboard": 150.0, "one PDF": 3000.0}
GOAL_BATCH_SECONDS = 300.0


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
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("MASTER_KEY", base64.b64encode(secrets.token_bytes(32)).decode())
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.pop("REDIS_URL", None)
    sys.path.insert(0, str(ROOT))
    warnings.filterwarnings("ignore", message="No directory at")
    import django

    django.setup()
    from django.conf import settings

    settings.STORAGES["staticfiles"] = {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
    }


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[math.ceil(0.95 * len(ordered)) - 1]


def signed_in(host: str, user: object) -> object:
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    browser = Client(HTTP_HOST=host)
    browser.force_login(user)
    device = TOTPDevice.objects.filter(user=user).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator", confirmed=True)
    session = browser.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return browser


def timed_get(browser: object, path: str) -> float:
    started = time.perf_counter()
    response = browser.get(path)
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, (path, response.status_code)
    return elapsed


def seed(clients: int, cases: int, batch_clients: int) -> None:
    from django.core.management import call_command

    started = time.perf_counter()
    for slug, count in (("demo", clients), ("batch", batch_clients)):
        call_command(
            "seed_demo",
            clients=count,
            cases_per_client=cases,
            firm_slug=slug,
            seed=7,
            verbosity=0,
        )
        print(f"  seeded firm {slug}: {count} clients", file=sys.stderr, flush=True)
    print(
        f"Seeded {clients + batch_clients} client organisations x {cases} cases in "
        f"{time.perf_counter() - started:.0f} s"
    )
    from reports.tasks import rollup_nightly

    started = time.perf_counter()
    rollup_nightly()
    print(f"Rollups rebuilt for every client in {time.perf_counter() - started:.1f} s")


def _batch_worker(batch_id: int, schemas: list[str]) -> None:
    from django.db import connections

    connections.close_all()
    from reports.tasks import report_batch_draft

    for schema in schemas:
        report_batch_draft.apply(args=[batch_id], headers={"_schema_name": schema})
    connections.close_all()


def run(clients: int, cases: int, batch_clients: int, processes: int, samples: int) -> bool:
    from django.conf import settings
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connections
    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from accounts.models import User
    from boardroom import annual
    from boardroom.models import AnnualReport
    from reports.models import ReportBatch
    from reports.periods import period_parse
    from reports.portfolio import portfolio_by_querying_schemas
    from tenants import provisioning
    from tenants.models import ClientMembership, ClientOrganisation, Firm, FirmMembership

    started = time.perf_counter()
    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    provisioning.forget_template_state()
    provisioning.ensure_template()
    print(f"Set up {BENCH_DATABASE} and the template in {time.perf_counter() - started:.1f} s")
    seed(clients, cases, batch_clients)

    results: dict[str, list[float]] = {}
    firsts: dict[str, float] = {}
    demo = Firm.objects.get(slug="demo")
    admin = User.objects.get(
        pk=FirmMembership.objects.filter(firm=demo, role="firm_admin").values_list(
            "user", flat=True
        )[0]
    )
    console = signed_in(settings.BASE_DOMAIN, admin)
    cache.clear()
    firsts["portfolio"] = timed_get(console, "/console/portfolio/")
    results["portfolio"] = [timed_get(console, "/console/portfolio/") for _ in range(samples)]
    period = period_parse(None, None, today=timezone.localdate())
    slow = []
    for _ in range(3):
        begun = time.perf_counter()
        portfolio_by_querying_schemas(firm=demo, period=period)
        slow.append((time.perf_counter() - begun) * 1000)
    results["same counts by querying every schema"] = slow

    demo_clients = list(ClientOrganisation.objects.filter(firm=demo).order_by("pk")[: samples + 5])
    dashboard_first, dashboard_warm = [], []
    for client in demo_clients:
        contact = ClientMembership.objects.filter(client=client, role="contact_person").first()
        browser = signed_in(client.domains.get(is_primary=True).domain, contact.user)
        dashboard_first.append(timed_get(browser, "/board/"))
        dashboard_warm.append(timed_get(browser, "/board/"))
    firsts["client dashboard"] = statistics.median(dashboard_first)
    results["client dashboard"] = dashboard_warm

    year = timezone.localdate().year - 1
    html_ms, pdf_ms = [], []
    for client in demo_clients[:5]:
        with tenant_context(client):
            report, _created = AnnualReport.objects.get_or_create(year=year)
            begun = time.perf_counter()
            content = annual.content_build(report)
            body = annual.html_render(content, status="draft", published_on=None)
            html_ms.append((time.perf_counter() - begun) * 1000)
            document = annual.document_render(body, title=annual.report_title(content))
            begun = time.perf_counter()
            pdf = annual.pdf_render(document)
            pdf_ms.append((time.perf_counter() - begun) * 1000)
            assert pdf.startswith(b"%PDF")
    results["one annual report, content + HTML"] = html_ms
    results["one PDF"] = pdf_ms

    batch_firm = Firm.objects.get(slug="batch")
    schemas = list(
        ClientOrganisation.objects.filter(firm=batch_firm, status="active")
        .order_by("name", "pk")
        .values_list("schema_name", flat=True)
    )
    batch = ReportBatch.objects.create(
        firm=batch_firm, year=year, total=len(schemas), status="running"
    )
    connections.close_all()
    begun = time.perf_counter()
    workers = [
        multiprocessing.get_context("fork").Process(
            target=_batch_worker, args=(batch.pk, schemas[number::processes])
        )
        for number in range(processes)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    batch_seconds = time.perf_counter() - begun
    batch.refresh_from_db()

    print()
    print(
        f"Reports at {clients:,} clients x {cases} cases, {samples} samples, ms "
        f"(load average {os.getloadavg()[0]:.1f})"
    )
    print(f"{'':45} {'first':>9} {'p50':>9} {'p95':>9}  goal")
    ok = True
    for name, times in results.items():
        goal = GOALS_MS.get(name)
        first = f"{firsts[name]:9.1f}" if name in firsts else f"{'':>9}"
        verdict = ""
        if goal is not None:
            met = p95(times) < goal
            ok &= met
            verdict = f"p95 < {goal:.0f} {'met' if met else 'MISSED'}"
        print(f"{name:45} {first} {statistics.median(times):9.1f} {p95(times):9.1f}  {verdict}")
    met = batch_seconds < GOAL_BATCH_SECONDS and batch.done == len(schemas)
    ok &= met
    print(
        f"{'batch: ' + str(len(schemas)) + ' drafts with PDF, ' + str(processes) + ' processes':45}"
        f" {batch_seconds:9.1f} s total ({batch.done} done, {batch.failed} failed)  "
        f"< {GOAL_BATCH_SECONDS:.0f} s {'met' if met else 'MISSED'}"
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--cases-per-client", type=int, default=200)
    parser.add_argument("--batch-clients", type=int, default=300)
    parser.add_argument("--batch-processes", type=int, default=2)
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    args = parser.parse_args()
    server, bench_url = server_and_url()
    recreate_database(server)
    try:
        setup_django(bench_url)
        ok = run(
            args.clients,
            args.cases_per_client,
            args.batch_clients,
            args.batch_processes,
            args.samples,
        )
    finally:
        if not args.keep:
            from django.db import connections

            connections.close_all()
            recreate_database(server, drop_only=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
