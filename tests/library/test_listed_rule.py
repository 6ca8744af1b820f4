"""The "listed" rule (published and public) is written once, in portal/library/models.py, and
every reader of it agrees: the queryset, a related model's filter, a row's own check."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from portal.library.models import Asset, Status, Tag, Visibility
from portal.library.selectors import LISTED_THROUGH_ASSETS
from portal.search.queries import LISTED_FILTER

PORTAL = Path(__file__).resolve().parents[2] / "portal"
# published, then visibility equal to public: a filter, a dict or a comparison (not "public or unlisted")
SPELLED_OUT = re.compile(r"""(PUBLISHED|["']published["']).{0,80}"""
                         r"""visibility["']?\s*(==|=|:)\s*(Visibility\.PUBLIC\b|["']public["'])""")


def test_only_the_models_module_spells_the_rule_out():
    spellings = [f"{path.relative_to(PORTAL)}:{number}"
                 for path in PORTAL.rglob("*.py") if "migrations" not in path.parts
                 for number, line in enumerate(path.read_text().splitlines(), 1) if SPELLED_OUT.search(line)]
    assert spellings == [f"library/models.py:{_line_of('LISTED_FIELDS: dict')}"]


def _line_of(text: str) -> int:
    lines = (PORTAL / "library" / "models.py").read_text().splitlines()
    return next(number for number, line in enumerate(lines, 1) if text in line)


def test_the_search_engines_filter_says_the_same_in_its_own_terms():
    assert LISTED_FILTER == [{"term": {"status": "published"}}, {"term": {"visibility": "public"}}]


@pytest.mark.django_db
def test_every_reader_agrees_on_every_status_and_visibility(asset_factory):
    for status, visibility in itertools.product(Status.values, Visibility.values):
        tag = Tag.objects.create(name=f"{status}-{visibility}", slug=f"{status}-{visibility}")
        asset = asset_factory(status=status, visibility=visibility)
        asset.tags.add(tag)
        readers = {"row": asset.is_listed, "queryset": Asset.objects.listed().filter(pk=asset.pk).exists(),
                   "related": Tag.objects.filter(LISTED_THROUGH_ASSETS, pk=tag.pk).exists()}
        expected = status == Status.PUBLISHED and visibility == Visibility.PUBLIC
        assert set(readers.values()) == {expected}, (status, visibility, readers)
