#!/usr/bin/env python3
"""Vertrouwd's two entry points for a fresh machine with only Python 3.11+.

    python3 dev.py start   # set up, migrate, load demo data, run on http://vertrouwd.localhost:8000
    python3 dev.py test    # set up, then lint, check migrations and run the whole test suite
    python3 dev.py logins  # the demo logins again, with fresh backup codes
    python3 dev.py manage <command> [options]   # an operator command against the dev database

Both create `.venv` and install the project into it first (only when pyproject.toml changed).
Without DATABASE_URL an embedded PostgreSQL keeps its data under `.data/`.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / "bin" / "python"


def say(message: str) -> None:
    print(f"\033[1m==> {message}\033[0m", flush=True)


def run(*args: str, env: dict[str, str] | None = None) -> None:
    result = subprocess.run(args, cwd=ROOT, env={**os.environ, **(env or {})})
    if result.returncode != 0:
        sys.exit(result.returncode)


def ensure_environment() -> None:
    if sys.version_info < (3, 11):
        sys.exit("Vertrouwd needs Python 3.11 or newer.")
    if not PYTHON.exists():
        say("Creating .venv")
        venv.EnvBuilder(with_pip=True).create(VENV)
    stamp = VENV / ".installed"
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if not stamp.exists() or stamp.read_text() != wanted:
        say("Installing dependencies (first run takes a minute)")
        run(
            str(PYTHON),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-e",
            ".[dev]",
        )
        stamp.write_text(wanted)


def manage(*args: str, env: dict[str, str] | None = None) -> None:
    run(str(PYTHON), "manage.py", *args, env=env)


def dev_env(port: str | None = None) -> dict[str, str]:
    env = {"DEBUG": os.environ.get("DEBUG", "1")}
    if port:
        env["PUBLIC_PORT"] = port
    return env


def embedded_pgdata() -> Path | None:
    if os.environ.get("DATABASE_URL"):
        return None
    return Path(os.environ.get("VERTROUWD_DATA_DIR", ROOT / ".data")).resolve() / "postgres"


def embedded_database_running() -> bool:
    pgdata = embedded_pgdata()
    return pgdata is not None and (pgdata / "postmaster.pid").exists()


def stop_embedded_database() -> None:
    """Stop the embedded PostgreSQL under .data/ (Ctrl+C on runserver left it running: the
    autoreloader's processes end without pgserver's last-handle cleanup)."""
    pgdata = embedded_pgdata()
    if pgdata is None or not embedded_database_running():
        return
    say("Stopping the embedded PostgreSQL")
    script = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from pgserver import pg_ctl\n"
        "user = 'pgserver' if os.name == 'posix' and os.geteuid() == 0 else None\n"
        "kwargs = {'user': user} if user else {}\n"
        "pg_ctl(['-w', '-m', 'fast', 'stop'], pgdata=Path(sys.argv[1]), **kwargs)\n"
        "(Path(sys.argv[1]) / '.handle_pids.json').unlink(missing_ok=True)\n"
    )
    subprocess.run([str(PYTHON), "-c", script, str(pgdata)], cwd=ROOT, check=False)


def start(port: str) -> None:
    ensure_environment()
    env = dev_env(port)
    try:
        say("Migrating the database")
        manage("migrate_schemas", "--executor=standard", "-v", "0", env=env)
        say("Loading demo data (kept when it already exists)")
        manage(
            "seed_demo",
            "--clients",
            "5",
            "--cases-per-client",
            "120",
            "--if-empty",
            "--no-logins",
            env=env,
        )
        say("Demo logins (again on every start; fresh codes: python3 dev.py logins)")
        manage("demo_logins", env=env)
        say(f"Vertrouwd runs at http://vertrouwd.localhost:{port}/  (stop with Ctrl+C)")
        manage("runserver", f"127.0.0.1:{port}", env=env)
    except KeyboardInterrupt:
        pass
    finally:
        stop_embedded_database()


# The Nu Html Checker (tests/test_accessibility.py) from npm's vnu-jar, pinned; it needs Java.
VNU_VERSION = "26.9.27"
VNU_DIR = ROOT / ".cache" / "vnu"


def ensure_vnu() -> None:
    """Install the HTML checker into .cache/ when Java and npm are there; else say it is skipped."""
    import shutil

    jar = VNU_DIR / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
    if not shutil.which("java"):
        say("No java found: the Nu Html Checker test will be SKIPPED")
        return
    stamp = VNU_DIR / ".version"
    if jar.exists() and stamp.exists() and stamp.read_text() == VNU_VERSION:
        return
    if not shutil.which("npm"):
        say("No npm found: the Nu Html Checker cannot be installed; its test will be SKIPPED")
        return
    say(f"Installing the Nu Html Checker (vnu-jar {VNU_VERSION}) into .cache/vnu")
    VNU_DIR.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [
            shutil.which("npm") or "npm",
            "install",
            "--silent",
            "--no-audit",
            "--no-fund",
            "--prefix",
            str(VNU_DIR),
            f"vnu-jar@{VNU_VERSION}",
        ],
        cwd=ROOT,
    )
    if result.returncode == 0 and jar.exists():
        stamp.write_text(VNU_VERSION)
    else:
        say("The Nu Html Checker could not be installed; its test will be SKIPPED")


def test(extra: list[str]) -> None:
    ensure_environment()
    ensure_vnu()
    bin_dir = VENV / "bin"
    say("ruff check")
    run(str(bin_dir / "ruff"), "check", ".")
    say("ruff format --check")
    run(str(bin_dir / "ruff"), "format", "--check", ".")
    say("mypy (the files listed under [tool.mypy] in pyproject.toml)")
    run(str(bin_dir / "mypy"), env={"VERTROUWD_TESTING": "1"})
    say("makemigrations --check")
    manage("makemigrations", "--check", "--dry-run", env={"VERTROUWD_TESTING": "1"})
    if not Path("/usr/bin/chromium").exists() and not os.environ.get("CHROMIUM_PATH"):
        say(
            "No chromium found: the browser tests will be SKIPPED (apt-get install chromium to run them)"
        )
    say("pytest")
    run(str(bin_dir / "pytest"), *extra)


def one_off(*args: str) -> None:
    """A management command in development settings (DEBUG=1, the embedded database)."""
    ensure_environment()
    running = embedded_database_running()  # e.g. under `dev.py start`: leave it to that one
    try:
        manage(*args, env=dev_env())
    finally:
        if not running:
            stop_embedded_database()


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in {"start", "test", "logins", "manage"}:
        sys.exit(__doc__)
    if sys.argv[1] == "start":
        start(os.environ.get("PORT", "8000"))
    elif sys.argv[1] == "logins":
        one_off("demo_logins", *sys.argv[2:])
    elif sys.argv[1] == "manage":
        if len(sys.argv) < 3:
            sys.exit("Usage: python3 dev.py manage <command> [options]  (e.g. create_firm --help)")
        one_off(*sys.argv[2:])
    else:
        test(sys.argv[2:])


if __name__ == "__main__":
    main()
