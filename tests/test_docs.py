"""The docs stay honest: links resolve, every setting, command, permission and audit action
is documented, and docs/regulation.md has a row for every clause of UE-10-22 with its
status and the tests that prove it."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from itertools import pairwise
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


# docs/regulation.md: one row per clause of UE-10-22, its status, and the tests that prove
# it. The regulation's text is kept in docs/ue-10-22/; the Kazakh original prevails, so
# the clause numbers come from it.
REGULATION = ROOT / "docs" / "ue-10-22"
STATUSES = ("done", "partial", "planned", "organisational")
# A clause starts its line in the Kazakh original, with or without a space after the
# number ("3.1.1Университет", " 3.5.8 Бейнебақылау", "1. ҚОЛДАНЫЛУ"); a number alone on
# its line is a page number ("4 "), and a year ("2016 жылғы") has no dot.
KK_CLAUSE = re.compile(r"^\s*(\d+(?:\.\d+)+|\d+(?=\.))\.?(?=\s*[^\W\d_])", re.MULTILINE)
# The translation: headings ("## 1. Scope", "### 3.1 General") and numbers before a word
# ("- 3.1.1 The Regulation", "3.3.3 video monitors").
EN_CLAUSE = re.compile(r"^#+ (\d+(?:\.\d+)*)\.? |(?<![\w.])(\d+(?:\.\d+)+)(?= [^\W\d_])",
                       re.MULTILINE)
ROW_CLAUSE = re.compile(r"(\d+(?:\.\d+)*)(?: \([a-z ]+\))?")  # "3.3.10", "3.3 (mode)"
TEST_REF = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")


@dataclass(frozen=True)
class ClauseRow:
    label: str  # as written: "3.3 (mode)"
    clause: str  # the number alone: "3.3"
    status: str
    proof: str  # the tests cited, or the issue that will do it
    note: str


def _clauses(text: str, pattern: re.Pattern[str]) -> list[str]:
    return ["".join(groups) if isinstance(groups, tuple) else groups
            for groups in pattern.findall(text)]


def _regulation_clauses() -> list[str]:
    original = REGULATION / "UE-10-22.kk.txt"
    assert original.is_file(), f"the Kazakh original of UE-10-22 is not at {original}"
    return _clauses(original.read_text(), KK_CLAUSE)


def _regulation_rows() -> list[ClauseRow]:
    rows = []
    for line in (ROOT / "docs/regulation.md").read_text().splitlines():
        if not line.startswith("|"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        assert len(cells) == 6, f"docs/regulation.md: not six cells: {line}"
        found = ROW_CLAUSE.fullmatch(cells[0])
        if found:  # not the header nor the rule under it
            rows.append(ClauseRow(cells[0], found[1], cells[2].strip("`"), cells[4], cells[5]))
    return rows


def _follows(before: str, after: str) -> bool:
    """`after` is the next clause: the first sub-item of `before`, or the next item at
    `before`'s level or at a level above it."""
    b, a = [int(n) for n in before.split(".")], [int(n) for n in after.split(".")]
    return a == [*b, 1] or any(a == [*b[:k], b[k] + 1] for k in range(len(b)))


def test_the_clauses_are_read_whole_from_the_original() -> None:
    """The extraction finds in the Kazakh original the same clauses, in the same order, as
    in the translation, each the next one after the last: none lost, none invented."""
    clauses = _regulation_clauses()
    translated = _clauses((REGULATION / "UE-10-22.en.md").read_text(), EN_CLAUSE)
    assert clauses == translated
    assert clauses[0] == "1"
    assert [(b, a) for b, a in pairwise(clauses) if not _follows(b, a)] == []


def test_every_clause_of_the_regulation_has_a_row() -> None:
    """One row per clause and sub-item of the original; a clause in several rows (3.3's
    unnumbered paragraphs) has each of them labelled."""
    rows = _regulation_rows()
    clauses = _regulation_clauses()
    assert sorted({r.clause for r in rows} ^ set(clauses)) == []
    labels = [r.label for r in rows]
    assert sorted({x for x in labels if labels.count(x) > 1}) == []
    split = {r.clause for r in rows if [s.clause for s in rows].count(r.clause) > 1}
    assert [r.label for r in rows if r.clause in split and r.label == r.clause] == []


def test_every_row_has_a_status_and_what_it_rests_on() -> None:
    """`done` names the tests that prove it; `partial` says what is missing; `planned`
    names the issue that will do it; `organisational` says why there is nothing to do."""
    wrong = []
    for row in _regulation_rows():
        tests = TEST_REF.findall(row.proof)
        if row.status not in STATUSES:
            wrong.append(f"{row.label}: status {row.status!r} is none of {STATUSES}")
        elif row.status == "done" and not tests:
            wrong.append(f"{row.label}: done, but no test named")
        elif row.status == "planned" and not re.fullmatch(r"#\d+", row.proof):
            wrong.append(f"{row.label}: planned, but no issue named")
        elif row.status in ("partial", "organisational") and row.note in ("", "—"):
            wrong.append(f"{row.label}: {row.status}, but no note says why")
        elif row.status == "organisational" and tests:
            wrong.append(f"{row.label}: organisational, yet tests named")
    assert not wrong, "\n".join(wrong)


def test_every_cited_test_exists_and_names_its_clause() -> None:
    """Each test a row cites exists, is no test of the camera simulator, and its docstring
    or body names the row's clause exactly (3.3.10 is not 3.3.1, nor 3.3)."""
    wrong = []
    for row in _regulation_rows():
        exact = re.compile(rf"(?<![\d.]){re.escape(row.clause)}(?!\.?\d)")
        for path, name in TEST_REF.findall(row.proof):
            if path == "tests/test_sim.py":
                wrong.append(f"{row.label}: {path}::{name} tests the simulator, not Kuzet")
                continue
            source = (ROOT / path).read_text()
            found = [n for n in ast.parse(source).body
                     if isinstance(n, ast.FunctionDef) and n.name == name]
            if not found:
                wrong.append(f"{row.label}: {path}::{name} does not exist")
            elif not exact.search(ast.get_source_segment(source, found[0]) or ""):
                wrong.append(f"{row.label}: {path}::{name} does not mention {row.clause}")
    assert not wrong, "\n".join(wrong)
