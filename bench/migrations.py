"""Time one new tenant migration applied to many client schemas: stock vs ours.

    .venv/bin/python bench/migrations.py                      # 1,000 tenants, 2 processes
    .venv/bin/python bench/migrations.py --tenants 200 --processes 2 --keep
    .venv/bin/python bench/migrations.py --methods multiprocessing,ours
    .venv/bin/python bench/migrations.py --methods ours --tenants 1000 --compare-citus URL

In one run, in a database of its own (`vertrouwd_bench_migrations`, on the embedded PostgreSQL
under `.data/` when DATABASE_URL is unset, else on the server DATABASE_URL names):

1. writes a throw-away tenant app `benchnotes` and a settings module adding it to TENANT_APPS
   into a temporary directory (never into the repository); the app's first migration creates a
   table and seeds 20 rows, which every client schema gets from the template;
2. migrates public, builds the template and creates N clients with tenants.services.client_create;
3. writes the app's second migration: a new column with an index (CharField, db_index: two
   indexes on PostgreSQL) and a data migration filling it from the existing rows;
4. applies it to all N client schemas three times, each in a fresh process as a deploy would,
   resetting the schemas in between with plain SQL (drop the column, delete the migration row):
   * stock `migrate_schemas --tenant --executor=standard`,
   * stock `migrate_schemas --tenant --executor=multiprocessing`
     (TENANT_MULTIPROCESSING_MAX_PROCESSES = --processes),
   * ours: `migrate_tenants --processes P`, which also migrates public and the template;
   and checks after each that every schema has the migration, the column, its index and the
   migrated data;
5. prints the times and ratios, checks the goal (ours at least 5x faster than stock standard,
   under 60 s for 1,000 tenants) and drops the database unless --keep. Exits 1 on a missed goal.

With `--compare-citus URL` the same bench runs twice, one after the other, in child processes:
on the plain server (DATABASE_URL or the embedded one) and on the Citus cluster whose coordinator
URL names; then one table compares creating a client and the migration on both. On Citus
(`--citus URL` or the second half of `--compare-citus`) it also prints how many client schemas
each worker holds, so the migration is known to have run across the nodes.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import (
    ROOT,
    argument_parser,
    bench_database,
    load_average,
    template_ready,
    throwaway_keys,
)

BENCH_DATABASE = "vertrouwd_bench_migrations"
APP = "benchnotes"
NEW_MIGRATION = "0002_title_key"
ROWS_PER_TENANT = 20
GOAL_SPEEDUP = 5.0
GOAL_SECONDS = 60.0
GOAL_TENANTS = 1000

SETTINGS = '''"""saas.settings plus the throw-away tenant app (bench/migrations.py)."""

from saas.settings import *  # noqa: F403

TENANT_APPS = [*TENANT_APPS, "benchnotes"]  # noqa: F405
INSTALLED_APPS = list(dict.fromkeys(SHARED_APPS + TENANT_APPS))  # noqa: F405
TENANT_MULTIPROCESSING_MAX_PROCESSES = {processes}
'''

APP_CONFIG = """from django.apps import AppConfig


class BenchNotesConfig(AppConfig):
    name = "benchnotes"
    default_auto_field = "django.db.models.BigAutoField"
"""

MODELS = {
    1: """from django.db import models


class Note(models.Model):
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
""",
    2: """from django.db import models


class Note(models.Model):
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    title_key = models.CharField(max_length=200, default="", db_index=True)
""",
}

INITIAL = f"""from django.db import migrations, models


def seed(apps, schema_editor):
    Note = apps.get_model("benchnotes", "Note")
    Note.objects.bulk_create(
        Note(title=f"  Note Number {{n}}  ", body="x" * 200) for n in range({ROWS_PER_TENANT})
    )


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [
        migrations.CreateModel(
            name="Note",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False)),
                ("title", models.CharField(max_length=200)),
                ("body", models.TextField(blank=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
            ],
        ),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
"""

SECOND = """from django.db import migrations, models
from django.db.models.functions import Lower, Trim


def fill_title_key(apps, schema_editor):
    Note = apps.get_model("benchnotes", "Note")
    Note.objects.filter(title_key="").update(title_key=Lower(Trim("title")))


