"""The docs stay honest: links resolve, every setting, command, permission and audit action
is documented, and the regulation matrix names tests that exist."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import typer.main
from fastapi.routing import APIRoute, APIWebSocketRoute

from kuzet.access.permissions import Perm
from kuzet.audit.actions import AuditAction
from kuzet.cli.main import app
from kuzet.config import Settings
from kuzet.ingest.errors import GapCause
from kuzet.web.app import ROUTERS

ROOT = Path(__file__).resolve().parents[1]
DOCS = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_internal_links_resolve(doc: Path) -> None:
    for target in LINK.findall(doc.read_text()):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        assert (doc.parent / target).exists(), f"{doc.name}: broken link {target}"


def test_every_setting_is_documented() -> None:
    text = (ROOT / "docs/ref/configuration.md").read_text()
    for name in Settings.model_fields:
        assert f"`{name}`" in text, name
        assert f"`KUZET_{name.upper()}`" in text, name


def _commands(group: typer.Typer, prefix: str = "kuzet") -> list[str]:
    click_group = typer.main.get_command(group)
    out: list[str] = []

    def walk(cmd: object, path: str) -> None:
        sub = getattr(cmd, "commands", None)
        if sub is None:
            out.append(path)
            return
        for name, child in sub.items():
            walk(child, f"{path} {name}")

    walk(click_group, prefix)
    return out


def test_every_command_is_documented() -> None:
    text = (ROOT / "docs/ref/cli.md").read_text()
    for command in _commands(app):
        assert f"`{command}" in text, command


def test_every_route_is_documented() -> None:
    """Each API route, WebSocket and console page is in the API reference, by its path."""
    text = (ROOT / "docs/ref/api.md").read_text()
    paths = {r.path for router in ROUTERS for r in router.routes
             if isinstance(r, APIRoute | APIWebSocketRoute)}
    assert len(paths) > 60
    assert sorted(p for p in paths if not re.search(rf"`{re.escape(p)}[`?]", text)) == []


def test_every_permission_is_documented() -> None:
    text = (ROOT / "docs/ref/api.md").read_text()
    assert [p.value for p in Perm if f"`{p.value}`" not in text] == []


def test_every_audit_action_is_documented() -> None:
    """docs/design/audit.md's table of actions names every value the code writes to the
    log, and no other."""
    text = (ROOT / "docs/design/audit.md").read_text()
    table = re.findall(r"^\| `([a-z_.]+)` \|", text, re.MULTILINE)
    assert sorted(table) == sorted(a.value for a in AuditAction)


def test_every_gap_cause_is_in_the_glossary() -> None:
    text = (ROOT / "docs/glossary.md").read_text()
    for cause in GapCause:
        assert f"`{cause.value}`" in text, cause


def test_regulation_matrix_names_real_tests() -> None:
    text = (ROOT / "docs/regulation.md").read_text()
    refs = re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", text)
    assert len(refs) >= 10
    for path, name in refs:
        tree = ast.parse((ROOT / path).read_text())
        names = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
        assert name in names, f"{path}::{name} named in docs/regulation.md does not exist"
