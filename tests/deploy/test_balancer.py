"""The balancer in front of two real gunicorn instances (production settings, this run's
database): TLS and the redirect to it, request ids, the microcache, trust of forwarded headers,
login throttling by the real client address, and the streams' route."""

from __future__ import annotations

import re
import time

import pytest
import requests

from portal.jobs import services as jobs
from tests.deploy.conftest import LOGIN_FAILURES_PER_ADDRESS, Balancer
from tests.deploy.load import browser, signed_in_session
from tests.factories import AssetFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_http_redirects_to_https_where_the_generated_certificate_is_valid_for_127_0_0_1(balancer: Balancer):
    redirect = requests.get(f"{balancer.http_base}/browse/?q=x", allow_redirects=False, timeout=10)
    assert redirect.status_code == 301
    assert redirect.headers["Location"] == f"{balancer.base}/browse/?q=x"
    with pytest.raises(requests.exceptions.SSLError):  # not a publicly trusted certificate…
        requests.get(f"{balancer.base}/healthz", timeout=10)
    response = balancer.get("/")  # …but the stack's own, for 127.0.0.1
    assert response.status_code == 200
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_each_request_gets_an_id_that_the_instance_logs_with_its_duration(balancer: Balancer):
    response = balancer.get("/about/", headers={"X-Request-ID": "forged-by-the-client"})
    request_id = response.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id), "the balancer makes its own, whatever the client sent"
    served_by = response.headers["X-Served-By"]
    lines: list[str] = []
    deadline = time.monotonic() + 10  # the instance's log is a file another process writes
    while not lines and time.monotonic() < deadline:
        lines = [line for line in balancer.log(served_by).splitlines() if f"rid={request_id}" in line]
        time.sleep(0.1)
    assert lines, balancer.log(served_by)[-2000:]
    line = lines[0]
    assert re.search(r'"GET /about/ HTTP/1.1" 200 \d+ \d+ms', line), line


def test_anonymous_gets_are_microcached_and_partials_never_mix_with_pages(balancer: Balancer):
    AssetFactory.create_batch(3)
    first, second = balancer.get("/browse/"), balancer.get("/browse/")
    assert (first.headers["X-Microcache"], second.headers["X-Microcache"]) in {("MISS", "HIT"), ("HIT", "HIT")}
    assert second.text == first.text
    partial = balancer.get("/browse/", headers={"HX-Request": "true", "HX-Target": "results"})
    assert partial.status_code == 200
    assert partial.headers["X-Microcache"] == "MISS", "an htmx partial has its own key"
    assert "<html" not in partial.text
    assert "<html" in first.text
    assert "HX-Request" in first.headers["Vary"]


def test_signed_in_visitors_and_posts_bypass_the_microcache_and_health_is_never_cached(balancer: Balancer):
    user = UserFactory(username="lb-reader")
    session = browser(balancer.cafile)
    login = f"{balancer.base}/accounts/login/"
    session.get(login, timeout=10)
    posted = session.post(login, data={"username": user.username, "password": "pw-for-tests",
                                       "csrfmiddlewaretoken": session.cookies["csrftoken"]},
                          headers={"Referer": login}, allow_redirects=False, timeout=10)
    assert posted.status_code == 302
    assert "X-Microcache" not in posted.headers  # a POST never even consults the cache
    for _ in range(2):
        page = session.get(f"{balancer.base}/browse/", timeout=10)
        assert page.headers["X-Microcache"] == "BYPASS"
        assert "Log out" in page.text
    for _ in range(2):
        ready = balancer.get("/readyz")
        assert "X-Microcache" not in ready.headers
        assert "no-store" in ready.headers["Cache-Control"]


def test_forged_forwarded_headers_sent_straight_to_an_instance_are_not_trusted(balancer: Balancer):
    direct = balancer.instance("web1")
    forged = requests.get(f"{direct}/about/", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "10.9.8.7"},
                          allow_redirects=False, timeout=10)
    # Production redirects plain HTTP to HTTPS: a believed header would have served the page.
    assert forged.status_code == 301
    assert forged.headers["Location"].startswith("https://")
    # Through the balancer (the one trusted peer) the same page is served.
    assert balancer.get("/about/").status_code == 200


