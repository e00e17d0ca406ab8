"""Time the adviser's everyday pages: case list, case page and "my day" (also the stock way).

    .venv/bin/python bench/casework.py [--big-cases 10000] [--clients 50] [--cases-per-client 200]
                                       [--samples 50] [--keep]

Builds, in a database of its own (`vertrouwd_bench_cases`, on the app's server: the embedded
PostgreSQL under `.data/` when DATABASE_URL is unset), one firm with one client organisation
holding 10,000 cases and 50 more with 200 cases each, all assigned to one adviser (synthetic
cases from `cases.demo.seed_cases`). Then requests each page through Django's test client with
the right host and a verified session, production settings (DEBUG off), and reports the median
and p95 server time (request in, response out, in-process: routing, middleware, queries,
decryption, template) and the number of SQL queries per page. Goal: p95 under 150 ms per page.

"My day" is measured twice, in the same run on the same data: ours reads the public work index
(`workindex.selectors.my_day`, a constant handful of queries); the stock way with django-tenants
reads every assigned client's schema per request (`tenant_context` per client: open cases, open
follow-ups, whistleblower-act deadlines and this month's minutes straight from the `cases`
models; `my_day_by_querying_schemas` below, a measuring stick and not product code). Both go
through the same view and template; before timing, the script checks that both give the same
figures for the bench adviser, and it prints the ratio stock/ours of the medians. The case list
and the case page have no other stock approach to compare with: they read one client's schema
and already page with Django's Paginator.

Exits 1 when the goal is missed on one of our pages. Drops the database at the end unless --keep.
"""

from __future__ import annotations

import contextlib
import datetime
import random
import statistics
import sys
import time
from typing import Any
from unittest import mock

from _common import (
    argument_parser,
    bench_database,
    load_average,
    p95,
    setup_django,
    signed_in,
    template_ready,
)

BENCH_DATABASE = "vertrouwd_bench_cases"
GOAL_P95_MS = 150.0
STOCK_MY_DAY = "my day, stock: every schema"


def build(big_cases: int, clients: int, cases_per_client: int) -> dict[str, object]:
    """Create the firm, the adviser, the clients and their cases; return what the pages need."""
    from django.db import transaction
    from django_otp.plugins.otp_totp.models import TOTPDevice
    from django_tenants.utils import tenant_context

    from cases.demo import seed_cases
    from tenants import services
    from tenants.trail import Operator

    firm = services.firm_create(actor=Operator("bench"), slug="benchcases", name="Bench Casework")
    adviser = services.user_create(
        actor=Operator("bench"),
        email="adviser@bench.test",
        full_name="Bench Adviser",
        firm=firm,
        role="adviser",
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
                actor=Operator("bench"),
                firm=firm,
                slug=slug,
                name=f"Organisatie {slug}",
                employee_count=250,
            )
            services.assignment_create(actor=Operator("bench"), client=client, adviser=adviser)
            with tenant_context(client):
                seed_cases(client=client, count=count, rng=random.Random(f"bench/{slug}"))
        made.append(client)
        if len(made) % 10 == 0:
            print(f"  … {len(made)}/{len(plan)} clients seeded", file=sys.stderr, flush=True)
    total = big_cases + clients * cases_per_client
    elapsed = time.perf_counter() - started
    print(f"Seeded {len(plan)} client organisations, {total:,} cases, in {elapsed:.1f} s")
    return {"adviser": adviser, "firm": firm, "big": made[0]}


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


