"""What the balancer costs and buys, measured side by side in one run with wrk over loopback:

  1. requests/s of /browse/ rendered by Django, through the balancer (TLS, two instances)
     ÷ the same requests straight to one instance;
  2. p95 latency of those requests through the balancer over TLS ÷ over plain HTTP (same nginx,
     same instances: a plain-HTTP twin of the HTTPS server that exists only for benchmarks);
  3. requests/s of anonymous /browse/ answered by the microcache ÷ the same anonymous requests
     with the microcache skipped (Django and its own Redis page cache answer them).

Each pair alternates for --rounds rounds and the medians are compared. "Rendered by Django"
means a request with a session cookie: it bypasses both the microcache and Django's anonymous
page cache, as a signed-in visitor's does. Run with `make bench`; bench/README.md explains.
"""

from __future__ import annotations

import argparse
import atexit
import os
import platform
import re
import statistics
import subprocess
import tempfile
import time
import urllib.request

import psycopg
from common import ADMIN_DB_URL, ROOT, bench_database_url
from psycopg import sql

BENCH_DB = "portal_bench_lb"
BENCH_DB_URL = bench_database_url(BENCH_DB)
PORTS = {"STACK_CDN_PORT": 8630, "STACK_LB_HTTP_PORT": 8631, "STACK_LB_HTTPS_PORT": 8632, "STACK_WEB1_PORT": 8633,
         "STACK_WEB2_PORT": 8634, "STACK_STREAM_PORT": 8635, "STACK_LB_BENCH_PORT": 8636}
INSTANCES = ("web1", "web2", "stream", "nginx")
VAR = ROOT / "var" / "bench-lb"
ENV = {
    **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "CACHE_", "STACK_"))},
    **{name: str(port) for name, port in PORTS.items()},
    "LB": "1", "STACK_VAR_DIR": str(VAR), "STACK_BUILD_DIR": str(ROOT / "var"),
    # Production's code paths (no DEBUG, cached templates) without its HTTPS redirect, which would
    # answer the direct plain-HTTP requests with a 301.
    "DJANGO_ENV": "development", "DJANGO_DEBUG": "false", "LOG_LEVEL": "WARNING",
    "DATABASE_URL": BENCH_DB_URL, "CACHE_URL": "redis://127.0.0.1:16379/12", "CACHE_KEY_PREFIX": "bench-lb",
    "WEB_CONCURRENCY": os.environ.get("WEB_CONCURRENCY", "1"), "GUNICORN_THREADS": "4",
}
SIGNED_IN = "Cookie: sessionid=bench-not-a-session"
# wrk prints its own summary; this adds one parseable line with the 95th percentile (µs).
WRK_SCRIPT = """done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %.3f %d %d\\n", summary.requests, summary.duration / 1e6,
    latency:percentile(95), e.connect + e.read + e.write + e.status + e.timeout))
end
"""


def stack(*args: str) -> None:
    subprocess.run([str(ROOT / "bin" / "stack"), *args], env=ENV, check=True, stdout=subprocess.DEVNULL)


def manage(*args: str) -> None:
    subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "manage.py", *args], cwd=ROOT, env=ENV, check=True,
                   stdout=subprocess.DEVNULL)


def database_ready() -> None:
    """The bench's own database with the demo content (kept between runs; seed_demo is idempotent)."""
    with psycopg.connect(ADMIN_DB_URL, autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DB]).fetchone():
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(BENCH_DB)))
    manage("migrate", "--noinput")
    manage("seed_demo")


