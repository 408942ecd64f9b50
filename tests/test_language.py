"""The console's language (issue 21 item 9): every message the API sends is a constant
template held by the Kazakh, Russian and English catalogs and said in the caller's
language (the English `detail` stays for scripts and logs); one term per thing in each
language, as docs/glossary.md and the regulation's Kazakh text name it (UE-10-22 3.3,
3.5.5-3.5.8); and the snapshot's stamp is small and said in the taker's language (item 11).
"""

from __future__ import annotations

import ast
import io
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from api_world import CAM, PASSWORD, World
from conftest import SQLITE_ONLY
from kuzet.console.snapshot import stamp, stamp_lines
from kuzet.timefmt import parse_instant
from kuzet.web import errors as web_errors
from kuzet.web.i18n import LANGUAGES, catalog
from test_refusals import SRC, _fields, _said_where

ROOT = Path(__file__).parent.parent
NOW = parse_instant("2026-09-21T14:00:00Z")
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")

# First arguments of an error kind that are neither a template nor a constant holding one:
# each passes on a Phrase made elsewhere (itself walked), with why. Nothing else may be
# built at run time: no catalog could hold it.
PASSED_ON = {
    ("access/accounts.py", "reason"): "a Phrase made just above, also audited",
    ("access/approvals.py", "_not_on_the_command_line(flow, action, steps)"): "a Phrase",
    ("access/approvals.py", "_not_on_the_command_line(flow, action, [step])"): "a Phrase",
    ("access/approvals.py", "step.refusal or Phrase("): "a step's own Phrase, or this one",
    ("errors.py", "message"): "Phrase's own constructor",
    ("web/pictures.py", "d.reason"): "kuzet.access.pictures' Phrases",
    ("web/routes/cameras.py", "exc.message"): "kuzet.ingest.errors.check_url's Phrases",
    ("equipment/csvfile.py", "exc.message"): "kuzet.ingest.errors.check_url's Phrases",
    ("web/routes/equipment.py", "exc.phrase"): "kuzet.equipment.csvfile.FileError's Phrases",
    # a word the server stores, said by its catalog entry: walked by _stored_words
    ("access/approvals.py", "flow.word(state)"): "a request's state",
    ("governance/protocols.py", "p.state"): "a protocol's state",
    ("governance/transfers.py", "t.state"): "a transfer's state",
    ("web/times.py", "what"): "a time field's name",
    ("web/errors.py", "template"): "FAULTS' templates",
}


def _stored_words() -> dict[str, str]:
    """The stored words a refusal says by their catalog entry: the states of every flow of
    approvals and of a protocol, and the names of the time fields (`instant(text, "end")`)."""
    from kuzet.access import approvals
    from kuzet.governance import protocols

    found = {word: f"access/approvals.py {name}" for name, flow in vars(approvals).items()
             if isinstance(flow, approvals.Flow) for word in flow.words.values()}
    found |= {state: "governance/protocols.py STATES" for state in protocols.STATES}
    found |= {"start": "web/times.py", "end": "web/times.py"}
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                    and node.func.id == "instant" and len(node.args) == 2 \
                    and isinstance(node.args[1], ast.Constant):
                found[str(node.args[1].value)] = f"{path.relative_to(SRC)}:{node.lineno}"
    return found


def _module_constants(path: Path) -> dict[str, ast.expr]:
    """A module's top-level `NAME = value`s."""
    found = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 \
                and isinstance(node.targets[0], ast.Name):
            found[node.targets[0].id] = node.value
    return found


def _templates() -> tuple[dict[str, str], list[str]]:
    """Every template the API can send, with where it is, and the arguments that are none."""
    templates: dict[str, str] = {}
    built: list[str] = []
    for where, arg in _said_where():
        file = where.split(":")[0]
        if isinstance(arg, ast.Name):
            value = _module_constants(SRC / file).get(arg.id)
            if isinstance(value, ast.Call):  # NAME = Phrase("...", ...): walked itself
                continue
            if isinstance(value, ast.Constant):
                arg = value
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            templates[arg.value] = where
        elif not any(ast.unparse(arg).startswith(code) and file == f
                     for f, code in PASSED_ON):
            built.append(f"{where}: {ast.unparse(arg)[:80]}")
    # what the error handler itself says: FastAPI's faults, a text that is not Unicode,
    # the clause and the roles of a refusal; and the snapshot's stamp
    for name in ("BAD_TEXT", "NOT_ACCEPTED", "FIELD_FAULT", "UNACCEPTED", "AND", "REFUSED",
                 "WHO", "NOBODY"):
        templates[getattr(web_errors, name)] = f"web/errors.py {name}"
    for kind, template in web_errors.FAULTS.items():
        templates[template] = f"web/errors.py FAULTS[{kind}]"
    templates |= _stored_words()
    return templates, built


