"""Kuzet's error kinds to HTTP statuses, in one place: by kind, never by message.

The body of a refusal: `detail` in English (what scripts and logs match on, and what the
command line prints), `message`, the same said in the caller's console language (the
`kuzet_lang` cookie, Kazakh by default) where the catalogs hold its template (every refusal
naming a clause is held: tests/test_refusals.py), and, for a refusal that names a clause of
UE-10-22 ("… (UE-10-22 3.5.6)"), that clause as `clause` and `refusal`: one line in the
caller's language saying which clause refused it. A refusal for want of a permission
(`Refused`) also carries `who`: which roles are given it and which the caller holds, with
the roles' titles in the caller's language, so that "forbidden" always says who may. The
console shows `message` and `who`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from kuzet.access.models import Role
from kuzet.access.permissions import Perm
from kuzet.errors import (
    Conflict,
    Denied,
    Invalid,
    KuzetError,
    NotFound,
    Phrase,
    TooLarge,
    Unauthenticated,
    Unavailable,
    Unsupported,
)
from kuzet.web.i18n import LANG_COOKIE, pick, translator

# "(UE-10-22 3.5.6)", "(UE-10-22 3.3/3.5.6)", "(UE-10-22 3.5.1; the rector's instruction)",
# "(UE-10-22 3.3.9-3.3.17)", "clause 3.5.6: …", "clauses 3.5.4, 4.2: …", "clause 3.3 of UE-10-22"
_NUMBERS = r"\d+(?:\.\d+)*(?:(?:, |/| and |-)\d+(?:\.\d+)*)*"
CLAUSE = re.compile(rf"\(UE-10-22 ({_NUMBERS})|\bclauses? ({_NUMBERS})(?::| of UE-10-22)")
REFUSED = "Refused under UE-10-22, clause {clause}"
WHO = "This is given to: {holders}. Your roles: {yours}."
NOBODY = "no role"


class Refused(Denied):
    """Denied for want of a permission: the refusal names the roles that hold it."""

    def __init__(self, message: str, /, *, wanting: Iterable[Perm], yours: Iterable[str],
                 **values: object) -> None:
        super().__init__(message, **values)
        self.wanting = frozenset(wanting)  # any of these would have done
        self.yours = tuple(yours)  # the caller's roles


def titles(roles: list[Role], lang: str, *, having: frozenset[Perm] | None = None,
           named: Iterable[str] = ()) -> list[str]:
    """The titles, in `lang`, of the roles that hold one of `having` (when given) or are
    `named`, in the table's order: roles are data the rector edits (4.1), so who holds a
    permission is read from the table, never assumed."""
    wanted = set(named)
    out = []
    for role in roles:
        held = {Perm(p) for p in json.loads(role.perms)}
        if role.name in wanted or (having is not None and held & having):
            out.append(json.loads(role.titles).get(lang) or role.name)
    return out


def who(roles: list[Role], perms: frozenset[Perm], yours: Iterable[str], lang: str) -> str:
    """One line in `lang`: which roles are given `perms`, and the caller's roles."""
    translate = translator(pick(lang))
    holders = ", ".join(titles(roles, lang, having=perms)) or translate(NOBODY)
    mine = ", ".join(titles(roles, lang, named=yours)) or translate(NOBODY)
    return translate(WHO).replace("{holders}", holders).replace("{yours}", mine)

# Most specific first: TooLarge and Unsupported are also Invalid.
STATUS: list[tuple[type[KuzetError], int]] = [
    (TooLarge, 413), (Unsupported, 415),
    (Unauthenticated, 401), (Denied, 403), (NotFound, 404), (Conflict, 409), (Invalid, 400),
    # a missing document font is the installation's to fix, not the caller's
    (Unavailable, 503),
]


def status_of(exc: KuzetError) -> int:
    for kind, status in STATUS:
        if isinstance(exc, kind):
            return status
    return 500


def answer(detail: str | Phrase, lang: str | None) -> dict[str, str]:
    """The body of a refusal: its detail, said in `lang` too, and the clause it names."""
    translate = translator(pick(lang))
    body = {"detail": str(detail),
            "message": detail.said(translate) if isinstance(detail, Phrase) else detail}
    found = CLAUSE.search(_own_words(detail))
    if found is not None:
        body["clause"] = found.group(1) or found.group(2)
        body["refusal"] = translate(REFUSED).replace("{clause}", body["clause"])
    return body


def _own_words(detail: str | Phrase) -> str:
    """The refusal's own text with only its clause values filled in: where it names a
    clause is read there, never in a name or a reason the caller supplied (a camera named
    "clause 3.3: x" does not make its refusal one under 3.3)."""
    if not isinstance(detail, Phrase):
        return detail
    text = detail.template
    for key in ("clause", "clauses"):
        if key in detail.values:
            text = text.replace("{" + key + "}", str(detail.values[key]))
    return text


def install(app: FastAPI) -> None:
    async def handle(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, KuzetError)
        status = status_of(exc)
        detail = exc.phrase if status != 500 else "internal error"
        lang = request.cookies.get(LANG_COOKIE)
        body = answer(detail, lang)
        if isinstance(exc, Refused):
            roles = request.app.state.services.roles.all()
            body["who"] = who(roles, exc.wanting, exc.yours, pick(lang))
        return JSONResponse(body, status_code=status)

    async def invalid_request(request: Request, exc: Exception) -> JSONResponse:
        """FastAPI's own 422, without echoing the input: it may be what broke."""
        assert isinstance(exc, RequestValidationError)
        detail = [{"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")),
                   "type": str(e.get("type", ""))} for e in exc.errors()]
        return JSONResponse({"detail": detail}, status_code=422)

    async def bad_text(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": "text must be valid Unicode"}, status_code=400)

    app.add_exception_handler(KuzetError, handle)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(UnicodeError, bad_text)
