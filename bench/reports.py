"""Time the reports: portfolio, client dashboard, one annual report (HTML, PDF), a batch of them.

    .venv/bin/python bench/reports.py [--clients 1000] [--cases-per-client 200]
                                      [--batch-clients 300] [--batch-processes 2]
                                      [--samples 30] [--keep]

In a database of its own (`vertrouwd_bench_reports`, on the app's server: the embedded
PostgreSQL under `.data/` when DATABASE_URL is unset), `manage.py seed_demo` builds firm
"demo" with 1,000 client organisations x 200 cases and firm "batch" with 300 x 200 (each
client's public rollups are rebuilt as its cases are seeded). Then, in one run, production
settings (DEBUG off, no Redis: locmem cache,
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

import multiprocessing
import statistics
import sys
import time

from _common import (
    argument_parser,
    bench_database,
    load_average,
    p95,
    setup_django,
    signed_in,
    template_ready,
)

BENCH_DATABASE = "vertrouwd_bench_reports"
GOALS_MS = {"portfolio": 300.0, "client dashboard": 150.0, "one PDF": 3000.0}
GOAL_BATCH_SECONDS = 300.0


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
    from django.db import connections
    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from accounts.models import User
    from boardroom import annual
    from boardroom.models import AnnualReport
    from reports.models import ReportBatch
    from reports.periods import period_parse
    from reports.portfolio import portfolio_by_querying_schemas
    from tenants.models import ClientMembership, ClientOrganisation, Firm, FirmMembership

    print(f"Set up {BENCH_DATABASE} and the template in {template_ready():.1f} s")
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
        f"(load average {load_average()})"
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
    ours = statistics.median(results["portfolio"])
    stock = statistics.median(results["same counts by querying every schema"])
    print(
        f"portfolio from the rollups against the case counts alone by querying every schema "
        f"(medians): stock/ours {stock / ours:.1f}x"
    )
    met = batch_seconds < GOAL_BATCH_SECONDS and batch.done == len(schemas)
    ok &= met
    print(
        f"{'batch: ' + str(len(schemas)) + ' drafts with PDF, ' + str(processes) + ' processes':45}"
        f" {batch_seconds:9.1f} s total ({batch.done} done, {batch.failed} failed)  "
        f"< {GOAL_BATCH_SECONDS:.0f} s {'met' if met else 'MISSED'}"
    )
    return ok


def main() -> int:
    parser = argument_parser(__doc__, BENCH_DATABASE)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--cases-per-client", type=int, default=200)
    parser.add_argument("--batch-clients", type=int, default=300)
    parser.add_argument("--batch-processes", type=int, default=2)
    parser.add_argument("--samples", type=int, default=30)
    args = parser.parse_args()
    with bench_database(BENCH_DATABASE, keep=args.keep) as bench_url:
        setup_django(bench_url)
        ok = run(
            args.clients,
            args.cases_per_client,
            args.batch_clients,
            args.batch_processes,
            args.samples,
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
