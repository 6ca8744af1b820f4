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
                            env={**env, "DJANGO_SETTINGS_MODULE": "config.settings.development",
                                 "DJANGO_ENV": "development"})
    values = json.loads(result.stdout)
    for name in URL_SETTINGS:
        assert values[name] == config.URLS[name]
    assert int(values["DB_PORT"]) == config.PORTS.postgres
    assert values["CACHE"] == config.URLS["REDIS_URL"]


def settings_values(names: list[str], env: dict[str, str]) -> dict[str, object]:
    """Settings as an entry point (manage.py, WSGI, Celery) loads them from this environment."""
    code = ("from config.environment import use_environment_settings; use_environment_settings(); "
            "import django, json; django.setup(); from django.conf import settings as s; "
            f"print(json.dumps({{k: getattr(s, k) for k in {names!r}}}))")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "CACHE_"))}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env={**clean, **env})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_an_unset_environment_means_production_never_debug():
    result = manage("check", env={})
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr
    values = settings_values(["DJANGO_ENV", "DEBUG", "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE"],
                             env={"DJANGO_SECRET_KEY": secrets.token_urlsafe(50)})
    assert values == {"DJANGO_ENV": "production", "DEBUG": False, "SECURE_SSL_REDIRECT": True,
                      "SESSION_COOKIE_SECURE": True}


def test_development_is_asked_for_and_production_drops_the_stacks_s3_keys():
    development = settings_values(["DEBUG", "SECURE_SSL_REDIRECT", "S3_ACCESS_KEY_ID"],
                                  env={"DJANGO_ENV": "development"})
    assert development == {"DEBUG": True, "SECURE_SSL_REDIRECT": False, "S3_ACCESS_KEY_ID": "portal-dev"}
    production = settings_values(["S3_ACCESS_KEY_ID", "STORAGES"],
                                 env={"DJANGO_ENV": "production", "DJANGO_SECRET_KEY": secrets.token_urlsafe(50)})
    assert production["S3_ACCESS_KEY_ID"] == ""
    assert "portal-dev" not in json.dumps(production["STORAGES"])


def test_an_unknown_environment_is_refused_by_name():
    result = manage("check", env={"DJANGO_ENV": "staging"})
    assert result.returncode != 0
    assert "DJANGO_ENV='staging'" in result.stderr


def test_a_set_environment_wins_over_an_inherited_settings_module():
    values = settings_values(["DJANGO_ENV"], env={"DJANGO_SETTINGS_MODULE": "config.settings.test",
                                                  "DJANGO_ENV": "development"})
    assert values == {"DJANGO_ENV": "development"}


def test_make_run_and_bin_dev_ask_for_development_and_release_runs_the_deploy_checks():
    assert "DJANGO_ENV ?= development" in (ROOT / "Makefile").read_text()
    assert 'DJANGO_ENV="${DJANGO_ENV:-development}"' in (ROOT / "bin" / "dev").read_text()
    release = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("release:"))
    assert release.split(":", 1)[1].strip().startswith("python manage.py check --deploy --fail-level WARNING &&")