def wrk(url: str, *, seconds: int, connections: int, headers: tuple[str, ...] = ()) -> tuple[float, float, int]:
    """(requests/s, p95 ms, errors) of one wrk run."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    argv = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-s", script.name]
    for header in headers:
        argv += ["-H", header]
    output = subprocess.run([*argv, url], capture_output=True, text=True, check=True).stdout
    os.unlink(script.name)
    match = re.search(r"RESULT (\d+) ([\d.]+) (\d+) (\d+)", output)
    assert match, output
    requests, duration, p95_us, errors = match.groups()
    return int(requests) / float(duration), int(p95_us) / 1000, int(errors)


def compare(label: str, first: tuple[str, tuple[str, ...]], second: tuple[str, tuple[str, ...]], *, rounds: int,
            seconds: int, connections: int) -> tuple[list[tuple[float, float, int]], list[tuple[float, float, int]]]:
    a, b = [], []
    for _ in range(rounds):  # alternating, so drift on a shared machine hits both sides alike
        a.append(wrk(first[0], seconds=seconds, connections=connections, headers=first[1]))
        b.append(wrk(second[0], seconds=seconds, connections=connections, headers=second[1]))
    print(f"  {label}: " + ", ".join(f"{x[0]:.0f} vs {y[0]:.0f} req/s (p95 {x[1]:.1f} vs {y[1]:.1f} ms, "
                                     f"errors {x[2]} vs {y[2]})" for x, y in zip(a, b, strict=True)))
    return a, b


def median(runs: list[tuple[float, float, int]], index: int) -> float:
    return statistics.median(run[index] for run in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    timing = {"rounds": args.rounds, "seconds": args.seconds}

    database_ready()
    VAR.mkdir(parents=True, exist_ok=True)
    os.chmod(VAR, 0o755)  # noqa: S103 - nginx's unprivileged workers use the cache under it
    atexit.register(lambda: subprocess.run([str(ROOT / "bin" / "stack"), "down", *INSTANCES], env=ENV,
                                           stdout=subprocess.DEVNULL, check=False))
    stack("down", *INSTANCES)  # a fresh start with this run's settings
    stack("up", *INSTANCES)
    lb, plain = f"https://127.0.0.1:{PORTS['STACK_LB_HTTPS_PORT']}", f"http://127.0.0.1:{PORTS['STACK_LB_BENCH_PORT']}"
    direct = f"http://127.0.0.1:{PORTS['STACK_WEB1_PORT']}"
    for base in (plain, direct):  # warm the fragment and page caches and the template loaders
        for _ in range(20):
            urllib.request.urlopen(f"{base}/browse/", timeout=10).read()
    time.sleep(1)

    cores = os.cpu_count()
    print(f"bench/balancer.py: {cores} cores, {platform.system()} {platform.release()}, nginx with 1 worker, "
          f"gunicorn WEB_CONCURRENCY={ENV['WEB_CONCURRENCY']} x {ENV['GUNICORN_THREADS']} threads per instance, "
          f"wrk -t2 -c{args.connections}, {args.rounds} alternating rounds of {args.seconds}s, medians")

    two, one = compare("balanced vs direct", (f"{lb}/browse/", (SIGNED_IN,)), (f"{direct}/browse/", (SIGNED_IN,)),
                       connections=args.connections, **timing)
    print(f"1. /browse/ rendered by Django: {median(two, 0):.0f} req/s through the balancer (TLS, 2 instances) / "
          f"{median(one, 0):.0f} req/s one instance direct = {median(two, 0) / median(one, 0):.2f}")

    tls, http = compare("TLS vs plain", (f"{lb}/browse/", (SIGNED_IN,)), (f"{plain}/browse/", (SIGNED_IN,)),
                        connections=2, **timing)
    print(f"2. p95 at 2 connections: {median(tls, 1):.1f} ms over TLS / {median(http, 1):.1f} ms plain HTTP = "
          f"{median(tls, 1) / median(http, 1):.2f} (req/s {median(tls, 0):.0f} / {median(http, 0):.0f})")

    cached, django_only = compare("microcache vs Django", (f"{plain}/browse/", ()),
                                  (f"{plain}/browse/", ("X-Bench-Nocache: 1",)), connections=args.connections,
                                  **timing)
    print(f"3. anonymous /browse/: {median(cached, 0):.0f} req/s from the microcache / {median(django_only, 0):.0f} "
          f"req/s from Django (its Redis page cache) = {median(cached, 0) / median(django_only, 0):.1f}")


if __name__ == "__main__":
    main()
