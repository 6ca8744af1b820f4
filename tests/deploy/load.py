"""A small bounded load generator: threads, each with its own keep-alive connection (one browser
each), replaying a mix of pages and htmx partials, anonymous and signed in, at a target rate.

Every answer is checked: anything but a 200 is a failure, and a signed-in client whose page does
not show it signed in (or that is sent to the login page) counts as logged out. An answer whose
body broke off after its headers arrived is counted apart (`cut`), with its times. Used by the
deploy tests and bench/balancer.py.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import requests
from requests.adapters import HTTPAdapter

SIGNED_IN_MARK = "Log out"
HTMX = {"HX-Request": "true", "HX-Target": "results"}


@dataclass(frozen=True)
class Visit:
    path: str
    htmx: bool = False


@dataclass
class Outcome:
    requests: int = 0
    failures: list[str] = field(default_factory=list)
    # Answers that began (status and headers arrived) and then broke off: the instance died while
    # writing them. (started, ended) of each, monotonic.
    cut: list[tuple[float, float]] = field(default_factory=list)
    logged_out: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    served_by: list[tuple[float, str]] = field(default_factory=list)  # (monotonic time, instance)
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def instances_since(self, moment: float) -> set[str]:
        return {name for at, name in self.served_by if at >= moment}

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] if ordered else 0.0


class _FromAddress(HTTPAdapter):
    """Connections from one local address: any 127.x.y.z reaches the balancer on 127.0.0.1, and
    the balancer sees it as that client's address (127.0.0.1 is internal, 127.0.0.8 is not)."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def browser(verify: str | bool, from_address: str | None = None) -> requests.Session:
    """One browser: its own cookies and keep-alive connection, trusting `verify` (the stack's
    certificate) and not whatever CA bundle or proxy the environment names."""
    session = requests.Session()
    session.trust_env = False
    session.verify = verify
    if from_address is not None:
        for scheme in ("http://", "https://"):
            session.mount(scheme, _FromAddress(from_address))
    return session


def signed_in_session(base: str, *, username: str, password: str, verify: str | bool) -> requests.Session:
    """Sign in through the real login form (CSRF token and all), as a browser would."""
    session = browser(verify)
    login = f"{base}/accounts/login/"
    session.get(login, timeout=10).raise_for_status()
    response = session.post(login, data={"username": username, "password": password,
                                         "csrfmiddlewaretoken": session.cookies["csrftoken"]},
                            headers={"Referer": login}, allow_redirects=False, timeout=10)
    assert response.status_code == 302, f"login failed: {response.status_code} {response.text[:300]}"
    assert "sessionid" in session.cookies
    return session


def _client(base: str, session: requests.Session, visits: list[Visit], signed_in: bool, per_second: float,
            stop: threading.Event, outcome: Outcome, offset: int) -> None:
    interval = 1.0 / per_second
    next_at = time.monotonic()
    index = offset
    while not stop.is_set():
        visit = visits[index % len(visits)]
        index += 1
        started = time.monotonic()
        problem, logged_out, status, served, cut = "", False, 0, "", False
        try:
            response = session.get(f"{base}{visit.path}", headers=HTMX if visit.htmx else {},
                                   allow_redirects=False, timeout=30)
            status, served = response.status_code, response.headers.get("X-Served-By", "")
            if status != 200:
                problem = f"{visit.path}: {status} {response.headers.get('Location', '')}"
                logged_out = signed_in and "/accounts/login/" in response.headers.get("Location", "")
            elif signed_in and not visit.htmx and SIGNED_IN_MARK not in response.text:
                problem, logged_out = f"{visit.path}: signed-in client shown a signed-out page", True
        except requests.exceptions.ChunkedEncodingError:  # headers arrived, the body broke off
            cut = True
        except requests.RequestException as error:
            problem = f"{visit.path}: {type(error).__name__}: {error}"
        elapsed = time.monotonic() - started
        with outcome.lock:
            outcome.requests += 1
            outcome.statuses[status] += 1
            outcome.latencies.append(elapsed)
            if problem:
                outcome.failures.append(problem)
            if cut:
                outcome.cut.append((started, started + elapsed))
            outcome.logged_out += logged_out
            if served and signed_in:  # signed-in answers are never microcached: a live instance
                outcome.served_by.append((started, served))
        next_at += interval
        time.sleep(max(0.0, next_at - time.monotonic()))


@contextmanager
def load(base: str, *, visits: list[Visit], signed_in: list[requests.Session], anonymous: int, rate: float,
         verify: str | bool) -> Iterator[Outcome]:
    """Runs while the block runs: len(signed_in) + anonymous clients sharing `rate` requests/s."""
    outcome = Outcome()
    stop = threading.Event()
    clients: list[tuple[requests.Session, bool]] = [(session, True) for session in signed_in]
    clients += [(browser(verify), False) for _ in range(anonymous)]
    per_client = rate / len(clients)
    threads = [threading.Thread(target=_client, args=(base, session, visits, is_signed_in, per_client, stop, outcome,
                                                      number), daemon=True)
               for number, (session, is_signed_in) in enumerate(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    try:
        yield outcome
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        outcome.seconds = time.monotonic() - started
