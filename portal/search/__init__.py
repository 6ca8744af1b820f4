"""The search port. `health_check` is the contract readiness checks call."""

from portal.search.backends import get_search_backend


def health_check(timeout: float) -> None:
    """Raise SearchUnavailable unless the configured engine can serve within `timeout` seconds."""
    get_search_backend().health_check(timeout)


__all__ = ["health_check"]
