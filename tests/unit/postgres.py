"""A throwaway PostgreSQL server for the audit store's tests, started from the system's
``initdb``/``pg_ctl`` (Debian's ``postgresql`` package; ``.ci/run`` installs it).

The server listens only on a Unix socket in a fresh temporary directory, with ``fsync`` off, and
is stopped at the end of the session. ``initdb`` refuses to run as root, so as root the server
runs as the ``postgres`` user (or ``nobody``) through ``runuser``. Each test gets its own
database. Skipped, with the reason, when no server can be started here.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid

import pytest

POSTGRESQL = pytest.param("postgresql", marks=pytest.mark.postgres)
"""The PostgreSQL parameter of a fixture that also runs on SQLite; the mark keeps these tests in
the worker that runs the server (tests/conftest.py)."""


def _find(tool: str) -> str | None:
    found = shutil.which(tool)
    if found:
        return found
    versions = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{tool}"))
    return versions[-1] if versions else None


def _as_user() -> tuple[list[str], str | None]:
    """The command prefix that runs the server tools unprivileged, and that user's name."""
    if os.geteuid() != 0:
        return [], None
    runuser = shutil.which("runuser")
    if runuser is None:
        pytest.skip("PostgreSQL tests: running as root and 'runuser' is missing, so initdb "
                    "(which refuses root) cannot be started")
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return [runuser, "-u", name, "--"], name
    pytest.skip("PostgreSQL tests: running as root and there is no 'postgres' or 'nobody' user")


@pytest.fixture(scope="session")
def pg_server():
    """``(socket directory, port)`` of a running throwaway server."""
    initdb, pg_ctl = _find("initdb"), _find("pg_ctl")
    if initdb is None or pg_ctl is None:
        pytest.skip("PostgreSQL tests: initdb/pg_ctl not found (apt-get install postgresql)")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("PostgreSQL tests: psycopg is not installed (pip install faircard[postgres])")
    prefix, user = _as_user()
    root = tempfile.mkdtemp(prefix="faircard-pg-")
    if user is not None:
        info = pwd.getpwnam(user)
        os.chown(root, info.pw_uid, info.pw_gid)
    data, port = os.path.join(root, "data"), "54329"

    def run(*cmd: str) -> subprocess.CompletedProcess:
        return subprocess.run([*prefix, *cmd], capture_output=True, text=True, timeout=120)

    done = run(initdb, "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
    if done.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        pytest.skip(f"PostgreSQL tests: initdb failed: {done.stderr.strip()[-300:]}")
    options = f"-k {root} -p {port} -c listen_addresses='' -c fsync=off -c max_connections=40"
    done = run(pg_ctl, "-D", data, "-o", options, "-l", os.path.join(root, "log"), "-w", "start")
    if done.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        pytest.skip(f"PostgreSQL tests: the server did not start: {done.stderr.strip()[-300:]}")
    try:
        yield root, port
    finally:
        run(pg_ctl, "-D", data, "-m", "immediate", "stop")
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def pg_url(pg_server):
    """The URL of a new, empty database on the throwaway server."""
    import psycopg

    host, port = pg_server
    name = f"faircard_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(host=host, port=port, user="postgres", dbname="postgres",
                         autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"postgresql+psycopg://postgres@/{name}?host={host}&port={port}"
