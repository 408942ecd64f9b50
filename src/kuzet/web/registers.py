"""Registers of documents: who sees which rows, and the CSV that is the one way a list of
documents leaves the console, audited."""

from __future__ import annotations

import csv
import io

from fastapi import Request
from fastapi.responses import Response

from kuzet import csvcells
from kuzet.access.permissions import Perm, holds_somewhere
from kuzet.access.sessions import Caller
from kuzet.audit.actions import AuditAction
from kuzet.web.deps import services, source


def own_only(request: Request, caller: Caller) -> str | None:
    """Whose documents the caller sees: their own (their name), or everyone's (None) for a
    reviewer."""
    reviewer = holds_somewhere(caller.principal, Perm.PROTOCOL_REVIEW,
                               services(request).clock())
    return None if reviewer else caller.name


# Each register's CSV download and the audit entry it writes.
EXPORTS = {"holds": AuditAction.HOLDS_REGISTER_EXPORT,
           "viewings": AuditAction.VIEWINGS_REGISTER_EXPORT,
           "acts": AuditAction.ACTS_REGISTER_EXPORT,
           "protocols": AuditAction.PROTOCOLS_REGISTER_EXPORT,
           "transfers": AuditAction.TRANSFERS_REGISTER_EXPORT,
           "restream-sessions": AuditAction.RESTREAM_REGISTER_EXPORT}


def csv_answer(request: Request, caller: Caller, register: str, fields: list[str],
               rows: list[dict[str, str]]) -> Response:
    """`rows` as a CSV download named after the register; the export is an audit entry
    (`<register>.register_export`)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fields)
    writer.writeheader()
    writer.writerows(csvcells.record(r) for r in rows)
    services(request).audit.act(caller.actor(source(request)), EXPORTS[register], register,
                                rows=len(rows))
    return Response(buf.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"content-disposition": f'attachment; filename="{register}.csv"'})
