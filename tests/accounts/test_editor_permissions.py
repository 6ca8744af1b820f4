"""Editors hold the permissions something checks, and no permission that nothing checks."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import Permission

from portal.accounts.services import editors_group_sync

PORTAL = Path(__file__).resolve().parents[2] / "portal"


@pytest.mark.django_db
def test_the_unchecked_publish_permission_is_gone_from_the_database_and_the_editors_group():
    assert not Permission.objects.filter(codename="publish_asset").exists()  # migration library 0007
    group = editors_group_sync()
    codenames = set(group.permissions.values_list("codename", flat=True))
    assert "change_asset" in codenames  # what User.is_editor asks for
    assert "publish_asset" not in codenames


def test_no_code_names_it():
    named = [str(path.relative_to(PORTAL)) for path in PORTAL.rglob("*.py")
             if "migrations" not in path.parts and "publish_asset" in path.read_text()]
    assert named == []
