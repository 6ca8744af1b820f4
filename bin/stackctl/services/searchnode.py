"""What the stack's two Java search nodes (OpenSearch, Elasticsearch) share: a Maven build into a
folder of the stack's, counted as installed only when its marker holds the fingerprint of the build's
inputs, and the cluster's HTTP API for readiness and version."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
from collections import deque
from pathlib import Path
from typing import Any

from ..service import Service, StackError, log


class SearchNode(Service):
    pinned_version: str  # deploy/versions.env
    deploy: Path  # the pom and what the build needs
    dist: Path  # where Maven lays the node out
    maven_version_property: str  # the pom's property that takes pinned_version

    @property
    def marker(self) -> Path:
        return self.dist / "installed"  # written last: a half-finished build never counts as installed

    def fingerprint(self) -> str:
        raise NotImplementedError

    def installed(self) -> bool:
        try:
            return self.marker.read_text().strip() == self.fingerprint()
        except OSError:
            return False

    def mark_installed(self) -> None:
        self.marker.write_text(self.fingerprint() + "\n")

    def maven(self, *goals: str) -> None:
        """Run Maven, logging how far the download got every few seconds instead of its raw output."""
        argv = ["mvn", "-B", "-f", str(self.deploy / "pom.xml"),
                f"-D{self.maven_version_property}={self.pinned_version}", f"-Ddist.dir={self.dist}", *goals]
        tail: deque[str] = deque(maxlen=60)
        downloaded, last_report = 0, time.monotonic()
        with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as maven:
            assert maven.stdout is not None
            for line in maven.stdout:
                tail.append(line.rstrip())
                downloaded += "Downloaded from" in line
                if time.monotonic() - last_report > 5:
                    log(f"{self.name}: maven still working, {downloaded} files downloaded so far")
                    last_report = time.monotonic()
        if maven.returncode != 0:
            raise StackError(f"{self.name}: maven failed ({maven.returncode}): {' '.join(argv)}\n" + "\n".join(tail))

    def _get(self, path: str, timeout: float = 3.0) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.url}{path}", timeout=timeout) as response:
            body: dict[str, Any] = json.load(response)
            return body

    def ready(self) -> bool:
        # A timed-out wait answers 408, which urlopen raises: the caller counts that as "not yet".
        health = self._get("/_cluster/health?wait_for_status=yellow&timeout=1s")
        return health.get("status") in ("yellow", "green")

    def version(self) -> str:
        try:
            return str(self._get("/")["version"]["number"])
        except OSError:  # stopped: report what is built
            return self.pinned_version
