"""Running the tests against a Citus cluster with schema-based sharding (docs/scaling.md).

Set CITUS_URL to the coordinator's maintenance database (for example
`postgres://postgres@127.0.0.1:9700/postgres`), in which the worker nodes are registered
(`citus_add_node`). The run then uses the coordinator instead of DATABASE_URL
(`saas/settings_test.py`): every selected test file runs on Citus, and the tests marked
`citus` (tests/test_tenants_citus.py) check what only holds there. Without CITUS_URL those are skipped.

Citus keeps its metadata per database, so a test database must exist on every node with the
extension, and know its nodes, before Django migrates it: `prepare_test_database` does that
afresh at the start of each run (pytest-django then reuses it instead of creating it).
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

SKIP_REASON = "CITUS_URL is not set (no Citus coordinator to test against): Citus tests skipped"


def citus_url() -> str:
    """The coordinator's URL when this run is on Citus, else "" (read by saas/settings_test.py)."""
    from django.conf import settings

    return getattr(settings, "CITUS_URL", "")


def _with_database(url: str, database: str, *, host: str = "", port: int = 0) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc
    if host:
        credentials = netloc.rsplit("@", 1)[0] + "@" if "@" in netloc else ""
        netloc = f"{credentials}{host}:{port}"
    return urlunsplit(parts._replace(netloc=netloc, path=f"/{database}"))


def prepare_test_database(name: str) -> None:
    """Create `name` anew on the coordinator and every worker, with Citus and its nodes."""
    prepare_database(citus_url(), name)


def prepare_database(url: str, name: str) -> None:
    """Create `name` anew on every node of the cluster whose coordinator `url` names.

    Also used by the benchmarks (bench/_common.py). The nodes are read from the coordinator's
    database in `url`; each must accept the same user.
    """
    import psycopg

    coordinator = urlsplit(url)
    workers = _workers(url)
    with psycopg.connect(url, autocommit=True) as conn:
        sharding = conn.execute("SHOW citus.enable_schema_based_sharding").fetchone()[0]
        if sharding != "on":
            raise RuntimeError("The coordinator must run with citus.enable_schema_based_sharding.")

    for host, port in _nodes(url, workers):
        node_url = _with_database(url, "postgres", host=host, port=port)
        with psycopg.connect(node_url, autocommit=True) as conn:
            # Citus would otherwise try to create or drop the database on the other nodes too.
            conn.execute("SET citus.enable_create_database_propagation = off")
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        with psycopg.connect(
            _with_database(url, name, host=host, port=port), autocommit=True
        ) as conn:
            conn.execute("CREATE EXTENSION citus")

    with psycopg.connect(_with_database(url, name), autocommit=True) as conn:
        conn.execute(
            "SELECT citus_set_coordinator_host(%s, %s)",
            [coordinator.hostname, coordinator.port or 5432],
        )
        for host, port in workers:
            conn.execute("SELECT citus_add_node(%s, %s)", [host, port])


def drop_database(url: str, name: str) -> None:
    """Drop `name` on every node of the cluster whose coordinator `url` names."""
    import psycopg

    for host, port in _nodes(url, _workers(url)):
        with psycopg.connect(
            _with_database(url, "postgres", host=host, port=port), autocommit=True
        ) as conn:
            conn.execute("SET citus.enable_create_database_propagation = off")
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _workers(url: str) -> list[tuple[str, int]]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        workers = conn.execute(
            "SELECT nodename, nodeport FROM pg_dist_node "
            "WHERE groupid <> 0 AND isactive AND noderole = 'primary' ORDER BY nodeport"
        ).fetchall()
    if not workers:
        raise RuntimeError(f"No worker nodes are registered in {urlsplit(url).path[1:]!r}.")
    return workers


def _nodes(url: str, workers: list[tuple[str, int]]) -> list[tuple[str, int]]:
    coordinator = urlsplit(url)
    return [(coordinator.hostname or "127.0.0.1", coordinator.port or 5432), *workers]