class Migration(migrations.Migration):
    dependencies = [("benchnotes", "0001_initial")]
    operations = [
        migrations.AddField(
            model_name="note",
            name="title_key",
            field=models.CharField(db_index=True, default="", max_length=200),
        ),
        migrations.RunPython(fill_title_key, migrations.RunPython.noop),
    ]
"""


def write_app(directory: Path, version: int, processes: int) -> None:
    """Write (or move to `version` of) the throw-away tenant app under `directory`."""
    (directory / "bench_settings.py").write_text(SETTINGS.format(processes=processes))
    package = directory / APP
    (package / "migrations").mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text("")
    (package / "apps.py").write_text(APP_CONFIG)
    (package / "models.py").write_text(MODELS[version])
    (package / "migrations" / "__init__.py").write_text("")
    (package / "migrations" / "0001_initial.py").write_text(INITIAL)
    if version >= 2:
        (package / "migrations" / f"{NEW_MIGRATION}.py").write_text(SECOND)
    for cache in package.rglob("__pycache__"):
        shutil.rmtree(cache)


def _worker_init() -> None:
    from django.db import connections

    # Forked after Django was set up: never share the parent's connection.
    for connection in connections.all(initialized_only=True):
        connection.inc_thread_sharing()
        connection.close()


def _create_one(number: int) -> None:
    from tenants import services
    from tenants.models import Firm
    from tenants.trail import Operator

    services.client_create(
        actor=Operator("bench"),
        firm=Firm.objects.get(slug="bench"),
        slug=f"c{number}",
        name=f"Client {number}",
        employee_count=50,
    )


class Bench:
    def __init__(
        self, *, tenants: int, processes: int, app_dir: Path, bench_url: str, citus: bool = False
    ) -> None:
        self.tenants = tenants
        self.citus = citus
        self.processes = processes
        self.app_dir = app_dir
        self.env = {
            **os.environ,
            "DATABASE_URL": bench_url,
            "DJANGO_SETTINGS_MODULE": "bench_settings",
            "PYTHONPATH": os.pathsep.join([str(app_dir), str(ROOT)]),
            # Production settings (DEBUG off: it would keep every query) with throwaway keys,
            # the same in every process (client data keys are wrapped with the master key).
            "DEBUG": "0",
            **throwaway_keys(),
            "LOG_LEVEL": "WARNING",
        }
        self.env.pop("VERTROUWD_TESTING", None)
        self.log_dir = ROOT / "bench" / "results"
        self.log_dir.mkdir(parents=True, exist_ok=True)

    def setup_django(self) -> None:
        os.environ.update(self.env)
        sys.path[:0] = [str(self.app_dir), str(ROOT)]
        import django

        django.setup()

    def create_tenants(self) -> float:
        from tenants import services
        from tenants.trail import Operator

        print(f"Public schema and template in {template_ready():.1f} s")
        started = time.perf_counter()
        services.firm_create(actor=Operator("bench"), slug="bench", name="Bench Advies")
        from django.db import connections

        connections.close_all()
        # In --processes processes: on Citus a creation mostly waits for the nodes.
        with multiprocessing.get_context("fork").Pool(
            self.processes, initializer=_worker_init
        ) as pool:
            numbers = range(1, self.tenants + 1)
            for done, _ in enumerate(pool.imap_unordered(_create_one, numbers, chunksize=5), 1):
                if done % 100 == 0:
                    print(f"  … {done} tenants", file=sys.stderr, flush=True)
        seconds = time.perf_counter() - started
        print(f"Created {self.tenants} tenants in {seconds:.1f} s ({self.processes} processes)")
        if self.citus:
            print(f"Client schemas per node: {self.placement()}")
        return seconds

    def placement(self) -> str:
        """How many client schemas each Citus node holds (a distributed schema is one colocation
        group whose shards all live on one node)."""
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nodename || ':' || nodeport, count(DISTINCT colocation_id) "
                "FROM citus_shards WHERE citus_table_type = 'schema' "
                "AND split_part(table_name::text, '.', 1) = ANY(%s) GROUP BY 1 ORDER BY 1",
                [self.schemas()],
            )
            return ", ".join(f"{node}: {count}" for node, count in cursor.fetchall()) or "none"

    def schemas(self) -> list[str]:
        from tenants.models import ClientOrganisation

        return list(ClientOrganisation.objects.order_by("pk").values_list("schema_name", flat=True))

    def run(self, label: str, command: list[str]) -> float:
        where = "-citus" if self.citus else ""
        log = self.log_dir / f"migrations-{label.replace(' ', '-')}{where}.log"
        started = time.perf_counter()
        with log.open("w") as output:
            result = subprocess.run(
                [sys.executable, "manage.py", *command],
                cwd=ROOT,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
                check=False,
            )
        seconds = time.perf_counter() - started
        if result.returncode != 0:
            raise SystemExit(f"{label} failed (exit {result.returncode}); see {log}")
        print(f"  {label}: {seconds:.1f} s (log: {log.relative_to(ROOT)})", flush=True)
        return seconds

    def check_migrated(self, label: str) -> None:
        """Every schema: the migration row, the column, its two indexes, the data migrated."""
        from django.db import connection

        schemas = self.schemas()
        with connection.cursor() as cursor:
            # One schema per query: on Citus each schema lives on its own worker.
            for s in schemas:
                cursor.execute(
                    f'SELECT (SELECT count(*) FROM "{s}".django_migrations '  # noqa: S608
                    f"WHERE app = '{APP}' AND name = '{NEW_MIGRATION}'), "
                    f'(SELECT count(*) FROM "{s}".benchnotes_note WHERE title_key = '
                    "lower(btrim(title)) AND title_key <> '')"
                )
                row = cursor.fetchone()
                if row != (1, ROWS_PER_TENANT):
                    raise SystemExit(f"{label}: {s} not migrated correctly: {row}")
            cursor.execute(
                "SELECT count(*) FROM pg_indexes WHERE tablename = 'benchnotes_note' "
                "AND indexdef LIKE '%%(title_key%%' AND schemaname = ANY(%s)",
                [schemas],
            )
            indexes = cursor.fetchone()[0]
        if indexes != 2 * len(schemas):
            raise SystemExit(f"{label}: {indexes} title_key indexes, expected {2 * len(schemas)}")

    def reset(self) -> None:
        """Undo the new migration in every schema with plain SQL (the template is untouched)."""
        from django.db import connection

        schemas = self.schemas()
        started = time.perf_counter()
        with connection.cursor() as cursor:
            # One statement per call: Citus refuses several DDL statements in one string.
            for s in schemas:
                cursor.execute(f'ALTER TABLE "{s}".benchnotes_note DROP COLUMN title_key')
                cursor.execute(
                    f'DELETE FROM "{s}".django_migrations '  # noqa: S608 (schema names we made)
                    f"WHERE app = '{APP}' AND name = '{NEW_MIGRATION}'"
                )
        print(f"  (reset {len(schemas)} schemas in {time.perf_counter() - started:.1f} s)")


def main() -> int:
    parser = argument_parser(__doc__, BENCH_DATABASE)
    parser.add_argument("--tenants", type=int, default=GOAL_TENANTS)
    parser.add_argument("--processes", type=int, default=2, help="for both parallel executors")
    parser.add_argument(
        "--methods",
        default="standard,multiprocessing,ours",
        help="which to run, in this order (default all three; the ratio needs standard)",
    )
    parser.add_argument(
        "--compare-citus",
        metavar="URL",
        default="",
        help="run on the plain server and then on this Citus coordinator; compare both",
    )
    parser.add_argument("--result-file", default="", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.compare_citus:
        return compare_citus(options)
    if options.tenants < 1 or not 1 <= options.processes <= 64:
        parser.error("--tenants must be at least 1 and --processes 1..64")
    chosen = [name.strip() for name in options.methods.split(",") if name.strip()]
    known = {
        "standard": ("stock standard", ["migrate_schemas", "--tenant", "--executor=standard"]),
        "multiprocessing": (
            "stock multiprocessing",
            ["migrate_schemas", "--tenant", "--executor=multiprocessing"],
        ),
        "ours": ("ours", ["migrate_tenants", "--processes", str(options.processes), "-v", "1"]),
    }
    if not chosen or set(chosen) - set(known):
        parser.error(f"--methods: a comma-separated choice of {', '.join(known)}")
    methods = [known[name] for name in chosen]

    with bench_database(BENCH_DATABASE, keep=options.keep, citus=options.citus) as bench_url:
        app_dir = Path(tempfile.mkdtemp(prefix="vertrouwd-bench-app-"))
        bench = Bench(
            tenants=options.tenants,
            processes=options.processes,
            app_dir=app_dir,
            bench_url=bench_url,
            citus=bool(options.citus),
        )
        try:
            write_app(app_dir, version=1, processes=options.processes)
            print(f"Bench app written to {app_dir} (load average {load_average()})")
            bench.setup_django()
            created = bench.create_tenants()
            write_app(app_dir, version=2, processes=options.processes)
            print(f"Applying {APP}.{NEW_MIGRATION} to {options.tenants} tenants:")
            times: dict[str, float] = {}
            for index, (label, command) in enumerate(methods):
                times[label] = bench.run(label, command)
                bench.check_migrated(label)
                if index < len(methods) - 1:
                    bench.reset()
            if options.result_file:
                Path(options.result_file).write_text(
                    json.dumps({"create_s": created, "load": load_average(), **times})
                )
            return report(times, options.tenants, options.processes)
        finally:
            shutil.rmtree(app_dir, ignore_errors=True)


def compare_citus(options: argparse.Namespace) -> int:
    """The same bench on the plain server, then on Citus, each in a child process; one table."""
    results = {}
    for where, extra in (("plain PostgreSQL", []), ("Citus", ["--citus", options.compare_citus])):
        with tempfile.NamedTemporaryFile(suffix=".json") as result:
            command = [
                sys.executable,
                __file__,
                "--methods",
                options.methods,
                "--tenants",
                str(options.tenants),
                "--processes",
                str(options.processes),
                "--result-file",
                result.name,
                *extra,
            ]
            print(f"== {where}", flush=True)
            done = subprocess.run(command, check=False)
            text = Path(result.name).read_text()
            if not text:
                raise SystemExit(f"The run on {where} failed (exit {done.returncode}).")
            results[where] = json.loads(text)
    plain, citus = results["plain PostgreSQL"], results["Citus"]
    n = options.tenants
    print()
    print(
        f"{n} client schemas, {options.processes} processes, {os.cpu_count()} CPUs; load at the "
        f"end of each run: plain {plain['load']}, Citus {citus['load']}"
    )
    print(f"{'':<44}{'plain':>12}{'Citus':>12}{'Citus / plain':>15}")
    rows = [("creating the clients (clone), s", "create_s", 1.0)]
    rows += [
        (f"{label}: migration, s", label, 1.0)
        for label in plain
        if label not in ("create_s", "load")
    ]
    for label, key, scale in rows:
        a, b = plain[key] * scale, citus[key] * scale
        print(f"{label:<44}{a:>12.1f}{b:>12.1f}{b / a:>14.2f}x")
    return 0


def report(times: dict[str, float], tenants: int, processes: int) -> int:
    print()
    print(
        f"One new migration (column + 2 indexes + data migration of {ROWS_PER_TENANT} rows) on "
        f"{tenants} tenant schemas, {processes} processes for the parallel ones, "
        f"{os.cpu_count()} CPUs, load average {load_average()} at the end:"
    )
    standard = times.get("stock standard")
    print(f"{'method':<24}{'seconds':>9}{'ms/tenant':>11}{'stock standard / this':>24}")
    for label, seconds in times.items():
        ratio = f"{standard / seconds:.1f}x" if standard else "-"
        print(f"{label:<24}{seconds:>9.1f}{1000 * seconds / tenants:>11.1f}{ratio:>24}")
    ours = times.get("ours")
    if standard is None or ours is None:
        print("\nGoal not checked: it needs both the stock standard executor and ours.")
        return 0
    speedup = standard / ours
    scaled = GOAL_SECONDS * tenants / GOAL_TENANTS
    fast_enough = ours < scaled
    print(
        f"\nGoal: >= {GOAL_SPEEDUP:.0f}x faster than stock standard: {speedup:.1f}x "
        f"{'met' if speedup >= GOAL_SPEEDUP else 'MISSED'}; under {GOAL_SECONDS:.0f} s per "
        f"{GOAL_TENANTS} tenants: {ours:.1f} s for {tenants} "
        f"{'met' if fast_enough else 'MISSED'}"
        + (
            ""
            if tenants == GOAL_TENANTS
            else f" (scaled goal: {GOAL_SECONDS * tenants / GOAL_TENANTS:.0f} s)"
        )
    )
    return 0 if speedup >= GOAL_SPEEDUP and fast_enough else 1


if __name__ == "__main__":
    sys.exit(main())
