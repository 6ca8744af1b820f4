"""The editor's OCR languages for one asset, offered from the languages the workers have installed."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings

from portal.processing.ocr import DEFAULT_LANGUAGE, LANGUAGE_NAMES


def language_choices() -> list[tuple[str, str]]:
    return [(code, LANGUAGE_NAMES.get(code, code)) for code in settings.OCR_LANGUAGES if code != DEFAULT_LANGUAGE]


class OcrLanguagesForm(forms.Form):
    languages = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label="Languages of the scanned text",
        help_text="English is always read. Add the languages the scans are written in; OCR runs again.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["languages"].choices = language_choices()  # type: ignore[attr-defined]
