"""The admin site: Django's, with its login throttled like the portal's (installed by apps.PortalAdminConfig)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from portal.accounts import throttle


class RefusedLoginForm(AdminAuthenticationForm):
    """The admin's form, refusing without authenticating: the password is never checked."""

    def clean(self) -> dict[str, Any]:
        minutes = throttle.lockout_minutes()
        raise ValidationError(f"Too many failed sign-in attempts for this account or from this address. "
                              f"Please wait {minutes} minute{'s' if minutes != 1 else ''} and try again.")


class PortalAdminSite(admin.AdminSite):
    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        if request.method != "POST" or not throttle.request_blocked(request):
            return super().login(request, extra_context)  # failures and successes counted by receivers.py
        context = {**self.each_context(request), "title": "Log in", "subtitle": None,
                   "form": RefusedLoginForm(request, data=request.POST), "app_path": request.get_full_path(),
                   "username": "", **(extra_context or {})}
        request.current_app = self.name
        return TemplateResponse(request, self.login_template or "admin/login.html", context, status=429)
