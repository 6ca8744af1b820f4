"""Sign-in outcomes counted for the throttle, whichever form signed in (portal login, admin)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.http import HttpRequest

from portal.accounts import throttle
from portal.ops.proxy import client_ip


def on_login_failed(sender: object, credentials: dict[str, Any], request: HttpRequest | None = None,
                    **kwargs: Any) -> None:
    username = str(credentials.get(get_user_model().USERNAME_FIELD) or "")
    throttle.login_failed(username=username, address=client_ip(request) if request is not None else None)


def on_logged_in(sender: object, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    throttle.login_succeeded(username=user.get_username())