def test_login_throttling_counts_the_real_address_whatever_x_forwarded_for_says(balancer: Balancer):
    UserFactory(username="lb-victim")
    session = browser(balancer.cafile)
    login = f"{balancer.base}/accounts/login/"
    session.get(login, timeout=10)

    def attempt(username: str, password: str, forged: str) -> requests.Response:
        return session.post(login, data={"username": username, "password": password,
                                         "csrfmiddlewaretoken": session.cookies["csrftoken"]},
                            headers={"Referer": login, "X-Forwarded-For": forged}, allow_redirects=False, timeout=10)

    for number in range(LOGIN_FAILURES_PER_ADDRESS):  # a new username and a new forged address each time
        assert attempt(f"guess{number}", "wrong", f"203.0.113.{number}").status_code == 200
    refused = attempt("lb-victim", "pw-for-tests", "198.51.100.1")
    assert refused.status_code == 429
    assert "Too many failed sign-in attempts" in refused.text


def test_progress_streams_go_to_the_stream_process_unbuffered(balancer: Balancer):
    # Anonymous: the stream answers 404 itself (it never reveals assets); X-Served-By says who.
    response = balancer.get("/studio/jobs/stream")
    assert response.status_code == 404
    assert response.headers["X-Served-By"] == "stream"
    assert balancer.get("/studio/jobs/").headers.get("X-Served-By") in {"web1", "web2"}


def test_an_editors_progress_stream_flows_through_the_balancer_as_events_happen(balancer: Balancer):
    UserFactory(username="lb-editor", editor=True)
    session = signed_in_session(balancer.base, username="lb-editor", password="pw-for-tests", verify=balancer.cafile)
    with session.get(f"{balancer.base}/studio/jobs/stream", stream=True, timeout=10) as stream:
        assert stream.status_code == 200
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        assert stream.headers["X-Served-By"] == "stream"
        lines = stream.iter_lines(chunk_size=None)
        assert next(lines) == b"retry: 3000"  # the stream's opening arrives at once: nothing buffers it
        job = jobs.job_create(asset_id=AssetFactory().pk, queue="media")
        events = []
        while (line := next(lines)) != b"event: changed":  # the read timeout bounds the wait
            if line.startswith(b"event: "):
                events.append(line.decode())
        assert f"event: job-{job.pk}" in events


def test_the_balancer_refuses_large_bodies_since_media_goes_straight_to_s3(balancer: Balancer):
    too_big = browser(balancer.cafile).post(f"{balancer.base}/studio/uploads/", data=b"x" * (2 * 1024 * 1024),
                                            headers={"Content-Type": "application/json"}, timeout=10)
    assert too_big.status_code == 413
    assert "X-Served-By" not in too_big.headers, "refused by nginx, before any instance read it"


OUTSIDER = "127.0.0.8"  # a client address outside the balancer's internal networks


def test_readyz_answers_internal_addresses_only_and_healthz_everyone(balancer: Balancer):
    outsider = browser(balancer.cafile, from_address=OUTSIDER)
    assert outsider.get(f"{balancer.base}/readyz", timeout=10).status_code == 404
    assert outsider.get(f"{balancer.base}/healthz", timeout=10).status_code == 200
    ready = balancer.get("/readyz")  # from 127.0.0.1: our own network
    assert ready.status_code == 200
    assert ready.json()["checks"]["database"]["status"] == "ok"


def test_which_instance_answered_is_shown_to_internal_clients_only(balancer: Balancer):
    outsider = browser(balancer.cafile, from_address=OUTSIDER)
    for path in ("/about/", "/healthz", "/accounts/login/", "/studio/jobs/stream"):
        response = outsider.get(f"{balancer.base}{path}", allow_redirects=False, timeout=10)
        assert response.status_code in (200, 404), path
        assert "X-Served-By" not in response.headers, path
        assert "X-Request-ID" in response.headers, path
    assert balancer.get("/about/").headers["X-Served-By"] in {"web1", "web2"}


def test_sign_in_posts_are_limited_per_address_by_the_balancer_on_both_forms(balancer: Balancer):
    flooder = browser(balancer.cafile, from_address="127.0.0.9")
    statuses = []
    for number in range(30):  # no CSRF token: each one the instance reaches answers 403 at once
        path = "/admin/login/" if number % 2 else "/accounts/login/"
        response = flooder.post(f"{balancer.base}{path}", data={"username": "x", "password": "y"},
                                allow_redirects=False, timeout=10)
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert response.headers["Retry-After"] == "60"
            assert "nginx" in response.text, "refused by the balancer, before any instance"
    assert statuses[:20] == [403] * 20, statuses  # the burst reaches the instances
    assert statuses.count(429) >= 5, statuses  # 30 POSTs in far less than the 54 s that would earn 9 more
    # Only POSTs count, and only this address's: the forms still show, to it and to anyone else.
    assert flooder.get(f"{balancer.base}/accounts/login/", timeout=10).status_code == 200
    assert balancer.get("/admin/login/").status_code == 200
