"""Every argument a service takes is one it uses: an argument nothing reads (the `editor` that
asset_update and three others took) tells callers a lie about what the write depends on."""

from __future__ import annotations

import ast
from pathlib import Path

PORTAL = Path(__file__).resolve().parents[1] / "portal"


def test_no_service_takes_an_argument_it_never_reads():
    unread = []
    for path in sorted(PORTAL.rglob("services.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                names = {name.id for name in ast.walk(node) if isinstance(name, ast.Name)}
                unread += [f"{path.relative_to(PORTAL)}:{node.name}({arg.arg})"
                           for arg in node.args.args + node.args.kwonlyargs
                           if arg.arg not in names and arg.arg not in ("self", "cls") and not arg.arg.startswith("_")]
    assert unread == []
