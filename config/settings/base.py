"""Settings shared by every environment, read through the one environment reader, `env`.

development.py, test.py and production.py start from these and change only what differs; the
package's __init__ picks one by DJANGO_ENV (unset: production). Every server URL has a local
default matching bin/stack, so a plain checkout runs; secrets have none outside development and test.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import environ

BASE_DIR = Path(__file__).resolve().parents[2]
env: environ.Env = environ.Env()

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
REDIS_SENTINEL_MASTER: str = env.str("REDIS_SENTINEL_MASTER", default="portal")


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
SEARCH_SWEEP_SECONDS: float = env.float("SEARCH_SWEEP_SECONDS", default=60.0)
SEARCH_PENDING_GRACE_SECONDS = env.float("SEARCH_PENDING_GRACE_SECONDS", default=120.0)
MONGODB_URL = env.str("MONGODB_URL", default="mongodb://127.0.0.1:37017/portal")
# The database is MONGODB_URL's path (test.py: one named like the run's PostgreSQL test database).
MONGODB_DATABASE = urlsplit(MONGODB_URL).path.strip("/") or "portal"
MONGODB_TIMEOUT_MS = env.int("MONGODB_TIMEOUT_MS", default=1000)  # server selection and connect
MONGODB_SOCKET_TIMEOUT_MS = env.int("MONGODB_SOCKET_TIMEOUT_MS", default=10000)  # one operation
MONGODB_BREAKER_SECONDS = env.float("MONGODB_BREAKER_SECONDS", default=5.0)  # no retry for this long after a failure
# Analytics: events wait in the PostgreSQL outbox until the `analytics.ship` task moves them to MongoDB.
ANALYTICS_SHIP_SECONDS: float = env.float("ANALYTICS_SHIP_SECONDS", default=5.0)
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
MEDIA_RECONCILE_SECONDS: float = env.float("MEDIA_RECONCILE_SECONDS", default=300.0)

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

# Celery, processing, OCR and progress: config/settings/tasks.py.
from config.settings.tasks import *  # noqa: E402, F403
