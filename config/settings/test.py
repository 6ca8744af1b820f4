"""The test suite: its own Redis databases, index prefix and MongoDB database, so a test run never
touches a developer's data, and several runs (named by DJANGO_TEST_DATABASE) can share the servers."""

from config.settings.base import *  # noqa: F403
from config.settings.base import DATABASES, REDIS_URL, cache_settings, env, replica_database, sentinel_url

DJANGO_ENV = "test"

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="test-only-insecure")
DEBUG = False
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = False
SECURE_HSTS_PRELOAD = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # hashing cost is not what tests measure

# Writes show on a visitor's very next request (tests/library/test_caching.py); the trust window has its
# own tests (tests/core/test_page_memo.py).
PAGE_MEMO_TRUST_SECONDS = 0.0
TEST_DATABASE = env.str("DJANGO_TEST_DATABASE", default="test_portal")
CACHES = cache_settings(env.str("CACHE_URL", default="redis://127.0.0.1:16379/1"))
SEARCH_INDEX_PREFIX = env.str("SEARCH_INDEX_PREFIX", default=TEST_DATABASE)
MONGODB_DATABASE = TEST_DATABASE
# Redis database 4: a test that queues a task (a CDN purge after unpublishing) never reaches a developer's worker.
CELERY_BROKER_URL = sentinel_url(env.str("CELERY_BROKER_URL", default=f"{REDIS_URL.rsplit('/', 1)[0]}/4"))
CELERY_RESULT_BACKEND = sentinel_url(env.str("CELERY_RESULT_BACKEND", default=CELERY_BROKER_URL))
# Public copies under a prefix of this run's own: the reconciler sweeps the whole prefix, and the public
# bucket is shared with the developer and with other runs.
MEDIA_PUBLIC_PREFIX = f"assets-{TEST_DATABASE}/"
# The stack's replica (SCALE=2) mirrors the test database; the router stays off so the suite's
# transactions see their own rows. Tests of the router turn it on (tests/core/test_dbrouter.py).
DATABASES["replica"] = replica_database(
    env.str("DATABASE_REPLICA_URL", default="postgres://portal:portal@127.0.0.1:15433/portal"))
DATABASE_ROUTERS = []
