"""Production (and the default when DJANGO_ENV is unset): secrets are required, HTTPS everywhere.

`manage.py check --deploy --fail-level WARNING` must pass (the Procfile's release phase runs it)."""

from config.settings.base import *  # noqa: F403
from config.settings.base import STORAGES, env

DJANGO_ENV = "production"

# No default: a missing secret must stop the process, not run insecurely.
SECRET_KEY = env.str("DJANGO_SECRET_KEY")
S3_ACCESS_KEY_ID = env.str("S3_ACCESS_KEY_ID", default="")
S3_SECRET_ACCESS_KEY = env.str("S3_SECRET_ACCESS_KEY", default="")
# The stack's development keys are never a production default: every S3 storage takes the real ones.
for _storage in STORAGES.values():
    _options = _storage.get("OPTIONS")
    if isinstance(_options, dict) and "access_key" in _options:
        _options.update(access_key=S3_ACCESS_KEY_ID, secret_key=S3_SECRET_ACCESS_KEY)
