"""Domain errors: raised by models and services, turned into messages by views."""

from __future__ import annotations

from typing import Any


class LibraryError(Exception):
    """Base for everything a service may refuse."""


class IllegalTransition(LibraryError):
    def __init__(self, *, current: str, wanted: str) -> None:
        super().__init__(f"An asset that is {current} cannot become {wanted}.")
        self.current = current
        self.wanted = wanted


class EditConflict(LibraryError):
    """Someone saved the same object since this editor loaded it; `current` is their version."""

    def __init__(self, *, current: Any) -> None:
        super().__init__("This item was changed by someone else while you were editing it.")
        self.current = current
