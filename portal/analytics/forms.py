"""What the player may report, validated by a form rather than by hand."""

from __future__ import annotations

from typing import Any

from django import forms

from portal.analytics.services import QUARTILES


class PlayReportForm(forms.Form):
    """asset=<id>&event=play|progress[&quartile=25|50|75|100]: a quartile only with progress."""

    asset = forms.IntegerField(min_value=1, max_value=2**63 - 1)
    event = forms.ChoiceField(choices=[("play", "play"), ("progress", "progress")])
    quartile = forms.TypedChoiceField(choices=[(str(q), str(q)) for q in QUARTILES], coerce=int,
                                      required=False, empty_value=None)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("event") == "progress" and data.get("quartile") is None and "quartile" not in self.errors:
            self.add_error("quartile", "progress needs a quartile of 25, 50, 75 or 100")
        if data.get("event") == "play":
            data["quartile"] = None  # a play carries none; one sent along is ignored, as before
        return data
