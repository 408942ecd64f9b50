"""Incident protocols (clause 3.5.7) end to end through the API, one account per role, and
their PDF documents read back as text."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import pytest
from pypdf import PdfReader

from api_world import CAM, World
from kuzet.governance.numbering import document_number, year_of
from kuzet.timefmt import parse_instant

NOW = parse_instant("2026-09-21T14:00:00Z")
INFORMED = "2026-09-21T19:05:00+05:00"


@pytest.fixture
def world(storage: Any) -> World:
    return World(storage, NOW)


def pdf_text(data: bytes) -> str:
    assert data[:5] == b"%PDF-"
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_numbers_follow_the_display_year() -> None:
    assert document_number("protocol", 2026, 17) == "П-2026/0017"
    new_year_almaty = parse_instant("2026-12-31T19:30:00Z")  # 00:30 on 1 January there
    assert year_of(new_year_almaty, "Asia/Almaty") == 2027
    assert year_of(new_year_almaty, "UTC") == 2026


def test_protocol_from_incident_to_review(world: World) -> None:
    """UE-10-22 3.2.4, 3.5.7: an incident seen live becomes a protocol keeping its frame."""
    for name, role in (("guard", "guard"), ("guard2", "guard"), ("head", "head_of_security"),
                       ("it", "it_support"), ("rector", "rector")):
        world.user(name, role)
    guard, guard2, head = world.login("guard"), world.login("guard2"), world.login("head")
    # The wall's incident button, at the live instant: a draft and a bookmark.
    r = guard.post("/api/protocols", json={"camera": CAM})
    assert r.status_code == 201, r.text
    p = r.json()
    assert (p["state"], p["number"], p["at_ns"], p["author"]) == ("draft", None, NOW, "guard")
    assert p["bookmark"] is not None  # nothing recorded here
    assert not p["snapshot"]
    pid = p["id"]
    assert guard.post("/api/protocols", json={"camera": CAM, "at": "2026-09-21T10:00:00Z"}
                      ).status_code == 403  # an archive instant needs archive view
    # Written, then submitted: the oral report's time is required by 3.5.7.
    r = guard.put(f"/api/protocols/{pid}", json={
        "location": "Main building, north door", "circumstances": "Қақпа бұзылды: "
        "екі адам ішке кірді.", "measures": "Патруль жіберілді"})
    assert r.status_code == 200, r.text
    r = guard.post(f"/api/protocols/{pid}/submit")
    assert r.status_code == 400
    assert "3.5.7" in r.json()["detail"]
    assert guard2.put(f"/api/protocols/{pid}", json={"location": "x"}).status_code == 403
    assert guard.put(f"/api/protocols/{pid}", json={"informed": INFORMED}).status_code == 200
    r = guard.post(f"/api/protocols/{pid}/submit")
    assert r.status_code == 200, r.text
    assert r.json()["number"] == "П-2026/0001"
    assert r.json()["state"] == "submitted"
    assert guard.put(f"/api/protocols/{pid}", json={"measures": "later"}).status_code == 409
    # A second protocol of the year takes the next number; the head's own one too.
    second = guard2.post("/api/protocols", json={"camera": CAM}).json()["id"]
    guard2.put(f"/api/protocols/{second}", json={"location": "Gate", "circumstances": "Fire",
                                                 "informed": INFORMED})
    assert guard2.post(f"/api/protocols/{second}/submit").json()["number"] == "П-2026/0002"
    # Who sees what: writers their own, reviewers all, IT support nothing.
    assert [x["id"] for x in guard.get("/api/protocols").json()] == [pid]
    assert guard2.get(f"/api/protocols/{pid}").status_code == 404
    assert [x["number"] for x in head.get("/api/protocols?state=submitted").json()] == [
        "П-2026/0001", "П-2026/0002"]
    assert world.login("it").get("/api/protocols").status_code == 403
    assert world.login("rector").get(f"/api/protocols/{pid}").status_code == 200
    # Review: not by a guard, not by the protocol's author, once.
    assert guard.post(f"/api/protocols/{pid}/review", json={}).status_code == 403
    own = head.post("/api/protocols", json={"camera": CAM}).json()["id"]
    head.put(f"/api/protocols/{own}", json={"location": "Gate", "circumstances": "Smoke",
                                            "informed": INFORMED})
    head.post(f"/api/protocols/{own}/submit")
    assert head.post(f"/api/protocols/{own}/review", json={}).status_code == 403
    r = head.post(f"/api/protocols/{pid}/review", json={"note": "Act to follow"})
    assert r.status_code == 200
    assert r.json()["reviewed_by"] == "head"
    assert head.post(f"/api/protocols/{pid}/review", json={}).status_code == 409
    # The footage around it kept beyond 30 days: a hold request named after the protocol,
    # waiting for the rector (clause 3.3); not by a guard, not for a draft.
    body = {"before_s": 60, "after_s": 120, "reason": "Fire alarm, act to follow"}
    assert guard.post(f"/api/protocols/{pid}/hold", json=body).status_code == 403
    r = head.post(f"/api/protocols/{pid}/hold", json=body)
    assert r.status_code == 201, r.text
    assert (r.json()["start"], r.json()["end"]) == ("2026-09-21T13:59:00.000000000Z",
                                                     "2026-09-21T14:02:00.000000000Z")
    held = [h for h in head.get("/api/holds").json() if h["incident"] == "П-2026/0001"]
    assert len(held) == 1, held
    assert held[0]["state"] == "pending", held
    draft = guard.post("/api/protocols", json={"camera": CAM}).json()["id"]
    assert head.post(f"/api/protocols/{draft}/hold", json=body).status_code == 409
    # The register as CSV, and every step in the audit log.
    csv_text = head.get("/api/protocols.csv").text
    assert "П-2026/0001" in csv_text
    assert "П-2026/0003" in csv_text
    steps = [e.action for e in world.svc.audit.entries() if e.subject == f"protocol/{pid}"]
    assert steps == ["protocol.start", "protocol.submit", "protocol.review"]
    marks = world.audit("bookmark.incident")
    assert len(marks) == 4
    assert marks[0].actor == "guard"


def test_protocol_document_in_kazakh_and_russian(world: World) -> None:
    world.user("guard", "guard")
    world.user("head", "head_of_security")
    guard = world.login("guard")
    pid = guard.post("/api/protocols", json={"camera": CAM}).json()["id"]
    draft = pdf_text(guard.get(f"/api/protocols/{pid}/pdf").content)
    assert "ХАТТАМА" in draft
    assert "ЖОБА" in draft
    guard.put(f"/api/protocols/{pid}", json={
        "location": "Жатақхана, 2-қабат", "circumstances": "Өрт дабылы іске қосылды",
        "measures": "Ғимарат босатылды", "informed": INFORMED})
    guard.post(f"/api/protocols/{pid}/submit")
    text = pdf_text(guard.get(f"/api/protocols/{pid}/pdf?lang=kk").content)
    for expected in ("ХАТТАМА", "П-2026/0001", "Басқармаға", "Өрт дабылы іске қосылды",
                     "Ғимарат босатылды", "Қабылданған шаралар", "21.09.2026 19:05:00",
                     "Guard (guard)"):  # the person and their login (issue 21)
        assert expected in text, (expected, text)
    submitted = world.audit("protocol.submit")[0]
    assert submitted.hash in text.replace("\n", "")
    ru = pdf_text(world.login("head").get(f"/api/protocols/{pid}/pdf?lang=ru").content)
    assert "ПРОТОКОЛ" in ru
    assert "Правлению" in ru
    assert "П-2026/0001" in ru
    assert len(world.audit("protocol.document")) == 3
    assert guard.get(f"/api/protocols/{pid}/pdf?lang=de").status_code == 422


def test_a_missing_document_font_is_named(storage: Any) -> None:
    world = World(storage, NOW, document_font="/nonexistent/font.ttf")
    world.user("guard", "guard")
    guard = world.login("guard")
    pid = guard.post("/api/protocols", json={"camera": CAM}).json()["id"]
    r = guard.get(f"/api/protocols/{pid}/pdf")
    assert r.status_code == 503
    assert "fonts-dejavu-core" in r.json()["detail"]


def _registered_protocol(world: World, client: Any, circumstances: str) -> int:
    pid = client.post("/api/protocols", json={"camera": CAM}).json()["id"]
    client.put(f"/api/protocols/{pid}", json={"location": "Gate", "circumstances":
                                              circumstances, "informed": INFORMED})
    assert client.post(f"/api/protocols/{pid}/submit").status_code == 200
    return int(pid)


def test_act_rests_on_protocols_and_holds_their_footage(world: World) -> None:
    """UE-10-22 3.2.4, 3.5.8: the security service's act of a violation rests on protocols."""
    world.user("guard", "guard")
    world.user("head", "head_of_security")
    world.user("rector", "rector")
    guard, head = world.login("guard"), world.login("head")
    first = _registered_protocol(world, guard, "Терезе сынды")
    world.clock.advance(600)
    second = _registered_protocol(world, guard, "Тағы да терезе")
    draft = guard.post("/api/protocols", json={"camera": CAM}).json()["id"]
    # Only the head of security writes acts (3.5.8), and only on registered protocols.
    assert guard.post("/api/acts", json={"protocols": [first]}).status_code == 403
    r = head.post("/api/acts", json={"protocols": [first, draft]})
    assert r.status_code == 400
    assert str(draft) in r.json()["detail"]
    r = head.post("/api/acts", json={"protocols": [first, second]})
    assert r.status_code == 201, r.text
    act = r.json()["id"]
    assert r.json()["protocols"] == ["П-2026/0001", "П-2026/0002"]
    assert head.post(f"/api/acts/{act}/register").status_code == 400  # nothing written
    r = head.put(f"/api/acts/{act}", json={
        "what": "Жатақхана терезесі екі рет сындырылды", "persons": "Студент (аты-жөні "
        "түсініктемеде)", "witnesses": "Күзетші", "consequences": "Терезе ауыстырылды",
        "measures": "Деканатқа хабарланды"})
    assert r.status_code == 200, r.text
    r = head.post(f"/api/acts/{act}/register")
    assert r.status_code == 200, r.text
    assert r.json()["number"] == "А-2026/0001", r.text
    assert head.put(f"/api/acts/{act}", json={"what": "x"}).status_code == 409
    # The rector reads acts; guards do not.
    assert world.login("rector").get(f"/api/acts/{act}").status_code == 200
    assert guard.get("/api/acts").status_code == 403
    # A hold over both protocols' instants, padded, named after the act.
    r = head.post(f"/api/acts/{act}/hold", json={"before_s": 60, "after_s": 60,
                                                 "reason": "Evidence for the act"})
    assert r.status_code == 201, r.text
    assert (r.json()["start"], r.json()["end"]) == ("2026-09-21T13:59:00.000000000Z",
                                                     "2026-09-21T14:11:00.000000000Z")
    text = pdf_text(head.get(f"/api/acts/{act}/pdf?lang=kk").content)
    for expected in ("АКТ", "А-2026/0001", "П-2026/0001, П-2026/0002",
                     "Жатақхана терезесі екі рет сындырылды", "3.5.8"):
        assert expected in text, (expected, text)
    assert world.audit("act.register")[0].hash in text.replace("\n", "")
    assert "А-2026/0001" in head.get("/api/acts.csv").text
    steps = [e.action for e in world.svc.audit.entries() if e.subject == f"act/{act}"]
    assert steps == ["act.start", "act.register", "act.document"]


