"""The import rules of docs/architecture: checked by reading the code, not by convention."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STDLIB = set(sys.stdlib_module_names)


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def test_domain_imports_only_the_standard_library():
    for path in (ROOT / "domain").rglob("*.py"):
        for name in _imports(path):
            root = name.split(".")[0]
            assert root in STDLIB or root == "domain", f"{path.name} imports {name}"


def test_domain_never_reads_the_clock():
    for path in (ROOT / "domain").rglob("*.py"):
        text = path.read_text()
        for call in ("datetime.now(", "date.today(", "time.time(", "datetime.utcnow(", "monotonic("):
            assert call not in text, f"{path.name} reads the clock with {call}"


_NOT_IN_DB = frozenset({"litestar", "web"})


def _forbidden_in_db(module: str) -> bool:
    """By the top-level package's exact name: ``web.render`` is ours, ``webauthn`` (py_webauthn) is not."""
    return module.split(".")[0] in _NOT_IN_DB


def test_the_db_rule_matches_packages_not_prefixes():
    assert all(map(_forbidden_in_db, ("web", "web.render", "litestar", "litestar.testing")))
    assert not any(map(_forbidden_in_db, ("webauthn", "webauthn.helpers.structs", "websockets", "litestarlike")))


def test_db_never_imports_litestar_or_web():
    for path in (ROOT / "db").rglob("*.py"):
        for name in _imports(path):
            assert not _forbidden_in_db(name), f"{path.name} imports {name}"


def test_handlers_are_thin_and_leave_htmx_headers_to_render():
    for path in (ROOT / "web" / "handlers").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
                body = node.body[1:] if isinstance(node.body[0], ast.Expr) and isinstance(getattr(node.body[0], "value", None), ast.Constant) else node.body
                if body:
                    lines = body[-1].end_lineno - body[0].lineno + 1
                    assert lines <= 15, f"{path.name}:{node.name} has {lines} lines"
        assert "hx-" not in path.read_text().lower(), f"{path.name} touches htmx headers"
