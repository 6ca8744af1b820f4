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


class KindFrozen(LibraryError):
    """The kind of an asset with a file (or one on its way) cannot change: see Asset.kind_is_frozen."""

    def __init__(self, *, kind: str) -> None:
        super().__init__(f"This asset's kind is fixed ({kind}) because it has a file. "
                         f"To publish the file as something else, upload it as a new asset.")
        self.kind = kind


class EditConflict(LibraryError):
    """Someone saved the same object since this editor loaded it; `current` is their version."""

    def __init__(self, *, current: Any) -> None:
        super().__init__("This item was changed by someone else while you were editing it.")
        self.current = current


class RevisionMissing(LibraryError):
    """No such revision of this object (a stale link, or one of another object's)."""

    def __init__(self) -> None:
        super().__init__("That revision does not exist (any more).")


class TagMergeRefused(LibraryError):
    """A merge of a tag into itself, or of a tag that no longer exists (merged or deleted meanwhile)."""
