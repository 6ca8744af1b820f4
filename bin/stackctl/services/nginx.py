"""nginx from Debian, configured from deploy/nginx/*.template: today the CDN stand-in
(a caching proxy in front of the S3 server's public bucket)."""

from __future__ import annotations

import shutil
import string
import urllib.request
from pathlib import Path

from .. import config
from ..service import Launch, Service, run

TEMPLATE = config.ROOT / "deploy" / "nginx" / "stack.conf.template"


class Nginx(Service):
    name = "nginx"
    port = config.PORTS.cdn
    url = config.URLS["CDN_BASE_URL"]
    start_timeout = 20.0
    depends_on = ("s3",)

    @property
    def conf_file(self) -> Path:
        return self.data_dir / "nginx.conf"

    def installed(self) -> bool:
        return shutil.which("nginx") is not None

    def prepare(self) -> None:
        for sub in ("tmp", "cdn-cache"):
            (self.data_dir / sub).mkdir(parents=True, exist_ok=True)
        values = {
            "host": config.HOST,
            "cdn_port": config.PORTS.cdn,
            "s3_port": config.PORTS.s3,
            "public_bucket": config.S3_PUBLIC_BUCKET,
            "data_dir": self.data_dir,
            "log_dir": config.LOGS,
            "run_dir": config.RUN,
        }
        # safe_substitute: nginx's own $variables (no braces in ours' sense) pass through untouched.
        self.conf_file.write_text(string.Template(TEMPLATE.read_text()).safe_substitute(values))
        run(["nginx", "-t", "-q", "-p", str(self.data_dir), "-c", str(self.conf_file), "-e", str(self.log_file)])

    def command(self) -> Launch:
        return Launch(["nginx", "-p", str(self.data_dir), "-c", str(self.conf_file), "-e", str(self.log_file)])

    def ready(self) -> bool:
        # Through nginx to S3: proves the proxy, not just the listening socket.
        with urllib.request.urlopen(f"{self.url}/healthz.txt", timeout=2) as response:
            return response.status == 200

    def version(self) -> str:
        return run(["nginx", "-v"]).strip().split("/")[-1]
