"""Settings shared by every environment, read through the one environment reader, `env`.

development.py, test.py and production.py start from these and change only what differs; the
package's __init__ picks one by DJANGO_ENV (unset: production). Every server URL has a local
default matching bin/stack, so a plain checkout runs; secrets have none outside development and test.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import environ

from portal.core.tasks import TaskName, periodic

BASE_DIR = Path(__file__).resolve().parents[2]
env = environ.Env()

DJANGO_ENV = "production"  # each environment's module names itself

# No default here: production requires one, development and test set their own.
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "portal.accounts.apps.PortalAdminConfig",  # django.contrib.admin with a throttled login
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_htmx",
    "template_partials",
    "simple_history",  # revisions of assets and collections (portal/library/revisions.py)
    "auditlog",  # the audit log's table (portal/audit/)
    "django_opensearch_dsl",  # the OpenSearch backend's index declaration (syncing off: see below)
    "portal.core",
    "portal.accounts",
    "portal.library",
    "portal.ops",
    "portal.uploads",
    "portal.media",
    "portal.jobs",
    "portal.processing",
    "portal.analytics",
    "portal.search",
    "portal.audit",
    "portal.partners",
]

MIDDLEWARE = [
    # First: drops X-Forwarded-* unless the balancer sent them, before anything reads them.
    "portal.ops.proxy.TrustedProxyMiddleware",
    # /healthz and /readyz answer here: probes come by the instance's address, over plain HTTP.
    "portal.ops.middleware.HealthProbeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy on every answer, cached pages included (portal/core/csp.py).
    "portal.core.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Anonymous pages cached whole: a hit answers here, before sessions, CSRF and auth.
    "portal.core.pagecache.AnonymousPageCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Who saved a revision (simple-history) and who did what, from where, for the audit log.
    "simple_history.middleware.HistoryRequestMiddleware",
    "portal.audit.middleware.AuditMiddleware",
    # With a replica (DATABASE_REPLICA_URL): safe requests read from it unless the user just wrote.
    "portal.core.dbrouter.ReplicaReadsMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Asset views and downloads into the analytics outbox (one insert; never waits on MongoDB).
    "portal.analytics.middleware.ActivityMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
            "builtins": ["template_partials.templatetags.partials", "portal.core.templatetags.fragments"],
        },
    }
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default="postgres://portal:portal@127.0.0.1:15432/portal"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# A database that drops packets instead of refusing must not hang a request (or /readyz) for minutes.
DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env.int("DATABASE_CONNECT_TIMEOUT", default=3)
# Lets several test runs share one server (e.g. a developer's and a helper's) without clashing.
DATABASES["default"]["TEST"] = {"NAME": env.str("DJANGO_TEST_DATABASE", default="test_portal")}
# The partner's catalogue database, read through postgres_fdw (portal/partners/catalogue.py): host, port
# and name make the foreign server, user and password the user mapping (no password in the repository:
# the default is the local stack's, a second database on its server standing for the partner's).
PARTNER_CATALOGUE_URL = env.str("PARTNER_CATALOGUE_URL", default="postgres://portal:portal@127.0.0.1:15432/partner")
PARTNER_CATALOGUE_TABLE = env.str("PARTNER_CATALOGUE_TABLE", default="public.catalogue_item")
PARTNER_OWNER_USERNAME = env.str("PARTNER_OWNER_USERNAME", default="partner-catalogue")  # author of its assets

def replica_database(url: str) -> dict[str, object]:
    """The streaming replica (SCALE=2), read through portal/core/dbrouter.py. Its test database is the
    primary's, arriving by replication (MIRROR: Django creates nothing on it)."""
    replica = env.db_url_config(url)
    replica.update(CONN_MAX_AGE=DATABASES["default"]["CONN_MAX_AGE"], CONN_HEALTH_CHECKS=True,
                   TEST={"MIRROR": "default"})
    # A replica that is down is skipped (the router's breaker): a refused connection must be quick.
    replica.setdefault("OPTIONS", {})["connect_timeout"] = env.int("DATABASE_REPLICA_CONNECT_TIMEOUT", default=1)
    return replica


