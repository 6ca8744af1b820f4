"""gunicorn's worker class for the `web` process (config/web.py): uvicorn's, with its defaults changed.

- proxy_headers off: X-Forwarded-* are judged by the portal's own TrustedProxyMiddleware against the
  peer's address, exactly as under gthread; uvicorn rewriting the client address first would hide the
  balancer from it.
- uvicorn's access log off: config/web.py writes gunicorn's format (duration, request id) to
  `portal.access`, which gets gunicorn's access log handlers here.
- a graceful shutdown that ends open progress streams after 10 s (their browsers reconnect to another
  instance) instead of holding the worker until gunicorn's graceful_timeout kills it.
"""

import logging
from typing import Any

from uvicorn_worker import UvicornWorker

ACCESS_LOGGER = "portal.access"


class Worker(UvicornWorker):
    CONFIG_KWARGS = {"loop": "auto", "http": "auto", "lifespan": "off", "proxy_headers": False,
                     "access_log": False, "timeout_graceful_shutdown": 10}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        access = logging.getLogger(ACCESS_LOGGER)
        access.handlers = self.log.access_log.handlers
        access.setLevel(logging.INFO)
        access.propagate = False
