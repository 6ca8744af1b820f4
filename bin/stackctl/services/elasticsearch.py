"""Elasticsearch 7.10.2 OSS, single node: the optional second engine of the search port.

Not in the default set: `bin/stack up elasticsearch` starts it. deploy/elasticsearch/pom.xml lays
the Maven Central jars out as the tar distribution would (lib/, modules/<name>/); the republished
module jars carry no descriptor or security policy, so ours are copied from deploy/elasticsearch/
modules/. The node is started through its own Bootstrap, which refuses root: as root the stack
runs it as a system user of its own, which owns the node's folder (config included: the node
writes its keystore there). That folder is Service.work_dir: under var/ when the user can reach it,
else outside the checkout; so is a copy of the distribution when the user cannot read the built one.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import os
import pwd
import shutil
from pathlib import Path

from .. import config
from ..service import Launch, StackError, blocked_for, chown_tree, log, run
from .searchnode import SearchNode

VERSION = config.VERSIONS["ELASTICSEARCH_VERSION"]
DEPLOY = config.ROOT / "deploy" / "elasticsearch"
DIST = config.BUILD / "elasticsearch-dist"
MARKER = DIST / "installed"  # SearchNode.marker; the copy outside a 0700 checkout compares it
OS_USER = os.environ.get("STACK_ELASTICSEARCH_USER", "portal-es")
URL = f"http://{config.HOST}:{config.PORTS.elasticsearch}"

# What the distribution's jvm.options sets, minus what only matters in production.
JVM_FLAGS = [
    "-XX:+UseG1GC",
    "-Xss1m",
    "-Djava.awt.headless=true",
    "-Dfile.encoding=UTF-8",
    "-Djna.nosys=true",
    "-XX:-OmitStackTraceInFastThrow",
    "-Dio.netty.noUnsafe=true",
    "-Dio.netty.noKeySetOptimization=true",
    "-Dio.netty.recycler.maxCapacityPerThread=0",
    "-Dio.netty.allocator.numDirectArenas=0",
    "-Dlog4j.shutdownHookEnabled=false",
    "-Dlog4j2.disable.jmx=true",
    "-Djava.locale.providers=SPI,COMPAT",
    "-Des.distribution.flavor=oss",
    "-Des.distribution.type=tar",
    "-Des.bundled_jdk=false",
]


def java17() -> str:
    """7.10 installs a security manager, which Java 18+ refuses: never whatever `java` is on PATH."""
    found = os.environ.get("STACK_JAVA17") or next(iter(sorted(glob.glob("/usr/lib/jvm/java-17-*/bin/java"))), "")
    if not found or not os.access(found, os.X_OK):
        raise StackError("elasticsearch: needs Java 17 (apt-get install openjdk-17-jdk-headless, or set STACK_JAVA17)")
    return found


def build_fingerprint() -> str:
    """The version and a hash of the build's inputs: editing the pom or a descriptor rebuilds on next start."""
    digest = hashlib.sha256(VERSION.encode())
    for path in sorted([DEPLOY / "pom.xml", *(p for p in (DEPLOY / "modules").rglob("*") if p.is_file())]):
        digest.update(str(path.relative_to(DEPLOY)).encode() + path.read_bytes())
    return f"{VERSION} {digest.hexdigest()[:16]}"


def run_as() -> str | None:
    """Who the node runs as: our system user when the stack runs as root, else the caller."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(OS_USER)
    except KeyError:
        run(["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
             "--shell", "/usr/sbin/nologin", OS_USER])
    return OS_USER


class Elasticsearch(SearchNode):
    pinned_version, deploy, dist, maven_version_property = VERSION, DEPLOY, DIST, "es.version"
    name = "elasticsearch"
    port = config.PORTS.elasticsearch
    url = URL
    start_timeout = 120.0
    system_user = OS_USER  # only when the stack runs as root (Service.work_dir)

    def install(self) -> None:
        if shutil.which("mvn") is None:
            raise StackError("elasticsearch: `mvn` is not on PATH (apt-get install maven)")
        java17()
        shutil.rmtree(DIST, ignore_errors=True)  # jars of another version would share the classpath
        log(f"elasticsearch: building Elasticsearch {VERSION} with Maven into {DIST} (~60 MB on the first build)")
        self.maven("package")
        for module in sorted((DEPLOY / "modules").iterdir()):
            if not (DIST / "modules" / module.name).is_dir():
                raise StackError(f"elasticsearch: maven left no jars for module {module.name}")
            for extra in module.iterdir():
                shutil.copy(extra, DIST / "modules" / module.name / extra.name)
        # The node checks that path.home's bin/ and plugins/ exist, even empty.
        for sub in ("bin", "plugins"):
            (DIST / sub).mkdir(exist_ok=True)
        shutil.rmtree(DIST / "build", ignore_errors=True)
        self.mark_installed()

    def prepare(self) -> None:
        # As with OpenSearch, node.lock and write.lock are OS locks that die with a killed process.
        user = run_as()  # first: work_dir asks whether this user can reach var/
        home = self.ensure_work_dir()
        shutil.rmtree(home / "tmp", ignore_errors=True)
        for sub in ("data", "logs", "tmp", "config"):
            (home / sub).mkdir(parents=True, exist_ok=True)
        for source in (DEPLOY / "config").iterdir():  # refreshed on every start: deploy/ is the truth
            shutil.copy(source, home / "config" / source.name)
        os.chmod(home, 0o700)  # the node's own: its keystore is in config/
        if user is not None:
            chown_tree(home, user)
        self.dist_home(user)

    def dist_home(self, user: str | None) -> Path:
        """path.home: the built distribution, or, when the node's user cannot read it (a checkout
        under a 0700 folder), a copy beside the node's folder outside it, refreshed after a rebuild."""
        if user is None or blocked_for(DIST, user) is None:
            return DIST
        copy = config.OUTSIDE / "elasticsearch-dist"
        with contextlib.suppress(OSError):
            if (copy / MARKER.name).read_text() == MARKER.read_text():
                return copy
        partial = copy.with_name(f"{copy.name}.partial")  # renamed when complete: a killed copy never counts
        shutil.rmtree(partial, ignore_errors=True)
        shutil.copytree(DIST, partial)  # files 0644 and folders 0755 as built: readable, root's
        shutil.rmtree(copy, ignore_errors=True)
        partial.rename(copy)
        return copy

    def command(self) -> Launch:
        home, user = self.work_dir, run_as()
        dist = self.dist_home(user)
        settings = {
            "path.data": home / "data",
            "path.logs": home / "logs",
            "http.port": self.port,
            "transport.port": config.PORTS.elasticsearch_transport,
        }
        return Launch([
            java17(), f"-Xms{config.ELASTICSEARCH_HEAP}", f"-Xmx{config.ELASTICSEARCH_HEAP}", *JVM_FLAGS,
            f"-Des.path.home={dist}", f"-Des.path.conf={home / 'config'}",
            f"-Djava.io.tmpdir={home / 'tmp'}", f"-XX:ErrorFile={home / 'logs' / 'hs_err_pid%p.log'}",
            "-cp", str(dist / "lib" / "*"), "org.elasticsearch.bootstrap.Elasticsearch",
            *(f"-E{key}={value}" for key, value in settings.items()),
        ], cwd=home, user=user)

    def fingerprint(self) -> str:
        return build_fingerprint()
