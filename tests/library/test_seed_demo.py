import pytest
from django.core.management import call_command

from portal.accounts.models import User
from portal.library.models import Asset, Kind

pytestmark = pytest.mark.django_db


def test_demo_content_is_created_once_with_an_editor(capsys):
    call_command("seed_demo", count=40)
    call_command("seed_demo", count=40)
    assert Asset.objects.filter(seeded_by="seed_demo").count() == 40
    assert set(Asset.objects.values_list("kind", flat=True)) == set(Kind.values)
    assert User.objects.get(username="editor").is_editor
    assert "Editor login: username 'editor'" in capsys.readouterr().out
