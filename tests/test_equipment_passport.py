"""The technical passport of the video surveillance system (issue 22 item 1, UE-10-22
3.3.1-3.3.8) as its reader checks it: a register on a real catalog, the PDF in Kazakh,
Russian and English read back with a PDF reader, and two hundred items on pages whose
tables repeat their header and whose text stays on the page."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from fpdf import FPDF
from pypdf import PageObject, PdfReader

from kuzet.catalog.db import make_engine, migrate
from kuzet.catalog.store import Catalog
from kuzet.equipment.fields import (
    LINK_FIELDS,
    TEXT_FIELDS,
    EntryKind,
    Kind,
    State,
    check_passport,
)
from kuzet.equipment.passport import CHECKS, KINDS, STATES, TEXT, passport_of, passport_pdf
from kuzet.equipment.register import ItemView, Register
from kuzet.governance.documents import DocumentError
from kuzet.regulation import Zone
from kuzet.timefmt import parse_instant

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
NOW = parse_instant("2026-09-21T14:00:00Z")  # 19:00 in Almaty
ZONE = "Asia/Almaty"
BUILDINGS = ["Бас ғимарат", "Жатақхана №2"]
ORGANISATION = "Әл-Фараби атындағы Қазақ ұлттық университеті"
SERIALS = ("CAM-0001", "UPS-7781", "SW-24P-0912", "SRV-2026-01", "WD-ZR4B1K9Q", "KZT-LIC-42")
# What a reader looks for in each language: the title, the sections (3.3.2-3.3.8) and
# the words the register's states and the schedule's verdicts are said in.
EXPECTED = {
    "kk": ("БЕЙНЕБАҚЫЛАУ ЖҮЙЕСІНІҢ ТЕХНИКАЛЫҚ ПАСПОРТЫ",
           ("3.3.2. Бейнекамералар (1)", "3.3.3. Мониторлар және жұмыс орындары (0)",
            "3.3.4. Үздіксіз қоректендіру көздері (2)",
            "3.3.5. Бейнетіркегіштер мен серверлер (1)",
            "3.3.6. Кабельдік желі: коммутаторлар мен байланыс желілері (1)",
            "3.3.7. Ақпарат жинақтауыштары: дискілер мен массивтер (1)",
            "3.3.8. Бағдарламалық қамтамасыз ету (1)", "Жабылмаған ақаулар (1)",
            "Тізілімде жоқ"),
           ("пайдалануда", "ақаулы", "есептен шығарылған", "мерзімі өткен",
            "Сериялық нөмірі", "коммутатор: sw-1, порт 7")),
    "ru": ("ТЕХНИЧЕСКИЙ ПАСПОРТ СИСТЕМЫ ВИДЕОНАБЛЮДЕНИЯ",
           ("3.3.2. Видеокамеры (1)", "3.3.3. Мониторы и рабочие места (0)",
            "3.3.4. Источники бесперебойного питания (2)",
            "3.3.5. Видеорегистраторы и серверы (1)",
            "3.3.6. Кабельная сеть: коммутаторы и линии связи (1)",
            "3.3.7. Накопители: диски и массивы (1)", "3.3.8. Программное обеспечение (1)",
            "Незакрытые неисправности (1)", "В реестре нет"),
           ("в эксплуатации", "неисправен", "списан", "просрочена", "Серийный номер",
            "коммутатор: sw-1, порт 7")),
    "en": ("TECHNICAL PASSPORT OF THE VIDEO SURVEILLANCE SYSTEM",
           ("3.3.2. Video cameras (1)", "3.3.3. Monitors and workstations (0)",
            "3.3.4. Uninterruptible power supplies (2)", "3.3.5. Recorders and servers (1)",
            "3.3.6. Cable network: switches and links (1)",
            "3.3.7. Storage: disks and arrays (1)", "3.3.8. Software (1)",
            "Open faults (1)", "None in the register"),
           ("in service", "faulty", "decommissioned", "overdue", "Serial number",
            "switch: sw-1, port 7")),
}


def pdf_text(data: bytes) -> list[str]:
    """Each page's text as a PDF reader extracts it."""
    assert data[:5] == b"%PDF-"
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


