"""The regulation's documents as PDF, in Kazakh, Russian or English.

fpdf2 embeds the font's glyphs that a document uses; the font must cover Kazakh letters
(ә, ғ, қ, ң, ө, ұ, ү, һ, і): DejaVu Sans does (Debian `fonts-dejavu-core`, the
`document_font` setting). Each document carries its number, the instants in the display
time zone, signature lines, and the hash of the audit entry that registered it, so a
printed page can be traced to the log.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

from kuzet.errors import Unavailable
from kuzet.governance.models import Act, Protocol, Transfer, ViewingSession
from kuzet.governance.viewings import Attendee
from kuzet.signing import grouped
from kuzet.timefmt import format_instant

if TYPE_CHECKING:
    from fpdf import FPDF

LANGUAGES = ("kk", "ru", "en")
TEXT: dict[str, dict[str, str]] = {
    "kk": {
        "title": "ХАТТАМА", "to": "Басқармаға",
        "about": "Бейнебақылау мониторларынан байқалған оқиға туралы "
                 "(UE-10-22 ережесінің 3.5.7-тармағы)",
        "draft": "ЖОБА — тіркелмеген", "number": "Нөмірі", "at": "Оқиғаның күні мен уақыты",
        "camera": "Камера", "location": "Орны", "circumstances": "Мән-жайы",
        "measures": "Қабылданған шаралар",
        "informed": "Ішкі қауіпсіздік басшысына ауызша хабарланған уақыт",
        "author": "Құрастырған", "submitted": "Тіркелген", "reviewed": "Қараған",
        "note": "Ескертпе", "signature": "Қолы", "snapshot": "Оқиға сәтіндегі кадр",
        "no_snapshot": "Кадр жоқ (жазба жоқ немесе жазбасымен бірге жойылды)",
        "trace": "Аудит жазбасының хэші",
        "frame_left_out": "Басқарма данасында кадр берілмейді: ол бейнежазба "
                          "(UE-10-22 ережесінің 3.5.4-тармағы)",
        "act": "АКТ", "act_about": "Тәртіп бұзушылықты рәсімдеу туралы "
                                  "(UE-10-22 ережесінің 3.5.8-тармағы)",
        "act_to": "Ішкі қауіпсіздік қызметі", "protocols": "Негіз болған хаттамалар",
        "what": "Не болды", "persons": "Қатысқан адамдар (адамдар жазғандай)",
        "witnesses": "Куәгерлер", "consequences": "Салдары",
        "viewing": "БЕЙНЕЖАЗБАНЫ ҚАРАУ ХАТТАМАСЫ",
        "viewing_about": "Жазбада бейнеленген адамдардың, олардың ата-аналарының немесе заңды "
                         "өкілдерінің, құқық қорғау органдары қызметкерлерінің қатысуымен "
                         "(UE-10-22 ережесінің 3.5.5-тармағы)",
        "held": "Қаралған уақыты", "conducted": "Жүргізген", "footage": "Көрсетілген жазба",
        "purpose": "Мақсаты", "attendees": "Қатысқандар (аты-жөні — мәртебесі — құжаты)",
        "depicted": "жазбада бейнеленген адам",
        "parent_or_representative": "ата-анасы немесе заңды өкілі",
        "law_enforcement": "құқық қорғау органының қызметкері", "staff": "қызметкер",
        "handover": "ҚАБЫЛДАУ-ТАПСЫРУ АКТІСІ",
        "handover_about": "Бейнежазбаны үшінші тұлғаларға беру туралы (UE-10-22 ережесінің "
                          "3.5.6-тармағы)",
        "requester": "Сұраушы", "investigative_body": "тергеу органы", "court": "сот",
        "depicted_person": "жазбада бейнеленген адам", "basis": "Негіз (құжат нөмірі, күні)",
        "decision": "Ректордың шешімі", "expires": "Шешімнің мерзімі",
        "exported": "Берілген жазба (UTC)", "package": "Бума файлы",
        "package_sha": "Буманың SHA-256 хэші", "manifest_sha": "Манифесттің SHA-256 хэші",
        "fingerprint": "Қолтаңба кілтінің саусақ ізі (Ed25519)",
        "handed": "Тапсырған", "received": "Қабылдаған (аты-жөні, құжаты)",
    },
    "ru": {
        "title": "ПРОТОКОЛ", "to": "Правлению",
        "about": "о происшествии, замеченном на мониторах видеонаблюдения "
                 "(п. 3.5.7 Положения UE-10-22)",
        "draft": "ПРОЕКТ — не зарегистрирован", "number": "Номер",
        "at": "Дата и время происшествия", "camera": "Камера", "location": "Место",
        "circumstances": "Обстоятельства", "measures": "Принятые меры",
        "informed": "Время устного доклада руководителю внутренней безопасности",
        "author": "Составил", "submitted": "Зарегистрирован", "reviewed": "Рассмотрел",
        "note": "Примечание", "signature": "Подпись", "snapshot": "Кадр в момент происшествия",
        "no_snapshot": "Кадра нет (нет записи или удалён вместе с ней)",
        "trace": "Хэш записи аудита",
        "frame_left_out": "В экземпляре Правления кадр не приводится: это видеозапись "
                          "(п. 3.5.4 Положения UE-10-22)",
        "act": "АКТ", "act_about": "об оформлении нарушения (п. 3.5.8 Положения UE-10-22)",
        "act_to": "Служба внутренней безопасности", "protocols": "Протоколы-основания",
        "what": "Что произошло", "persons": "Участвовавшие лица (со слов людей)",
        "witnesses": "Свидетели", "consequences": "Последствия",
        "viewing": "ПРОТОКОЛ ПРОСМОТРА ВИДЕОЗАПИСИ",
        "viewing_about": "в присутствии изображённых лиц, их родителей или законных "
                         "представителей, сотрудников правоохранительных органов "
                         "(п. 3.5.5 Положения UE-10-22)",
        "held": "Время просмотра", "conducted": "Провёл", "footage": "Показанная запись",
        "purpose": "Цель", "attendees": "Присутствовали (ФИО — статус — документ)",
        "depicted": "изображённое лицо",
        "parent_or_representative": "родитель или законный представитель",
        "law_enforcement": "сотрудник правоохранительных органов", "staff": "сотрудник",
        "handover": "АКТ ПРИЁМА-ПЕРЕДАЧИ",
        "handover_about": "видеозаписи третьим лицам (п. 3.5.6 Положения UE-10-22)",
        "requester": "Запросивший", "investigative_body": "орган следствия", "court": "суд",
        "depicted_person": "изображённое лицо", "basis": "Основание (номер, дата документа)",
        "decision": "Решение ректора", "expires": "Срок действия решения",
        "exported": "Переданная запись (UTC)", "package": "Файл пакета",
        "package_sha": "SHA-256 пакета", "manifest_sha": "SHA-256 манифеста",
        "fingerprint": "Отпечаток ключа подписи (Ed25519)",
        "handed": "Передал", "received": "Принял (ФИО, документ)",
    },
    "en": {
        "title": "PROTOCOL", "to": "To the Management Board",
        "about": "of an incident seen on the surveillance monitors "
                 "(clause 3.5.7 of Regulation UE-10-22)",
        "draft": "DRAFT — not registered", "number": "Number",
        "at": "Date and time of the incident", "camera": "Camera", "location": "Location",
        "circumstances": "Circumstances", "measures": "Measures taken",
        "informed": "Head of internal security informed orally at", "author": "Written by",
        "submitted": "Registered", "reviewed": "Reviewed by", "note": "Note",
        "signature": "Signature", "snapshot": "Frame at the instant of the incident",
        "no_snapshot": "No frame (nothing recorded, or deleted with its footage)",
        "trace": "Audit entry hash",
        "frame_left_out": "Left out of the Management Board's copy: the frame is "
                          "footage (clause 3.5.4 of Regulation UE-10-22)",
        "act": "ACT", "act_about": "formalising a violation (clause 3.5.8 of Regulation "
                                   "UE-10-22)",
        "act_to": "Internal Security Service", "protocols": "Protocols it rests on",
        "what": "What happened", "persons": "Persons involved (as people wrote them)",
        "witnesses": "Witnesses", "consequences": "Consequences",
        "viewing": "MINUTES OF A VIEWING OF RECORDED VIDEO",
        "viewing_about": "attended by people shown, their parents or legal representatives, "
                         "or law-enforcement officers (clause 3.5.5 of Regulation UE-10-22)",
        "held": "Held at", "conducted": "Conducted by", "footage": "Footage shown",
        "purpose": "Purpose", "attendees": "Attended (name — capacity — identity document)",
        "depicted": "person shown", "parent_or_representative": "parent or legal "
        "representative", "law_enforcement": "law-enforcement officer", "staff": "staff",
        "handover": "HAND-OVER ACT",
        "handover_about": "of footage to a third party (clause 3.5.6 of Regulation UE-10-22)",
        "requester": "Requested by", "investigative_body": "investigative body",
        "court": "court", "depicted_person": "person shown",
        "basis": "Basis (document number, date)", "decision": "Rector's decision",
        "expires": "Decision valid until", "exported": "Footage handed over (UTC)",
        "package": "Package file", "package_sha": "Package SHA-256",
        "manifest_sha": "Manifest SHA-256", "fingerprint": "Signing key fingerprint (Ed25519)",
        "handed": "Handed over by", "received": "Received by (name, identity document)",
    },
}


class DocumentError(Unavailable):
    """The document cannot be rendered here (its font is missing)."""


def local(ns: int | None, zone: str) -> str:
    if ns is None:
        return "—"
    t = datetime.fromtimestamp(ns / 1e9, UTC).astimezone(ZoneInfo(zone))
    return f"{t:%d.%m.%Y %H:%M:%S} ({zone})"


def new_pdf(font: Path, orientation: Literal["P", "L"] = "P",
            footer: Callable[[FPDF], None] | None = None,
            paper: Literal["A4", "A3"] = "A4") -> FPDF:
    """An A4 (or A3: a warning sign) document with its first page, writing in `font` as
    "Body"; landscape ("L") for the wide tables of the equipment passport; `footer`
    writes each page's foot as the page closes (where fpdf2 keeps that page's font
    state: text added to a finished page afterwards takes whatever font that page's
    stream last set)."""
    # fpdf2 (with fontTools) costs 0.85 s of CPU to import: imported at the first
    # document, not at each `kuzet serve` or `kuzet` command's start.
    from fpdf import FPDF

    class Document(FPDF):
        def footer(self) -> None:
            if footer is not None:
                footer(self)

    if not font.is_file():
        raise DocumentError("the document font {font} is missing (install Debian's "
                            "fonts-dejavu-core or set document_font)", font=font)
    pdf = Document(orientation=orientation, format=paper)
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_font("Body", "", str(font))
    pdf.add_page()
    return pdf


def heading(pdf: FPDF, text: str) -> None:
    """A section's title, moved to the next page with its table where fewer than the title
    and two rows would fit under it (a title alone at a page's foot)."""
    if pdf.get_y() > pdf.h - pdf.b_margin - 30:
        pdf.add_page()
    pdf.ln(3)
    pdf.set_font("Body", size=12)
    pdf.multi_cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)