def _words(text: str) -> bool:
    """Whether a template says anything besides its placeholders and punctuation."""
    return bool(re.search(r"[A-Za-z]{2,}", re.sub(r"\{[^}]*\}", "", text)))


def test_every_message_the_api_sends_is_a_template_said_in_all_three_languages() -> None:
    """Issue 21 item 9: "server error messages arrive in English inside Kazakh pages".
    Every first argument of every error kind (and of every Phrase) in the package is a
    constant template (or a module constant holding one), and each template is in the
    Kazakh, Russian and English catalogs with the same placeholders, said (not copied) in
    Kazakh and Russian."""
    templates, built = _templates()
    assert not built, f"messages built at run time, which no catalog can hold: {built}"
    assert len(templates) > 250
    for lang in LANGUAGES:
        messages = catalog(lang)
        missing = sorted(t for t in templates if t not in messages)
        assert not missing, f"{lang}.po lacks {len(missing)}: {missing[:20]}"
        for template, where in templates.items():
            said = messages[template]
            assert _fields(said) == _fields(template), (lang, where, said)
            if lang != "en" and _words(template):
                assert said != template, (lang, where)
                assert not re.search(r"\b(the|is|of|and|a)\b", re.sub(r"\{[^}]*\}", "", said)
                                     ), (lang, where, said)  # said, not left English


# English words that are no term of the glossary where they stand: a verb or "own act"
NOT_THE_TERM = re.compile(r"holds \{|holds or awaits|not hold|still holds|holding|"
                          r"to hold its|own act")


def _glossary() -> list[tuple[str, str, str]]:
    """docs/glossary.md's three-language table: (English, Kazakh, Russian) per term."""
    text = (ROOT / "docs/glossary.md").read_text()
    table = text.split("## The console's terms in three languages", 1)[1]
    rows = [[cell.strip() for cell in line.strip("|").split("|")]
            for line in table.splitlines() if line.startswith("| ") and "---" not in line]
    return [(en.split(" (")[0].lower(), kk, ru) for en, kk, ru, _ in rows[1:]]


def _stem(term: str) -> str:
    """What every form of a term begins with: its first word short of a closing vowel
    (оқиға → оқиғ: оқиғаның, оқиғалар; тревога → тревог: тревоги)."""
    return term.split()[0].lower().rstrip("аеиоуыэюяіөүұәё")


def test_every_catalog_entry_names_each_thing_by_the_glossarys_term() -> None:
    """Issue 21 item 9: Kazakh said "Оқиға" for both the incident and the detection event.
    Each Kazakh and Russian entry whose English names a term of docs/glossary.md (incident,
    event, alarm, protocol, act, hold, transfer, grant, viewing session, approval) says it
    by that term, as the regulation's Kazakh text does (UE-10-22 3.3, 3.5.5-3.5.8), and an
    entry about events never uses the incident's Kazakh word."""
    terms = _glossary()
    assert {en for en, _, _ in terms} >= {"incident", "event", "alarm", "protocol", "act",
                                           "hold", "transfer", "grant", "viewing session"}
    kk, ru = catalog("kk"), catalog("ru")
    incident = _stem(next(k for en, k, _ in terms if en == "incident"))
    wrong = []
    for english in kk:
        if NOT_THE_TERM.search(english):
            continue
        for en, kk_term, ru_term in terms:
            if re.search(rf"\b{en}s?\b", english, re.I):
                said_kk, said_ru = kk[english].lower(), ru[english].lower()
                if _stem(kk_term) not in said_kk or _stem(ru_term) not in said_ru:
                    wrong.append((en, english, kk[english], ru[english]))
                if en == "event" and "incident" not in english.lower() \
                        and incident in said_kk:
                    wrong.append((en, english, kk[english], "the incident's word"))
    assert not wrong, wrong
    assert kk["Incident"] != kk["Event"]
    assert ru["Incident"] != ru["Event"]
    assert kk["Save"] != kk["Holds"]  # "Сақтау" was both


