"""One round trip per real server with the real Python clients, plus proofs that the
features later issues depend on are really there."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import psycopg
import pymemcache
import pymongo
import pytest
import redis
import requests
from botocore.config import Config
from opensearchpy import OpenSearch
from stackctl import config

S3_CONFIG = Config(signature_version="s3v4", s3={"addressing_style": "path"})


@pytest.fixture
def s3() -> object:
    return boto3.client("s3", endpoint_url=config.URLS["S3_ENDPOINT_URL"], aws_access_key_id=config.S3_ACCESS_KEY,
                        aws_secret_access_key=config.S3_SECRET_KEY, region_name=config.S3_REGION, config=S3_CONFIG)


@pytest.fixture
def search() -> Iterator[OpenSearch]:
    client = OpenSearch(config.URLS["SEARCH_URL"], timeout=10)
    yield client
    client.indices.delete(index="smoke-*", ignore_unavailable=True)


def test_postgres_round_trip_with_the_extensions_search_needs():
    with psycopg.connect(config.URLS["DATABASE_URL"]) as conn:
        assert conn.execute("SELECT 40 + 2").fetchone() == (42,)
        assert conn.execute("SELECT unaccent('Crème brûlée')").fetchone() == ("Creme brulee",)
        assert conn.execute("SELECT similarity('sunset', 'sunsets') > 0.5").fetchone() == (True,)
        # pgvector, built from source by bin/stackctl/pgvector.py at the pinned version.
        pinned = config.VERSIONS["PGVECTOR_VERSION"].removeprefix("v")
        assert conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone() == (pinned,)
        assert conn.execute("SELECT '[1, 0]'::vector <=> '[0, 1]'::vector").fetchone() == (1.0,)


def test_redis_round_trip():
    client = redis.Redis.from_url(config.URLS["REDIS_URL"])
    key = f"smoke:{uuid.uuid4()}"
    client.set(key, "hello", ex=10)
    assert client.get(key) == b"hello"


def test_memcached_round_trip():
    host, port = config.URLS["MEMCACHED_URL"].split(":")
    client = pymemcache.Client((host, int(port)), connect_timeout=1, timeout=1)
    client.set("smoke", b"hello", expire=10)
    assert client.get("smoke") == b"hello"


def test_opensearch_edge_ngram_analyzer(search: OpenSearch):
    search.indices.create(index="smoke-ngram", body={"settings": {"analysis": {
        "filter": {"prefixes": {"type": "edge_ngram", "min_gram": 2, "max_gram": 8}},
        "analyzer": {"autocomplete": {"tokenizer": "standard", "filter": ["lowercase", "asciifolding", "prefixes"]}},
    }}})
    tokens = search.indices.analyze(index="smoke-ngram", body={"analyzer": "autocomplete", "text": "Café"})
    assert [t["token"] for t in tokens["tokens"]] == ["ca", "caf", "cafe"]


def test_opensearch_search_as_you_type_field(search: OpenSearch):
    search.indices.create(index="smoke-sayt", body={
        "settings": {"number_of_replicas": 0},
        "mappings": {"properties": {"title": {"type": "search_as_you_type"}, "where": {"type": "geo_point"}}},
    })
    search.index(index="smoke-sayt", id="1", body={"title": "Quick brown fox", "where": [4.9, 52.37]},
                 refresh=True)
    hits = search.search(index="smoke-sayt", body={"query": {"multi_match": {
        "query": "quick br", "type": "bool_prefix", "fields": ["title", "title._2gram", "title._3gram"]}}})
    assert [h["_id"] for h in hits["hits"]["hits"]] == ["1"]


def test_ferretdb_aggregation_with_group():
    client = pymongo.MongoClient(config.URLS["MONGODB_URL"], serverSelectionTimeoutMS=3000)
    events = client.get_default_database()[f"smoke_{uuid.uuid4().hex[:8]}"]
    try:
        events.insert_many([{"asset": a, "n": n} for a, n in [(1, 2), (1, 3), (2, 5)]])
        rows = list(events.aggregate([
            {"$match": {"n": {"$gt": 0}}},
            {"$group": {"_id": "$asset", "total": {"$sum": "$n"}, "count": {"$sum": 1}}},
            {"$sort": {"_id": 1}},
        ]))
        # Two accumulators: upstream 1.24.2 returned 0 for the second one (see deploy/go/ferretdb/).
        assert rows == [{"_id": 1, "total": 5, "count": 2}, {"_id": 2, "total": 5, "count": 1}]
    finally:
        events.drop()


def test_s3_round_trip(s3):
    key = f"smoke/{uuid.uuid4()}.txt"
    s3.put_object(Bucket=config.S3_PRIVATE_BUCKET, Key=key, Body=b"hello")
    assert s3.get_object(Bucket=config.S3_PRIVATE_BUCKET, Key=key)["Body"].read() == b"hello"
    s3.delete_object(Bucket=config.S3_PRIVATE_BUCKET, Key=key)


def _browser_post(s3, *, size: int, max_bytes: int, expires: int) -> requests.Response:
    key = f"smoke/{uuid.uuid4()}.bin"
    post = s3.generate_presigned_post(
        Bucket=config.S3_PRIVATE_BUCKET, Key=key, ExpiresIn=expires,
        Fields={"Content-Type": "application/octet-stream"},
        Conditions=[["content-length-range", 1, max_bytes], {"Content-Type": "application/octet-stream"}],
    )
    return requests.post(post["url"], data=post["fields"], files={"file": ("x.bin", b"x" * size)}, timeout=10)


def test_s3_accepts_a_browser_post_within_the_policy(s3):
    assert _browser_post(s3, size=500, max_bytes=1000, expires=60).status_code == 204


def test_s3_refuses_a_browser_post_over_the_content_length_range(s3):
    response = _browser_post(s3, size=2000, max_bytes=1000, expires=60)
    assert response.status_code == 400
    assert "EntityTooLarge" in response.text


def test_s3_refuses_a_browser_post_with_an_expired_policy(s3):
    key = f"smoke/{uuid.uuid4()}.bin"
    post = s3.generate_presigned_post(Bucket=config.S3_PRIVATE_BUCKET, Key=key, ExpiresIn=1)
    time.sleep(2)  # let the policy expire; not a timing assertion
    response = requests.post(post["url"], data=post["fields"], files={"file": ("x.bin", b"x")}, timeout=10)
    assert response.status_code == 403
    assert "expired" in response.text.lower()


def test_nginx_proxies_public_objects_and_never_private_ones(s3):
    key = f"smoke/{uuid.uuid4()}.txt"
    s3.put_object(Bucket=config.S3_PUBLIC_BUCKET, Key=key, Body=b"public bytes")
    s3.put_object(Bucket=config.S3_PRIVATE_BUCKET, Key=key, Body=b"private bytes")
    first = requests.get(f"{config.URLS['CDN_BASE_URL']}/{key}", timeout=5)
    second = requests.get(f"{config.URLS['CDN_BASE_URL']}/{key}", timeout=5)
    assert first.content == b"public bytes"
    assert (first.headers["X-Cache-Status"], second.headers["X-Cache-Status"]) == ("MISS", "HIT")
    # Anonymous access to the private bucket is refused by S3 itself.
    direct = f"{config.URLS['S3_ENDPOINT_URL']}/{config.S3_PRIVATE_BUCKET}/{key}"
    assert requests.get(direct, timeout=5).status_code == 403


def test_chromium_renders_a_page_served_on_loopback():
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - keeps its event loop out of other tests

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"<title>smoke</title><p id=msg>rendered</p><script>msg.textContent += ' by js'</script>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"])
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{server.server_port}/")
            assert page.text_content("#msg") == "rendered by js"
            browser.close()
    finally:
        server.shutdown()
