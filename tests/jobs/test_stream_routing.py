"""The stream URLs are routed in three places that must agree: the URLconf (portal/jobs/urls.py), the
web entry (config/web.py, by portal.jobs.streams.STREAM_PATH) and the balancer's nginx location."""

from __future__ import annotations

from django.urls import reverse
from stackctl import config

from portal.jobs.streams import STREAM_PATH, is_stream_path

NGINX_LOCATIONS = config.ROOT / "deploy" / "nginx" / "balancer-locations.conf.template"


def test_both_stream_urls_are_stream_paths_and_their_pages_are_not():
    assert is_stream_path(reverse("jobs:dashboard_stream"))
    assert is_stream_path(reverse("jobs:asset_stream", args=[42]))
    assert not is_stream_path(reverse("jobs:dashboard"))
    assert not is_stream_path("/studio/assets/42/progress/")
    assert not is_stream_path("/studio/assets/x/progress/stream")
    assert not is_stream_path("/studio/jobs/stream/extra")


def test_the_balancer_routes_the_same_regex():
    assert f"location ~ {STREAM_PATH.pattern} {{" in NGINX_LOCATIONS.read_text()
