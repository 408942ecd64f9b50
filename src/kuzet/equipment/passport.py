"""The technical passport of the video surveillance system (UE-10-22 3.3.1-3.3.8) as a PDF
in Kazakh, Russian or English.

One document for the whole complex, in the regulation's order: the cameras (3.3.2), the
monitors and workstations (3.3.3), the UPSes (3.3.4), the recorders and servers (3.3.5),
the cable network (3.3.6), storage (3.3.7) and software (3.3.8), each a table of its
items' passports and links; then the counts by state, the open faults and the checks due,
which is what an inspection or a new head of the IT office (3.4.3) asks for first.

`passport_pdf` is pure over what the register read (no database, no clock); `passport_of`
is the thin shell the console and the command line call. Landscape A4: nine columns of a
passport do not fit a portrait page's 190 mm at a readable size. Each table breaks across
pages with its header repeated (fpdf2's table), and every cell wraps, a long serial number
or room included, so nothing runs off the page.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from kuzet.equipment.fields import Kind, State
from kuzet.equipment.register import Entry, ItemView, Register
from kuzet.equipment.schedule import Due, due_checks
from kuzet.governance.documents import heading, local, new_pdf, table
from kuzet.timefmt import campus_day

if TYPE_CHECKING:
    from fpdf import FPDF

# The regulation's clause of each part of the complex, in its order.
CLAUSES: Mapping[Kind, str] = {Kind.CAMERA: "3.3.2", Kind.MONITOR: "3.3.3",
                               Kind.UPS: "3.3.4", Kind.SERVER: "3.3.5",
                               Kind.SWITCH: "3.3.6", Kind.STORAGE: "3.3.7",
                               Kind.SOFTWARE: "3.3.8"}
# Column widths in mm of a landscape page's 277: name, model and manufacturer, serial,
# inventory number, firmware, place, installed, state, links. Each header's longest word
# fits its column at the tables' 7.5 pt (Kazakh "Микробағдарлама," is 26.6 mm,
# "эксплуатации" 19.5).
ITEM_COLUMNS = (26.0, 35.0, 26.0, 24.0, 29.0, 42.0, 21.0, 23.0, 51.0)
FAULT_COLUMNS = (40.0, 34.0, 40.0, 163.0)  # item, opened, by, what
DUE_COLUMNS = (40.0, 50.0, 24.0, 30.0, 30.0, 103.0)  # item, kind, due, state, last, what
SUMMARY_COLUMNS = (117.0, 32.0, 32.0, 32.0, 32.0, 32.0)  # kind, each state, total

TEXT: dict[str, dict[str, str]] = {
    "kk": {
        "title": "БЕЙНЕБАҚЫЛАУ ЖҮЙЕСІНІҢ ТЕХНИКАЛЫҚ ПАСПОРТЫ",
        "about": "Аппараттық-бағдарламалық кешен (UE-10-22 ережесінің 3.3.1–3.3.8-тармақтары)",
        "drawn": "Құрастырылған уақыты", "page": "бет",
        "name": "Атауы", "model": "Үлгісі, өндірушісі", "serial": "Сериялық нөмірі",
        "inventory_no": "Түгендеу нөмірі", "firmware": "Микробағдарлама, нұсқасы",
        "place": "Орны (ғимарат, қабат, бөлме)", "installed": "Орнатылған күні",
        "state": "Күйі", "links": "Байланыстары", "uplink": "коммутатор", "port": "порт",
        "power": "қоректендіру", "part_of": "құрамында", "none": "Тізілімде жоқ",
        "summary": "Күйі бойынша саны", "kind": "Кешен бөлігі", "total": "Барлығы",
        "faults": "Жабылмаған ақаулар", "item": "Жабдық", "opened": "Ашылған уақыты",
        "by": "Кім тіркеген", "what": "Сипаттамасы", "alarm": "Kuzet (дабыл)",
        "no_faults": "Жабылмаған ақау жоқ",
        "checks": "Жоспарлы тексерулер: мерзімі жақындағандар мен өткендер",
        "due": "Мерзімі", "overdue": "мерзімі өткен", "upcoming": "мерзімі жақын",
        "last_check": "Соңғы тексеру", "never": "жүргізілмеген",
        "check_what": "Не тексеріледі", "no_checks": "Мерзімі жеткен тексеру жоқ",
        "responsible": "Кешенге жауапты (IT бөлімі, UE-10-22 ережесінің 3.4.3-тармағы)",
        "signature": "Қолы",
    },
    "ru": {
        "title": "ТЕХНИЧЕСКИЙ ПАСПОРТ СИСТЕМЫ ВИДЕОНАБЛЮДЕНИЯ",
        "about": "Аппаратно-программный комплекс (пп. 3.3.1–3.3.8 Положения UE-10-22)",
        "drawn": "Составлен", "page": "стр.",
        "name": "Наименование", "model": "Модель, изготовитель", "serial": "Серийный номер",
        "inventory_no": "Инвентарный номер", "firmware": "Прошивка, версия",
        "place": "Место (здание, этаж, помещение)", "installed": "Дата установки",
        "state": "Состояние", "links": "Связи", "uplink": "коммутатор", "port": "порт",
        "power": "питание", "part_of": "входит в", "none": "В реестре нет",
        "summary": "Количество по состоянию", "kind": "Часть комплекса", "total": "Всего",
        "faults": "Незакрытые неисправности", "item": "Оборудование", "opened": "Открыта",
        "by": "Кем записана", "what": "Описание", "alarm": "Kuzet (тревога)",
        "no_faults": "Незакрытых неисправностей нет",
        "checks": "Плановые проверки: наступающие и просроченные",
        "due": "Срок", "overdue": "просрочена", "upcoming": "срок близко",
        "last_check": "Последняя проверка", "never": "не проводилась",
        "check_what": "Что проверяется", "no_checks": "Проверок к сроку нет",
        "responsible": "Ответственный за комплекс (ИТ-служба, п. 3.4.3 Положения UE-10-22)",
        "signature": "Подпись",
    },
    "en": {
        "title": "TECHNICAL PASSPORT OF THE VIDEO SURVEILLANCE SYSTEM",
        "about": "Hardware and software complex (clauses 3.3.1–3.3.8 of Regulation UE-10-22)",
        "drawn": "Drawn up", "page": "page",
        "name": "Name", "model": "Model, manufacturer", "serial": "Serial number",
        "inventory_no": "Inventory number", "firmware": "Firmware, version",
        "place": "Place (building, floor, room)", "installed": "Installed",
        "state": "State", "links": "Links", "uplink": "switch", "port": "port",
        "power": "power", "part_of": "part of", "none": "None in the register",
        "summary": "Items by state", "kind": "Part of the complex", "total": "Total",
        "faults": "Open faults", "item": "Item", "opened": "Opened",
        "by": "Recorded by", "what": "Description", "alarm": "Kuzet (alarm)",
        "no_faults": "No open faults",
        "checks": "Scheduled checks: due soon and overdue",
        "due": "Due", "overdue": "overdue", "upcoming": "due soon",
        "last_check": "Last check", "never": "never",
        "check_what": "What is checked", "no_checks": "No checks due",
        "responsible": "Responsible for the complex (IT office, clause 3.4.3 of "
                       "Regulation UE-10-22)",
        "signature": "Signature",
    },
}
# The parts of the complex as the regulation's clauses name them.
KINDS: dict[str, dict[str, str]] = {
    "kk": {"camera": "Бейнекамералар", "monitor": "Мониторлар және жұмыс орындары",
           "ups": "Үздіксіз қоректендіру көздері", "server": "Бейнетіркегіштер мен серверлер",
           "switch": "Кабельдік желі: коммутаторлар мен байланыс желілері",
           "storage": "Ақпарат жинақтауыштары: дискілер мен массивтер",
           "software": "Бағдарламалық қамтамасыз ету"},
    "ru": {"camera": "Видеокамеры", "monitor": "Мониторы и рабочие места",
           "ups": "Источники бесперебойного питания",
           "server": "Видеорегистраторы и серверы",
           "switch": "Кабельная сеть: коммутаторы и линии связи",
           "storage": "Накопители: диски и массивы", "software": "Программное обеспечение"},
    "en": {"camera": "Video cameras", "monitor": "Monitors and workstations",
           "ups": "Uninterruptible power supplies", "server": "Recorders and servers",
           "switch": "Cable network: switches and links", "storage": "Storage: disks and arrays",
           "software": "Software"},
}
STATES: dict[str, dict[str, str]] = {
    "kk": {"in_service": "пайдалануда", "faulty": "ақаулы", "under_repair": "жөндеуде",
           "decommissioned": "есептен шығарылған"},
    "ru": {"in_service": "в эксплуатации", "faulty": "неисправен", "under_repair": "в ремонте",
           "decommissioned": "списан"},
    "en": {"in_service": "in service", "faulty": "faulty", "under_repair": "under repair",
           "decommissioned": "decommissioned"},
}
# What each kind's scheduled check looks at (kuzet.equipment.schedule.WHAT, said in each
# language: the schedule's own words are English).
CHECKS: dict[str, dict[str, str]] = {
    "kk": {"camera": "бейне, көру бұрышы, тазалығы, жанындағы ақпараттық белгі",
           "ups": "батареяны сынау, батареямен жұмыс уақыты",
           "server": "желдеткіштер, температуралар, жазудың кешігуі, жаңартулар",
           "storage": "SMART күйі, массив күйі, бос орын",
           "switch": "порттар, байланыс қателері, қоректендіру",
           "monitor": "бейне, күзет бекетінен көрініс",
           "software": "нұсқасы, жаңартулар, лицензиялар"},
    "ru": {"camera": "изображение, угол обзора, чистота, информационная табличка рядом",
           "ups": "тест батареи, время работы от батареи",
           "server": "вентиляторы, температуры, отставание записи, обновления",
           "storage": "состояние SMART, состояние массива, свободное место",
           "switch": "порты, ошибки линий, питание",
           "monitor": "изображение, обзор с поста охраны",
           "software": "версия, обновления, лицензии"},
    "en": {"camera": "picture, angle, cleanliness, the sign beside it",
           "ups": "battery test, runtime on battery",
           "server": "fans, temperatures, the recorder's lag, updates",
           "storage": "SMART health, array state, free space",
           "switch": "ports, link errors, power", "monitor": "picture, the post's view",
           "software": "version, updates, licences"},
}


def passport_pdf(items: Sequence[ItemView], open_faults: Sequence[Entry],
                 due: Sequence[Due], *, organisation: str, lang: str, font: Path,
                 now_ns: int, zone: str) -> bytes:
    """The passport of `items` (Register.items()), with `open_faults`
    (Register.open_faults()) and `due` (schedule.due_checks), drawn up at `now_ns` and
    dated in the display zone `zone`. Raises DocumentError where `font` is missing."""
    t, kinds, states = TEXT[lang], KINDS[lang], STATES[lang]
    drawn = f"{t['drawn']}: {local(now_ns, zone)}"
    pdf = new_pdf(font, "L", _footer(f"{t['title']} — {drawn}", t["page"]))
    pdf.set_title(f"{t['title']} — {organisation}")
    pdf.set_author(organisation)
    pdf.set_creator("Kuzet")
    pdf.set_lang(lang)
    # The instant it was drawn up, not the moment of rendering: the same register read
    # at the same instant gives the same bytes.
    pdf.set_creation_date(dt.datetime.fromtimestamp(now_ns / 1e9, dt.UTC))
    pdf.set_font("Body", size=11)
    pdf.multi_cell(0, 6, organisation, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("Body", size=15)
    pdf.multi_cell(0, 8, t["title"], align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Body", size=10)
    pdf.multi_cell(0, 5, t["about"], align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(0, 5, drawn, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)

    by_kind: dict[str, list[ItemView]] = {k.value: [] for k in Kind}
    for it in items:
        by_kind[it.kind].append(it)
    heading(pdf, t["summary"])
    order = list(State)
    counts = Counter((it.kind, it.state) for it in items)
    summary = [[f"{CLAUSES[k]}. {kinds[k]}", *(str(counts[k.value, s.value]) for s in order),
                str(len(by_kind[k]))] for k in Kind]
    summary.append([t["total"], *(str(sum(counts[k.value, s.value] for k in Kind))
                                  for s in order), str(len(items))])
    table(pdf, SUMMARY_COLUMNS, [t["kind"], *(states[s] for s in order), t["total"]],
           summary)

    for kind in Kind:
        heading(pdf, f"{CLAUSES[kind]}. {kinds[kind]} ({len(by_kind[kind])})")
        rows = [_item_row(it, t, states) for it in by_kind[kind]]
        table(pdf, ITEM_COLUMNS, [t[c] for c in ("name", "model", "serial", "inventory_no",
                                                  "firmware", "place", "installed",
                                                  "state", "links")], rows, t["none"])

    heading(pdf, f"{t['faults']} ({len(open_faults)})")
    table(pdf, FAULT_COLUMNS, [t["item"], f"{t['opened']} ({zone})", t["by"], t["what"]],
           [[f.item, _when(f.at_ns, zone), t["alarm"] if f.alarm_id is not None else f.by,
             f.what] for f in open_faults], t["no_faults"])

    heading(pdf, f"{t['checks']} ({len(due)})")
    table(pdf, DUE_COLUMNS, [t["item"], t["kind"], t["due"], t["state"], t["last_check"],
                              t["check_what"]],
           [[d.name, kinds[d.kind], _day(d.due), t["overdue" if d.overdue else "upcoming"],
             _day(d.last_check) if d.last_check else t["never"], CHECKS[lang][d.kind]]
            for d in due], t["no_checks"])

    pdf.ln(8)
    pdf.set_font("Body", size=10)
    pdf.multi_cell(0, 6, t["responsible"], new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 8, f"{t['signature']}: ____________________", new_x="LMARGIN",
             new_y="NEXT")
    return bytes(pdf.output())


def passport_of(register: Register, *, organisation: str, lang: str, font: Path,
                now_ns: int, zone: str, intervals: Mapping[str, int]) -> bytes:
    """The passport of the whole register as it stands at `now_ns`: what the console's
    and the command line's "passport" call (settings: organisation, document_font,
    display_timezone, check_interval_days)."""
    items = register.items()
    today = campus_day(now_ns, zone)
    due = due_checks(items, register.last_checks(), intervals, today, zone)
    return passport_pdf(items, register.open_faults(), due, organisation=organisation,
                        lang=lang, font=font, now_ns=now_ns, zone=zone)


def _item_row(it: ItemView, t: Mapping[str, str], states: Mapping[str, str]) -> list[str]:
    v = it.values
    links = []
    if v.get("uplink"):
        port = f", {t['port']} {v['uplink_port']}" if v.get("uplink_port") else ""
        links.append(f"{t['uplink']}: {v['uplink']}{port}")
    links += [f"{t[k]}: {v[k]}" for k in ("power", "part_of") if v.get(k)]
    return [it.name, _joined(v.get("model"), v.get("manufacturer")), v.get("serial") or "",
            v.get("inventory_no") or "", v.get("firmware") or "",
            _joined(v.get("building"), v.get("floor"), v.get("room")),
            _installed(v.get("installed")), states.get(it.state, it.state), "; ".join(links)]


def _joined(*parts: str | None) -> str:
    return ", ".join(p for p in parts if p)


def _installed(value: str | None) -> str:
    if not value:
        return ""
    try:
        return _day(dt.date.fromisoformat(value))
    except ValueError:  # written before the register checked dates: shown as it is
        return value


def _day(day: dt.date) -> str:
    return f"{day:%d.%m.%Y}"  # as every document and the console write a day


def _when(ns: int, zone: str) -> str:
    t = dt.datetime.fromtimestamp(ns / 1e9, dt.UTC).astimezone(ZoneInfo(zone))
    return f"{t:%d.%m.%Y %H:%M}"


def _footer(text: str, page_word: str) -> Callable[[FPDF], None]:
    """Each page's foot: what the document is, when it was drawn up, page n / N (fpdf2's
    alias {nb}, replaced by the count of pages once every page exists)."""

    def foot(pdf: FPDF) -> None:
        pdf.set_y(-11)
        pdf.set_font("Body", size=7)
        pdf.cell(pdf.epw - 30, 4, text)
        pdf.cell(30, 4, f"{page_word} {pdf.page_no()} / {{nb}}", align="R")

    return foot
