"""Sign-in with throttling (see throttle.py); everything else is Django's LoginView."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse

from portal.accounts import throttle
from portal.ops.proxy import client_ip


class ThrottledLoginView(LoginView):
    template_name = "accounts/login.html"

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        username = request.POST.get("username", "")
        if throttle.login_blocked(username=username, address=client_ip(request)):
            # Refused before the password is checked: guessing on stays useless.
            minutes = max(1, settings.LOGIN_LOCKOUT_SECONDS // 60)
            context = self.get_context_data(form=AuthenticationForm(request, initial={"username": username}),
                                            throttled_minutes=minutes)
            return self.render_to_response(context, status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        throttle.login_failed(username=self.request.POST.get("username", ""), address=client_ip(self.request))
        return super().form_invalid(form)

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        throttle.login_succeeded(username=form.get_user().get_username())
        return super().form_valid(form)
