import ast
from pathlib import Path

import pytest
from django.utils import timezone

from portal.library.errors import IllegalTransition
from portal.library.lifecycle import asset_transition
from portal.library.models import Asset, AssetTransition, Status
from portal.library.signals import asset_changed
from portal.uploads.cleanup import upload_abandon
from portal.uploads.models import UploadSession
from tests.storage import announcements  # noqa: F401 - a fixture


@pytest.mark.parametrize(("start", "target"), [
    (Status.DRAFT, Status.READY), (Status.PROCESSING, Status.PUBLISHED), (Status.PUBLISHED, Status.DRAFT),
])
def test_illegal_moves_are_refused(start, target):
    asset = Asset(status=start)
    with pytest.raises(IllegalTransition):
        asset.move_to(target)
    assert asset.status == start


def test_publishing_stamps_the_date_once():
    asset = Asset(status=Status.READY)
    asset.move_to(Status.PUBLISHED)
    first = asset.published_at
    asset.move_to(Status.READY)
    asset.move_to(Status.PUBLISHED)
    assert first is not None
    assert asset.published_at == first


# --- The one owner: portal.library.lifecycle ------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
OWNER = ROOT / "portal" / "library" / "lifecycle.py"
WRITERS = ("update", "create", "get_or_create", "update_or_create", "bulk_create", "bulk_update")


def _names(node: ast.AST) -> list[str]:
    """The names along an expression's chain: `session.asset.status` → ["session", "asset", "status"]."""
    names: list[str] = []
    while True:
        if isinstance(node, ast.Attribute):
            names.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Subscript):
            node = node.value
        elif isinstance(node, ast.Name):
            names.append(node.id)
            return names[::-1]
        else:
            return names[::-1]


def _asset_like(names: list[str]) -> bool:
    return bool(names) and ("asset" in names[-1].lower() or names[0] == "Asset")


