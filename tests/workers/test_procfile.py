"""The Procfile's processes, run as a Procfile runner runs them (through a shell): one worker per
queue, each consuming only its queue with the concurrency its variable sets; Flower behind auth."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

from portal.jobs import broker
from tests.workers.conftest import ROOT, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

# process name -> (its queue, the variable that sets its concurrency, that variable's default)
WORKERS = {
    "worker_interactive": ("interactive", "INTERACTIVE_CONCURRENCY", 4),
    "worker_media": ("media", "MEDIA_CONCURRENCY", 1),
    "worker_bulk": ("bulk", "BULK_CONCURRENCY", 1),
}


def procfile() -> dict[str, str]:
    entries = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, command = line.split(":", 1)
            entries[name.strip()] = command.strip()
    return entries


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_every_queue_has_one_worker_process_whose_concurrency_comes_from_its_variable():
    entries = procfile()
    consumed = []
    for name, (queue, variable, default) in WORKERS.items():
        command = entries[name]
        assert re.search(rf"-Q {queue}(\s|$)", command), command
        assert f"--concurrency ${{{variable}:-{default}}}" in command, command
        assert f"-n {queue}@%h" in command, "a node name per queue, so Flower and `inspect` tell them apart"
        consumed.append(queue)
    assert sorted(consumed) == sorted(broker.queue_names()), "every queue is consumed, none twice"
    assert not set(entries) - set(WORKERS) - {"release", "web", "stream", "beat", "flower"}


def test_each_procfile_worker_runs_and_consumes_only_its_queue_at_its_concurrency(start_process):
    host = socket.gethostname()
    # INTERACTIVE_CONCURRENCY is set (the variable is used); the other two run on their defaults.
    env = {"INTERACTIVE_CONCURRENCY": "2"}
    expected = {"worker_interactive": 2, "worker_media": 1, "worker_bulk": 1}
    nodes = {}
    for name, command in procfile().items():
        if name in WORKERS:
            queue = WORKERS[name][0]
            nodes[name] = start_process(f"{queue}@{host}", ["bash", "-c", f"exec {command}"], **env)

    names = [node.name for node in nodes.values()]
    queues: dict = {}
    stats: dict = {}
    deadline = time.monotonic() + 60  # a busy two-core machine: ask again until every node answered
    while time.monotonic() < deadline and not (set(names) <= set(queues) and set(names) <= set(stats)):
        with broker._connection(pooled=False) as conn:
            inspect = broker.celery_app().control.inspect(destination=names, timeout=5, connection=conn)
            queues.update(inspect.active_queues() or {})
            stats.update(inspect.stats() or {})
    for name, node in nodes.items():
        assert [queue["name"] for queue in queues[node.name]] == [WORKERS[name][0]], name
        assert stats[node.name]["pool"]["max-concurrency"] == expected[name], name


def test_flower_refuses_to_start_without_credentials_and_asks_for_them(worker_env, tmp_path: Path):
    command = procfile()["flower"]
    env = {key: value for key, value in worker_env.items() if not key.startswith("FLOWER_")}
    refused = subprocess.run(["bash", "-c", command], cwd=ROOT, env=env, capture_output=True, text=True,
                             timeout=60, check=False)
    assert refused.returncode != 0
    assert "FLOWER_BASIC_AUTH" in refused.stderr

    port = free_port()
    # No FLOWER_ADDRESS: the default must be loopback, not every interface.
    env |= {"FLOWER_BASIC_AUTH": "ops:flower-test", "FLOWER_PORT": str(port)}
    with (tmp_path / "flower.log").open("wb") as log:
        flower = subprocess.Popen(["bash", "-c", command], cwd=ROOT, env=env, stdout=log,
                                  stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/workers"
    try:
        def answers() -> int:
            assert flower.poll() is None, (tmp_path / "flower.log").read_text()
            try:
                return requests.get(url, timeout=2).status_code
            except requests.ConnectionError:
                return 0

        assert wait_until(answers, timeout=120, interval=0.5, what="Flower to answer") == 401
        assert requests.get(url, auth=("ops", "flower-test"), timeout=10).status_code == 200
        # The password is read from the environment by Flower itself: `ps` shows no credentials.
        cmdline = Path(f"/proc/{flower.pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        assert "flower" in cmdline
        assert "flower-test" not in cmdline
        # Bound to 127.0.0.1 only: another address of this machine (here 127.0.0.5) finds nothing.
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://127.0.0.5:{port}/workers", timeout=2)
    finally:
        os.killpg(flower.pid, signal.SIGTERM)
        try:
            flower.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(flower.pid, signal.SIGKILL)
            flower.wait(timeout=20)
