import pytest

from portal.library.errors import IllegalTransition
from portal.library.models import Asset, Status


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
