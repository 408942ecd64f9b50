"""What Kuzet prints for telling people (UE-10-22 3.4.5; issue 23): the warning sign that
hangs before a place, and the coverage report (PDF and CSV). Pure over what the register
read: no database, no clock.

The sign is drawn from the register so that what hangs on the wall says what the system
does: the pictogram (a camera, drawn here with lines and shapes, no picture file), the
warning and the text in Kazakh, Russian and English naming the university, the purpose
(3.2), whether sound is recorded there (only by the rector's order, 3.1.2), how long
recordings are kept at most (the longest of the place's cameras, at most 30 days),
the regulation's number and whom to ask; the place it belongs to in small print at the
foot, so a sign is hung where it was printed for. A4 or A3, portrait.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from kuzet.csvcells import escape
from kuzet.governance.documents import heading, new_pdf, table
from kuzet.notice.coverage import Finding, PlaceFacts

if TYPE_CHECKING:
    from fpdf import FPDF

LANGS = ("kk", "ru", "en")
SIGN: Mapping[str, Mapping[str, str]] = {
    "kk": {"warning": "НАЗАР АУДАРЫҢЫЗ! БЕЙНЕБАҚЫЛАУ ЖҮРГІЗІЛЕДІ",
           "text": "{org}. Бейнебақылау оқу үдерісінің қауіпсіздігі, адамдар мен мүлікті "
                   "қорғау үшін ашық жүргізіледі (UE-10-22 ережесі, 3.2). {sound} "
                   "Жазбалар ең көбі {days} күн сақталады. Сұрақтар бойынша: {contact}.",
           "silent": "Бейне ғана жазылады, дыбыс жазылмайды.",
           "sound": "Ректордың бұйрығы бойынша бейне мен дыбыс жазылады.",
           "contact": "ішкі қауіпсіздік қызметі"},
    "ru": {"warning": "ВНИМАНИЕ! ВЕДЁТСЯ ВИДЕОНАБЛЮДЕНИЕ",
           "text": "{org}. Видеонаблюдение ведётся открыто для безопасности "
                   "образовательного процесса, защиты людей и имущества (Положение "
                   "UE-10-22, п. 3.2). {sound} Записи хранятся не более {days} дней. По "
                   "вопросам: {contact}.",
           "silent": "Записывается только изображение, без звука.",
           "sound": "По приказу ректора записываются изображение и звук.",
           "contact": "служба внутренней безопасности"},
    "en": {"warning": "VIDEO SURVEILLANCE IN OPERATION",
           "text": "{org}. Overt video surveillance for the safety of the educational "
                   "process and the protection of people and property (Regulation "
                   "UE-10-22, 3.2). {sound} Recordings are kept at most {days} days. "
                   "Questions: {contact}.",
           "silent": "Pictures only, no sound.",
           "sound": "Pictures and sound are recorded, by the rector's order.",
           "contact": "the internal security service"},
}
REPORT: Mapping[str, Mapping[str, str]] = {
    "kk": {"title": "БЕЙНЕБАҚЫЛАУ ТУРАЛЫ ХАБАРДАР ЕТУ: ОРЫНДАР МЕН БЕЛГІЛЕР",
           "about": "UE-10-22 ережесінің 3.4.5-тармағы: камералар бақылайтын аймақтар "
                    "алдындағы ескерту белгілері",
           "unplaced": "Камера ешбір орынға жатқызылмаған",
           "no_sign": "Камералары бар, белгісі жоқ орын",
           "named": "3.4.5-тармақ атаған бөлме, белгісі жоқ",
           "overdue": "Белгіні тексеру мерзімі өткен",
           "finding": "Табылғаны", "building": "Ғимарат", "floor": "Қабат",
           "place": "Орын", "zone": "Аймақ", "cameras": "Камералар", "since": "Соңғы тексеру",
           "none": "Кемшілік табылмады: камералары бар әр орынның алдында белгі тұр.",
           "places": "Орындар", "signs": "Орнатылған белгілер"},
    "ru": {"title": "ИНФОРМИРОВАНИЕ О ВИДЕОНАБЛЮДЕНИИ: МЕСТА И ЗНАКИ",
           "about": "Пункт 3.4.5 положения UE-10-22: предупреждающие знаки перед зонами "
                    "наблюдения камер",
           "unplaced": "Камера не отнесена ни к одному месту",
           "no_sign": "Место с камерами без знака",
           "named": "Помещение, названное в п. 3.4.5, без знака",
           "overdue": "Просрочена проверка знака",
           "finding": "Замечание", "building": "Здание", "floor": "Этаж",
           "place": "Место", "zone": "Зона", "cameras": "Камеры",
           "since": "Последняя проверка",
           "none": "Замечаний нет: перед каждым местом с камерами стоит знак.",
           "places": "Мест", "signs": "Установленных знаков"},
    "en": {"title": "TELLING PEOPLE OF VIDEO SURVEILLANCE: PLACES AND SIGNS",
           "about": "UE-10-22 3.4.5: warning signs before the areas cameras watch",
           "unplaced": "Camera covers no place of the register",
           "no_sign": "Place with cameras and no sign",
           "named": "Room named in 3.4.5 with no sign",
           "overdue": "Sign's check overdue",
           "finding": "Finding", "building": "Building", "floor": "Floor", "place": "Place",
           "zone": "Zone", "cameras": "Cameras", "since": "Last check",
           "none": "Nothing found: a sign stands before every place with cameras.",
           "places": "Places", "signs": "Signs in place"},
}
REPORT_COLUMNS = (52.0, 28.0, 14.0, 50.0, 30.0, 60.0, 23.0)  # of a landscape page's 277


def _pictogram(pdf: FPDF, x: float, y: float, size: float) -> None:
    """A camera on its bracket, in black on a yellow disc, `size` mm across, drawn with
    lines and shapes (no picture file)."""
    pdf.set_fill_color(255, 204, 0)
    pdf.set_draw_color(0, 0, 0)
    pdf.set_line_width(size / 40)
    pdf.ellipse(x, y, size, size, style="DF")
    u = size / 10
    pdf.set_fill_color(0, 0, 0)
    # the body, tilted down to the right as a camera under a ceiling looks
    body = [(x + 2.2 * u, y + 3.0 * u), (x + 7.2 * u, y + 4.2 * u),
            (x + 6.7 * u, y + 6.2 * u), (x + 1.7 * u, y + 5.0 * u)]
    pdf.polygon(body, style="F")
    # the lens hood at its front, the bracket to the wall
    pdf.polygon([(x + 7.2 * u, y + 4.2 * u), (x + 8.3 * u, y + 4.0 * u),
                 (x + 7.6 * u, y + 6.9 * u), (x + 6.7 * u, y + 6.2 * u)], style="F")
    pdf.rect(x + 3.6 * u, y + 5.6 * u, 0.7 * u, 2.0 * u, style="F")
    pdf.rect(x + 1.9 * u, y + 7.3 * u, 2.4 * u, 0.7 * u, style="F")


def sign_pdf(font: Path, organisation: str, place: PlaceFacts, days: int, contact: str,
             sound: bool, paper: Literal["A4", "A3"] = "A4") -> bytes:
    """The warning sign for `place`: `days` of retention (at most), `contact` whom to ask
    (one text for every language; empty: the internal security service, said in each),
    `sound` when a camera of the place keeps its sound by the rector's order (3.1.2)."""
    pdf = new_pdf(font, paper=paper)
    scale = pdf.w / 210  # A3 draws the A4 sign larger by the paper's ratio
    pdf.set_margins(15 * scale, 15 * scale)
    pdf.set_auto_page_break(False)
    size = 70 * scale
    _pictogram(pdf, (pdf.w - size) / 2, 15 * scale, size)
    pdf.set_y(15 * scale + size + 5 * scale)
    for lang in LANGS:
        t = SIGN[lang]
        pdf.set_font("Body", size=(17 if lang != "en" else 14) * scale)
        pdf.multi_cell(0, 8 * scale, t["warning"], align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Body", size=(10.5 if lang != "en" else 9) * scale)
        pdf.multi_cell(0, 5.2 * scale, t["text"].format(
            org=organisation, days=days, contact=contact or t["contact"],
            sound=t["sound" if sound else "silent"]), align="C",
            new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4 * scale)
    pdf.set_y(pdf.h - 22 * scale)
    pdf.set_font("Body", size=8 * scale)
    where = ", ".join(x for x in (place.building, place.floor, place.room) if x)
    pdf.multi_cell(0, 4 * scale, f"UE-10-22 · {place.name}: {where}", align="C",
                   new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _what(f: Finding, t: Mapping[str, str]) -> str:
    return t["named"] if f.finding == "no_sign" and f.named else t[f.finding]


def coverage_pdf(font: Path, organisation: str, findings: Sequence[Finding],
                 places: Sequence[PlaceFacts], zones: Mapping[str, str], drawn: str,
                 lang: str) -> bytes:
    """The coverage report in `lang` (`zones`: each installation zone's name in it)."""
    t = REPORT[lang]
    pdf = new_pdf(font, orientation="L")
    pdf.set_font("Body", size=11)
    pdf.multi_cell(0, 6, organisation, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Body", size=14)
    pdf.multi_cell(0, 8, t["title"], align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Body", size=10)
    pdf.multi_cell(0, 5, f"{t['about']}. {drawn}", align="C", new_x="LMARGIN", new_y="NEXT")
    signs = sum(1 for p in places for s in p.signs if s.removed is None)
    pdf.multi_cell(0, 5, f"{t['places']}: {len(places)}; {t['signs']}: {signs}",
                   align="C", new_x="LMARGIN", new_y="NEXT")
    heading(pdf, f"{t['finding']} ({len(findings)})")
    table(pdf, REPORT_COLUMNS, [t["finding"], t["building"], t["floor"], t["place"],
                                t["zone"], t["cameras"], t["since"]],
          [[_what(f, t), f.building, f.floor, f" {f.place}: {f.room}".strip(": ")
            if f.place else "", zones.get(f.zone, f.zone), ", ".join(f.cameras), f.since]
           for f in findings], t["none"])
    return bytes(pdf.output())


CSV_COLUMNS = ("finding", "building", "floor", "place", "room", "zone", "named_room",
               "cameras", "sign", "since")


def coverage_csv(findings: Sequence[Finding]) -> str:
    """The findings, one row each, cells escaped against spreadsheet formulas."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(CSV_COLUMNS)
    for f in findings:
        w.writerow([escape(v) for v in (
            f.finding, f.building, f.floor, f.place, f.room, f.zone,
            "yes" if f.named else "no", " ".join(f.cameras),
            f.sign if f.sign is not None else "", f.since)])
    return out.getvalue()


SHEET: Mapping[str, Mapping[str, str]] = {
    "kk": {"title": "UE-10-22 «Бейнебақылау жүйесі туралы» ЕРЕЖЕСІМЕН ТАНЫСУ ПАРАҒЫ",
           "sheet": "Парақ № {sheet}", "unit": "Бөлімше", "group": "Топ",
           "edition": "{label}: ректордың {date} № {order} бұйрығы",
           "amendment": "UE-10-22, {number} өзгеріс",
           "read": "Төменде қол қойғандар бейнебақылау туралы ережемен танысты (3.1.4, "
                   "3.4.7-тармақтар).",
           "no": "№", "name": "Тегі, аты, әкесінің аты", "signature": "Қолы", "date": "Күні",
           "label": "UE-10-22, {number}-басылым"},
    "ru": {"title": "ЛИСТ ОЗНАКОМЛЕНИЯ С ПОЛОЖЕНИЕМ UE-10-22 «О СИСТЕМЕ ВИДЕОНАБЛЮДЕНИЯ»",
           "sheet": "Лист № {sheet}", "unit": "Подразделение", "group": "Группа",
           "edition": "{label}: приказ ректора № {order} от {date}",
           "amendment": "UE-10-22, изменение {number}",
           "read": "Нижеподписавшиеся ознакомлены с положением о видеонаблюдении (пп. "
                   "3.1.4, 3.4.7).",
           "no": "№", "name": "Фамилия, имя, отчество", "signature": "Подпись",
           "date": "Дата", "label": "UE-10-22, редакция {number}"},
}
SHEET_COLUMNS = (10.0, 80.0, 30.0, 45.0, 25.0)  # №, name, group, signature, date: 190 mm


def sheet_pdf(font: Path, organisation: str, sheet: int,
              editions: Sequence[tuple[str, str, str, str]], summary: str | None, unit: str,
              group: str | None, people: Sequence[tuple[str, str | None]], lang: str) -> bytes:
    """A sign-off sheet in Kazakh or Russian (3.4.7): the edition and the amendments in
    force since (`editions`: kind, number, order number, order date), the edition's
    summary, and a row per person (`people`: full name and group, in order) with room for
    a signature."""
    t = SHEET[lang]
    pdf = new_pdf(font)
    pdf.set_font("Body", size=10)
    pdf.multi_cell(0, 5, organisation, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Body", size=12)
    pdf.multi_cell(0, 7, t["title"], align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Body", size=10)
    pdf.multi_cell(0, 5, t["sheet"].format(sheet=sheet), align="C", new_x="LMARGIN",
                   new_y="NEXT")
    for kind, number, order_no, order_date in editions:
        day = f"{order_date[8:10]}.{order_date[5:7]}.{order_date[0:4]}"
        label = t["label" if kind == "edition" else "amendment"].format(number=number)
        pdf.multi_cell(0, 5, t["edition"].format(label=label, order=order_no, date=day),
                       new_x="LMARGIN", new_y="NEXT")
    if summary:
        pdf.multi_cell(0, 5, summary, new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(0, 5, t["read"], new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(0, 5, f"{t['unit']}: {unit}" + (f"; {t['group']}: {group}" if group
                                                   else ""), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    table(pdf, SHEET_COLUMNS, [t["no"], t["name"], t["group"], t["signature"], t["date"]],
          [[str(i), name, grp or "", " ", " "] for i, (name, grp) in
           enumerate(people, start=1)], size=10)
    return bytes(pdf.output())
