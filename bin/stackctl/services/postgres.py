"""PostgreSQL 15 from Debian, in a cluster of our own under var/ (not the system one).

initdb and postgres refuse to run as root, so both run as the `postgres` user
that the Debian package creates. The cluster is under var/ when that user can reach it, else in a
folder of this stack's own outside the checkout (Service.work_dir).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

from .. import config, pgvector
from ..service import Launch, Service, chown_tree, pid_alive, run

MAJOR = config.VERSIONS["POSTGRES_MAJOR"]
PG_BIN = Path(f"/usr/lib/postgresql/{MAJOR}/bin")
OS_USER = "postgres"
EXTENSIONS = ("pg_trgm", "unaccent", "vector", "postgres_fdw")  # vector: pgvector, built by bin/stackctl/pgvector.py


class Postgres(Service):
    name = "postgres"
    port = config.PORTS.postgres
    url = config.URLS["DATABASE_URL"]
    start_timeout = 60.0
    stop_signal = signal.SIGINT  # "fast" shutdown: SIGTERM would wait for every client to leave
    system_user = OS_USER

    @property
    def cluster(self) -> Path:
        return self.work_dir / "data"

    def installed(self) -> bool:
        return (PG_BIN / "postgres").exists() and pgvector.installed(MAJOR)

    def install(self) -> None:
        """The server is Debian's package; what is built is pgvector, into that server."""
        pgvector.install(MAJOR)
        if self.running():  # no restart needed: CREATE EXTENSION loads the new library
            self._create_extensions()

    def start(self) -> None:
        if self.running():  # e.g. an extension added to EXTENSIONS since it started: no restart needed
            self.after_ready()
            return
        super().start()

    def prepare(self) -> None:
        os.chmod(self.ensure_work_dir(), 0o755)  # noqa: S103 - the postgres user must traverse it
        # A half-finished initdb leaves a directory without PG_VERSION: start over.
        if self.cluster.exists() and not (self.cluster / "PG_VERSION").exists():
            shutil.rmtree(self.cluster)
        if not self.cluster.exists():
            self._initdb()
        self._remove_stale_lock()

    def _initdb(self) -> None:
        chown_tree(self.work_dir, OS_USER)
        # Its working directory too: initdb refuses one the postgres user cannot enter.
        run([str(PG_BIN / "initdb"), "-D", str(self.cluster), "-U", OS_USER, "--auth-local=trust",
             "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8"], user=OS_USER, cwd=self.work_dir)
        settings = {
            "listen_addresses": f"'{config.HOST}'",
            "unix_socket_directories": f"'{self.cluster}'",
            "fsync": "off",  # a dev/test cluster: losing it on power loss is fine, speed matters
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "200",
            "shared_buffers": "256MB",
        }
        with (self.cluster / "postgresql.auto.conf").open("a") as conf:
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())

    def _remove_stale_lock(self) -> None:
        lock = self.cluster / "postmaster.pid"
        if not lock.exists():
            return
        try:
            pid = int(lock.read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            pid = 0
        if not pid or not pid_alive(pid):
            lock.unlink()
            # The socket's own lock file survives a SIGKILL too, and postgres refuses to start over it.
            for stale in self.cluster.glob(".s.PGSQL.*"):
                stale.unlink()

    def command(self) -> Launch:
        return Launch([str(PG_BIN / "postgres"), "-D", str(self.cluster), "-p", str(self.port)], user=OS_USER,
                      cwd=self.work_dir)

    def ready(self) -> bool:
        probe = subprocess.run([str(PG_BIN / "pg_isready"), "-q", "-h", config.HOST, "-p", str(self.port)])
        return probe.returncode == 0

    def after_ready(self) -> None:
        user, password, db = config.PG_USER, config.PG_PASSWORD, config.PG_DB
        self.psql(
            f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{user}') THEN "
            f"CREATE ROLE {user} LOGIN CREATEDB PASSWORD '{password}'; END IF; END $$;"
        )
        if self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{db}'").strip() != "1":
            self.psql(f"CREATE DATABASE {db} OWNER {user}")
        self._create_extensions()
        self.ensure_replication()

    def ensure_replication(self) -> None:
        """What a streaming replica needs of its primary, on a running cluster (an old one too: settings
        are appended by ALTER SYSTEM, never by a new initdb). The slot is made by the replica itself."""
        user, password = config.PG_REPLICATION_USER, config.PG_REPLICATION_PASSWORD
        self.psql(
            f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{user}') THEN "
            f"CREATE ROLE {user} LOGIN REPLICATION PASSWORD '{password}'; END IF; END $$;"
        )
        changed = False
        # wal_level replica is PostgreSQL's default (a change needs a restart); a slot whose replica is
        # gone may keep at most max_slot_wal_keep_size of WAL, then it is invalidated (a reload).
        for name, value, fine in (("wal_level", "replica", ("replica", "logical")),
                                  ("max_slot_wal_keep_size", "2GB", ("2GB",))):
            if self.psql(f"SHOW {name}").strip() not in fine:
                self.psql(f"ALTER SYSTEM SET {name} = '{value}'")
                changed = True
        hba = self.cluster / "pg_hba.conf"
        allowed = re.compile(rf"^host\s+replication\s+(all|{user})\s+{re.escape(config.HOST)}/32\s", re.MULTILINE)
        if not allowed.search(hba.read_text()):  # initdb's file has `host replication all 127.0.0.1/32`
            with hba.open("a") as conf:
                conf.write(f"host replication {user} {config.HOST}/32 scram-sha-256\n")
            changed = True
        if changed:
            self.psql("SELECT pg_reload_conf()")

    def has_slot(self, slot: str) -> bool:
        return self.psql(f"SELECT 1 FROM pg_replication_slots WHERE slot_name = '{slot}'").strip() == "1"

    def _create_extensions(self) -> None:
        # Extensions need a superuser to create (pgvector is not a trusted extension); template1
        # gives them to test databases too.
        for database in ("template1", config.PG_DB):
            if self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}'").strip() == "1":
                self.psql("".join(f"CREATE EXTENSION IF NOT EXISTS {name}; " for name in EXTENSIONS),
                          database=database)
                # The partner catalogue (portal/partners): the app's role defines its own foreign server.
                self.psql(f"GRANT USAGE ON FOREIGN DATA WRAPPER postgres_fdw TO {config.PG_USER}",
                          database=database)

    def psql(self, sql: str, database: str = "postgres") -> str:
        return run([str(PG_BIN / "psql"), "-h", str(self.cluster), "-p", str(self.port), "-U", OS_USER,
                    "-d", database, "-tAq", "-v", "ON_ERROR_STOP=1", "-c", sql], user=OS_USER, cwd=self.work_dir)

    def version(self) -> str:
        return run([str(PG_BIN / "postgres"), "--version"]).split()[2]


