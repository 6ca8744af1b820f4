"""Sign-in with throttling (see throttle.py); everything else is Django's LoginView."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse

from portal.accounts import throttle


class ThrottledLoginView(LoginView):
    template_name = "accounts/login.html"

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if throttle.request_blocked(request):
            # Refused before the password is checked: guessing on stays useless.
            username = request.POST.get("username", "")
            context = self.get_context_data(form=AuthenticationForm(request, initial={"username": username}),
                                            throttled_minutes=throttle.lockout_minutes())
            return self.render_to_response(context, status=429)
        return super().post(request, *args, **kwargs)  # failures and successes counted by receivers.py
