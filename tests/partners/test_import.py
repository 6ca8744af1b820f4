"""The partner catalogue import against a real partner database read through postgres_fdw: new,
changed, withdrawn and refused rows, a rerun that changes nothing, and a run interrupted mid-batch
that continues where it stopped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from portal.library.lifecycle import asset_transition
from portal.library.models import Asset, AssetTransition, Status
from portal.partners.catalogue import catalogue_setup
from portal.partners.models import PartnerImport, PartnerItem
from portal.partners.services import partner_import
from portal.search.models import PendingIndex
from tests.partners.conftest import Partner


def run_command(*args: str) -> str:
    """The command's report and its messages on stderr (the progress bar goes to the process's stderr)."""
    out, err = StringIO(), StringIO()
    call_command("import_partner_catalogue", *args, stdout=out, stderr=err)
    return err.getvalue() + out.getvalue()


def asset_of(row_id: int) -> Asset:
    item = PartnerItem.objects.select_related("asset").get(external_id=row_id)
    assert item.asset is not None
    return item.asset


def snapshot() -> dict[int, tuple[object, ...]]:
    return {asset.pk: (asset.title, asset.status, asset.version, asset.updated_at,
                       tuple(asset.tags.values_list("name", flat=True)))
            for asset in Asset.objects.prefetch_related("tags")}


def test_new_rows_become_drafts_and_bad_rows_are_refused_with_their_id(partner: Partner) -> None:
    partner.add({"id": 1, "title": "Harbour at dawn", "kind": "Video", "description": "Boats.",
                 "tags": "sea, boats ,sea"},
                {"id": 2, "title": "Field notes", "kind": "document"},
                {"id": 3, "title": "   ", "kind": "image"},
                {"id": 4, "title": "A hologram", "kind": "hologram"},
                {"id": 5, "title": "Bad link", "kind": "audio", "url": "javascript:alert(1)"},
                {"id": 6, "title": "x" * 201, "kind": "audio"},
                {"id": 7, "title": "<b>Bold</b> claims", "kind": "image"})

    out = run_command()

    assert ": 3 new, 0 changed, 0 withdrawn, 4 refused, 0 unchanged" in out
    assert "refused row 3: the title is empty" in out
    assert "refused row 4: kind 'hologram' is not one of video, audio, image, document" in out
    assert "refused row 5: url 'javascript:alert(1)' is not an http(s) address" in out
    assert "refused row 6: the title is longer than 200 characters" in out
    harbour = asset_of(1)
    assert (harbour.title, harbour.kind, harbour.description, harbour.status) == (
        "Harbour at dawn", "video", "Boats.", Status.DRAFT)
    assert sorted(harbour.tags.values_list("name", flat=True)) == ["boats", "sea"]
    assert harbour.owner.username == "partner-catalogue"
    assert not harbour.owner.has_usable_password()
    assert PartnerItem.objects.get(external_id=1).url == "https://partner.example/1"
    assert asset_of(7).title == "<b>Bold</b> claims"  # stored as given; templates escape it
    assert set(PendingIndex.objects.values_list("asset_id", flat=True)) >= {asset_of(1).pk, asset_of(2).pk}
    assert Asset.objects.count() == 3


def test_changed_rows_update_and_withdrawn_rows_are_unpublished_through_the_lifecycle(partner: Partner) -> None:
    partner.add({"id": 10, "title": "Old title", "kind": "audio", "tags": "music"},
                {"id": 11, "title": "Going away", "kind": "image"},
                {"id": 12, "title": "Steady", "kind": "document"},
                {"id": 13, "title": "A draft that goes", "kind": "video"})
    run_command()
    going = asset_of(11)
    asset_transition(asset_id=going.pk, to=Status.PUBLISHED, actor=None, reason="published by the test")
    steady_before = snapshot()[asset_of(12).pk]
    partner.change(10, title="New title", tags="music, live")
    partner.remove(11)
    partner.remove(13)

    out = run_command()

    assert ": 0 new, 1 changed, 2 withdrawn, 0 refused, 1 unchanged" in out
    changed = asset_of(10)
    assert changed.title == "New title"
    assert sorted(changed.tags.values_list("name", flat=True)) == ["live", "music"]
    going.refresh_from_db()
    assert going.status == Status.READY  # unpublished: no longer visible to visitors
    move = AssetTransition.objects.filter(asset=going).latest("id")
    assert (move.from_status, move.to_status, move.reason) == (
        Status.PUBLISHED, Status.READY, "withdrawn from the partner catalogue (row 11)")
    assert asset_of(13).status == Status.DRAFT
    assert set(PartnerItem.objects.filter(withdrawn=True).values_list("external_id", flat=True)) == {11, 13}
    assert snapshot()[asset_of(12).pk] == steady_before

    partner.add({"id": 11, "title": "Going away", "kind": "image"})  # back in the catalogue
    assert "1 changed, 0 withdrawn" in run_command()
    assert not PartnerItem.objects.get(external_id=11).withdrawn
    assert asset_of(11).status == Status.READY  # an editor decides whether to publish it again


def test_a_rerun_changes_nothing(partner: Partner) -> None:
    partner.add(*({"id": i, "title": f"Item {i}", "kind": "image", "tags": "a, b"} for i in range(1, 31)),
                {"id": 31, "title": "", "kind": "image"})
    partner.add({"id": 32, "title": "Soon gone", "kind": "image"})
    run_command("--batch-size", "7")
    partner.remove(32)
    run_command("--batch-size", "7")
    before, transitions = snapshot(), AssetTransition.objects.count()

    out = run_command("--batch-size", "7")

    assert "0 new, 0 changed, 0 withdrawn, 1 refused, 30 unchanged" in out
    assert snapshot() == before
    assert AssetTransition.objects.count() == transitions


def test_an_interrupted_import_continues_where_it_stopped(partner: Partner) -> None:
    partner.add(*({"id": i, "title": f"Item {i}", "kind": "video"} for i in range(1, 251)))
    partner.add({"id": 300, "title": "", "kind": "video"})
    catalogue_setup()
    seen = 0

    def killed_at_row_150(n: int) -> None:
        nonlocal seen
        seen += n
        if seen == 150:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        partner_import(batch_size=100, progress=killed_at_row_150)

    interrupted = PartnerImport.objects.get()
    assert (interrupted.last_row_id, interrupted.new, interrupted.finished_at) == (100, 100, None)
    assert Asset.objects.count() == 100  # the second batch rolled back with its checkpoint

    out = run_command("--batch-size", "100")

    assert f"resuming import {interrupted.pk} after partner row 100" in out
    assert f"import {interrupted.pk}: 250 new, 0 changed, 0 withdrawn, 1 refused, 0 unchanged" in out
    assert PartnerImport.objects.count() == 1
    assert Asset.objects.count() == 250
    assert sorted(PartnerItem.objects.values_list("external_id", flat=True)) == list(range(1, 251))
    assert "0 new, 0 changed, 0 withdrawn, 1 refused, 250 unchanged" in run_command()


def test_an_import_killed_by_sigkill_is_finished_exactly_by_the_next_run(partner: Partner) -> None:
    partner.add(*({"id": i, "title": f"Item {i}", "kind": "audio"} for i in range(1, 201)))
    db = connection.settings_dict
    env = {**os.environ, "DJANGO_ENV": "test", "PARTNER_CATALOGUE_URL": settings.PARTNER_CATALOGUE_URL,
           "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"}
    child = subprocess.Popen([sys.executable, "manage.py", "import_partner_catalogue", "--batch-size", "10",
                              "--pause", "0.1"], cwd=Path(__file__).resolve().parents[2], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if PartnerImport.objects.filter(last_row_id__gte=30).exists():
                break
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait()
    killed = PartnerImport.objects.get()
    assert killed.finished_at is None
    assert 30 <= killed.last_row_id < 200
    assert Asset.objects.count() == killed.new == killed.last_row_id

    out = run_command("--batch-size", "10")

    assert f"resuming import {killed.pk} after partner row {killed.last_row_id}" in out
    assert f"import {killed.pk}: 200 new, 0 changed, 0 withdrawn, 0 refused, 0 unchanged" in out
    assert sorted(PartnerItem.objects.values_list("external_id", flat=True)) == list(range(1, 201))
    assert Asset.objects.count() == 200
