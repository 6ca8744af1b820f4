"""The upload API's bodies (JSON objects, or form fields), validated by forms rather than by hand.

Django's form fields take the decoded JSON as they take POST data: a number, a numeric string, or
anything else, which is then an error (a float like 1.5, Infinity, a list, null), never a 500.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import ProhibitNullCharactersValidator

MAX_PARTS_PER_REQUEST = 100


class RawNameField(forms.CharField):
    """Any text, NUL and control characters included: the service cleans a name (filenames.py)
    rather than refusing it, as CharField's null-character validator would."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.validators = [v for v in self.validators if not isinstance(v, ProhibitNullCharactersValidator)]


class UploadStartForm(forms.Form):
    filename = RawNameField(required=False, strip=False)
    size = forms.IntegerField(min_value=0, max_value=2**63 - 1)
    type = forms.CharField(required=False, strip=False)
    asset = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)


class PartNumbersField(forms.Field):
    """A JSON list of whole numbers (not strings, not booleans), at most MAX_PARTS_PER_REQUEST."""

    def to_python(self, value: Any) -> list[int]:
        if value in self.empty_values:
            return []
        if (not isinstance(value, list) or len(value) > MAX_PARTS_PER_REQUEST
                or not all(isinstance(n, int) and not isinstance(n, bool) for n in value)):
            raise forms.ValidationError(f"numbers must be a list of up to {MAX_PARTS_PER_REQUEST} part numbers.")
        return value


class PartUrlsForm(forms.Form):
    numbers = PartNumbersField(required=False)