def my_day_by_querying_schemas(
    *, user: Any, firm: Any, request: Any = None, today: datetime.date | None = None
) -> Any:
    """What `workindex.selectors.my_day` returns, read from each assigned client's schema.

    The stock way with django-tenants, without a public index: per client, switch to its schema
    and query its cases. Causes four queries per client (plus the search path), and the two of
    the assignments.
    """
    from django.db.models import OuterRef, Q, Subquery, Sum
    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from cases import rules
    from cases.models import Case, FollowUp, TimeEntry
    from saas import hosts
    from workindex import selectors
    from workindex.models import CaseworkEntry

    today = today or timezone.localdate()
    day = selectors.MyDay(today=today)
    horizons = {
        "conversation": today + datetime.timedelta(days=selectors.CONVERSATION_DAYS_AHEAD),
        "followup": today + datetime.timedelta(days=selectors.FOLLOWUP_DAYS_AHEAD),
        "acknowledgement": today + datetime.timedelta(days=selectors.DEADLINE_DAYS_AHEAD),
        "feedback": today + datetime.timedelta(days=selectors.DEADLINE_DAYS_AHEAD),
    }
    month = today.replace(day=1)
    following_month = rules.add_months(month, 1)
    first_open_followup = (
        FollowUp.objects.filter(case=OuterRef("pk"), done_on__isnull=True)
        .order_by("due_on")
        .values("due_on")[:1]
    )
    due_cases: list[tuple[Any, ...]] = []
    recent: list[tuple[Any, ...]] = []
    for client, kind in selectors.assigned_clients(user=user, firm=firm, day=today):
        host = next((domain.domain for domain in client.domains.all() if domain.is_primary), None)
        row = selectors.ClientDay(
            client=client,
            url=hosts.absolute_url(host, "/cases/", request) if host else "",
            kind=kind,
        )
        with tenant_context(client):
            # What the index holds: open cases of this adviser whose narrative is still there.
            open_cases = Case.objects.filter(
                adviser_id=user.pk, erased_at__isnull=True, destroyed_at__isnull=True
            ).exclude(phase=Case.Phase.CLOSED)
            row.open_cases = open_cases.count()
            due = (
                open_cases.annotate(followup_due_on=Subquery(first_open_followup))
                .filter(
                    Q(next_conversation_on__lte=horizons["conversation"])
                    | Q(followup_due_on__lte=horizons["followup"])
                    | Q(
                        acknowledged_on__isnull=True,
                        acknowledgement_due__lte=horizons["acknowledgement"],
                    )
                    | Q(feedback_given_on__isnull=True, feedback_due__lte=horizons["feedback"])
                )
                .values_list(
                    "reference",
                    "next_conversation_on",
                    "followup_due_on",
                    "acknowledgement_due",
                    "acknowledged_on",
                    "feedback_due",
                    "feedback_given_on",
                )
            )
            for (
                reference,
                conversation,
                followup,
                acknowledgement,
                acknowledged,
                feedback,
                fed_back,
            ) in due:
                dates = {
                    "conversation": conversation,
                    "followup": followup,
                    "acknowledgement": acknowledgement if acknowledged is None else None,
                    "feedback": feedback if fed_back is None else None,
                }
                # The index orders by its earliest date of any kind, due within a horizon or not.
                first_due = min(date for date in dates.values() if date is not None)
                due_cases.append((first_due, client.pk, reference, client, host, dates))
            newest = open_cases.order_by("-opened_on", "-id").values_list(
                "id", "reference", "phase", "opened_on"
            )[: selectors.MAX_RECENT_CASES]
            for case_id, reference, phase, opened_on in newest:
                entry = CaseworkEntry(
                    client_id=client.pk, case_reference=reference, phase=phase, opened_on=opened_on
                )
                recent.append(((opened_on, client.pk, case_id), client, host, entry))
            totals = TimeEntry.objects.filter(
                adviser_id=user.pk, worked_on__gte=month, worked_on__lt=following_month
            ).aggregate(total=Sum("minutes"), billable=Sum("minutes", filter=Q(billable=True)))
            row.minutes = totals["total"] or 0
            row.billable_minutes = totals["billable"] or 0
        day.clients.append(row)

    due_cases.sort(key=lambda case: case[:3])
    urgent = due_cases[: selectors.MAX_DUE_CASES]
    labels = {kind: str(label) for kind, label in selectors.DUE_LABELS.items()}
    for _first_due, _client_id, reference, client, host, dates in urgent:
        url = selectors.case_url(host, reference, request)
        for kind, due_on in dates.items():
            if due_on is not None and due_on <= horizons[kind]:
                day.due.append(
                    selectors.DueItem(
                        client=client,
                        reference=reference,
                        kind=kind,
                        due_on=due_on,
                        url=url,
                        overdue=due_on < today,
                        label=labels[kind],
                    )
                )
    day.due.sort(key=lambda item: (item.due_on, item.client.name, item.reference))
    day.due_cases_listed = len(urgent)
    day.due_cases_total = len(due_cases)
    # Newest first; the index breaks ties by its row order, which is client, then case.
    recent.sort(key=lambda newest: newest[0], reverse=True)
    for _order, client, host, entry in recent[: selectors.MAX_RECENT_CASES]:
        day.recent.append((client, entry, selectors.case_url(host, entry.case_reference, request)))
    day.open_cases = sum(row.open_cases for row in day.clients)
    day.minutes = sum(row.minutes for row in day.clients)
    return day


def my_day_figures(day: Any) -> dict[str, object]:
    """What the "my day" page shows, as plain values to compare."""
    return {
        "clients": [
            (row.client.pk, row.kind, row.url, row.open_cases, row.minutes, row.billable_minutes)
            for row in day.clients
        ],
        "open cases": day.open_cases,
        "minutes": day.minutes,
        "cases with something due": day.due_cases_total,
        "due cases listed": day.due_cases_listed,
        "due": [
            (item.client.pk, item.reference, item.kind, item.due_on, item.overdue, item.url)
            for item in day.due
        ],
        "recent": [
            (client.pk, entry.case_reference, entry.opened_on, entry.phase_label, url)
            for client, entry, url in day.recent
        ],
    }


