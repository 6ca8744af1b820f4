"""Settings: production passes Django's deploy checks, and local defaults match bin/stack."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys

from stackctl import config

ROOT = config.ROOT
URL_SETTINGS = ["SEARCH_URL", "MONGODB_URL", "S3_ENDPOINT_URL", "CDN_BASE_URL"]


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "CACHE_"))}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env={**clean, **env},
                          capture_output=True, text=True, timeout=120)


def test_production_settings_pass_the_deploy_checks_with_no_warning():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env={
        "DJANGO_ENV": "production", "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "portal.example.com"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = manage("check", env={"DJANGO_ENV": "production"})
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_local_defaults_point_at_the_stack():
    code = ("import django, json; django.setup(); from django.conf import settings as s; "
            f"print(json.dumps({{k: getattr(s, k) for k in {URL_SETTINGS!r}}} | "
            "{'DB_PORT': s.DATABASES['default']['PORT'], 'CACHE': s.CACHES['default']['LOCATION']}))")
    env = {k: v for k, v in os.environ.items() if k not in URL_SETTINGS and not k.startswith(("DATABASE", "CACHE"))}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env={**env, "DJANGO_SETTINGS_MODULE": "config.settings", "DJANGO_ENV": "development"})
    values = json.loads(result.stdout)
    for name in URL_SETTINGS:
        assert values[name] == config.URLS[name]
    assert int(values["DB_PORT"]) == config.PORTS.postgres
    assert values["CACHE"] == config.URLS["REDIS_URL"]