class PostgresReplica(Postgres):
    """SCALE=2: a hot standby streaming from the primary through a physical replication slot. Its cluster
    is made by pg_basebackup -R (primary_conninfo, standby.signal) when missing; it is derived data, so
    a cluster whose slot is gone (a new primary) is made again."""

    name = "postgres-replica"
    port = config.PORTS.postgres_replica
    url = config.DATABASE_REPLICA_URL
    depends_on = ("postgres",)

    def install(self) -> None:
        pgvector.install(MAJOR)  # the same server binaries; extensions arrive by replication

    def prepare(self) -> None:
        os.chmod(self.ensure_work_dir(), 0o755)  # noqa: S103 - the postgres user must traverse it
        primary, slot = Postgres(), config.PG_REPLICATION_SLOT
        primary.ensure_replication()
        complete = (self.cluster / "standby.signal").exists() and (self.cluster / "PG_VERSION").exists()
        if self.cluster.exists() and (not complete or not primary.has_slot(slot)):
            shutil.rmtree(self.cluster)
        if not self.cluster.exists():
            self._base_backup(primary, slot)
        self._remove_stale_lock()

    def _base_backup(self, primary: Postgres, slot: str) -> None:
        if not primary.has_slot(slot):
            primary.psql(f"SELECT pg_create_physical_replication_slot('{slot}')")
        chown_tree(self.work_dir, OS_USER)
        conninfo = (f"host={config.HOST} port={primary.port} user={config.PG_REPLICATION_USER} "
                    f"password={config.PG_REPLICATION_PASSWORD} application_name={self.name}")
        run([str(PG_BIN / "pg_basebackup"), "-d", conninfo, "-D", str(self.cluster), "-R", "-S", slot,
             "-X", "stream", "-c", "fast"], user=OS_USER, cwd=self.work_dir)
        # The copy carries the primary's postgresql.auto.conf; later lines win.
        settings = {
            "unix_socket_directories": f"'{self.cluster}'",
            "hot_standby": "on",
            # The primary keeps rows a replica query still reads, instead of cancelling that query.
            "hot_standby_feedback": "on",
        }
        with (self.cluster / "postgresql.auto.conf").open("a") as conf:
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())

    def after_ready(self) -> None:
        """Nothing to create: roles, databases and extensions arrive from the primary."""
