"""What does the database replica take off the primary? (SCALE=2; DATABASE_REPLICA_URL)

One run, side by side: two gunicorn instances of the Procfile's web line (config/gunicorn.py) on one
bench database, one with the primary only, one reading from the stack's streaming replica (the router
in portal/core/dbrouter.py). Alternating wrk rounds on a signed-in editor's studio list (a page no
cache answers: every request reads the database) give, for each:
  - requests/s, and their ratio (replica / primary only);
  - CPU that the primary's and the replica's PostgreSQL processes spent per request (from /proc).
On one machine both servers share its cores, so requests/s moves little; the primary's CPU per
request is what a replica on its own machine takes off the primary.

Needs `SCALE=2 bin/stack up postgres postgres-replica` (it runs that itself).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from common import (
    HOST,
    ROOT,
    bench_database_url,
    database_recreate,
    django_setup,
    free_port,
    gunicorn,
    machine,
    stop,
)

sys.path.insert(0, str(ROOT / "bin"))
from stackctl import config as stack_config
from stackctl.services.postgres import Postgres, PostgresReplica

BENCH_DB = "portal_bench_replica"
BENCH_CACHE_URL = os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:16379/61")
subprocess.run([str(ROOT / "bin" / "stack"), "up", "postgres", "postgres-replica"], env={**os.environ, "SCALE": "2"},
               check=True, capture_output=True)
django_setup(BENCH_DB, CACHE_URL=BENCH_CACHE_URL, CACHE_KEY_PREFIX="bench-replica")

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from portal.accounts.models import User  # noqa: E402
from tests.factories import AssetFactory, UserFactory  # noqa: E402

REPLICA_URL = urlunsplit(urlsplit(stack_config.DATABASE_REPLICA_URL)._replace(path=f"/{BENCH_DB}"))
PAGE = "/studio/"


@dataclass(frozen=True)
class Round:
    rps: float
    errors: int
    requests: int
    primary_cpu_s: float
    replica_cpu_s: float


def postmaster(server: Postgres) -> int:
    return int((server.cluster / "postmaster.pid").read_text().splitlines()[0])


def server_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a PostgreSQL server so far: the postmaster, its live children, and
    the children it has reaped. Backends put themselves in process groups of their own (setsid), so
    the server's is not its process group."""
    ticks = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()  # from field 3, state
        except OSError:
            continue
        if int(entry.name) == pid:
            ticks += sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
        elif int(fields[1]) == pid:  # ppid
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def seed(assets: int) -> str:
    """The bench database: an editor and `assets` assets, replayed on the replica; the editor's session cookie."""
    database_recreate(BENCH_DB)
    editor: User = UserFactory(username="bench-editor", editor=True)
    AssetFactory.create_batch(assets, owner=editor)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_insert_lsn()")
        (lsn,) = cursor.fetchone()
    replica, deadline = PostgresReplica(), time.monotonic() + 120
    while replica.psql(f"SELECT pg_last_wal_replay_lsn() >= '{lsn}'::pg_lsn").strip() != "t":
        if time.monotonic() > deadline:
            raise SystemExit("the replica did not catch up within 120 s")
        time.sleep(0.1)
    client = Client()
    client.force_login(editor)
    return str(client.cookies[settings.SESSION_COOKIE_NAME].value)


def wrk(url: str, cookie: str, *, seconds: int, connections: int) -> Round:
    primary, replica = postmaster(Postgres()), postmaster(PostgresReplica())
    before = server_cpu_seconds(primary), server_cpu_seconds(replica)
    argv = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
            "-H", f"Cookie: {settings.SESSION_COOKIE_NAME}={cookie}", url]
    output = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=seconds + 30).stdout
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    done = re.search(r"^\s*(\d+) requests in", output, re.MULTILINE)
    if rps is None or done is None:
        raise SystemExit(f"could not read wrk's output:\n{output}")
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    statuses = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = (sum(map(int, sockets.groups())) if sockets else 0) + (int(statuses.group(1)) if statuses else 0)
    return Round(rps=float(rps.group(1)), errors=errors, requests=int(done.group(1)),
                 primary_cpu_s=server_cpu_seconds(primary) - before[0],
                 replica_cpu_s=server_cpu_seconds(replica) - before[1])


def per_request_ms(rounds: list[Round], field: str) -> float:
    return statistics.median(1000 * getattr(r, field) / max(r.requests, 1) for r in rounds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assets", type=int, default=300, help="assets in the bench database (default 300)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating wrk rounds per instance (default 3)")
    parser.add_argument("--seconds", type=int, default=8, help="duration of one wrk round (default 8)")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (default 8)")
    args = parser.parse_args()
    print(f"bench/db_replica.py  {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n{machine()}")
    cookie = seed(args.assets)
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_REPLICA_URL"}
    instances = {"primary only": {**env, "DATABASE_URL": bench_database_url(BENCH_DB)},
                 "reads on replica": {**env, "DATABASE_URL": bench_database_url(BENCH_DB),
                                      "DATABASE_REPLICA_URL": REPLICA_URL}}
    servers, urls = {}, {}
    try:
        for name, instance_env in instances.items():
            port = free_port()
            servers[name] = gunicorn(f"db_replica-{name.replace(' ', '_')}", port, instance_env)
            urls[name] = f"http://{HOST}:{port}{PAGE}"
        for name, url in urls.items():
            request = urllib.request.Request(url, headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}"})
            with urllib.request.urlopen(request, timeout=30) as response:
                if response.status != 200 or response.url != url:  # not sent to the login page
                    raise SystemExit(f"{name}: {url} answered {response.status} at {response.url}")
        for url in urls.values():  # warm every worker and thread: imports, templates, connections
            wrk(url, cookie, seconds=2, connections=args.connections)
        results: dict[str, list[Round]] = {name: [] for name in instances}
        for _ in range(args.rounds):  # alternating, so drift on the shared machine hits both alike
            for name, url in urls.items():
                results[name].append(wrk(url, cookie, seconds=args.seconds, connections=args.connections))
    finally:
        for server in servers.values():
            stop(server)
    print(f"\n{PAGE} signed in as an editor, {args.assets} assets; wrk -t2 -c{args.connections} -d{args.seconds}s, "
          f"{args.rounds} alternating rounds, medians")
    print(f"{'':18}{'requests/s':>12}{'errors':>8}{'primary CPU ms/req':>20}{'replica CPU ms/req':>20}")
    for name, rounds in results.items():
        print(f"{name:18}{statistics.median(r.rps for r in rounds):12.1f}{sum(r.errors for r in rounds):8d}"
              f"{per_request_ms(rounds, 'primary_cpu_s'):20.3f}{per_request_ms(rounds, 'replica_cpu_s'):20.3f}")
    on, off = results["reads on replica"], results["primary only"]
    rps_ratio = statistics.median(r.rps for r in on) / statistics.median(r.rps for r in off)
    cpu_ratio = per_request_ms(on, "primary_cpu_s") / max(per_request_ms(off, "primary_cpu_s"), 1e-9)
    print(f"\nratio requests/s, reads on replica / primary only: {rps_ratio:.2f}")
    print(f"ratio primary CPU per request, reads on replica / primary only: {cpu_ratio:.2f}")


if __name__ == "__main__":
    main()