def table(pdf: FPDF, widths: Sequence[float], header: Sequence[str],
          rows: Sequence[Sequence[str]], empty: str | None = None, size: float = 7.5
          ) -> None:
    """`rows` under `header`, the header again at the top of each page the table runs on,
    each cell wrapped within its column (by word, a word longer than its column by
    character)."""
    from fpdf.fonts import FontFace

    pdf.set_font("Body", size=size)
    if not rows and empty is not None:
        pdf.multi_cell(0, 5, empty, new_x="LMARGIN", new_y="NEXT")
        return
    with pdf.table(col_widths=tuple(widths), width=sum(widths), align="LEFT",
                   text_align="LEFT", line_height=3.6, padding=1, repeat_headings=1,
                   headings_style=FontFace(emphasis="", fill_color=(225, 225, 225))
                   ) as table:
        for cells in (header, *rows):
            row = table.row()
            for cell in cells:
                row.cell(cell or "—")


@dataclass(frozen=True)
class Page:
    """What a document says, in the order it is printed."""

    addressee: str
    title: str
    about: str
    draft: bool
    rows: list[tuple[str, str]]
    signers: list[str]
    image: tuple[str, bytes | None] | None = None  # label, PNG


def render(page: Page, lang: str, font: Path, trace: str | None) -> bytes:
    t = TEXT[lang]
    pdf = new_pdf(font)
    pdf.set_font("Body", size=11)
    pdf.cell(0, 6, page.addressee, new_x="LMARGIN", new_y="NEXT", align="R")
    pdf.ln(4)
    pdf.set_font("Body", size=16)
    pdf.cell(0, 9, page.title, new_x="LMARGIN", new_y="NEXT", align="C")
    pdf.set_font("Body", size=10)
    pdf.multi_cell(0, 5, page.about, align="C", new_x="LMARGIN", new_y="NEXT")
    if page.draft:
        pdf.cell(0, 7, t["draft"], new_x="LMARGIN", new_y="NEXT", align="C")
    pdf.ln(4)
    pdf.set_font("Body", size=11)
    for label, value in page.rows:
        pdf.set_text_color(90, 90, 90)
        pdf.cell(0, 6, label, new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
        pdf.multi_cell(0, 6, value or "—", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
    if page.image is not None:
        label, png = page.image
        pdf.ln(2)
        pdf.cell(0, 6, label, new_x="LMARGIN", new_y="NEXT")
        if png:
            pdf.image(io.BytesIO(png), w=110)
        else:
            pdf.cell(0, 6, t["no_snapshot"], new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)
    for who in page.signers:
        pdf.cell(0, 8, f"{t['signature']}: ____________________  ({who})",
                 new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Body", size=8)
    pdf.multi_cell(0, 4, f"{t['trace']}: {trace or '—'}", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def protocol_pdf(p: Protocol, camera: str, people: Mapping[str, str], lang: str, zone: str,
                 font: Path, trace: str | None, board_copy: bool = False) -> bytes:
    """The protocol, its people named as `people` says (kuzet.access.accounts.as_signed);
    the Management Board's copy (`board_copy`) says its frame is left out instead of
    printing it: the Board reads the document, not the footage (3.5.4, 3.5.7)."""
    t = TEXT[lang]
    author = people.get(p.author, p.author)
    rows = [(t["at"], local(p.at_ns, zone)), (t["camera"], camera),
            (t["location"], p.location), (t["circumstances"], p.circumstances),
            (t["measures"], p.measures), (t["informed"], local(p.informed_ns, zone)),
            (t["author"], author), (t["submitted"], local(p.submitted_ns, zone))]
    signers = [author]
    if p.reviewed_by:
        reviewer = people.get(p.reviewed_by, p.reviewed_by)
        signers.append(reviewer)
        rows += [(t["reviewed"], f"{reviewer}, {local(p.reviewed_ns, zone)}"),
                 (t["note"], p.review_note or "—")]
    if board_copy:
        rows.append((t["snapshot"], t["frame_left_out"]))
    return render(Page(t["to"], f"{t['title']} № {p.number or '—'}", t["about"],
                       p.number is None, rows, signers,
                       None if board_copy else (t["snapshot"], p.snapshot_png)),
                  lang, font, trace)


def act_pdf(a: Act, protocols: list[str], people: Mapping[str, str], lang: str, zone: str,
            font: Path, trace: str | None) -> bytes:
    t = TEXT[lang]
    author = people.get(a.author, a.author)
    rows = [(t["protocols"], ", ".join(protocols)), (t["what"], a.what),
            (t["persons"], a.persons), (t["witnesses"], a.witnesses),
            (t["consequences"], a.consequences), (t["measures"], a.measures),
            (t["author"], author), (t["submitted"], local(a.registered_ns, zone))]
    return render(Page(t["act_to"], f"{t['act']} № {a.number or '—'}", t["act_about"],
                       a.number is None, rows, [author]), lang, font, trace)


def viewing_pdf(v: ViewingSession, cameras: list[str], attendees: list[Attendee],
                people: Mapping[str, str], lang: str, zone: str, font: Path,
                trace: str | None) -> bytes:
    t = TEXT[lang]
    conducted = people.get(v.conducted_by, v.conducted_by)
    present = "\n".join(f"{a.name} — {t[a.capacity]} — {a.document}" for a in attendees)
    rows = [(t["held"], local(v.held_ns, zone)), (t["conducted"], conducted),
            (t["camera"], ", ".join(cameras)),
            (t["footage"], f"{local(v.start_ns, zone)} — {local(v.end_ns, zone)}"),
            (t["purpose"], v.purpose), (t["attendees"], present)]
    return render(Page(t["act_to"], f"{t['viewing']} № {v.number}", t["viewing_about"],
                       False, rows, [conducted, *(a.name for a in attendees)]),
                  lang, font, trace)



def handover_pdf(t: Transfer, people: Mapping[str, str], lang: str, zone: str, font: Path,
                 trace: str | None, organisation: str) -> bytes:
    t_ = TEXT[lang]
    decided = people.get(t.decided_by or "", t.decided_by or "")
    handed = people.get(t.executed_by or "", t.executed_by or "")
    exported = "\n".join(
        f"{c['camera']}: {f['file']} — {format_instant(f['from_ns'])} … "
        f"{format_instant(f['to_ns'])}, {f['frames']}" for c in json.loads(t.exported or "[]")
        for f in c["files"])
    rows = [(t_["requester"], f"{t_[t.requester_type]}: {t.requester}"),
            (t_["basis"], f"№ {t.basis_number}, {t.basis_date}"),
            (t_["decision"], f"{decided}, {local(t.decided_ns, zone)}"),
            (t_["expires"], local(t.expires_ns, zone)), (t_["exported"], exported),
            (t_["package"], t.package_file or "—"),
            (t_["package_sha"], t.package_sha256 or "—"),
            (t_["manifest_sha"], t.manifest_sha256 or "—"),
            (t_["fingerprint"], grouped(t.key_fingerprint or "")),
            (t_["handed"], f"{handed}, {local(t.executed_ns, zone)}"),
            (t_["received"], f"{t.recipient} — {t.recipient_document}")]
    return render(Page(organisation, f"{t_['handover']} № {t.number}", t_["handover_about"],
                       False, rows, [handed, t.recipient or ""]), lang, font, trace)
