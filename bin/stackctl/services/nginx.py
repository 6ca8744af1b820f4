"""nginx from Debian, configured from deploy/nginx/*.template: the CDN stand-in (a caching proxy
in front of the S3 server's public bucket) and, with LB=1, in the same process, the load
balancer in front of the portal's instances (TLS with a certificate made here by openssl)."""

from __future__ import annotations

import contextlib
import shutil
import string
import urllib.request
from pathlib import Path

from .. import config
from ..service import Launch, Service, port_open, run

TEMPLATE = config.ROOT / "deploy" / "nginx" / "stack.conf.template"
BALANCER_TEMPLATE = config.ROOT / "deploy" / "nginx" / "balancer.conf.template"
LOCATIONS_TEMPLATE = config.ROOT / "deploy" / "nginx" / "balancer-locations.conf.template"
# Benchmarks only (STACK_LB_BENCH_PORT): the balancer without TLS, and an X-Bench-Nocache header
# that skips the microcache, so one run can compare TLS with plain HTTP and cache with none.
BENCH_SERVER = """server {{
    listen {host}:{port};
    access_log {log_dir}/balancer-access.log balancer;
    set $bench_nocache $http_x_bench_nocache;
    include {data_dir}/balancer-locations.conf;
}}"""


class Nginx(Service):
    name = "nginx"
    port = config.PORTS.cdn
    url = config.URLS["CDN_BASE_URL"]
    start_timeout = 20.0
    depends_on = ("s3",)
    # Its workers' user (Debian's nginx is built without --user): they write the caches and
    # temporary files, so those live in work_dir; the master (root) reads the config and keys.
    system_user = "nobody"

    @property
    def conf_file(self) -> Path:
        return self.data_dir / "nginx.conf"

    def installed(self) -> bool:
        return shutil.which("nginx") is not None

    def prepare(self) -> None:
        work = self.ensure_work_dir()
        for path in (self.data_dir, work / "tmp", work / "cdn-cache", config.LOGS, config.RUN):
            path.mkdir(parents=True, exist_ok=True)
        values = {
            "host": config.HOST,
            "cdn_port": config.PORTS.cdn,
            "s3_port": config.PORTS.s3,
            "public_bucket": config.S3_PUBLIC_BUCKET,
            "data_dir": self.data_dir,
            "work_dir": work,
            "log_dir": config.LOGS,
            "run_dir": config.RUN,
            "lb_http_port": config.PORTS.lb_http,
            "lb_https_port": config.PORTS.lb_https,
            "web1_port": config.PORTS.web1,
            "web2_port": config.PORTS.web2,
            "stream_port": config.PORTS.stream,
            "lb_source": config.LB_SOURCE_ADDRESS,
            "tls_dir": self.tls_dir,
            "balancer_include": "",
            "bench_server": "",
        }
        if config.LB:
            self.ensure_certificate()
            (work / "microcache").mkdir(exist_ok=True)
            if config.PORTS.lb_bench:
                values["bench_server"] = BENCH_SERVER.format(host=config.HOST, port=config.PORTS.lb_bench,
                                                             log_dir=config.LOGS, data_dir=self.data_dir)
            for template in (BALANCER_TEMPLATE, LOCATIONS_TEMPLATE):
                rendered = self.data_dir / template.name.removesuffix(".template")
                rendered.write_text(string.Template(template.read_text()).safe_substitute(values))
            balancer = self.data_dir / "balancer.conf"
            values["balancer_include"] = f"include {balancer};"
        # safe_substitute: nginx's own $variables (no braces in ours' sense) pass through untouched.
        self.conf_file.write_text(string.Template(TEMPLATE.read_text()).safe_substitute(values))
        run(["nginx", "-t", "-q", "-p", str(self.data_dir), "-c", str(self.conf_file), "-e", str(self.log_file)])

    @property
    def tls_dir(self) -> Path:
        return self.data_dir / "tls"

    def ensure_certificate(self) -> None:
        """A self-signed certificate for 127.0.0.1 (clients trust this file: tls/balancer.crt)."""
        cert, key = self.tls_dir / "balancer.crt", self.tls_dir / "balancer.key"
        if cert.exists() and key.exists():
            return
        self.tls_dir.mkdir(parents=True, exist_ok=True)
        run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "825", "-subj", f"/CN={config.HOST}",
             "-addext", f"subjectAltName=IP:{config.HOST},DNS:localhost", "-keyout", str(key), "-out", str(cert)])
        key.chmod(0o600)

    def stop(self, timeout: float = 30.0) -> None:
        super().stop(timeout)
        # Caches and temporary files only: outside the checkout they would outlive its var/.
        if self.work_dir != self.data_dir:
            shutil.rmtree(self.work_dir, ignore_errors=True)
            with contextlib.suppress(OSError):
                config.OUTSIDE.rmdir()  # when nothing else of this stack is there

    def command(self) -> Launch:
        return Launch(["nginx", "-p", str(self.data_dir), "-c", str(self.conf_file), "-e", str(self.log_file)])

    def ready(self) -> bool:
        # Through nginx to S3: proves the proxy, not just the listening socket.
        with urllib.request.urlopen(f"{self.url}/healthz.txt", timeout=2) as response:
            return response.status == 200 and (not config.LB or port_open(config.PORTS.lb_https))

    def version(self) -> str:
        return run(["nginx", "-v"]).strip().split("/")[-1]