@SQLITE_ONLY
def test_the_api_says_what_it_refuses_in_the_callers_language(storage: Any) -> None:
    """Issue 21 item 9: a weak password, a wrong second-factor code, a form the API does
    not accept and a purpose too short (UE-10-22 3.5.5) are said in Kazakh by default, in
    Russian after the page's language is switched (a camera's URL refused too), with the
    English detail beside."""
    world = World(storage, NOW)
    guard = world.login(world.user("guard", "guard"))

    r = guard.post("/api/auth/password", json={"old_password": PASSWORD,
                                               "new_password": "password1234"})
    assert r.status_code == 400, r.json()
    assert r.json()["detail"] == "this password is on the list attackers try first"
    assert r.json()["message"] == "бұл құпиясөз шабуылдаушылар алдымен тексеретін тізімде бар"

    r = guard.post("/api/auth/totp/enrol")
    assert r.status_code == 200, r.text
    r = guard.post("/api/auth/totp/confirm", json={"code": "000000"})
    assert r.status_code == 400
    assert r.json()["message"] == "код сәйкес келмейді; телефонның сағатын тексеріңіз"

    r = guard.post("/api/protocols", json={"at": "2026-09-21T13:59:00Z"})
    assert r.status_code == 422
    assert r.json()["message"] == "сұрау қабылданбады: camera: міндетті"

    head = world.login(world.user("head", "head_of_security"))
    head.cookies.set("kuzet_lang", "ru")  # what the page's language switch leaves
    r = head.get(f"/api/cameras/{CAM}/snapshot",
                 params={"at": "2026-09-21T13:59:00Z", "purpose": "x"})
    assert r.status_code == 400, r.json()
    assert r.json()["message"] == "укажите цель снимка (не менее 5 символов)"
    r = head.get(f"/api/cameras/{CAM}/snapshot", params={"at": "yesterday", "purpose": "x"})
    assert r.json()["message"].startswith("момент: неверное время 'yesterday'"), r.json()

    admin = world.login(world.user("admin", "administrator"))
    admin.cookies.set("kuzet_lang", "ru")
    r = admin.post("/api/cameras", json={"name": "cam9", "url": "http://10.0.0.9/s",
                                         "zone": "corridor"})
    assert r.status_code == 400, r.json()
    assert r.json()["message"] == "неподдерживаемая схема 'http': используйте rtsp:// или rtsps://"


@pytest.mark.parametrize("size", [(1920, 1080), (640, 360)])
def test_the_snapshot_stamp_is_small_and_said_in_the_takers_language(size: tuple[int, int]
                                                                       ) -> None:
    """Issue 21 item 11: the stamp covered ~8 % of the picture and was English only. It
    takes at most 3 % of the picture at 1080p and at 640x360, says its instants in the
    display zone with the offset (day.month.year, 24-hour), in Kazakh for a Kazakh taker
    (UE-10-22 3.5.4: a picture carries who took it and when)."""
    width, height = size
    image = np.full((height, width, 3), 200, np.uint8)
    kk = catalog("kk")
    lines = stamp_lines("guard1", "cam1", parse_instant("2026-12-05T13:19:41Z"),
                        parse_instant("2026-12-05T13:20:00Z"), "Asia/Almaty",
                        lambda text: kk.get(text, text))
    assert lines == ["cam1, жазылды 05.12.2026 18:19:41 +05:00",
                     "Күзет суреті: guard1, 05.12.2026 18:20:00 +05:00"]
    stamped = np.asarray(Image.open(io.BytesIO(stamp(image, lines, FONT))).convert("RGB"))
    assert stamped.shape == (height, width, 3)
    changed = np.any(stamped != 200, axis=2).mean()
    assert 0.005 < changed <= 0.03, changed
    assert np.all(stamped[:height // 2] == 200)  # the picture's upper half untouched
