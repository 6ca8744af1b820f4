# The two commands: `make run` (set up, start the stack, load demo content, serve on :8000)
# and `make test` (set up, start the stack, lint, type-check, run the whole suite).
SHELL := /bin/bash
PY := .venv/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-es bench-engines setup stack lint pytest bench down clean

setup:
	bin/venv
	bin/stack up

run: export DJANGO_ENV ?= development
run: setup
	$(PY) manage.py migrate --noinput
	$(PY) manage.py setup_storage
	$(PY) manage.py mongo_setup
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py seed_demo
	$(PY) manage.py seed_demo_media
	$(PY) manage.py search_reindex
	@echo "Portal at http://$(HOST):$(PORT)/  (Ctrl-C to stop; 'bin/stack down' stops the servers)"
	HOST=$(HOST) PORT=$(PORT) bin/dev

# The suite runs against two of every tier (SCALE=2): the tests that take one away need the second.
test: export SCALE ?= 2
test: setup
	DJANGO_ENV=test $(PY) manage.py collectstatic --noinput -v0
	$(MAKE) lint
	DJANGO_ENV=test STACK_SKIP_UP=1 $(PY) -m pytest $(PYTEST_ARGS)
	$(MAKE) test-es

# tests/search again with Elasticsearch 7.10 as the engine (the search port's second one): its client
# lives in .venv-es (bin/venv-es), its node is the stack's optional `elasticsearch` server.
ES_PORT ?= $(or $(STACK_ELASTICSEARCH_PORT),19201)
test-es: setup
	bin/venv-es
	bin/stack up elasticsearch
	DJANGO_ENV=test STACK_SKIP_UP=1 SEARCH_BACKEND=portal.search.backends.elasticsearch.ElasticsearchBackend \
		SEARCH_URL=http://127.0.0.1:$(ES_PORT) .venv-es/bin/python -m pytest tests/search $(PYTEST_ARGS)

# OpenSearch and Elasticsearch side by side (bench/search_engines.py), from .venv-es, which has both clients.
bench-engines: setup
	bin/venv-es
	bin/stack up elasticsearch
	.venv-es/bin/python bench/search_engines.py --es-url http://127.0.0.1:$(ES_PORT)

lint:
	.venv/bin/ruff check .
	.venv/bin/mypy portal config workers

bench: setup
	$(PY) bench/browse_cache.py
	$(PY) bench/uploads.py
	$(PY) bench/tasks.py
	$(PY) bench/progress.py
	$(PY) bench/balancer.py
	$(PY) bench/search.py
	$(PY) bench/analytics_events.py
	$(PY) bench/related.py
	$(PY) bench/tag_merge.py
	$(PY) bench/partner_import.py

down:
	bin/stack down

clean: down
	rm -rf var staticfiles
