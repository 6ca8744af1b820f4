"""The jobs dashboard, retry and cancel, the progress panel and its polling fallback."""

from __future__ import annotations

import pytest
from django.urls import reverse

from portal.jobs import services
from portal.jobs.models import Job, JobStatus
from portal.library.models import Asset, Status

DASHBOARD = "/studio/jobs/"


@pytest.fixture
def editor_client(client_as, editor):
    return client_as(editor)


@pytest.fixture
def jobs(asset_factory, committed):
    """One running, one queued and one failed job, each on its own asset."""
    with committed():
        running = services.job_create(asset_id=asset_factory(title="Running clip").pk, queue="media")
        services.job_start(job_id=running.pk)
        services.job_progress(job_id=running.pk, stage="hls", percent=64)
        queued = services.job_create(asset_id=asset_factory(title="Queued scan").pk, queue="bulk")
        failed = services.job_create(asset_id=asset_factory(title="Broken upload").pk, queue="media")
        services.job_start(job_id=failed.pk)
        services.job_fail(job_id=failed.pk, reason="The file is damaged: no video stream was found.")
    return {"running": running, "queued": queued, "failed": failed}


def test_dashboard_lists_running_queued_and_failed_jobs_with_queue_lengths(editor_client, jobs):
    response = editor_client.get(DASHBOARD)
    html = response.content.decode()
    assert response.status_code == 200
    for title in ("Running clip", "Queued scan", "Broken upload"):
        assert title in html
    assert "The file is damaged: no video stream was found." in html
    assert "64 %" in html
    assert "Making streaming versions" in html
    # The broker really holds three messages: two on media, one on bulk (read with LLEN).
    assert "<tr><td>media</td><td>2</td></tr>" in html
    assert "<tr><td>bulk</td><td>1</td></tr>" in html
    assert "No worker answering" in html  # none consumes the tests' broker database
    assert f'sse-connect="{reverse("jobs:dashboard_stream")}"' in html
    assert f'sse-swap="job-{jobs["running"].pk}"' in html
    assert 'name="csrfmiddlewaretoken"' in html