def test_viewing_session_with_attendees_and_minutes(world: World) -> None:
    world.user("head", "head_of_security")
    world.user("guard", "guard")
    world.user("rector", "rector")
    world.user("inspector", "viewer")
    head, rector = world.login("head"), world.login("rector")
    world.grant(head, rector, "inspector", ("2026-09-21T10:05:00Z", "2026-09-21T11:05:00Z"),
                "Rector's instruction No. 19")
    inspector = world.login("inspector")
    body = {"cameras": [CAM], "start": "2026-09-21T10:00:00Z", "end": "2026-09-21T10:10:00Z",
            "purpose": "Parents asked to see the incident of 21 September",
            "attendees": [{"name": "Әлия Серікқызы", "capacity": "depicted",
                           "document": "ID card 045678912"},
                          {"name": "Серік Нұрланұлы", "capacity": "parent_or_representative",
                           "document": "ID card 012345678"}]}
    assert world.login("guard").post("/api/viewings", json=body).status_code == 403
    assert inspector.post("/api/viewings", json=body).status_code == 403  # outside the grant
    bad: Mapping[str, object]
    for bad in ({"attendees": []}, {"purpose": "x"},
                {"attendees": [{"name": "A", "capacity": "friend", "document": "x"}]}):
        assert head.post("/api/viewings", json={**body, **bad}).status_code == 422, bad
    r = head.post("/api/viewings", json=body)
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["number"] == "В-2026/0001"
    assert first["conducted_by"] == "head"
    r = inspector.post("/api/viewings", json={**body, "start": "2026-09-21T10:05:00Z"})
    assert r.status_code == 201, r.text
    assert r.json()["number"] == "В-2026/0002", r.text
    # The conductor sees their own; a reviewer sees all.
    assert [v["number"] for v in inspector.get("/api/viewings").json()] == ["В-2026/0002"]
    assert inspector.get(f"/api/viewings/{first['id']}").status_code == 404
    assert len(rector.get("/api/viewings").json()) == 2
    ru = pdf_text(head.get(f"/api/viewings/{first['id']}/pdf?lang=ru").content)
    for expected in ("ПРОТОКОЛ ПРОСМОТРА ВИДЕОЗАПИСИ", "В-2026/0001", "Әлия Серікқызы",
                     "родитель или законный представитель", "ID card 012345678", "3.5.5"):
        assert expected in ru, (expected, ru)
    kk = pdf_text(head.get(f"/api/viewings/{first['id']}/pdf").content)
    assert "БЕЙНЕЖАЗБАНЫ ҚАРАУ ХАТТАМАСЫ" in kk
    assert "ата-анасы немесе заңды өкілі" in kk
    recorded = world.audit("viewing.session")
    assert [e.actor for e in recorded] == ["head", "inspector"]
    assert "Әлия Серікқызы" in recorded[0].detail
    assert "045678912" not in recorded[0].detail
    assert "В-2026/0002" in rector.get("/api/viewings.csv").text
