"""The audit log's filters: a plain GET form, so every filtered page has its own URL."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms

from portal.audit.actions import Action
from portal.audit.selectors import AuditFilters


class AuditFilterForm(forms.Form):
    actor = forms.CharField(required=False, max_length=150, help_text="Part of a user name.")
    action = forms.ChoiceField(required=False, choices=[("", "Any action"), *Action.choices])
    object = forms.CharField(required=False, max_length=200, label="Object",
                             help_text="Part of a title or name, or an id.")
    since = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if isinstance(since, date) and isinstance(until, date) and since > until:
            raise forms.ValidationError("“From” must not be after “To”.")
        return data

    def to_filters(self) -> AuditFilters:
        data = self.cleaned_data if self.is_valid() else {}
        return AuditFilters(actor=(data.get("actor") or "").strip(), action=data.get("action") or "",
                            object=(data.get("object") or "").strip(), since=data.get("since"),
                            until=data.get("until"))