def test_dashboard_survives_an_unreachable_broker(editor_client, jobs, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = editor_client.get(DASHBOARD)
    assert response.status_code == 200
    assert "The task broker is unreachable" in response.content.decode()
    assert "Running clip" in response.content.decode()


def test_dashboard_regions_for_htmx(editor_client, jobs):
    tables = editor_client.get(DASHBOARD, headers={"HX-Request": "true", "HX-Target": "job-tables"})
    assert "Queued scan" in tables.content.decode()
    assert "<html" not in tables.content.decode()
    broker = editor_client.get(DASHBOARD, headers={"HX-Request": "true", "HX-Target": "broker-status"})
    assert "Queues and workers" in broker.content.decode()
    assert "Queued scan" not in broker.content.decode()


def test_dashboard_is_for_editors(client, client_as, visitor):
    assert client.get(DASHBOARD).status_code == 302
    assert client_as(visitor).get(DASHBOARD).status_code == 403


def test_retry_from_the_dashboard_without_javascript(editor_client, jobs, queued_messages, committed):
    failed = jobs["failed"]
    with committed():
        response = editor_client.post(reverse("jobs:retry", args=[failed.pk]), {"next": DASHBOARD})
    assert response.status_code == 302
    assert response["Location"] == DASHBOARD
    failed.refresh_from_db()
    assert failed.status == JobStatus.QUEUED
    assert failed.task_id in {m["headers"]["id"] for m in queued_messages("media")}


def test_cancel_from_the_dashboard_with_htmx_answers_the_tables(editor_client, jobs):
    running = jobs["running"]
    response = editor_client.post(reverse("jobs:cancel", args=[running.pk]),
                                  headers={"HX-Request": "true", "HX-Target": "job-tables"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Processing of “Running clip” was cancelled." in html
    assert Job.objects.get(pk=running.pk).status == JobStatus.CANCELLED


def test_an_illegal_action_is_a_message_not_an_error(editor_client, jobs):
    response = editor_client.post(reverse("jobs:retry", args=[jobs["running"].pk]), follow=True)
    assert response.status_code == 200
    assert "A running job cannot become queued." in response.content.decode()


def test_actions_are_for_editors(client_as, visitor, jobs):
    response = client_as(visitor).post(reverse("jobs:cancel", args=[jobs["running"].pk]))
    assert response.status_code == 403
    assert Job.objects.get(pk=jobs["running"].pk).status == JobStatus.RUNNING


def test_asset_page_shows_a_live_panel_while_the_job_runs(editor_client, jobs):
    running = jobs["running"]
    html = editor_client.get(reverse("studio:asset_edit", args=[running.asset_id])).content.decode()
    assert f'sse-connect="{reverse("jobs:asset_stream", args=[running.asset_id])}"' in html
    assert 'sse-swap="progress"' in html
    assert 'sse-close="done"' in html
    assert '<progress max="100" value="64"' in html
    assert 'aria-live="polite"' in html
    assert "js/progress." in html
    assert "htmx-ext-sse/sse-2.2.4." in html
    assert "Cancel processing" in html


def test_asset_page_without_a_job_has_no_panel(editor_client, asset_factory):
    html = editor_client.get(reverse("studio:asset_edit", args=[asset_factory().pk])).content.decode()
    assert "job-panel" not in html


def test_a_finished_job_shows_a_static_panel_with_its_outcome(editor_client, jobs):
    failed = jobs["failed"]
    html = editor_client.get(reverse("studio:asset_edit", args=[failed.asset_id])).content.decode()
    assert "sse-connect" not in html
    assert "Processing failed: The file is damaged" in html
    assert "Retry processing" in html


def test_polling_fallback_returns_the_panel_that_polls_until_the_job_is_final(editor_client, jobs, committed):
    running = jobs["running"]
    poll = reverse("jobs:asset_progress", args=[running.asset_id]) + "?mode=poll"
    html = editor_client.get(poll, headers={"HX-Request": "true"}).content.decode()
    assert 'hx-trigger="every 2s"' in html
    assert "sse-connect" not in html
    with committed():
        services.job_succeed(job_id=running.pk)
    html = editor_client.get(poll, headers={"HX-Request": "true"}).content.decode()
    assert "every 2s" not in html
    assert "The file is processed and ready." in html
    assert 'hx-target="#asset-preview"' in html


def test_polling_is_for_editors_only_and_204_without_a_job(client, client_as, visitor, editor_client, jobs,
                                                           asset_factory):
    path = reverse("jobs:asset_progress", args=[jobs["running"].asset_id])
    assert client.get(path).status_code == 404
    assert client_as(visitor).get(path).status_code == 404
    assert editor_client.get(reverse("jobs:asset_progress", args=[asset_factory().pk])).status_code == 204


def test_retry_from_the_panel_with_htmx_answers_a_live_panel(editor_client, jobs):
    failed = jobs["failed"]
    response = editor_client.post(reverse("jobs:retry", args=[failed.pk]),
                                  headers={"HX-Request": "true", "HX-Target": f"job-panel-{failed.asset_id}"})
    html = response.content.decode()
    assert "sse-connect" in html
    assert "is queued again" in html


def test_the_answer_that_ends_processing_brings_the_pages_badge_and_publish_out_of_band(editor_client, asset_factory,
                                                                                        committed):
    asset = asset_factory(status=Status.PROCESSING, published_at=None)
    with committed():
        job = services.job_create(asset_id=asset.pk, queue="media")
        services.job_start(job_id=job.pk)
    page = editor_client.get(reverse("studio:asset_edit", args=[asset.pk])).content.decode()
    assert f'<span id="asset-status-{asset.pk}" class="status status-processing">Processing</span>' in page
    assert "The file is being processed" in page
    assert ">Publish</button>" not in page
    panel = reverse("jobs:asset_progress", args=[asset.pk])
    assert "hx-swap-oob" not in editor_client.get(panel, headers={"HX-Request": "true"}).content.decode()

    Asset.objects.filter(pk=asset.pk).update(status=Status.READY)  # what processing records before the job succeeds
    with committed():
        services.job_succeed(job_id=job.pk)
    for asked_by in (panel, f"{panel}?mode=poll"):  # the stream's last event, or the polling fallback
        html = editor_client.get(asked_by, headers={"HX-Request": "true"}).content.decode()
        assert f'<span id="asset-status-{asset.pk}" class="status status-ready" hx-swap-oob="true">Ready</span>' in html
        assert f'<div id="asset-actions-{asset.pk}" class="actions danger-zone" hx-swap-oob="true">' in html
        assert ">Publish</button>" in html
        assert "csrfmiddlewaretoken" in html  # the form works as it is
        assert "The file is being processed" not in html


def test_ocr_queued_after_processing_does_not_hide_ready_and_publish(editor_client, asset_factory, committed):
    """OCR is queued on `bulk` the moment processing succeeds, so it is the newest job when the page
    asks for the panel: the asset is ready all the same, and its badge and Publish still arrive."""
    asset = asset_factory(status=Status.PROCESSING, published_at=None)
    with committed():
        job = services.job_create(asset_id=asset.pk, queue="media")
        services.job_start(job_id=job.pk)
    Asset.objects.filter(pk=asset.pk).update(status=Status.READY)
    with committed():
        services.job_succeed(job_id=job.pk)
        ocr = services.job_create(asset_id=asset.pk, queue="bulk", task="processing.ocr")
    assert ocr.is_active
    panel = reverse("jobs:asset_progress", args=[asset.pk])
    for asked_by in (panel, f"{panel}?mode=poll"):
        html = editor_client.get(asked_by, headers={"HX-Request": "true"}).content.decode()
        assert f'<span id="asset-status-{asset.pk}" class="status status-ready" hx-swap-oob="true">Ready</span>' in html
        assert ">Publish</button>" in html
        assert "The file is being processed" not in html
