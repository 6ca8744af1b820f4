"""Where the stack lives and which ports it binds: every value comes from the
environment, with a default chosen not to collide with a system-wide install
on the standard port."""

from __future__ import annotations

import hashlib
import os
import shlex
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VAR = Path(os.environ.get("STACK_VAR_DIR", ROOT / "var")).resolve()
# What the stack built (Go binaries, OpenSearch jars): shareable between stack instances.
BUILD = Path(os.environ.get("STACK_BUILD_DIR", VAR)).resolve()
BIN = BUILD / "bin"
LOGS = VAR / "log"
RUN = VAR / "run"
HOST = "127.0.0.1"


def outside_for(var: Path) -> Path:
    # Predictable on purpose (the same folder on every run); Service.ensure_work_dir refuses one it does not own.
    return Path(f"/var/tmp/portal-stack-{hashlib.sha256(str(var).encode()).hexdigest()[:12]}")  # noqa: S108


# Servers that drop root's privileges (postgres, nginx's workers) keep their files under VAR when
# their user can reach it, else here: outside the checkout, one folder per VAR (a clone in root's
# 0700 home, or in a `mktemp -d` folder, still starts).
OUTSIDE = Path(os.environ.get("STACK_OUTSIDE_DIR") or outside_for(VAR))


def _pinned_versions() -> dict[str, str]:
    values: dict[str, str] = {}
    for line in (ROOT / "deploy" / "versions.env").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, raw = line.partition("=")
            values[key] = " ".join(shlex.split(raw))
    return values


VERSIONS = _pinned_versions()