@pytest.fixture
def register(tmp_path: Path) -> Iterator[Register]:
    """A complex of each kind but monitors: a recorded camera on a switch's port and a UPS,
    a server with its disk (which has an open fault), the viewing software, and a
    decommissioned UPS."""
    engine = make_engine(f"sqlite:///{tmp_path / 'catalog.db'}")
    migrate(engine)
    catalog = Catalog(engine)
    catalog.add_camera("gate-1", "rtsp://10.0.0.5/main", zone=Zone.ENTRANCE,
                       building="Бас ғимарат", floor="1", location="Басты кіреберіс")
    reg = Register(catalog.session, BUILDINGS, clock=lambda: NOW)

    def add(kind: Kind, name: str, state: State = State.IN_SERVICE, **values: str) -> None:
        reg.add(kind, name, check_passport(values, BUILDINGS), by="it", state=state)

    add(Kind.UPS, "ups-1", model="Smart-UPS 1500", manufacturer="APC", serial="UPS-7781",
        inventory_no="ИН-000114", building="Бас ғимарат", floor="0", room="Серверлік бөлме",
        installed="2026-06-01")
    add(Kind.UPS, "ups-old", State.DECOMMISSIONED, building="Жатақхана №2")
    add(Kind.SWITCH, "sw-1", model="SG350-28P", manufacturer="Cisco", serial="SW-24P-0912",
        firmware="2.5.9.54", building="Бас ғимарат", floor="1", room="Телекоммуникация шкафы",
        power="ups-1")
    add(Kind.SERVER, "rec-1", model="PowerEdge R450", manufacturer="Dell",
        serial="SRV-2026-01", building="Бас ғимарат", room="Серверлік бөлме", power="ups-1",
        uplink="sw-1", uplink_port="24")
    add(Kind.STORAGE, "disk-1", model="WD Red Pro 12 TB", serial="WD-ZR4B1K9Q",
        part_of="rec-1")
    add(Kind.SOFTWARE, "kuzet", firmware="2026.12", serial="KZT-LIC-42")
    reg.update("gate-1", check_passport(
        {"model": "DS-2CD2143G2-I", "manufacturer": "Hikvision", "serial": "CAM-0001",
         "inventory_no": "ИН-000231", "installed": "2026-08-01", "uplink": "sw-1",
         "uplink_port": "7", "power": "ups-1"}, BUILDINGS), by="it")
    reg.write_log("disk-1", EntryKind.FAULT, "Қайта тағайындалған секторлар: 12", by="it")
    yield reg
    engine.dispose()


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_the_passport_says_the_whole_complex_in_each_language(register: Register,
                                                              lang: str) -> None:
    pdf = passport_of(register, organisation=ORGANISATION, lang=lang, font=FONT,
                      now_ns=NOW, zone=ZONE, intervals={})
    pages = pdf_text(pdf)
    text = "\n".join(pages)
    title, sections, words = EXPECTED[lang]
    assert title in text
    assert ORGANISATION in text
    assert "UE-10-22" in text
    assert "3.3.1–3.3.8" in text
    assert "21.09.2026 19:00:00 (Asia/Almaty)" in text  # the instant in the display zone
    for expected in (*sections, *words, *SERIALS, "gate-1", "sw-1", "rec-1", "disk-1",
                     "ups-old", "Бас ғимарат", "Жатақхана №2", "Басты кіреберіс", "ИН-000231",
                     "01.08.2026", "Қайта тағайындалған секторлар: 12"):
        assert expected in text, (lang, expected, text)
    # in the regulation's order, and each kind's state counted
    at = [text.index(s) for s in sections[:7]]
    assert at == sorted(at)
    # the camera's check (installed 01.08.2026, monthly) and the UPS's are overdue; the
    # decommissioned UPS is never due
    checks = text[text.index(sections[7]):]
    assert "31.08.2026" in checks
    assert "30.08.2026" in checks
    assert "ups-old" not in checks
    assert CHECKS[lang]["camera"].split(",")[0] in checks
    assert f"{TEXT[lang]['page']} 1 / {len(pages)}" in pages[0]
    meta = PdfReader(io.BytesIO(pdf)).metadata
    assert meta is not None
    assert meta.title == f"{title} — {ORGANISATION}"


