"""versitygw from the Go module proxy: the S3 API over a local directory (posix backend).

Holds the portal's two buckets: PUBLIC is anonymously readable (the CDN proxy fetches
from it), PRIVATE takes browser uploads through presigned POST policies.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from .. import config
from ..gobuild import go_binary, go_run_verbose
from ..service import Launch, Service, log

MODULE = "github.com/versity/versitygw"
HEALTH_KEY = "healthz.txt"
BROWSER_ORIGINS = ["http://127.0.0.1:8000", "http://localhost:8000"]


def s3_client() -> Any:
    """A boto3 client as the app configures it: path-style, SigV4, the stack's region and root keys."""
    import boto3  # the project's venv has it; imported here so `bin/stack` runs without it
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=config.URLS["S3_ENDPOINT_URL"],
        aws_access_key_id=config.S3_ACCESS_KEY,
        aws_secret_access_key=config.S3_SECRET_KEY,
        region_name=config.S3_REGION,
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            connect_timeout=1,
            read_timeout=5,
            retries={"max_attempts": 1},  # ready() polls; a retry inside one probe only delays it
        ),
    )


def public_read_policy(bucket: str) -> str:
    # Anonymous GET of objects only: no listing, and no anonymous PUT/POST.
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "PublicReadObjects",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{bucket}/*",
        }],
    })


class S3(Service):
    name = "s3"
    port = config.PORTS.s3
    url = config.URLS["S3_ENDPOINT_URL"]
    start_timeout = 30.0
    pinned = config.VERSIONS["VERSITYGW_VERSION"]

    @property
    def binary(self) -> Path:
        # The version is in the name: bumping the pin makes installed() False, and only a
        # finished build is ever renamed to this name.
        return config.BIN / f"versitygw-{self.pinned}"

    @property
    def objects_dir(self) -> Path:
        return self.data_dir / "objects"

    @property
    def meta_dir(self) -> Path:
        # versitygw refuses a sidecar path that starts with the root path as a string,
        # so siblings "objects" and "meta", never "data" and "data-meta".
        return self.data_dir / "meta"

    def installed(self) -> bool:
        return self.binary.is_file() and os.access(self.binary, os.X_OK)

    def install(self) -> None:
        go = go_binary()
        started = time.monotonic()
        config.BIN.mkdir(parents=True, exist_ok=True)
        for stale in config.BIN.glob(".versitygw-*"):  # left by a build that was killed
            shutil.rmtree(stale, ignore_errors=True)
        # GOBIN in a scratch directory on the same filesystem, so the final rename is atomic.
        scratch = Path(tempfile.mkdtemp(prefix=".versitygw-", dir=config.BIN))
        try:
            log(f"s3: building {MODULE}@{self.pinned} (cold: about a minute and downloads; warm: seconds)")
            go_run_verbose(
                # main.Version is what `versitygw --version` prints; upstream sets it in its Makefile.
                [go, "install", "-v", "-trimpath", f"-ldflags=-X main.Version={self.pinned}",
                 f"{MODULE}/cmd/versitygw@{self.pinned}"],
                cwd=scratch, label="s3", env={"GOBIN": str(scratch)},
            )
            os.replace(scratch / "versitygw", self.binary)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        for old in config.BIN.glob("versitygw-*"):
            if old != self.binary:
                old.unlink(missing_ok=True)
        log(f"s3: built {self.binary.name} in {time.monotonic() - started:.0f}s")

    def prepare(self) -> None:
        self.objects_dir.mkdir(parents=True, exist_ok=True)
        self.meta_dir.mkdir(parents=True, exist_ok=True)  # versitygw does not create it

    def command(self) -> Launch:
        keys = {"access": config.S3_ACCESS_KEY, "secret": config.S3_SECRET_KEY}
        return Launch(
            [
                str(self.binary),
                # Global flags go before the backend name.
                "--port", f"{config.HOST}:{self.port}",
                "--region", config.S3_REGION,  # POST policies and SigV4 must name this region
                "--quiet",  # no line per request in the log
                "posix",
                # Absolute paths: the gateway chdirs into the root, which breaks a relative sidecar.
                "--sidecar", str(self.meta_dir),
                str(self.objects_dir),
            ],
            env={
                "ROOT_ACCESS_KEY": keys["access"],
                "ROOT_SECRET_KEY": keys["secret"],
                # versitygw reads the *_ID names first: set them too, so a stray variable in
                # the caller's environment cannot replace the stack's keys.
                "ROOT_ACCESS_KEY_ID": keys["access"],
                "ROOT_SECRET_ACCESS_KEY": keys["secret"],
            },
            cwd=self.data_dir,
        )

    def ready(self) -> bool:
        s3_client().list_buckets()
        return True

    def after_ready(self) -> None:
        client = s3_client()
        existing = {bucket["Name"] for bucket in client.list_buckets().get("Buckets", [])}
        for bucket in (config.S3_PUBLIC_BUCKET, config.S3_PRIVATE_BUCKET):
            if bucket not in existing:
                client.create_bucket(Bucket=bucket)
        public = config.S3_PUBLIC_BUCKET
        client.put_bucket_policy(Bucket=public, Policy=public_read_policy(public))
        # The CDN proxy probes this object to know the origin serves anonymous reads.
        client.put_object(Bucket=public, Key=HEALTH_KEY, Body=b"ok", ContentType="text/plain")
        # Browsers upload straight into the private bucket from the dev server's origin.
        client.put_bucket_cors(Bucket=config.S3_PRIVATE_BUCKET, CORSConfiguration={"CORSRules": [{
            "AllowedOrigins": BROWSER_ORIGINS,
            "AllowedMethods": ["GET", "PUT", "POST", "HEAD"],
            "AllowedHeaders": ["*"],
            "ExposeHeaders": ["ETag"],
            "MaxAgeSeconds": 3000,
        }]})

    def version(self) -> str:
        return self.pinned