def port(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


@dataclass(frozen=True)
class Ports:
    postgres: int = port("STACK_PG_PORT", 15432)
    # SCALE=2's streaming replica: one above the primary by default, so an instance that moves the
    # primary (the drills) moves its replica too.
    postgres_replica: int = port("STACK_PG_REPLICA_PORT", postgres + 1)
    redis: int = port("STACK_REDIS_PORT", 16379)
    # SCALE=2: the Redis replica and the three sentinels that fail the master over to it.
    redis_replica: int = port("STACK_REDIS_REPLICA_PORT", 16380)
    sentinel1: int = port("STACK_SENTINEL1_PORT", 26380)
    sentinel2: int = port("STACK_SENTINEL2_PORT", 26381)
    sentinel3: int = port("STACK_SENTINEL3_PORT", 26382)
    memcached: int = port("STACK_MEMCACHED_PORT", 21211)
    opensearch: int = port("STACK_OPENSEARCH_PORT", 19200)
    opensearch_transport: int = port("STACK_OPENSEARCH_TRANSPORT_PORT", 19300)
    # SCALE=2's second OpenSearch node: by default two above the first's, so a stack instance that
    # moves the first's ports (the drills) moves these too and never seeds another instance's node.
    opensearch2: int = port("STACK_OPENSEARCH2_PORT", opensearch + 2)
    opensearch2_transport: int = port("STACK_OPENSEARCH2_TRANSPORT_PORT", opensearch_transport + 2)
    elasticsearch: int = port("STACK_ELASTICSEARCH_PORT", 19201)
    elasticsearch_transport: int = port("STACK_ELASTICSEARCH_TRANSPORT_PORT", 19301)
    ferretdb: int = port("STACK_FERRETDB_PORT", 37017)
    s3: int = port("STACK_S3_PORT", 17070)
    cdn: int = port("STACK_CDN_PORT", 18080)
    # The balancer (only with LB=1): nginx's HTTP and HTTPS servers, the portal instances behind it.
    lb_http: int = port("STACK_LB_HTTP_PORT", 18081)
    lb_https: int = port("STACK_LB_HTTPS_PORT", 18443)
    # bench/balancer.py only: a plain-HTTP twin of the HTTPS server (0: none, the default).
    lb_bench: int = port("STACK_LB_BENCH_PORT", 0)
    web1: int = port("STACK_WEB1_PORT", 18001)
    web2: int = port("STACK_WEB2_PORT", 18002)
    stream: int = port("STACK_STREAM_PORT", 18003)


PORTS = Ports()

# LB=1: `up` also starts two gunicorn instances, a stream process and nginx's balancer servers.
LB = os.environ.get("LB", "") not in ("", "0")
# SCALE=2: `up` also starts the second instance of every tier (search node, database replica, Redis
# replica with sentinels, a second worker host); `make test` runs with it.
SCALE = int(os.environ.get("SCALE", "1") or 1)
# The balancer connects to its upstreams from this loopback address, so the instances can tell
# it apart from any other local client (FORWARDED_ALLOW_IPS): only it may set X-Forwarded-*.
LB_SOURCE_ADDRESS = os.environ.get("STACK_LB_SOURCE_ADDRESS", "127.0.0.2")

# Local-only credentials for servers bound to 127.0.0.1; production reads its own.
PG_USER = os.environ.get("STACK_PG_USER", "portal")
PG_PASSWORD = os.environ.get("STACK_PG_PASSWORD", "portal")
PG_DB = os.environ.get("STACK_PG_DB", "portal")
# The replica's connection to the primary (a REPLICATION role) and the slot that keeps its WAL.
PG_REPLICATION_USER = os.environ.get("STACK_PG_REPLICATION_USER", "replicator")
PG_REPLICATION_PASSWORD = os.environ.get("STACK_PG_REPLICATION_PASSWORD", "replicator")
PG_REPLICATION_SLOT = os.environ.get("STACK_PG_REPLICATION_SLOT", "portal_replica")
S3_ACCESS_KEY = os.environ.get("S3_ACCESS_KEY_ID", "portal-dev")
S3_SECRET_KEY = os.environ.get("S3_SECRET_ACCESS_KEY", "portal-dev-secret")
S3_REGION = os.environ.get("S3_REGION", "us-east-1")
S3_PUBLIC_BUCKET = os.environ.get("S3_PUBLIC_BUCKET", "portal-public")
S3_PRIVATE_BUCKET = os.environ.get("S3_PRIVATE_BUCKET", "portal-private")
OPENSEARCH_HEAP = os.environ.get("STACK_OPENSEARCH_HEAP", "768m")
ELASTICSEARCH_HEAP = os.environ.get("STACK_ELASTICSEARCH_HEAP", "512m")
# Sentinel (SCALE=2): the name the sentinels know the master by, and how long it must be silent
# before they fail it over (Redis's own default, 30 s: the suite's brief Redis restarts stay below it).
SENTINEL_MASTER = os.environ.get("STACK_SENTINEL_MASTER", "portal")
SENTINEL_DOWN_AFTER_MS = int(os.environ.get("STACK_SENTINEL_DOWN_AFTER_MS", "30000"))

URLS = {
    "DATABASE_URL": f"postgres://{PG_USER}:{PG_PASSWORD}@{HOST}:{PORTS.postgres}/{PG_DB}",
    "REDIS_URL": f"redis://{HOST}:{PORTS.redis}/0",
    "MEMCACHED_URL": f"{HOST}:{PORTS.memcached}",
    "SEARCH_URL": f"http://{HOST}:{PORTS.opensearch}",
    "MONGODB_URL": f"mongodb://{HOST}:{PORTS.ferretdb}/portal",
    "S3_ENDPOINT_URL": f"http://{HOST}:{PORTS.s3}",
    "CDN_BASE_URL": f"http://{HOST}:{PORTS.cdn}",
}
LB_URL = f"https://{HOST}:{PORTS.lb_https}"
# SCALE=2's replica; `bin/stack env` exports it only when there is one (the portal reads from it when set).
DATABASE_REPLICA_URL = f"postgres://{PG_USER}:{PG_PASSWORD}@{HOST}:{PORTS.postgres_replica}/{PG_DB}"
if SCALE >= 2:
    URLS["DATABASE_REPLICA_URL"] = DATABASE_REPLICA_URL
