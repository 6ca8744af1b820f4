"""Access decorators for views of every app (the studio, uploads, jobs, processing, analytics)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

View = Callable[..., HttpResponse]


def editor_required(view: View) -> View:
    """Visitors are sent to log in; signed-in non-editors get a 403 page."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.is_editor:
            raise PermissionDenied("Only editors can use the studio.")
        return view(request, *args, **kwargs)

    return wrapper
