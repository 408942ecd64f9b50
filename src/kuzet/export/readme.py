"""README.txt of a package, in Kazakh, Russian and English: what it holds and how to
check it without Kuzet."""

from __future__ import annotations

TEMPLATE = """\
{number} — {title_kk} / {title_ru} / {title_en}
Кілт саусақ ізі / Отпечаток ключа / Key fingerprint: {fingerprint}

ҚАЗАҚША
Бұл бума {org} бейнебақылау жүйесінен (Kuzet) UE-10-22 ережесінің 3.5.6-тармағы бойынша
берілген бейнежазбаларды қамтиды. Бейнефайлдар қайта кодталмаған: камера жіберген
кадрлар өзгеріссіз көшірілген. manifest.json әр файлдың SHA-256 хэшін, жазбаның нақты
UTC уақыт аралықтарын, кадрлар санын және сұрау мен шешімді көрсетеді; manifest.sig —
оның Ed25519 қолтаңбасы. Тексеру үшін (Python 3 және `pip install cryptography`):
    python verify.py {zip_name} --fingerprint "<қабылдау-тапсыру актісіндегі саусақ ізі>"
"INTACT" деген жауап буманың өзгермегенін білдіреді.

ПО-РУССКИ
Пакет содержит видеозаписи системы видеонаблюдения {org} (Kuzet), переданные по п. 3.5.6
Положения UE-10-22. Видеофайлы не перекодированы: кадры камеры скопированы без
изменений. manifest.json содержит SHA-256 каждого файла, точные интервалы записи в UTC,
число кадров, ссылки на запрос и решение; manifest.sig — его подпись Ed25519.
Проверка (Python 3 и `pip install cryptography`):
    python verify.py {zip_name} --fingerprint "<отпечаток из акта приёма-передачи>"
Ответ "INTACT" означает, что пакет не изменялся.

ENGLISH
This package holds footage from the {org} video surveillance system (Kuzet), handed over
under clause 3.5.6 of Regulation UE-10-22. The video files are not re-encoded: the
camera's frames are copied unchanged. manifest.json gives every file's SHA-256, the exact
UTC ranges recorded, frame counts, and the request and decision it rests on; manifest.sig
is its Ed25519 signature. To check it (Python 3 and `pip install cryptography`):
    python verify.py {zip_name} --fingerprint "<fingerprint from the hand-over act>"
"INTACT" means the package has not been changed.

Media time t in each MP4 is UTC media_origin + t (see manifest.json).
"""


def readme(number: str, org: str, fingerprint: str, zip_name: str) -> str:
    return TEMPLATE.format(
        number=number, org=org, fingerprint=fingerprint, zip_name=zip_name,
        title_kk="бейнежазбаны беру пакеті", title_ru="пакет передачи видеозаписи",
        title_en="footage transfer package")
