"""The audit log (django-auditlog's LogEntry): one entry per listed action, with who and from where;
never a password; the studio page's filters; retention."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core import serializers
from django.urls import reverse
from django.utils import timezone

from portal.accounts.models import User
from portal.audit.actions import Action
from portal.audit.services import audit_expire, audit_record
from portal.jobs.models import Job, JobStatus
from portal.library.lifecycle import asset_transition
from portal.library.models import Asset, Status
from portal.library.services import CollectionData, collection_create
from tests.factories import AssetFactory, UserFactory
from workers.tasks import audit as audit_tasks

pytestmark = pytest.mark.django_db


def _entries(action: Action) -> list[LogEntry]:
    return list(LogEntry.objects.filter(additional_data__action=str(action)).select_related("actor"))


def test_signing_in_is_recorded_with_who_and_from_where(client):
    UserFactory(username="ann")
    response = client.post(reverse("accounts:login"), {"username": "ann", "password": "pw-for-tests"},
                           REMOTE_ADDR="192.0.2.7")
    assert response.status_code == 302
    [entry] = _entries(Action.SIGNED_IN)
    assert (entry.actor.username, entry.object_repr, entry.remote_addr) == ("ann", "ann", "192.0.2.7")


@pytest.mark.parametrize("name", ["ann", "nobody-of-that-name"])
def test_a_failed_sign_in_is_recorded_without_the_password(client, name):
    UserFactory(username="ann")
    password = "Hunter2-secret-guess"
    response = client.post(reverse("accounts:login"), {"username": name, "password": password})
    assert response.status_code == 200
    [entry] = _entries(Action.SIGN_IN_FAILED)
    assert entry.actor is None
    assert entry.object_repr == name
    assert entry.additional_data["username"] == name
    assert (entry.object_id is not None) == (name == "ann")
    stored = serializers.serialize("json", [entry])
    assert password not in stored
    assert "*****" not in stored
    assert not LogEntry.objects.filter(changes_text__contains=password).exists()


def test_publish_unpublish_and_delete_are_recorded_with_the_editor(editor, client_as,
                                                                   django_capture_on_commit_callbacks):
    asset = AssetFactory(title="<i>Storm</i> over the bay", status=Status.READY)
    client = client_as(editor)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("studio:asset_publish", args=[asset.pk]))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("studio:asset_unpublish", args=[asset.pk]))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("studio:asset_delete", args=[asset.pk]))
    for action in (Action.PUBLISHED, Action.UNPUBLISHED, Action.DELETED):
        [entry] = _entries(action)
        assert (entry.actor, entry.object_id, entry.object_repr) == (editor, asset.pk, "<i>Storm</i> over the bay")
    assert _entries(Action.PUBLISHED)[0].additional_data["reason"] == "published by an editor"
    page = client.get(reverse("audit:log")).content.decode()
    assert "&lt;i&gt;Storm&lt;/i&gt;" in page
    assert "<i>Storm</i>" not in page


def test_a_deleted_collection_is_recorded(editor, client_as, django_capture_on_commit_callbacks):
    collection = collection_create(owner=editor, data=CollectionData(title="Birds"))
    with django_capture_on_commit_callbacks(execute=True):
        client_as(editor).post(reverse("studio:collection_delete", args=[collection.pk]))
    [entry] = _entries(Action.DELETED)
    assert (entry.actor, entry.object_repr) == (editor, "Birds")


def test_an_upload_is_recorded_from_the_lifecycles_announcement(editor, django_capture_on_commit_callbacks):
    asset = AssetFactory(status=Status.UPLOADING, title="Clip")
    with django_capture_on_commit_callbacks(execute=True):
        asset_transition(asset_id=asset.pk, to=Status.PROCESSING, actor=editor, reason="upload of “clip.mp4” checked",
                         change="uploaded")
    [entry] = _entries(Action.UPLOADED)
    assert (entry.actor, entry.object_id, entry.additional_data["reason"]) == (
        editor, asset.pk, "upload of “clip.mp4” checked")


def test_processing_again_and_retrying_a_job_are_recorded(editor, client_as):
    asset = AssetFactory(status=Status.FAILED, title="Broken clip", source_key="originals/1/x")
    client = client_as(editor)
    response = client.post(reverse("processing:rerun", args=[asset.pk]))
    assert response.status_code == 302
    [entry] = _entries(Action.REPROCESSED)
    assert (entry.actor, entry.object_id) == (editor, asset.pk)
    job = Job.objects.filter(asset=asset).get()
    Job.objects.filter(pk=job.pk).update(status=JobStatus.FAILED)
    response = client.post(reverse("jobs:retry", args=[job.pk]))
    assert response.status_code == 302
    [entry] = _entries(Action.RETRIED)
    assert (entry.actor, entry.object_id, entry.additional_data["job"]) == (editor, asset.pk, job.pk)


def _at(entry: LogEntry, days_ago: float) -> LogEntry:
    LogEntry.objects.filter(pk=entry.pk).update(timestamp=timezone.now() - timedelta(days=days_ago))
    return entry


def _log(action: Action, label: str, actor: User | None = None, days_ago: float = 0) -> LogEntry:
    return _at(audit_record(action=action, model=Asset, object_id=None, label=label, actor=actor), days_ago)


def _shown(client: Any, **query: str) -> set[str]:
    response = client.get(reverse("audit:log"), query)
    assert response.status_code == 200
    return {entry.object_repr for entry in response.context["page"].object_list}


def test_the_log_filters_by_actor_action_object_and_dates(editor, client_as):
    ann, bob = UserFactory(username="ann"), UserFactory(username="bob")
    LogEntry.objects.all().delete()
    _log(Action.PUBLISHED, "Harbour", ann, days_ago=1)
    _log(Action.DELETED, "Harbour", bob, days_ago=10)
    _log(Action.PUBLISHED, "Lighthouse", bob, days_ago=30)
    client = client_as(editor)
    LogEntry.objects.filter(additional_data__action=str(Action.SIGNED_IN)).delete()
    assert _shown(client) == {"Harbour", "Lighthouse"}
    assert {e.actor.username for e in client.get(reverse("audit:log"), {"actor": "bo"}).context["page"]} == {"bob"}
    assert _shown(client, action="published") == {"Harbour", "Lighthouse"}
    assert _shown(client, object="light") == {"Lighthouse"}
    today = timezone.localdate()
    assert _shown(client, since=str(today - timedelta(days=12)), until=str(today - timedelta(days=2))) == {"Harbour"}
    assert _shown(client, actor="bob", action="published") == {"Lighthouse"}
    response = client.get(reverse("audit:log"), {"since": str(today), "until": str(today - timedelta(days=1))})
    assert response.status_code == 400
    assert "must not be after" in response.content.decode()


def test_the_log_is_paginated_with_the_filters_kept(editor, client_as):
    for number in range(55):
        _log(Action.PUBLISHED, f"Asset {number}")
    response = client_as(editor).get(reverse("audit:log"), {"action": "published"})
    assert len(response.context["page"].object_list) == 50
    assert 'href="?action=published&amp;page=2"' in response.content.decode()


def test_the_log_is_for_editors_only(client_as, client):
    assert client_as(UserFactory()).get(reverse("audit:log")).status_code == 403
    assert client.get(reverse("audit:log")).status_code == 302


def test_retention_deletes_only_entries_older_than_the_setting(settings):
    settings.AUDIT_KEEP_DAYS = 30
    old, recent = _log(Action.PUBLISHED, "old", days_ago=31), _log(Action.PUBLISHED, "recent", days_ago=29)
    assert audit_tasks.expire() == 1  # the beat task, run here in-process
    assert set(LogEntry.objects.filter(pk__in=[old.pk, recent.pk]).values_list("object_repr", flat=True)) == {"recent"}
    assert audit_expire() == 0


def test_retention_runs_daily_from_beat_on_the_bulk_queue():
    entry = settings.CELERY_BEAT_SCHEDULE["audit-expire"]
    assert (entry["task"], entry["schedule"], entry["options"]["queue"]) == ("audit.expire", 86400.0, "bulk")
    assert json.dumps(entry)


def test_an_entry_is_written_when_this_process_cached_a_content_type_the_database_no_longer_has():
    """A long-running process keeps content type ids; a flushed test database (or a restore) makes them
    again under other ids. The entry must still be written, not end the request in a 500."""
    real = ContentType.objects.get_for_model(User)
    stale = ContentType(id=real.id + 100000, app_label=real.app_label, model=real.model)
    ContentType.objects._add_to_cache("default", stale)
    try:
        entry = audit_record(action=Action.SIGN_IN_FAILED, model=User, object_id=None, label="nobody")
    finally:
        ContentType.objects.clear_cache()
    assert entry.content_type_id == real.id
