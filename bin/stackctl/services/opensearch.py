"""OpenSearch 2.19, assembled from Maven Central jars: the portal's full-text search. One node, and
with SCALE=2 a second (opensearch2) joining its cluster.

deploy/opensearch/pom.xml gathers the server and the modules the portal needs into
var/opensearch-dist/lib; deploy/opensearch/.../PortalNode.java starts a node with those modules
loaded from the classpath. The distribution's refusal to run as root lives in its Bootstrap class,
which PortalNode does not use, so the JVM runs as whoever runs bin/stack: no system user to create,
no data directory to chown.

The two-node topology (SCALE=2): opensearch (portal-1) is the only cluster-manager-eligible node, and
holds data; opensearch2 (portal-2) holds data only. Indexes ask for auto_expand_replicas 0-1, so each
shard has a copy on both nodes while both run, and one node alone is green. With one voter the
cluster never loses its quorum to opensearch2 leaving, and a SCALE=1 stack (portal-1 alone) starts
whatever a SCALE=2 run left behind. Without portal-1, portal-2 keeps answering searches from the last
cluster state it knew (cluster.no_cluster_manager_block: write) while writes wait for portal-1;
production puts three dedicated cluster managers in front instead (README, "Deploying").
"""

from __future__ import annotations

import hashlib
import shutil

from .. import config
from ..service import Launch, StackError, log
from .searchnode import SearchNode

VERSION = config.VERSIONS["OPENSEARCH_VERSION"]
DEPLOY = config.ROOT / "deploy" / "opensearch"
DIST = config.BUILD / "opensearch-dist"

# What the distribution's launcher would add to jvm.options, minus what only matters in production.
JVM_FLAGS = [
    "-Xss1m",
    "-Djava.awt.headless=true",
    "-Dfile.encoding=UTF-8",
    "-Djna.nosys=true",
    "-XX:-OmitStackTraceInFastThrow",
    "-XX:+ExitOnOutOfMemoryError",  # Bootstrap's handler that halts on OOM is not installed either
    "-Dio.netty.noUnsafe=true",
    "-Dio.netty.noKeySetOptimization=true",
    "-Dio.netty.recycler.maxCapacityPerThread=0",
    "-Dio.netty.allocator.numDirectArenas=0",
    "-Dlog4j.shutdownHookEnabled=false",  # the node logs while it closes in its own shutdown hook
    "-Dlog4j2.disable.jmx=true",
    "-Djava.locale.providers=SPI,COMPAT",  # 2.x date formats assume the COMPAT locale data
]


def build_fingerprint() -> str:
    """The version and a hash of the build's sources: editing the pom or the launcher rebuilds on next start."""
    digest = hashlib.sha256(VERSION.encode())
    for path in sorted([DEPLOY / "pom.xml", *(DEPLOY / "src").rglob("*.java")]):
        digest.update(path.read_bytes())
    return f"{VERSION} {digest.hexdigest()[:16]}"


class OpenSearch(SearchNode):
    pinned_version, deploy, dist, maven_version_property = VERSION, DEPLOY, DIST, "opensearch.version"
    name = "opensearch"
    port = config.PORTS.opensearch
    url = config.URLS["SEARCH_URL"]
    start_timeout = 120.0

    def install(self) -> None:
        for tool in ("mvn", "java"):
            if shutil.which(tool) is None:
                raise StackError(f"opensearch: `{tool}` is not on PATH (apt-get install maven openjdk-17-jdk-headless)")
        # Jars of another version left in lib/ would end up on the same classpath.
        shutil.rmtree(DIST, ignore_errors=True)
        log(f"opensearch: building OpenSearch {VERSION} with Maven into {DIST} (the first build downloads ~50 MB)")
        self.maven("package")
        self.mark_installed()

    def prepare(self) -> None:
        # No lock file to remove after a SIGKILL: node.lock and the shards' write.lock are OS locks that die
        # with the process, and deleting node.lock could let a second node open the same data.
        shutil.rmtree(self.data_dir / "tmp", ignore_errors=True)
        for sub in ("data", "logs", "tmp"):
            (self.data_dir / sub).mkdir(parents=True, exist_ok=True)

    def node_settings(self) -> dict[str, object]:
        """Who this node is in the cluster. portal-1 bootstraps the cluster on its first start (an
        existing data folder, one made with the former `discovery.type: single-node` included, keeps
        its cluster and ignores the setting); seeded with its own address, it never scans ports for
        a cluster to join."""
        return {
            "node.name": "portal-1",
            "transport.port": config.PORTS.opensearch_transport,
            "discovery.seed_hosts": f"{config.HOST}:{config.PORTS.opensearch_transport}",
            "cluster.initial_cluster_manager_nodes": "portal-1",
        }

    def command(self) -> Launch:
        home = self.data_dir
        settings = {
            "path.home": home,
            "path.data": home / "data",
            "path.logs": home / "logs",
            "http.port": self.port,
            **self.node_settings(),
        }
        return Launch([
            "java", f"-Xms{config.OPENSEARCH_HEAP}", f"-Xmx{config.OPENSEARCH_HEAP}", *JVM_FLAGS,
            f"-Djava.io.tmpdir={home / 'tmp'}", f"-XX:ErrorFile={home / 'logs' / 'hs_err_pid%p.log'}",
            "-cp", str(DIST / "lib" / "*"), "portal.PortalNode", str(DEPLOY / "config"),
            *(f"{key}={value}" for key, value in settings.items()),
        ])

    def fingerprint(self) -> str:
        return build_fingerprint()


class OpenSearch2(OpenSearch):
    """SCALE=2: a data-only node that finds portal-1 at its transport address and joins its cluster."""

    name = "opensearch2"
    port = config.PORTS.opensearch2
    url = f"http://{config.HOST}:{config.PORTS.opensearch2}"
    depends_on = ("opensearch",)
    start_timeout = 300.0  # ready once the replicas it receives are copied (a large index takes a while)

    def node_settings(self) -> dict[str, object]:
        return {
            "node.name": "portal-2",
            "node.roles": "data",
            "transport.port": config.PORTS.opensearch2_transport,
            "discovery.seed_hosts": f"{config.HOST}:{config.PORTS.opensearch_transport}",
        }

    def ready(self) -> bool:
        # Answered through this node, health needs a cluster manager it has joined; green means
        # every replica it was given is copied.
        health = self._get("/_cluster/health?wait_for_status=green&timeout=1s")
        return health.get("status") == "green" and int(health.get("number_of_data_nodes", 0)) >= 2
