import pytest
from django.core.management import call_command

from portal.library.models import Asset, Kind, Status

pytestmark = pytest.mark.django_db


def test_demo_media_goes_through_the_real_pipeline_once(capsys):
    call_command("seed_demo", count=4)
    call_command("seed_demo_media", video_seconds=2)
    call_command("seed_demo_media", video_seconds=2)
    media = Asset.objects.filter(seeded_by="seed_demo_media")
    assert media.count() == 12
    assert set(media.values_list("status", flat=True)) == {Status.PUBLISHED}
    video = media.filter(kind=Kind.VIDEO).first()
    assert video.media["hls"]["master"] in video.renditions
    image = media.filter(kind=Kind.IMAGE).first()
    assert image.media["gps"] is not None
    audio = media.filter(kind=Kind.AUDIO).first()
    assert max(audio.media["peaks"]) > 0.3
    assert "Demo media already present" in capsys.readouterr().out