def status_writes(source: str) -> list[int]:
    """Lines that write an asset's status: `<asset>.status = …`, `<asset>.move_to(…)`,
    `Asset(status=…)`, `Asset.objects….update(status=…)` (and create/bulk_* alike), or a
    `bulk_update`/`save(update_fields=…)` on assets that names "status"."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            for element in target.elts if isinstance(target, ast.Tuple) else [target]:
                if isinstance(element, ast.Attribute) and element.attr == "status" and _asset_like(
                        _names(element.value)):
                    lines.append(node.lineno)
        if not isinstance(node, ast.Call):
            continue
        chain = _names(node.func)
        if not chain:
            continue
        names_status = any(isinstance(c, ast.Constant) and c.value == "status" for arg in node.args
                           for c in ast.walk(arg))
        keyword_status = any(k.arg == "status" for k in node.keywords)
        saves_status = chain[-1] == "save" and any(
            k.arg == "update_fields" and any(isinstance(c, ast.Constant) and c.value == "status"
                                             for c in ast.walk(k.value)) for k in node.keywords)
        if ((chain[-1] == "move_to" and _asset_like(chain[:-1]))
                or (chain == ["Asset"] and keyword_status)
                or (chain[-1] in WRITERS and _asset_like(chain[:1]) and (keyword_status or names_status))
                or (saves_status and _asset_like(chain[:-1]))):
            lines.append(node.lineno)
    return lines


@pytest.mark.parametrize("code", [
    "asset.status = Status.READY",
    "session.asset.status = 'failed'",
    "asset.status, asset.version = 'ready', 2",
    "asset.move_to(Status.READY)",
    "Asset(kind='video', status=Status.PUBLISHED)",
    "Asset.objects.filter(pk=1).update(source_key=key, status=Status.PROCESSING)",
    "Asset.objects.create(owner=owner, status='published')",
    "Asset.objects.bulk_update(assets, ['status'])",
    "asset.save(update_fields=['status', 'updated_at'])",
])
def test_the_guard_sees_every_way_of_writing_the_status(code):
    assert status_writes(code) == [1]


@pytest.mark.parametrize("code", [
    "job.status = JobStatus.RUNNING",
    "session.status = UploadStatus.FAILED",
    "job.move_to(JobStatus.QUEUED)",
    "UploadSession.objects.filter(asset_id=asset.pk, status='pending').update(status='abandoned')",
    "Asset.objects.filter(status=Status.PUBLISHED).update(featured=True)",
    "asset.save(update_fields=['attributes', 'updated_at'])",
])
def test_the_guard_leaves_other_statuses_and_reads_alone(code):
    assert status_writes(code) == []


def test_no_module_but_the_lifecycle_writes_an_asset_status():
    offenders = [
        f"{path.relative_to(ROOT)}:{line}"
        for folder in ("portal", "workers")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if path != OWNER and "migrations" not in path.parts
        for line in status_writes(path.read_text())
    ]
    assert offenders == [], "status changes go through portal.library.lifecycle.asset_transition"


@pytest.mark.django_db
def test_a_transition_locks_checks_versions_records_and_announces(
        asset_factory, editor, announcements, django_capture_on_commit_callbacks):
    asset = asset_factory(status=Status.READY)
    with django_capture_on_commit_callbacks(execute=True):
        moved = asset_transition(asset_id=asset.pk, to=Status.PUBLISHED, actor=editor, reason="looks good")
    assert (moved.status, moved.version) == (Status.PUBLISHED, asset.version + 1)
    assert moved.published_at is not None
    record = AssetTransition.objects.get(asset=asset)
    assert (record.from_status, record.to_status, record.actor, record.reason) == (
        Status.READY, Status.PUBLISHED, editor, "looks good")
    assert announcements == [(asset.pk, "published")]


@pytest.mark.django_db
def test_an_illegal_move_changes_records_and_announces_nothing(
        asset_factory, announcements, django_capture_on_commit_callbacks):
    asset = asset_factory(status=Status.DRAFT)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(IllegalTransition):
        asset_transition(asset_id=asset.pk, to=Status.READY, actor=None, reason="no file yet")
    asset.refresh_from_db()
    assert (asset.status, asset.version) == (Status.DRAFT, 1)
    assert not AssetTransition.objects.filter(asset=asset).exists()
    assert announcements == []


@pytest.mark.django_db
def test_moving_to_the_same_status_or_from_outside_only_from_is_a_no_op(
        asset_factory, announcements, django_capture_on_commit_callbacks):
    asset = asset_factory(status=Status.PUBLISHED)
    with django_capture_on_commit_callbacks(execute=True):
        asset_transition(asset_id=asset.pk, to=Status.PUBLISHED, actor=None, reason="twice")
        asset_transition(asset_id=asset.pk, to=Status.PROCESSING, actor=None, reason="re-run",
                         only_from={Status.FAILED})
    asset.refresh_from_db()
    assert (asset.status, asset.version) == (Status.PUBLISHED, 1)
    assert announcements == []


@pytest.mark.django_db
def test_a_receiver_that_raises_does_not_keep_the_others_from_hearing(
        asset_factory, announcements, django_capture_on_commit_callbacks, caplog):
    """send_robust: a media receiver that raised used to skip search's, leaving an unpublished asset findable."""
    heard: list[str] = []

    def broken(sender, asset_id, change, **kwargs):
        raise RuntimeError("receiver bug")

    def later(sender, asset_id, change, **kwargs):
        heard.append(change)

    asset = asset_factory(status=Status.PUBLISHED)
    asset_changed.connect(broken, dispatch_uid="tests.broken")
    asset_changed.connect(later, dispatch_uid="tests.later")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            asset_transition(asset_id=asset.pk, to=Status.READY, actor=None, reason="takedown")
    finally:
        asset_changed.disconnect(dispatch_uid="tests.broken")
        asset_changed.disconnect(dispatch_uid="tests.later")
    assert heard == ["unpublished"]
    assert announcements == [(asset.pk, "unpublished")]
    assert "receiver bug" in caplog.text


@pytest.mark.django_db
def test_an_asset_made_by_an_upload_is_validated_announced_and_its_moves_recorded(
        settings, client_as, editor, announcements, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_as(editor).post("/studio/uploads/", {"filename": "clip.mp4", "size": 1000,
                                                               "type": "video/mp4"}, content_type="application/json")
    assert response.status_code == 201, response.content
    asset_id = response.json()["asset"]
    assert announcements == [(asset_id, "created"), (asset_id, "uploading")]
    moves = list(AssetTransition.objects.filter(asset_id=asset_id).values_list("from_status", "to_status", "actor"))
    assert moves == [(Status.DRAFT, Status.UPLOADING, editor.pk)]


@pytest.mark.django_db
def test_a_failed_upload_is_announced(asset_factory, editor, announcements, django_capture_on_commit_callbacks):
    asset = asset_factory(status=Status.UPLOADING, owner=editor)
    session = UploadSession.objects.create(asset=asset, owner=editor, key=f"originals/{asset.pk}/x",
                                           original_filename="x.mp4", declared_size=1, declared_type="video/mp4",
                                           kind=asset.kind, expires_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        upload_abandon(session_id=session.pk, now=timezone.now(), reason="never finished")
    asset.refresh_from_db()
    assert (asset.status, asset.version, asset.upload_error) == (Status.FAILED, 2, "never finished")
    assert announcements == [(asset.pk, "failed")]
