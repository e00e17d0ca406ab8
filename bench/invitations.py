"""Time an invitation to an unknown address against one to an account at another firm.

    .venv/bin/python bench/invitations.py [--samples 200] [--keep]

The console's answer to an invitation is the same page whatever the address (issue 12); this
measures whether its time tells them apart. In a database of its own
(`vertrouwd_bench_invitations`) it builds a firm with one signed-in firm admin and another firm
with `--samples` accounts, then POSTs the console's invite form (role: adviser), interleaved in a
random order per pair: a fresh unknown address, and one of the other firm's accounts (each once,
so no invitation meets an offer already waiting). Timed: request in, response out, in-process,
production settings (DEBUG off).

The e-mail is not sent inside the request: in production the request's commit queues one task
per outbox row (one publish to the broker, the same for both) and a worker renders and sends it
later. Without a broker the task would run in the request (development), so the bench records
the queued row ids instead of running it; everything else is the real request.

Prints per path the statements run (counted once, as tests/test_tenants_insider_trust.py
compares them), the distribution (p10, p25, median, p75, p90, p95) in ms and the ratio of the
medians and of the means (known / unknown). No goal is checked: a ratio near 1.00 with
overlapping distributions is what "timing identical" means here; the test proves the work is
the same statement for statement. Drops the database at the end unless --keep.
"""

from __future__ import annotations

import random
import statistics
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

BENCH_DATABASE = "vertrouwd_bench_invitations"


def build(samples: int) -> dict[str, object]:
    from tenants import services
    from tenants.trail import Operator

    bench = Operator("bench")
    firm = services.firm_create(actor=bench, slug="benchinvite", name="Bench Invite")
    other = services.firm_create(actor=bench, slug="benchother", name="Bench Other")
    admin = services.user_create(
        actor=bench,
        email="admin@invite.bench",
        full_name="Bench Admin",
        firm=firm,
        role="firm_admin",
    )
    known = [
        services.user_create(
            actor=bench,
            email=f"known{number}@other.bench",
            full_name=f"Known {number}",
            firm=other,
            role="adviser",
        ).email
        for number in range(samples + 11)
    ]
    return {"admin": admin, "known": known}


def _percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)

    def at(fraction: float) -> float:
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]

    return (
        f"p10 {at(0.10):6.2f}  p25 {at(0.25):6.2f}  median {statistics.median(ordered):6.2f}  "
        f"p75 {at(0.75):6.2f}  p90 {at(0.90):6.2f}  p95 {p95(ordered):6.2f}  "
        f"mean {statistics.fmean(ordered):6.2f}"
    )


def measure(world: dict[str, object], samples: int) -> dict[str, list[float]]:
    from django.conf import settings
    from django.db import connection

    from mail import outbox

    queued: list[object] = []
    # Production publishes one task per row here (see the docstring); record the ids instead.
    outbox.email_dispatch = lambda ids, schema: queued.extend(ids) or len(ids)

    browser = signed_in(settings.BASE_DOMAIN, world["admin"])
    known = list(world["known"])

    def invite(email: str) -> float:
        started = time.perf_counter()
        response = browser.post(
            "/console/people/", {"email": email, "full_name": "Getypte Naam", "role": "adviser"}
        )
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 302, (email, response.status_code)
        return elapsed

    def statements(email: str) -> int:
        count = 0

        def record(execute, sql, params, many, context):
            nonlocal count
            count += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(record):
            invite(email)
        return count

    for number in range(10):  # warm up: caches, connections, code paths
        invite(f"warm{number}@unknown.bench")
        invite(known.pop())
    print(
        f"statements per request: unknown {statements('count@unknown.bench')}, "
        f"known {statements(known.pop())}"
    )
    timings: dict[str, list[float]] = {"unknown": [], "known": []}
    shuffle = random.Random(12)
    for number in range(samples):
        pair = [("unknown", f"new{number}@unknown.bench"), ("known", known.pop())]
        shuffle.shuffle(pair)
        for path, email in pair:
            timings[path].append(invite(email))
    assert len(queued) == 2 * (samples + 11), len(queued)
    return timings


def main() -> int:
    parser = argument_parser(__doc__, BENCH_DATABASE)
    parser.add_argument("--samples", type=int, default=200, help="invitations of each kind")
    args = parser.parse_args()
    with bench_database(BENCH_DATABASE, keep=args.keep, citus=args.citus) as url:
        setup_django(url)
        template_ready()
        world = build(args.samples)
        print(f"load average before: {load_average()}")
        timings = measure(world, args.samples)
        print(f"load average after: {load_average()}")
    for path in ("unknown", "known"):
        print(f"{path:8} (ms, n={len(timings[path])}): {_percentiles(timings[path])}")
    unknown, known = timings["unknown"], timings["known"]
    print(
        f"known / unknown: median {statistics.median(known) / statistics.median(unknown):.3f}, "
        f"mean {statistics.fmean(known) / statistics.fmean(unknown):.3f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
