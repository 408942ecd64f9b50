"""Kuzet's error kinds to HTTP statuses, in one place: by kind, never by message.

The body of a refusal: `detail` in English (what scripts and logs match on, and what the
command line prints), `message`, the same said in the caller's console language (the
`kuzet_lang` cookie, Kazakh by default) by its template, which the catalogs hold for every
refusal the package raises (tests/test_refusals.py, tests/test_language.py), FastAPI's own
422 included, and, for a refusal that names a clause of
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
from typing import Any

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
from kuzet.web.i18n import language, pick, translator

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

BAD_TEXT = "text must be valid Unicode"
# What each kind of fault FastAPI finds in a request is, said as a constant template with
# the limit it names (pydantic's `ctx`); a kind not listed is said by NOT_ACCEPTED.
FAULTS = {
    "missing": "required",
    "string_too_short": "at least {min_length} characters",
    "string_too_long": "at most {max_length} characters",
    "too_short": "at least {min_length} items",
    "too_long": "at most {max_length} items",
    "greater_than": "more than {gt}",
    "greater_than_equal": "at least {ge}",
    "less_than": "less than {lt}",
    "less_than_equal": "at most {le}",
    "int_parsing": "a whole number",
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "float_parsing": "a number",
    "float_type": "a number",
    "bool_parsing": "yes or no",
    "bool_type": "yes or no",
    "string_type": "text",
    "datetime_parsing": "a date and time with its offset, such as 2026-12-05T18:19:41+05:00",
    "datetime_from_date_parsing": "a date and time with its offset, such as "
                                  "2026-12-05T18:19:41+05:00",
    "datetime_type": "a date and time with its offset, such as 2026-12-05T18:19:41+05:00",
    "date_parsing": "a date, such as 2026-12-05",
    "date_from_datetime_parsing": "a date, such as 2026-12-05",
    "literal_error": "one of {expected}",
    "enum": "one of {expected}",
    "json_invalid": "not valid JSON",
    "model_attributes_type": "an object with fields",
    "dict_type": "an object with fields",
    "list_type": "a list",
    "extra_forbidden": "not a field of this request",
}
NOT_ACCEPTED = "not accepted"
FIELD_FAULT = "{field}: {fault}"
UNACCEPTED = "the request was not accepted: {faults}"
AND = "{first}; {rest}"


def unaccepted(errors: Iterable[Any]) -> Phrase:
    """FastAPI's faults in a request as one Phrase: each field named as the API names it,
    what it must be said by a constant template (FAULTS), so that the console says it in
    the caller's language; a fault raised by Kuzet's own check inside a schema is said
    by its own Phrase."""
    said: list[Phrase] = []
    for e in errors:
        names = [str(part) for part in e.get("loc", ()) if not isinstance(part, int)]
        field = names[-1] if names and names[-1] not in ("body", "query", "path") else ""
        context = e.get("ctx") or {}
        raised = context.get("error")
        if isinstance(raised, KuzetError):
            fault = raised.phrase
        elif str(e.get("type", "")) in FAULTS:
            template = FAULTS[str(e.get("type", ""))]
            try:
                fault = Phrase(template, **{k: v for k, v in context.items()
                                            if "{" + k + "}" in template})
            except KeyError:  # pydantic left out the limit: say the fault without it
                fault = Phrase(NOT_ACCEPTED)
        else:
            fault = Phrase(NOT_ACCEPTED)
        said.append(Phrase(FIELD_FAULT, field=field, fault=fault) if field else fault)
    joined = said[-1] if said else Phrase(NOT_ACCEPTED)
    for earlier in reversed(said[:-1]):
        joined = Phrase(AND, first=earlier, rest=joined)
    return Phrase(UNACCEPTED, faults=joined)


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
        lang = language(request)
        body = answer(detail, lang)
        if isinstance(exc, Refused):
            roles = request.app.state.services.roles.all()
            body["who"] = who(roles, exc.wanting, exc.yours, lang)
        return JSONResponse(body, status_code=status)

    async def invalid_request(request: Request, exc: Exception) -> JSONResponse:
        """FastAPI's own 422, without echoing the input (it may be what broke): `detail`
        as FastAPI lists it, for scripts, and `message`, each field's fault said in the
        caller's language, for the console."""
        assert isinstance(exc, RequestValidationError)
        errors = exc.errors()
        detail = [{"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")),
                   "type": str(e.get("type", ""))} for e in errors]
        said = unaccepted(errors).said(translator(language(request)))
        return JSONResponse({"detail": detail, "message": said}, status_code=422)

    async def bad_text(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(answer(Phrase(BAD_TEXT), language(request)), status_code=400)

    app.add_exception_handler(KuzetError, handle)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(UnicodeError, bad_text)