def test_each_label_is_said_in_each_language() -> None:
    """Every kind and state of the register has its words, and Kazakh and Russian say
    them rather than copying the English."""
    for table in (TEXT, KINDS, STATES, CHECKS):
        assert set(table) == {"kk", "ru", "en"}
        assert set(table["kk"]) == set(table["ru"]) == set(table["en"])
        for key, english in table["en"].items():
            assert table["kk"][key] != english, key
            assert table["ru"][key] != english, key
    assert set(KINDS["en"]) == set(CHECKS["en"]) == {k.value for k in Kind}
    assert set(STATES["en"]) == {s.value for s in State}


def _many() -> list[ItemView]:
    blank: dict[str, str | None] = {k: None for k in (*TEXT_FIELDS, *LINK_FIELDS)}
    cams = [ItemView("camera", f"cam{i:03d}", "in_service", {
        **blank, "model": "DS-2CD2143G2-I", "manufacturer": "Hikvision",
        "serial": f"SN-{i:05d}", "building": "Бас ғимарат", "floor": str(i % 5),
        "room": "Оқу залы, " * (i % 4) + f"{100 + i}", "installed": "2026-01-15",
        "uplink": "sw-1", "uplink_port": f"Gi1/0/{i % 48}", "power": "ups-1"})
        for i in range(199)]
    # a serial as long as the register allows, with nowhere to break it, and a long room
    odd = ItemView("switch", "sw-1", "under_repair", {
        **blank, "serial": "X" * 64, "room": "Телекоммуникация шкафы " * 8})
    return [*cams, odd]


def test_two_hundred_items_run_over_pages_and_stay_on_them() -> None:
    pdf = passport_pdf(_many(), [], [], organisation=ORGANISATION * 3, lang="en", font=FONT,
                       now_ns=NOW, zone=ZONE)
    reader = PdfReader(io.BytesIO(pdf))
    pages = [page.extract_text() for page in reader.pages]
    assert len(pages) > 5
    text = "\n".join(pages)
    for i in range(199):
        assert f"cam{i:03d}" in text
        assert f"SN-{i:05d}" in text
    # the table's header on every page the cameras' table runs on
    with_cameras = [p for p in pages if "cam" in p]
    assert len(with_cameras) > 3
    assert all("Serial number" in p and "Inventory number" in p for p in with_cameras)
    # the long serial wrapped within its column, every character kept
    assert "X" * 64 not in text
    assert "X" * 64 in "".join(text.split())
    assert "under repair" in text
    assert all(f"page {n} / {len(pages)}" in p for n, p in enumerate(pages, 1))
    # no text runs off a page: each piece ends inside the page's right margin
    with ruler() as measure:
        for page in reader.pages:
            _inside(page, measure)


@contextlib.contextmanager
def ruler() -> Iterator[FPDF]:
    """A document in points to measure text in the passport's font with; output at the
    end, which is when fpdf2 closes the font file it opened."""
    pdf = FPDF(unit="pt")
    pdf.add_font("Body", "", str(FONT))
    pdf.add_page()
    try:
        yield pdf
    finally:
        pdf.output()


def _inside(page: PageObject, ruler: FPDF) -> None:
    """Each piece of the page's text ends within the right margin (10 mm, 28 pt; 20 pt
    leaves the reader's rounding room)."""
    width = float(page.mediabox.width)
    ends: list[tuple[float, str]] = []

    def seen(text: str, cm: list[float], tm: list[float], _font: object,
             size: float) -> None:
        if text.strip():
            ruler.set_font("Body", size=size)
            x = tm[4] * cm[0] + cm[4]
            ends.append((x + ruler.get_string_width(text.rstrip("\n")), text))

    page.extract_text(visitor_text=seen)
    assert ends
    overflow = [(round(end, 1), t) for end, t in ends if end > width - 20]
    assert not overflow, overflow


def test_a_missing_font_is_named(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="fonts-dejavu-core"):
        passport_pdf([], [], [], organisation="U", lang="kk", font=tmp_path / "none.ttf",
                     now_ns=NOW, zone=ZONE)


def test_the_same_register_at_the_same_instant_gives_the_same_bytes() -> None:
    """A passport printed twice is one document: dated by the instant it was drawn up,
    not by when it was rendered."""
    first, again = (passport_pdf(_many()[:3], [], [], organisation="U", lang="ru", font=FONT,
                                 now_ns=NOW, zone=ZONE) for _ in range(2))
    assert first == again
