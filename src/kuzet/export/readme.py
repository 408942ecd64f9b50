"""README.txt of a package, in Kazakh, Russian and English: what it holds and how to
check it without Kuzet.

It walks the recipient through comparing the key fingerprint with the paper hand-over
act, and deliberately does not print the fingerprint itself: anything inside the package
(this file, manifest.json, public_key.pem) can be rewritten by whoever changes the
package, so a fingerprint found here would prove nothing.
"""

from __future__ import annotations

TEMPLATE = """\
{number} — {title_kk} / {title_ru} / {title_en}

ҚАЗАҚША
Бұл бума {org} бейнебақылау жүйесінен (Kuzet) UE-10-22 ережесінің 3.5.6-тармағы бойынша
берілген бейнежазбаларды қамтиды. Бейнефайлдар қайта кодталмаған: камера жіберген
кадрлар өзгеріссіз көшірілген. manifest.json әр файлдың SHA-256 хэшін, жазбаның нақты
UTC уақыт аралықтарын, кадрлар санын және сұрау мен шешімді көрсетеді; manifest.sig —
оның Ed25519 қолтаңбасы.
Тексеру (Python 3 және `pip install cryptography`):
  1. Қағаз қабылдау-тапсыру актісінен «Қолтаңба кілтінің саусақ ізі (Ed25519)» жолын
     табыңыз (төрт таңбадан 16 топ).
  2. Іске қосыңыз:
       python verify.py {zip_name} --fingerprint "<актідегі саусақ ізі>"
  3. verify.py басқан "key fingerprint" жолын актідегімен топ-топ бойынша салыстырыңыз.
Жауаптар: "INTACT" (шығу коды 0) — бума өзгермеген және актідегі кілтпен
қолтаңбаланған; "NOT INTACT" (1) — не сәйкес келмегенін атайды, басқа кілтті де;
"CONSISTENT, ORIGIN UNPROVEN" (3) — саусақ ізі берілмеген: файлдар бір-біріне сәйкес,
бірақ бұл буманы кім жасағанын дәлелдемейді, өйткені өзгертілген буманы кез келген адам
өз кілтімен қайта қолтаңбалай алады.
Саусақ ізін буманың ішіндегі ештеңемен (осы файл, manifest.json, public_key.pem)
салыстырмаңыз: буманы өзгерткен адам оларды да өзгерте алады. Дәлел — тек екі тарап қол
қойған қағаз акт. Актідегі буманың SHA-256 хэшін --sha256 арқылы берсеңіз, .zip файлы
байтына дейін тексеріледі.

ПО-РУССКИ
Пакет содержит видеозаписи системы видеонаблюдения {org} (Kuzet), переданные по п. 3.5.6
Положения UE-10-22. Видеофайлы не перекодированы: кадры камеры скопированы без
изменений. manifest.json содержит SHA-256 каждого файла, точные интервалы записи в UTC,
число кадров, ссылки на запрос и решение; manifest.sig — его подпись Ed25519.
Проверка (Python 3 и `pip install cryptography`):
  1. Найдите в бумажном акте приёма-передачи строку «Отпечаток ключа подписи (Ed25519)»
     (16 групп по четыре знака).
  2. Запустите:
       python verify.py {zip_name} --fingerprint "<отпечаток из акта>"
  3. Сравните строку "key fingerprint", которую напечатает verify.py, с актом по группам.
Ответы: "INTACT" (код 0) — пакет не изменялся и подписан ключом из акта; "NOT INTACT"
(1) — названо, что не совпало, в том числе чужой ключ; "CONSISTENT, ORIGIN UNPROVEN"
(3) — отпечаток не передан: файлы согласуются между собой, но это не доказывает, кто
создал пакет, ведь изменённый пакет любой может переподписать своим ключом.
Не сравнивайте отпечаток ни с чем внутри пакета (этот файл, manifest.json,
public_key.pem): тот, кто изменил пакет, мог изменить и их. Доказательство — только
бумажный акт, подписанный сторонами. С --sha256 "<SHA-256 пакета из акта>" файл .zip
проверяется побайтно.

ENGLISH
This package holds footage from the {org} video surveillance system (Kuzet), handed over
under clause 3.5.6 of Regulation UE-10-22. The video files are not re-encoded: the
camera's frames are copied unchanged. manifest.json gives every file's SHA-256, the exact
UTC ranges recorded, frame counts, and the request and decision it rests on; manifest.sig
is its Ed25519 signature.
To check it (Python 3 and `pip install cryptography`):
  1. Find the line "Signing key fingerprint (Ed25519)" on the paper hand-over act
     (16 groups of four characters).
  2. Run:
       python verify.py {zip_name} --fingerprint "<fingerprint from the act>"
  3. Compare the "key fingerprint" line verify.py prints with the act, group by group.
Answers: "INTACT" (exit status 0) — the package is unchanged and was signed by the key
on the act; "NOT INTACT" (1) — names what does not match, a different key included;
"CONSISTENT, ORIGIN UNPROVEN" (3) — no fingerprint was given: the files agree with each
other, but that does not prove who made the package, since anyone who changes a package
can re-sign it with a key of their own.
Do not compare the fingerprint with anything inside the package (this file,
manifest.json, public_key.pem): whoever changed the package could change them too. Only
the paper act signed by both parties is proof. With --sha256 "<package SHA-256 from the
act>" the .zip is checked byte for byte as well.

Media time t in each MP4 is UTC media_origin + t (see manifest.json).
"""


def readme(number: str, org: str, zip_name: str) -> str:
    return TEMPLATE.format(
        number=number, org=org, zip_name=zip_name,
        title_kk="бейнежазбаны беру пакеті", title_ru="пакет передачи видеозаписи",
        title_en="footage transfer package")
