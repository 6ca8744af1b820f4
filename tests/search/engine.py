"""The engine the search tests run against: the one SEARCH_BACKEND names. `make test` runs
tests/search on OpenSearch; `make test-es` runs them again on Elasticsearch (.venv-es, whose
client the main environment lacks). Tests reach the engine's raw client and breaker through here."""

from __future__ import annotations

from importlib import import_module

from portal.search.backends import get_search_backend

_backend = get_search_backend()
_module = import_module(type(_backend).__module__)

Backend = type(_backend)
SERVER = _backend.name  # also its name in bin/stack: `stopped(SERVER)` stops this engine's node
client = _module.client
breaker = _module.breaker
