"""The search port. `health_check` is the contract readiness checks call."""

from portal.search.backends.opensearch import health_check

__all__ = ["health_check"]
