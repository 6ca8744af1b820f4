"""Which settings module runs: DJANGO_ENV names it, and unset means production.

A PaaS deploy that forgets a variable gets secure settings (and stops for a missing secret), never debug
pages; `make run` and `bin/dev` ask for development, the test suite for test. Every entry point
(manage.py, WSGI, ASGI, the Celery app) calls this before Django reads its settings.
"""

from __future__ import annotations

import os

ENVIRONMENTS = ("development", "test", "production")


def settings_module() -> str:
    name = os.environ.get("DJANGO_ENV") or "production"
    if name not in ENVIRONMENTS:
        raise SystemExit(f"DJANGO_ENV={name!r}: expected one of {', '.join(ENVIRONMENTS)}")
    return f"config.settings.{name}"


def use_environment_settings() -> None:
    """Point Django at DJANGO_ENV's settings. A set DJANGO_ENV wins over an inherited
    DJANGO_SETTINGS_MODULE (a test run starting a production server hands down both); with neither set,
    production."""
    if os.environ.get("DJANGO_ENV") or not os.environ.get("DJANGO_SETTINGS_MODULE"):
        os.environ["DJANGO_SETTINGS_MODULE"] = settings_module()
