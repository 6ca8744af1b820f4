"""README's architecture section names every app under portal/ and nothing that is gone."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def architecture_section() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index("\n## Architecture\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end != -1 else None]


def portal_apps() -> set[str]:
    return {path.parent.name for path in (ROOT / "portal").glob("*/__init__.py")}


def test_the_architecture_section_describes_every_app_under_portal():
    tree = architecture_section()
    described = set(re.findall(r"^  ([a-z_]+)/\s{2,}\S", tree, flags=re.MULTILINE))
    assert portal_apps() - described == set(), "apps missing from README's architecture tree"
    assert described - portal_apps() == set(), "README's architecture tree names apps that do not exist"


def test_the_architecture_section_cites_only_files_that_exist():
    cited_paths = r"`((?:portal|config|workers|bench|deploy|bin|templates)/[\w./-]+)`"
    for cited in re.findall(cited_paths, architecture_section()):
        assert (ROOT / cited.rstrip("/")).exists(), cited