def check_same_figures(adviser: Any, firm: Any) -> None:
    """Refuse to time a stock way that computes something else than ours."""
    from workindex import selectors

    ours = my_day_figures(selectors.my_day(user=adviser, firm=firm))
    stock = my_day_figures(my_day_by_querying_schemas(user=adviser, firm=firm))
    differing = [name for name in ours if ours[name] != stock[name]]
    if differing:
        raise SystemExit(f"My day: stock and ours differ in {', '.join(differing)}.")
    print(
        f"My day, stock and ours agree for the bench adviser: {len(ours['clients'])} clients, "
        f"{ours['open cases']:,} open cases, {ours['cases with something due']} with something "
        f"due ({ours['due cases listed']} listed, {len(ours['due'])} items), "
        f"{len(ours['recent'])} recent, {ours['minutes']:,} minutes this month"
    )


def run(big_cases: int, clients: int, cases_per_client: int, samples: int) -> bool:
    from django.conf import settings
    from django_tenants.utils import tenant_context

    from cases.models import Case
    from workindex import selectors

    print(f"Set up {BENCH_DATABASE} and the template in {template_ready():.1f} s")
    built = build(big_cases, clients, cases_per_client)
    big = built["big"]
    host = big.domains.get(is_primary=True).domain
    with tenant_context(big):
        references = list(Case.objects.exclude(phase="closed").values_list("reference", flat=True))
    check_same_figures(built["adviser"], built["firm"])
    rng = random.Random(1)
    pages = {
        "case list": (host, ["/cases/"] * samples),
        "case list, page 40 of all": (host, ["/cases/?status=all&page=40"] * samples),
        "case page": (host, [f"/cases/{rng.choice(references)}/" for _ in range(samples)]),
        "my day": (settings.BASE_DOMAIN, ["/console/my-day/"] * samples),
        # The same view and template, with the figures from every client schema.
        STOCK_MY_DAY: (settings.BASE_DOMAIN, ["/console/my-day/"] * samples),
    }
    rows = []
    for name, (page_host, paths) in pages.items():
        browser = signed_in(page_host, built["adviser"])
        with (
            mock.patch.object(selectors, "my_day", my_day_by_querying_schemas)
            if name == STOCK_MY_DAY
            else contextlib.nullcontext()
        ):
            for _ in range(3):  # warm caches: routing, templates, the data key
                browser.get(paths[0])
            times, cpu, counts = measure(browser, paths)
        rows.append((name, times, cpu, counts))

    print()
    print(
        f"Pages of an adviser ({big_cases:,} cases in one client; my day over {clients + 1} "
        f"clients), {samples} samples, ms (load average {load_average()})"
    )
    print(
        f"{'page':<28} {'median':>8} {'p95':>8} {'CPU med':>8} {'CPU p95':>8} {'queries':>8} "
        f"{'stock/ours':>11}"
    )
    medians = {name: statistics.median(times) for name, times, _cpu, _counts in rows}
    met = True
    for name, times, cpu, counts in rows:
        queries = "/".join(str(count) for count in sorted(set(counts)))
        ratio = f"{medians[name] / medians['my day']:.1f}x" if name == STOCK_MY_DAY else ""
        line = (
            f"{name:<28} {medians[name]:>8.1f} {p95(times):>8.1f} "
            f"{statistics.median(cpu):>8.1f} {p95(cpu):>8.1f} {queries:>8} {ratio:>11}"
        )
        print(line.rstrip())
        if name != STOCK_MY_DAY:
            met &= p95(times) < GOAL_P95_MS
    print(
        "stock: the same view and template, the figures read from each client's schema "
        "(tenant_context)\ninstead of the public work index; stock/ours: median over median."
    )
    print(f"\nGoal p95 < {GOAL_P95_MS:.0f} ms on every page: {'met' if met else 'MISSED'}")
    return met


def main() -> int:
    parser = argument_parser(__doc__, BENCH_DATABASE)
    parser.add_argument("--big-cases", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--cases-per-client", type=int, default=200)
    parser.add_argument("--samples", type=int, default=50)
    options = parser.parse_args()
    if min(options.big_cases, options.clients, options.cases_per_client, options.samples) < 1:
        parser.error("every number must be at least 1")
    with bench_database(BENCH_DATABASE, keep=options.keep) as bench_url:
        setup_django(bench_url)
        met = run(options.big_cases, options.clients, options.cases_per_client, options.samples)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