# Unset: one database, no router. Set: safe requests read from the replica (README, "Database replica").
DATABASE_REPLICA_URL = env.str("DATABASE_REPLICA_URL", default="")
# After a user's write, their reads stay on the primary this long (read-your-writes across the lag).
DATABASE_REPLICA_PIN_SECONDS = env.float("DATABASE_REPLICA_PIN_SECONDS", default=5.0)
# A replica that failed is skipped this long, then one request tries it again.
DATABASE_REPLICA_COOLDOWN_SECONDS = env.float("DATABASE_REPLICA_COOLDOWN_SECONDS", default=5.0)
DATABASE_ROUTERS: list[str] = []
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = replica_database(DATABASE_REPLICA_URL)
    DATABASE_ROUTERS = ["portal.core.dbrouter.PrimaryReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache: Redis through django-redis, or Memcached when CACHE_URL says memcached://.
# A dead cache server must never take a page down: errors are logged and ignored.
CACHE_TIMEOUT = env.int("CACHE_TIMEOUT", default=3600)
# Anonymous pages each web process keeps in memory, stamped with the content generation
# (portal/core/pagecache.py); 0 turns the memo off. ~20-60 KB each. The process trusts the generation it
# last read for PAGE_MEMO_TRUST_SECONDS: a visitor may see a page that old after a write (as with the
# balancer's microcache); 0 asks the cache server on every hit.
PAGE_MEMO_PAGES = env.int("PAGE_MEMO_PAGES", default=256)
PAGE_MEMO_TRUST_SECONDS = env.float("PAGE_MEMO_TRUST_SECONDS", default=1.0)


# Redis behind Sentinel: REDIS_SENTINELS="host:port,host:port,host:port" and the master's name. Set, every
# Redis URL (cache, broker, results, progress) keeps its database number and reaches the master the
# sentinels name, in kombu's form `sentinel://host:port/db;sentinel://…`; unset, the URLs are used as given.
REDIS_SENTINELS = env.list("REDIS_SENTINELS", default=[])
REDIS_SENTINEL_MASTER = env.str("REDIS_SENTINEL_MASTER", default="portal")


def sentinel_url(url: str) -> str:
    """`redis://[:password@]host:port/db` through REDIS_SENTINELS, when they are set."""
    if not REDIS_SENTINELS or not url.startswith("redis://"):
        return url
    parts = urlsplit(url)
    credentials = parts.netloc.rpartition("@")[0]
    database = parts.path.strip("/") or "0"
    return ";".join(f"sentinel://{credentials + '@' if credentials else ''}{address}/{database}"
                    for address in REDIS_SENTINELS)


def sentinel_addresses(url: str) -> list[tuple[str, int]]:
    """The (host, port) of each sentinel a `sentinel://…;sentinel://…` URL names."""
    return [(part.hostname or "127.0.0.1", part.port or 26379) for part in map(urlsplit, url.split(";"))]


def cache_settings(url: str) -> dict[str, dict[str, object]]:
    """CACHES for one URL (test.py builds its own with another default database)."""
    common = {"TIMEOUT": CACHE_TIMEOUT, "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="portal")}
    if url.startswith("memcached://"):
        return {"default": {
            "BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache",
            "LOCATION": url.removeprefix("memcached://"), **common,
            "OPTIONS": {"no_delay": True, "ignore_exc": True, "connect_timeout": 0.25, "timeout": 0.25},
        }}
    options: dict[str, object] = {"SOCKET_CONNECT_TIMEOUT": 0.25, "SOCKET_TIMEOUT": 0.25, "IGNORE_EXCEPTIONS": True}
    url = sentinel_url(url)
    location: str | list[str] = url
    if url.startswith("sentinel://"):
        # django-redis's Sentinel client: its pool asks the sentinels for the master on each new
        # connection. One location, the master's, and no replica: reads see the writes just made.
        first = urlsplit(url.split(";")[0])
        credentials = first.netloc.rpartition("@")[0]
        options |= {"CLIENT_CLASS": "django_redis.client.SentinelClient",
                    "CONNECTION_FACTORY": "portal.integrations.redis_client.SentinelConnectionFactory",
                    "SENTINELS": sentinel_addresses(url),
                    "SENTINEL_KWARGS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.25}}
        location = [f"redis://{credentials + '@' if credentials else ''}{REDIS_SENTINEL_MASTER}{first.path}"]
    return {"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": location, **common, "OPTIONS": options}}


CACHES = cache_settings(env.str("CACHE_URL", default="redis://127.0.0.1:16379/0"))
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True

# Sessions survive any one web instance: written to PostgreSQL, read through the cache.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "library:home"
LOGOUT_REDIRECT_URL = "library:home"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES: dict[str, dict[str, object]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_MAX_AGE = 31536000

# Local servers of the stack; production points these at managed services.
# SEARCH_URL: one node, or a cluster's nodes separated by commas (a dead one is skipped).
SEARCH_URL = env.str("SEARCH_URL", default="http://127.0.0.1:19200")
# Copies of each shard beyond the primary, as OpenSearch's auto_expand_replicas "min-max": one per
# other data node up to max ("0-1": a copy on a second node when there is one; one node stays green).
SEARCH_INDEX_REPLICAS = env.str("SEARCH_INDEX_REPLICAS", default="0-1")
# Index and alias names start with this (test.py: the test database's name, so parallel runs never share one).
SEARCH_INDEX_PREFIX = env.str("SEARCH_INDEX_PREFIX", default="portal")
# Per-request timeout of the engine (seconds), and how long a failed engine is skipped (circuit
# breaker) before one request tries it again; meanwhile search answers from PostgreSQL.
SEARCH_TIMEOUT_SECONDS = env.float("SEARCH_TIMEOUT_SECONDS", default=1.0)
SEARCH_BREAKER_SECONDS = env.float("SEARCH_BREAKER_SECONDS", default=5.0)
# The search engine's backend class (portal.search.backends.get_search_backend); another engine
# plugs in by naming its class here.
SEARCH_BACKEND = env.str("SEARCH_BACKEND", default="portal.search.backends.opensearch.OpenSearchBackend")
# django-opensearch-dsl declares the index; the index is written only by the indexing tasks after
# commit, so the package's own model-signal syncing and per-write refresh are off.
OPENSEARCH_DSL = {"default": {"hosts": SEARCH_URL.split(","), "timeout": SEARCH_TIMEOUT_SECONDS}}
OPENSEARCH_DSL_AUTOSYNC = False
OPENSEARCH_DSL_AUTO_REFRESH = False
OPENSEARCH_DSL_SIGNAL_PROCESSOR = "portal.search.backends.opensearch_index.NoSignalProcessor"
# Index updates are recorded in PostgreSQL (search.PendingIndex); every SEARCH_SWEEP_SECONDS the
# sweeper sends again those waiting longer than SEARCH_PENDING_GRACE_SECONDS (a lost or unsent message).
SEARCH_SWEEP_SECONDS = env.float("SEARCH_SWEEP_SECONDS", default=60.0)
SEARCH_PENDING_GRACE_SECONDS = env.float("SEARCH_PENDING_GRACE_SECONDS", default=120.0)
MONGODB_URL = env.str("MONGODB_URL", default="mongodb://127.0.0.1:37017/portal")
# The database is MONGODB_URL's path (test.py: one named like the run's PostgreSQL test database).
MONGODB_DATABASE = urlsplit(MONGODB_URL).path.strip("/") or "portal"
MONGODB_TIMEOUT_MS = env.int("MONGODB_TIMEOUT_MS", default=1000)  # server selection and connect
MONGODB_SOCKET_TIMEOUT_MS = env.int("MONGODB_SOCKET_TIMEOUT_MS", default=10000)  # one operation
MONGODB_BREAKER_SECONDS = env.float("MONGODB_BREAKER_SECONDS", default=5.0)  # no retry for this long after a failure
# Analytics: events wait in the PostgreSQL outbox until the `analytics.ship` task moves them to MongoDB.
ANALYTICS_SHIP_SECONDS = env.float("ANALYTICS_SHIP_SECONDS", default=5.0)
ANALYTICS_BATCH_SIZE = env.int("ANALYTICS_BATCH_SIZE", default=500)
ANALYTICS_KEEP_DAYS = env.int("ANALYTICS_KEEP_DAYS", default=400)  # events older than this are deleted daily
# The audit log (portal/audit/): entries older than this are deleted daily (`audit.expire`).
AUDIT_KEEP_DAYS = env.int("AUDIT_KEEP_DAYS", default=365)
S3_ENDPOINT_URL = env.str("S3_ENDPOINT_URL", default="http://127.0.0.1:17070")
CDN_BASE_URL = env.str("CDN_BASE_URL", default="http://127.0.0.1:18080")

# Object storage. Originals and private media live in the private bucket; the public bucket holds
# copies of published public media and is what the CDN serves.
S3_REGION = env.str("S3_REGION", default="us-east-1")
# The stack's keys; production.py requires real ones.
S3_ACCESS_KEY_ID = env.str("S3_ACCESS_KEY_ID", default="portal-dev")
S3_SECRET_ACCESS_KEY = env.str("S3_SECRET_ACCESS_KEY", default="portal-dev-secret")
S3_PUBLIC_BUCKET = env.str("S3_PUBLIC_BUCKET", default="portal-public")
S3_PRIVATE_BUCKET = env.str("S3_PRIVATE_BUCKET", default="portal-private")
S3_CORS_ORIGINS = env.list("S3_CORS_ORIGINS", default=["http://127.0.0.1:8000", "http://localhost:8000"])
# Publication (portal.media.publication): public copies live under <prefix><asset id>/<token>/ in the
# public bucket; the reconciler removes any whose asset may not be public, every N seconds.
MEDIA_PUBLIC_PREFIX = env.str("MEDIA_PUBLIC_PREFIX", default="assets/")
MEDIA_RECONCILE_SECONDS = env.float("MEDIA_RECONCILE_SECONDS", default=300.0)

# Uploads: per-kind size limits (MiB), pinned in each presigned policy and checked again on finalize.
UPLOAD_MAX_MB = {
    "video": env.int("UPLOAD_MAX_MB_VIDEO", default=4096),
    "audio": env.int("UPLOAD_MAX_MB_AUDIO", default=512),
    "image": env.int("UPLOAD_MAX_MB_IMAGE", default=50),
    "document": env.int("UPLOAD_MAX_MB_DOCUMENT", default=200),
}
UPLOAD_MULTIPART_THRESHOLD_MB = env.int("UPLOAD_MULTIPART_THRESHOLD_MB", default=64)
UPLOAD_PART_SIZE_MB = env.int("UPLOAD_PART_SIZE_MB", default=16)
UPLOAD_POLICY_SECONDS = env.int("UPLOAD_POLICY_SECONDS", default=900)
UPLOAD_ABANDONED_HOURS = env.int("UPLOAD_ABANDONED_HOURS", default=24)
PRIVATE_URL_SECONDS = min(env.int("PRIVATE_URL_SECONDS", default=300), 300)  # never longer than 5 minutes
# Files go through django-storages (portal/integrations/s3.py makes one S3Storage per bucket from
# these): private media by URLs signed for PRIVATE_URL_SECONDS, public media by URLs on the CDN.
# Keys are ours and a re-run rewrites the same keys, so saving overwrites rather than renames.
_S3_OPTIONS = {
    "endpoint_url": S3_ENDPOINT_URL, "region_name": S3_REGION, "access_key": S3_ACCESS_KEY_ID,
    "secret_key": S3_SECRET_ACCESS_KEY, "addressing_style": "path", "signature_version": "s3v4",
    "default_acl": None, "file_overwrite": True,
}
_CDN = urlsplit(CDN_BASE_URL)
STORAGES["default"] = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {
    **_S3_OPTIONS, "bucket_name": S3_PRIVATE_BUCKET, "querystring_auth": True,
    "querystring_expire": PRIVATE_URL_SECONDS,
}}
STORAGES["public"] = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {
    **_S3_OPTIONS, "bucket_name": S3_PUBLIC_BUCKET, "querystring_auth": False,
    "custom_domain": f"{_CDN.netloc}{_CDN.path.rstrip('/')}", "url_protocol": f"{_CDN.scheme}:",
}}

# Celery: Redis as broker and result store. The visibility timeout outlasts the longest task,
# so a slow task is never handed to a second worker while the first still runs it.
REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:16379/0")
# Redis database 2 (test.py: 4, so a test that queues a task never hands it to a developer's worker).
CELERY_BROKER_URL = sentinel_url(env.str("CELERY_BROKER_URL", default=f"{REDIS_URL.rsplit('/', 1)[0]}/2"))
CELERY_RESULT_BACKEND = sentinel_url(env.str("CELERY_RESULT_BACKEND", default=CELERY_BROKER_URL))
# A task whose worker died without acknowledging it (SIGKILL, out of memory, a lost machine) goes back
# to its queue once it has been unacknowledged for CELERY_VISIBILITY_TIMEOUT seconds, so this must
# outlast the longest task (processing.run's hard limit is about an hour), retry countdowns included.
# Each worker sweeps for such tasks every 1/20 of it, between 1 and 60 s (kombu's own default: 100 s).
_visibility_timeout = env.int("CELERY_VISIBILITY_TIMEOUT", default=4 * 3600)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": _visibility_timeout,
    "unacked_restore_interval": max(1, min(60, _visibility_timeout // 20)),
    "unacked_restore_throttle": 1,
    # Read by kombu's and Celery's Sentinel transports only (sentinel:// URLs); plain Redis ignores them.
    "master_name": REDIS_SENTINEL_MASTER,
    "sentinel_kwargs": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {
    "master_name": REDIS_SENTINEL_MASTER,
    "sentinel_kwargs": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
}
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A broker blip must not kill an hour-long transcode: the running task goes on (its row in
# PostgreSQL is the truth) and a late duplicate finds the job finished. Celery 6 flips the default.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# Tasks that call an outside service are rate-limited so a burst (unpublishing a video purges every
# HLS segment) cannot flood it. Celery applies a rate limit per worker process (the main process of
# `celery worker`, whatever its concurrency): N workers consuming the queue together allow N times it.
# "10/s", "100/m" or "" for none.
CDN_PURGE_RATE_LIMIT = env.str("CDN_PURGE_RATE_LIMIT", default="10/s") or None
# The jobs sweeper (portal.jobs.services.job_sweep) sends again, every JOBS_SWEEP_SECONDS, any job whose
# message the broker lost: queued for JOBS_SWEEP_GRACE_SECONDS, or running with no progress for
# JOBS_RUNNING_LEASE_SECONDS (longer than processing.run's hard time limit, 3660 s), and not in the broker.
JOBS_SWEEP_SECONDS = env.float("JOBS_SWEEP_SECONDS", default=60.0)
JOBS_SWEEP_GRACE_SECONDS = env.int("JOBS_SWEEP_GRACE_SECONDS", default=300)
JOBS_RUNNING_LEASE_SECONDS = env.int("JOBS_RUNNING_LEASE_SECONDS", default=3720)
CELERY_BEAT_SCHEDULE = {
    "jobs-sweep": periodic(TaskName.JOBS_SWEEP, JOBS_SWEEP_SECONDS, expires=JOBS_SWEEP_SECONDS),
    "search-sweep-pending": periodic(TaskName.SEARCH_SWEEP_PENDING, SEARCH_SWEEP_SECONDS, expires=SEARCH_SWEEP_SECONDS),
    "uploads-cleanup": periodic(TaskName.UPLOADS_CLEANUP, 3600.0),
    # Expires: while a long backfill holds the bulk worker, queued ships are dropped, not piled up (one catches up).
    "analytics-ship": periodic(TaskName.ANALYTICS_SHIP, ANALYTICS_SHIP_SECONDS, expires=60.0),
    "analytics-expire": periodic(TaskName.ANALYTICS_EXPIRE, 24 * 3600.0),
    "analytics-refresh": periodic(TaskName.ANALYTICS_REFRESH, 60.0, expires=60.0),
    "media-reconcile": periodic(TaskName.MEDIA_RECONCILE, MEDIA_RECONCILE_SECONDS, expires=MEDIA_RECONCILE_SECONDS),
    "audit-expire": periodic(TaskName.AUDIT_EXPIRE, 24 * 3600.0),
}

# Processing (workers): limits that protect the workers from hostile or broken files.
PROCESSING_MAX_IMAGE_PIXELS = env.int("PROCESSING_MAX_IMAGE_PIXELS", default=60_000_000)  # decompression bombs
PROCESSING_MAX_SECONDS = env.int("PROCESSING_MAX_SECONDS", default=3600)  # per ffmpeg/poppler run
PROCESSING_WORK_DIR = env.str("PROCESSING_WORK_DIR", default="")  # empty: the system temp dir
# processing.run retries transient failures (S3 unreachable, a tool missing mid-deploy) this many
# times, waiting a random time up to BACKOFF × 2^n seconds before retry n (capped at 300 s), then
# fails the job. The defaults wait at most about 2 minutes in all.
PROCESSING_MAX_RETRIES = env.int("PROCESSING_MAX_RETRIES", default=6)
PROCESSING_RETRY_BACKOFF_SECONDS = env.int("PROCESSING_RETRY_BACKOFF_SECONDS", default=2)
# OCR (processing.ocr, on `bulk`): the Tesseract languages the workers have (English is always read),
# and the bounds one scan cannot exceed: pages read, seconds per page and per run, memory per process,
# pixels per image (decompression bombs) and per page (bigger pages are left out, not read).
OCR_LANGUAGES = env.list("OCR_LANGUAGES", default=["eng", "fra", "deu", "spa"])
OCR_MAX_PAGES = env.int("OCR_MAX_PAGES", default=500)
OCR_PAGE_TIMEOUT_SECONDS = env.int("OCR_PAGE_TIMEOUT_SECONDS", default=180)
OCR_MAX_SECONDS = env.int("OCR_MAX_SECONDS", default=4 * 3600)
OCR_MAX_MEMORY_MB = env.int("OCR_MAX_MEMORY_MB", default=2048)
OCR_MAX_IMAGE_MPIXELS = env.int("OCR_MAX_IMAGE_MPIXELS", default=200)
OCR_SKIP_BIG_MPIXELS = env.int("OCR_SKIP_BIG_MPIXELS", default=100)
# Progress events: Redis pub/sub (one channel per asset, one for the dashboard), SSE heartbeat.
PROGRESS_REDIS_URL = sentinel_url(env.str("PROGRESS_REDIS_URL", default=REDIS_URL.rsplit("/", 1)[0] + "/3"))
PROGRESS_HEARTBEAT_SECONDS = env.int("PROGRESS_HEARTBEAT_SECONDS", default=15)

# Behind a TLS-terminating balancer. The header is trusted only because the balancer overwrites it.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Secure by default; development.py and test.py turn these off for plain-HTTP local serving.
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
# The balancer's addresses (the same variable gunicorn's forwarded_allow_ips and uvicorn read):
# X-Forwarded-For/-Proto from any other peer are deleted (portal/ops/proxy.py). "*" trusts any
# peer: right only where nothing but the PaaS router can reach the instance.
FORWARDED_ALLOW_IPS = env.list("FORWARDED_ALLOW_IPS", default=["127.0.0.1"])
# Names this instance in an X-Served-By response header (the stack's balanced web1/web2); empty: none.
PORTAL_INSTANCE = env.str("PORTAL_INSTANCE", default="")
# Login throttling (portal/accounts/throttle.py): failures per account and per client address.
LOGIN_FAILURES_PER_ACCOUNT = env.int("LOGIN_FAILURES_PER_ACCOUNT", default=5)
LOGIN_FAILURES_PER_ADDRESS = env.int("LOGIN_FAILURES_PER_ADDRESS", default=20)
LOGIN_LOCKOUT_SECONDS = env.int("LOGIN_LOCKOUT_SECONDS", default=900)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (portal/core/csp.py): scripts from our origin only; media, previews and uploads
# from the S3 endpoint and the CDN (their origins are read from the URLs above) plus these sources.
CSP_EXTRA_SOURCES = env.list("CSP_EXTRA_SOURCES", default=[])
CSP_REPORT_ONLY = env.bool("CSP_REPORT_ONLY", default=False)  # report violations, block nothing (a rollout aid)
SECURE_REFERRER_POLICY = "same-origin"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # rid: the balancer's X-Request-ID, the same one its access log and gunicorn's carry.
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s rid=%(request_id)s"}},
    "filters": {"request_id": {"()": "portal.ops.proxy.RequestIdFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["request_id"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # opensearch-py and elasticsearch-py log every request at INFO (the latter also formats it as a
    # curl command for its trace logger): one line per search is noise, failures stay visible.
    "loggers": {"django_redis": {"level": "WARNING"}, "opensearch": {"level": "WARNING"},
                "elasticsearch": {"level": "WARNING"}},
}

PAGE_SIZE = env.int("PORTAL_PAGE_SIZE", default=24)
