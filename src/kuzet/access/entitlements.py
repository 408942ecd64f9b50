"""Which regulation role may hold which permission, and the clause it rests on.

Roles are data the rector edits (4.1), but an edit cannot make the regulation say what it
does not: it names who views stored video (3.5.4), that anyone else views it only on the
rector's instruction, as a time-boxed grant (3.5.5), and that the rector decides a
transfer which the head of internal security or the administrator carries out (3.5.6). So
a role may hold its default permissions (`permissions.DEFAULT_ROLES`, each with its clause
in docs/regulation-roles.toml) and what `MAY_ALSO` adds with its clause, nothing else;
taking permissions away is always within the table. `check_entitlements` refuses an edit
outside it, naming the clause; `permissions.check_role_edit` keeps the rules that hold
whatever the table says (the rector's decisions, IT support's pictures). Pure.
"""

from __future__ import annotations

from collections.abc import Mapping

from kuzet.access.permissions import DEFAULT_ROLES, Perm, check_role_edit
from kuzet.errors import Invalid, Phrase

# The alarm of a role row outside the table (an edit an older Kuzet allowed), one per role:
# raised at start-up by `access.reconcile`, cleared by the rector's edit back inside it.
OUTSIDE_TABLE = "role_outside_table"

# What a role may hold beyond its defaults, with the clause that allows it. The rector may
# ask for what the rector alone decides (nobody decides their own request, so such a
# request waits for a successor); the vice-rector may follow the holds of the footage the
# vice-rector may view.
MAY_ALSO: Mapping[str, Mapping[Perm, str]] = {
    "rector": {
        Perm.HOLD_REQUEST: "3.3 (retention): special retention on the rector's instruction",
        Perm.GRANT_REQUEST: "3.5.5: viewing by others on the rector's instruction",
        Perm.TRANSFER_REGISTER: "3.5.6: a reasoned request handed to the rector",
    },
    "vice_rector": {Perm.HOLD_READ: "3.3 (retention), 3.5.4"},
}

_STORED = Phrase("stored video is viewed by the rector, the vice-rector for academic affairs, "
                 "the head of internal security and the administrator; anyone else only on "
                 "the rector's instruction, as a time-boxed grant (3.5.5)")
# Why a permission the regulation gives to named people is refused to any other role: the
# clause and its words. Any other permission outside a role's table is refused with the
# role's own clause (what the regulation gives that role).
NAMED_HOLDERS: Mapping[Perm, tuple[str, Phrase]] = {
    Perm.ARCHIVE_VIEW: ("3.5.4", _STORED),
    Perm.SNAPSHOT: ("3.5.4", _STORED),
    Perm.EXPORT_EXECUTE: ("3.5.6", Phrase("a transfer the rector approved is carried out by "
                                          "the head of internal security or the "
                                          "administrator")),
    Perm.LIVE_VIEW: ("3.5.4, 3.5.5", Phrase("the cameras' picture goes to the security post "
                                            "(3.2.10) and to those who may view stored "
                                            "video; anyone else sees it on the rector's "
                                            "instruction, as a grant")),
}


def entitled(role: str) -> Mapping[Perm, str]:
    """Every permission `role` may hold, with the clause behind it ({} for no such role)."""
    default = DEFAULT_ROLES.get(role)
    if default is None:
        return {}
    return {**{p: default.clause for p in default.perms}, **MAY_ALSO.get(role, {})}


def check_entitlements(role: str, perms: set[Perm] | frozenset[Perm]) -> None:
    """Refuse (Invalid) `perms` for `role` where the table does not give them, naming the
    clause."""
    allowed = entitled(role)
    outside = sorted(set(perms) - set(allowed))
    if not outside:
        return
    perm = next((p for p in outside if p in NAMED_HOLDERS), outside[0])
    default = DEFAULT_ROLES.get(role)
    clause, why = NAMED_HOLDERS.get(perm, (
        default.clause if default else "4.1",
        Phrase("the regulation gives the role {role} no {perm}", role=repr(role),
               perm=perm.value)))
    others = (Phrase(" (also outside it: {perms})",
                     perms=", ".join(p.value for p in outside if p is not perm))
              if len(outside) > 1 else "")
    raise Invalid("refused: {perm} for the role {role}: {why}{others} (UE-10-22 {clause})",
                  perm=perm.value, role=repr(role), why=why, others=others, clause=clause)


def outside_table(role: str, perms: set[Perm] | frozenset[Perm]) -> str | None:
    """Why a role row holding `perms` is outside the table and the rules no edit may
    break, naming the clause; None when it is inside."""
    try:
        check_role_edit(role, set(perms))
        check_entitlements(role, perms)
    except ValueError as exc:
        return str(exc)
    return None
