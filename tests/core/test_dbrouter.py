"""The database router against the real streaming replica (SCALE=2). Replay is paused on the replica,
so a row changed on the primary afterwards shows which copy answered: the old text is the replica's."""

from __future__ import annotations

import time

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import transaction
from django.test import Client

from portal.core import dbrouter
from portal.core.fragments import bump_generation
from portal.library.models import Asset
from tests.factories import AssetFactory, UserFactory
from tests.replica import replay_paused, replica_server, router_on, wait_for_replay  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])


def _on_both(replica) -> Asset:
    """An asset titled "On both", replayed on the replica (each test then retitles it on the primary
    while replay is paused)."""
    asset: Asset = AssetFactory(title="On both")
    wait_for_replay(replica)
    return asset


def test_reads_of_a_request_go_to_the_replica_and_writes_to_the_primary(router_on):
    asset = _on_both(router_on)
    with replay_paused(router_on):
        Asset.objects.filter(pk=asset.pk).update(title="Only on the primary")
        with dbrouter.replica_reads():
            assert Asset.objects.get(pk=asset.pk).title == "On both"  # the replica, still at the old row
            copy = Asset.objects.get(pk=asset.pk)
            copy.title = "Saved from a replica read"
            copy.save(update_fields=["title"])  # written to the primary whatever the read came from
            with transaction.atomic():  # reads inside a transaction see what it wrote
                assert Asset.objects.get(pk=asset.pk).title == "Saved from a replica read"
            # Sessions are read on the primary: a session created a moment ago is always found.
            assert Session.objects.all().db == "default"
        # No request context (a task, a command): the primary.
        assert Asset.objects.get(pk=asset.pk).title == "Saved from a replica read"


def test_a_page_reads_the_replica_outside_the_users_window_and_the_primary_inside(router_on):
    editor, another_editor = UserFactory(editor=True), UserFactory(editor=True)
    asset = _on_both(router_on)
    client, other = Client(), Client()
    client.force_login(editor)
    other.force_login(another_editor)
    edit = f"/studio/assets/{asset.pk}/edit/"
    with replay_paused(router_on):
        Asset.objects.filter(pk=asset.pk).update(title="Only on the primary")
        assert "On both" in client.get(edit).content.decode()  # outside any window: the replica

        # An unsafe request (any: even one that changes nothing) opens this user's window.
        client.post("/studio/assets/new/", {})
        until = client.session[dbrouter.PIN_KEY]
        assert time.time() < until <= time.time() + settings.DATABASE_REPLICA_PIN_SECONDS
        page = client.get(edit).content.decode()
        assert "Only on the primary" in page
        assert "On both" not in page

        assert "On both" in other.get(edit).content.decode()  # another editor's window is not this one's

        session = client.session  # the window over: back to the replica
        session[dbrouter.PIN_KEY] = time.time() - 1
        session.save()
        assert "On both" in client.get(edit).content.decode()


def test_an_open_breaker_sends_reads_to_the_primary(router_on):
    asset = _on_both(router_on)
    with replay_paused(router_on):
        Asset.objects.filter(pk=asset.pk).update(title="Only on the primary")
        dbrouter.breaker.failed()  # as a failed replica query would
        with dbrouter.replica_reads():
            assert Asset.objects.get(pk=asset.pk).title == "Only on the primary"


def test_after_a_content_change_the_replica_serves_no_read_until_it_has_replayed_it(router_on):
    """Pages and list fragments are cached under the content generation: one built from a replica that
    has not replayed the change behind a new generation would stay stale (a takedown still showing)."""
    asset = _on_both(router_on)
    with replay_paused(router_on):
        Asset.objects.filter(pk=asset.pk).update(title="Only on the primary")
        with dbrouter.replica_reads():
            assert Asset.objects.get(pk=asset.pk).title == "On both"  # nothing announced: the replica
        bump_generation()  # what every write a visitor could see does after its commit
        with dbrouter.replica_reads():
            assert Asset.objects.get(pk=asset.pk).title == "Only on the primary"
    wait_for_replay(router_on)
    with dbrouter.replica_reads():
        assert Asset.objects.all().db == dbrouter.REPLICA  # replayed that far: the replica serves again
