"""A developer's machine: `make run` and `bin/dev`. Debug pages, plain HTTP, the stack's keys."""

from config.settings.base import *  # noqa: F403
from config.settings.base import env

DJANGO_ENV = "development"

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="dev-only-insecure")
DEBUG = env.bool("DJANGO_DEBUG", default=True)
WHITENOISE_MAX_AGE = 0
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = False
SECURE_HSTS_PRELOAD = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
