"""The optional Elasticsearch node keeps bin/stack's promises, drilled on an instance of its own
(own var/ and ports): named, it installs and starts ready; unnamed, `up` leaves it alone; `up`
twice is a no-op; it recovers from a crash; a busy port is reported; `down` leaves nothing; and
it starts from a checkout its system user cannot enter (var/ and the build under a 0700 folder)."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from stackctl import config, stack
from stackctl.service import pid_alive

from tests.stack.test_lifecycle import pids, processes_using, stack_cli

SHIFT = 20  # the drill's ports: the main node's plus this (test_lifecycle's drill uses 7)


@pytest.fixture(scope="module")
def drill() -> Iterator[dict[str, str]]:
    # Under var/, not pytest's 0700 temp dir: the node's own user must be able to reach its data.
    config.VAR.mkdir(exist_ok=True)
    var = Path(tempfile.mkdtemp(prefix="stack-es-drill-", dir=config.VAR))
    os.chmod(var, 0o755)  # noqa: S103
    env = {**os.environ, "STACK_VAR_DIR": str(var), "STACK_BUILD_DIR": str(config.BUILD),
           "STACK_ELASTICSEARCH_PORT": str(config.PORTS.elasticsearch + SHIFT),
           "STACK_ELASTICSEARCH_TRANSPORT_PORT": str(config.PORTS.elasticsearch_transport + SHIFT)}
    yield env
    stack_cli(env, "down", "elasticsearch")
    shutil.rmtree(var, ignore_errors=True)


def node(env: dict[str, str], path: str = "/") -> dict[str, object]:
    response = requests.get(f"http://127.0.0.1:{env['STACK_ELASTICSEARCH_PORT']}{path}", timeout=10)
    response.raise_for_status()
    body: dict[str, object] = response.json()
    return body


def test_a_plain_up_leaves_elasticsearch_out():
    assert "elasticsearch" in stack.known()
    assert "elasticsearch" not in stack.default()


def test_named_it_starts_a_green_oss_node_as_an_unprivileged_user(drill):
    result = stack_cli(drill, "up", "elasticsearch")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "elasticsearch: ready" in result.stdout
    assert set(pids(drill)) == {"elasticsearch"}
    assert node(drill, "/_cluster/health")["status"] == "green"
    version = node(drill)["version"]
    assert isinstance(version, dict)
    assert (version["number"], version["build_flavor"]) == ("7.10.2", "oss")
    uid = next(line.split()[1] for line in Path(f"/proc/{pids(drill)['elasticsearch']}/status").read_text()
               .splitlines() if line.startswith("Uid:"))
    assert uid != "0"
    status = {line.split()[0]: line.split()[-1] for line in stack_cli(drill, "status").stdout.splitlines()[1:]}
    assert status["elasticsearch"] == "up"


def test_its_modules_are_loaded(drill):
    assert stack_cli(drill, "up", "elasticsearch").returncode == 0
    modules = {entry["name"] for entry in node(drill, "/_nodes/plugins")["nodes"].popitem()[1]["modules"]}  # type: ignore[attr-defined]
    assert modules == {"transport-netty4", "analysis-common", "mapper-extras", "lang-painless", "parent-join",
                       "reindex"}


def test_up_twice_is_a_no_op_the_second_time(drill):
    assert stack_cli(drill, "up", "elasticsearch").returncode == 0
    before = pids(drill)
    again = stack_cli(drill, "up", "elasticsearch")
    assert again.returncode == 0, again.stderr
    assert "starting" not in again.stdout
    assert pids(drill) == before


def test_up_after_a_crash_recovers(drill):
    assert stack_cli(drill, "up", "elasticsearch").returncode == 0
    stack_cli(drill, "kill", "elasticsearch")  # SIGKILL: pid file and node.lock left behind
    recovered = stack_cli(drill, "up", "elasticsearch")
    assert recovered.returncode == 0, recovered.stdout + recovered.stderr
    assert "elasticsearch: ready" in recovered.stdout
    assert node(drill, "/_cluster/health")["status"] == "green"


def test_a_busy_port_is_reported_not_moved(drill):
    stack_cli(drill, "down", "elasticsearch")
    port = int(drill["STACK_ELASTICSEARCH_PORT"])
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        result = stack_cli(drill, "up", "elasticsearch")
    assert result.returncode == 1
    assert f"elasticsearch: port {port} is already in use" in result.stderr


def test_a_plain_down_stops_it_and_leaves_no_process(drill):
    assert stack_cli(drill, "up", "elasticsearch").returncode == 0
    started = pids(drill)["elasticsearch"]
    result = stack_cli(drill, "down")
    assert result.returncode == 0, result.stderr
    assert pids(drill) == {}
    assert not pid_alive(started)  # a zombie awaiting its reaper counts as gone
    assert processes_using(drill["STACK_VAR_DIR"]) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="the node drops root only when the stack runs as root")
def test_it_starts_when_its_user_cannot_enter_var_or_the_build(drill):
    assert stack_cli(drill, "up", "elasticsearch").returncode == 0  # built (run alone, this test builds it)
    parent = Path(tempfile.mkdtemp(prefix="portal-es-0700-"))  # 0700, as a clone in root's home
    var, build = parent / "var", parent / "build"
    shutil.copytree(config.BUILD / "elasticsearch-dist", build / "elasticsearch-dist")  # built, not rebuilt
    env = {**os.environ, "STACK_VAR_DIR": str(var), "STACK_BUILD_DIR": str(build),
           "STACK_ELASTICSEARCH_PORT": str(config.PORTS.elasticsearch + SHIFT + 1),
           "STACK_ELASTICSEARCH_TRANSPORT_PORT": str(config.PORTS.elasticsearch_transport + SHIFT + 1)}
    outside = config.outside_for(var.resolve())
    try:
        result = stack_cli(env, "up", "elasticsearch")
        assert result.returncode == 0, result.stdout + result.stderr
        assert node(env, "/_cluster/health")["status"] == "green"
        assert (outside / "elasticsearch" / "data").is_dir()  # the node's folder, outside the checkout
        assert (outside / "elasticsearch-dist" / "lib").is_dir()  # and the jars it reads
        assert stack_cli(env, "down").returncode == 0
        assert processes_using(str(outside)) == []
    finally:
        stack_cli(env, "down")
        shutil.rmtree(parent, ignore_errors=True)
        shutil.rmtree(outside, ignore_errors=True)
