"""Permissions, the regulation's default roles, and the one function that decides access.

Pure: no database, no clock. The web layer gathers a `Principal` (what a user holds at
this moment) and asks `decide`; the RBAC matrix test asks the same function through every
route. Roles are data (the `roles` table starts from `DEFAULT_ROLES` and the rector may
edit it); this module only knows the default table and the rules no edit may change.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kuzet.errors import Invalid, Phrase


class Perm(StrEnum):
    LIVE_VIEW = "live.view"
    ARCHIVE_VIEW = "archive.view"
    SNAPSHOT = "snapshot"
    EXPORT_EXECUTE = "export.execute"
    CAMERA_STATUS = "camera.status"
    CAMERA_ADMIN = "camera.admin"
    HOLD_READ = "hold.read"
    HOLD_REQUEST = "hold.request"
    HOLD_APPROVE = "hold.approve"
    GRANT_REQUEST = "grant.request"
    GRANT_APPROVE = "grant.approve"
    ROLE_APPROVE = "role.approve"
    ROLE_EDIT = "role.edit"
    USER_ADMIN = "user.admin"
    AUDIT_READ = "audit.read"
    # Clause 3.4.3: IT support's information-security duty: check the audit log's integrity
    # (counts, sequence numbers, checkpoints; never an entry's actor, camera or purpose).
    AUDIT_VERIFY = "audit.verify"
    HEALTH_READ = "health.read"
    PROTOCOL_WRITE = "protocol.write"  # clause 3.5.7: the guard's protocol of an incident
    PROTOCOL_REVIEW = "protocol.review"  # read and review everyone's protocols
    # Clause 3.5.7: the Management Board reads registered protocols and acts (never a draft,
    # never the frame: no footage) and acknowledges the protocols addressed to it.
    PROTOCOL_READ = "protocol.read"
    ACT_WRITE = "act.write"  # clause 3.5.8: the security service's act of a violation
    TRANSFER_REGISTER = "transfer.register"  # clause 3.5.6: register third parties' requests
    TRANSFER_DECIDE = "transfer.decide"  # clause 3.5.6: the rector decides on them
    TOKEN_CREATE = "token.create"  # on an API token only: it may create narrower tokens
    # Confirm a second-factor reset that another person asked for (the second of two).
    SECOND_FACTOR_RESET = "second_factor.reset"
    # Clauses 3.1.2, 3.3.1: record the rector's order to keep a camera's sound (video only
    # otherwise).
    CAMERA_AUDIO = "camera.audio"
    # Clauses 3.3.1-3.3.8, 3.4.2, 3.4.3: keep the equipment register, its checks, faults and
    # repairs (issue 22); reading it is health.read.
    EQUIPMENT_ADMIN = "equipment.admin"
    # Clauses 4.1, 4.3 (issue 23): the regulation's editions and amendments. They are
    # prepared (texts, the signed scan) by those who keep the system; one comes into force
    # only by the rector's approval, with the rector's order (never the rector's own
    # draft: the one approval machine's rule).
    EDITION_PREPARE = "edition.prepare"
    EDITION_APPROVE = "edition.approve"
    # Clauses 3.1.4, 3.4.6, 3.4.7 (issue 23): the records that people were told: general
    # meetings, the lists of staff and students, their sign-off sheets and marks.
    ACQUAINTANCE_KEEP = "acquaintance.keep"
    # Clause 3.2.11 (issue 24): live video to police duty units and Operational Control
    # Centres. A centre and its cameras are prepared by those who keep the system and
    # come into force only by the rector's approval; the head of internal security (and
    # the rector) may cut a session at once.
    CENTRE_PREPARE = "centre.prepare"
    CENTRE_APPROVE = "centre.approve"
    RESTREAM_CUT = "restream.cut"
    # an incident's camera pushed to a centre for a few hours, reviewed by the rector
    # afterwards; a guard's push only where the centre's agreement allows it
    RESTREAM_PUSH = "restream.push"


# The clause a refusal for want of each permission names ("refused: this needs
# archive.view (UE-10-22 3.5.4)"): why the permission is not everyone's.
CLAUSE: dict[Perm, str] = {
    Perm.LIVE_VIEW: "3.2.10, 3.5.4, 3.5.5",
    Perm.ARCHIVE_VIEW: "3.5.4, 3.5.5",
    Perm.SNAPSHOT: "3.5.4, 3.5.5",
    Perm.EXPORT_EXECUTE: "3.5.6",
    Perm.CAMERA_STATUS: "3.4.1",
    Perm.CAMERA_ADMIN: "3.4.2",
    Perm.HOLD_READ: "3.3",
    Perm.HOLD_REQUEST: "3.3",
    Perm.HOLD_APPROVE: "3.3",
    Perm.GRANT_REQUEST: "3.5.5",
    Perm.GRANT_APPROVE: "3.5.5",
    Perm.ROLE_APPROVE: "3.4.2, 3.5.4",
    Perm.ROLE_EDIT: "4.1",
    Perm.USER_ADMIN: "3.4.2",
    Perm.AUDIT_READ: "3.5.1",
    Perm.AUDIT_VERIFY: "3.4.3",
    Perm.HEALTH_READ: "3.3.1, 3.4.3",
    Perm.PROTOCOL_WRITE: "3.5.7",
    Perm.PROTOCOL_REVIEW: "3.5.7",
    Perm.PROTOCOL_READ: "3.5.7",
    Perm.ACT_WRITE: "3.5.8",
    Perm.TRANSFER_REGISTER: "3.5.6",
    Perm.TRANSFER_DECIDE: "3.5.6",
    Perm.TOKEN_CREATE: "3.5.1",
    Perm.SECOND_FACTOR_RESET: "3.5.4, 4.2",
    Perm.CAMERA_AUDIO: "3.1.2, 3.3.1",
    Perm.EQUIPMENT_ADMIN: "3.4.2, 3.4.3",
    Perm.EDITION_PREPARE: "4.1",
    Perm.EDITION_APPROVE: "4.1, 4.3",
    Perm.ACQUAINTANCE_KEEP: "3.1.4, 3.4.6, 3.4.7",
    Perm.CENTRE_PREPARE: "3.2.11",
    Perm.CENTRE_APPROVE: "3.2.11",
    Perm.RESTREAM_CUT: "3.2.11",
    Perm.RESTREAM_PUSH: "3.2.11",
}


def clauses_of(perms: frozenset[Perm] | set[Perm]) -> str:
    """The clauses behind `perms`, each once, in the regulation's order."""
    found = {c for p in perms for c in CLAUSE[p].split(", ")}
    return ", ".join(sorted(found, key=lambda c: [int(n) for n in c.split(".")]))


# Permissions that reach footage of a camera: they are checked against the camera, and
# they may be given for a time window by a grant.
CAMERA_SCOPED = frozenset({Perm.LIVE_VIEW, Perm.ARCHIVE_VIEW, Perm.SNAPSHOT,
                           Perm.EXPORT_EXECUTE, Perm.CAMERA_STATUS})
GRANTABLE = frozenset({Perm.LIVE_VIEW, Perm.ARCHIVE_VIEW, Perm.SNAPSHOT})
# Who reads the audit log's entries. The regulation names nobody (4.2 is about liability):
# the entries say who saw which camera's footage, when and why, which clause 3.5.1 makes
# confidential, so Kuzet keeps them, by the rector's instruction, to the rector and the
# head of internal security (docs/design/access.md); no role edit gives them to another.
# Checking the log's integrity is `audit.verify`, apart.
AUDIT_ROLES = frozenset({"rector", "head_of_security"})
AUDIT_READ_CLAUSE = Phrase("3.5.1; the rector's instruction")
# A role with any of these reaches stored video: assigning it waits for the rector, and
# its holder must use a second factor (as for a rector's decision: `is_privileged`).
ARCHIVE_PERMS = frozenset({Perm.ARCHIVE_VIEW, Perm.EXPORT_EXECUTE})
# Every permission that yields a picture of a camera, live or recorded, and the routes that
# yield it. Clause 3.4.3: IT support keeps the system running without seeing video, so no
# role edit gives it any of these (check_role_edit; tests/test_pictures.py reads this).
PICTURE_PERMS: frozenset[Perm] = frozenset({
    Perm.LIVE_VIEW,  # /api/ws/live, the wall; /api/events/{id}/snapshot while the alarm is live
    Perm.ARCHIVE_VIEW,  # /api/ws/archive; event pictures, the still, protocol frames (PDF)
    Perm.SNAPSHOT,  # /api/cameras/{name}/snapshot: a stamped recorded frame
    Perm.EXPORT_EXECUTE,  # /api/transfers/{id}/package: the footage itself
    Perm.CAMERA_ADMIN,  # /api/cameras/{name}/still: the latest recorded picture
    Perm.PROTOCOL_WRITE,  # /api/protocols/{id}/pdf: the frame of one's own protocol
    Perm.PROTOCOL_REVIEW,  # /api/protocols/{id}/pdf: the frame of every protocol
})
# Decisions the regulation gives to the rector alone (holds 3.3, grants 3.5.5, privileged
# roles and role edits 4.1, transfers 3.5.6, a camera's sound 3.1.2, the regulation's
# editions 4.1, 4.3, the centres that receive live video and their cameras 3.2.11): no
# role edit gives them to another role and no API token carries them; they are taken by
# the rector's own account, second factor and all.
DECISION_PERMS = frozenset({Perm.HOLD_APPROVE, Perm.GRANT_APPROVE, Perm.ROLE_APPROVE,
                            Perm.ROLE_EDIT, Perm.TRANSFER_DECIDE, Perm.CAMERA_AUDIO,
                            Perm.EDITION_APPROVE, Perm.CENTRE_APPROVE})
# Clause 3.5.7: the documents addressed to the Management Board. The regulation does not say
# who sits on the Board (the university's charter does) and the protocols tell of people
# in incidents (3.5.1, 4.2: confidential), so a role reading them waits for the Board's
# Chairman, the rector, like a role reaching stored video: otherwise an administrator could
# give it to themselves.
BOARD_PERMS = frozenset({Perm.PROTOCOL_READ})
# Clauses 3.1.4, 3.4.7: the lists of staff and students with their marks are personal
# data of thousands; a role holding them waits for the rector, as the Board's does.
PEOPLE_PERMS = frozenset({Perm.ACQUAINTANCE_KEEP})
# What an owner may put on an API token besides what their roles give: the right of the
# token itself to create tokens (never more than it carries).
TOKEN_ONLY = frozenset({Perm.TOKEN_CREATE})
# The regulation's order of authority (3.5.4, 3.5.6, 4.1): nobody resets, disables or
# changes the credentials of an account that holds a role at or above their own.
RANK = {"rector": 4, "vice_rector": 3, "head_of_security": 2, "administrator": 1}
# Who confirms a second-factor reset another person asked for: the two accounts at the top
# of that order, each for the other and for everyone below; never an administrator alone.
RESET_CONFIRMERS = frozenset({"rector", "vice_rector"})
# What an API token never carries, whatever its row says: it runs unattended with no second
# factor behind it. Stored video (a person's act), the rector's decisions, changing
# anyone's credentials (a token that resets passwords or confirms a second-factor reset
# would be the second person of a two-person rule), the lists of staff and students
# (personal data of thousands, read by a person), and pushing a camera to a police centre
# (video leaving the campus on a person's judgement of an incident, 3.2.11).
TOKEN_NEVER = (ARCHIVE_PERMS | DECISION_PERMS | PEOPLE_PERMS
               | frozenset({Perm.SECOND_FACTOR_RESET, Perm.USER_ADMIN, Perm.RESTREAM_PUSH}))


@dataclass(frozen=True)
class RoleDef:
    name: str
    clause: str
    title: dict[str, str]  # kk, ru, en
    perms: frozenset[Perm]


def _role(name: str, clause: str, kk: str, ru: str, en: str, perms: set[Perm]) -> RoleDef:
    return RoleDef(name, clause, {"kk": kk, "ru": ru, "en": en}, frozenset(perms))


_VIEW = {Perm.LIVE_VIEW, Perm.ARCHIVE_VIEW, Perm.SNAPSHOT, Perm.CAMERA_STATUS}
DEFAULT_ROLES: dict[str, RoleDef] = {r.name: r for r in [
    _role("rector", "3.5.4, 3.5.6, 4.1", "Ректор (Басқарма Төрағасы)",
          "Ректор (Председатель Правления)", "Rector (Chairman of the Board)",
          _VIEW | {Perm.HOLD_READ, Perm.HOLD_APPROVE, Perm.GRANT_APPROVE, Perm.ROLE_APPROVE,
                   Perm.ROLE_EDIT, Perm.AUDIT_READ, Perm.AUDIT_VERIFY, Perm.HEALTH_READ,
                   Perm.PROTOCOL_REVIEW,
                   Perm.TRANSFER_DECIDE, Perm.SECOND_FACTOR_RESET, Perm.CAMERA_AUDIO,
                   Perm.PROTOCOL_READ, Perm.EDITION_APPROVE, Perm.ACQUAINTANCE_KEEP,
                   Perm.CENTRE_APPROVE, Perm.RESTREAM_CUT}),
    _role("vice_rector", "3.5.4", "Академиялық мәселелер жөніндегі проректор",
          "Проректор по академическим вопросам", "Vice-rector for academic affairs",
          _VIEW | {Perm.SECOND_FACTOR_RESET}),
    _role("head_of_security", "3.5.4, 3.5.6, 3.5.8", "Ішкі қауіпсіздік басшысы",
          "Руководитель внутренней безопасности", "Head of internal security",
          _VIEW | {Perm.EXPORT_EXECUTE, Perm.HOLD_READ, Perm.HOLD_REQUEST, Perm.GRANT_REQUEST,
                   Perm.AUDIT_READ, Perm.AUDIT_VERIFY, Perm.HEALTH_READ, Perm.PROTOCOL_WRITE,
                   Perm.PROTOCOL_REVIEW, Perm.ACT_WRITE, Perm.TRANSFER_REGISTER,
                   Perm.EDITION_PREPARE, Perm.ACQUAINTANCE_KEEP, Perm.CENTRE_PREPARE,
                   Perm.RESTREAM_CUT, Perm.RESTREAM_PUSH}),
    _role("administrator", "3.4.2, 3.5.4, 3.5.6", "Жүйе әкімшісі", "Системный администратор",
          "System administrator",
          _VIEW | {Perm.EXPORT_EXECUTE, Perm.CAMERA_ADMIN, Perm.USER_ADMIN, Perm.HOLD_READ,
                   Perm.HOLD_REQUEST, Perm.GRANT_REQUEST, Perm.HEALTH_READ,
                   Perm.TRANSFER_REGISTER, Perm.EQUIPMENT_ADMIN, Perm.EDITION_PREPARE,
                   Perm.CENTRE_PREPARE}),
    _role("guard", "3.2.10, 3.5.7", "Күзет қызметкері (оператор)",
          "Сотрудник охраны (оператор)", "Security guard (operator)",
          {Perm.LIVE_VIEW, Perm.CAMERA_STATUS, Perm.HOLD_READ, Perm.PROTOCOL_WRITE,
           Perm.RESTREAM_PUSH}),
    _role("it_support", "3.4.3", "АТ қолдау қызметі", "ИТ-поддержка", "IT support",
          {Perm.CAMERA_STATUS, Perm.HEALTH_READ, Perm.AUDIT_VERIFY, Perm.EQUIPMENT_ADMIN}),
    _role("viewer", "3.5.5", "Нұсқау бойынша қараушы", "Просмотр по поручению",
          "Viewer by instruction", set()),
    # Clause 3.5.7: protocols are addressed to the Management Board; its members read
    # them and the acts, and see no footage. The Board sits under the university's charter,
    # not this regulation, so its members are confirmed by its Chairman, the rector
    # (`BOARD_PERMS`).
    _role("board_member", "3.5.7", "Басқарма мүшесі", "Член Правления",
          "Management Board member", {Perm.PROTOCOL_READ}),
    # Clauses 3.1.4, 3.4.7: staff and students are acquainted against signature; the HR and
    # student offices keep their lists and sheets, seeing nothing else (`PEOPLE_PERMS`).
    _role("hr_officer", "3.1.4, 3.4.7", "Кадр қызметінің уәкілетті қызметкері",
          "Уполномоченный сотрудник кадровой службы", "HR officer (designated)",
          {Perm.ACQUAINTANCE_KEEP}),
    # Clause 3.4.2: `kuzet init`'s first account sets the system up until the rector
    # appoints the administrator by order; no picture, no stored video.
    _role("installer", "3.4.2", "Жүйені орнатушы", "Установщик системы",
          "System installer (until the administrator's appointment)",
          {Perm.CAMERA_ADMIN, Perm.USER_ADMIN, Perm.CAMERA_STATUS, Perm.HEALTH_READ,
           Perm.EQUIPMENT_ADMIN}),
]}


def is_privileged(perms: frozenset[Perm] | set[Perm]) -> bool:
    """Does a role with `perms` reach stored video, take a rector's decision, or read the
    Board's confidential documents? Assigning it waits for the rector (who is rector:
    `access.roles`), and its holder must use a second factor."""
    return bool((ARCHIVE_PERMS | DECISION_PERMS | BOARD_PERMS | PEOPLE_PERMS) & set(perms))


def rank(roles: tuple[str, ...] | list[str] | set[str]) -> int:
    """The highest place in the regulation's order among `roles` (0: none of the four)."""
    return max((RANK.get(r, 0) for r in roles), default=0)


def check_role_edit(role: str, perms: set[Perm]) -> None:
    """Refuse (Invalid) edits that would break a rule of the regulation rather than a
    default."""
    if Perm.AUDIT_READ in perms and role not in AUDIT_ROLES:
        raise Invalid("refused: audit.read for {role}: the audit log's entries, which say who "
                      "saw which footage, are read only by the rector and the head of "
                      "internal security (UE-10-22 {clauses})",
                      role=repr(role), clauses=AUDIT_READ_CLAUSE)
    if role == "it_support" and perms & PICTURE_PERMS:
        raise Invalid("clause 3.4.3: IT support keeps the system running without seeing video "
                      "or a picture of it, so not {perms}",
                      perms=", ".join(sorted(perms & PICTURE_PERMS)))
    if role != "rector" and perms & DECISION_PERMS:
        raise Invalid("clauses 3.3, 3.5.5, 3.5.6, 4.1: the rector alone decides holds, grants, "
                      "privileged roles, transfers and the regulation's editions, not {role} "
                      "({perms})",
                      role=repr(role), perms=", ".join(sorted(perms & DECISION_PERMS)))
    if Perm.SECOND_FACTOR_RESET in perms and role not in RESET_CONFIRMERS:
        raise Invalid("clauses 3.5.4, 4.2: only the rector and the vice-rector confirm "
                      "second-factor resets, not {role}", role=repr(role))
    if perms & TOKEN_ONLY:
        raise Invalid("{perms} is given to API tokens, not roles",
                      perms=", ".join(sorted(perms & TOKEN_ONLY)))
    if role == "rector" and not perms >= DECISION_PERMS:
        raise Invalid("clause 4.1: the rector keeps every decision the regulation gives the "
                      "rector")


@dataclass(frozen=True)
class Assignment:
    """An active role held by a user; `cameras` None means every camera."""

    role: str
    perms: frozenset[Perm]
    cameras: frozenset[int] | None = None


@dataclass(frozen=True)
class GrantFacts:
    """An approved grant by the rector's instruction (clause 3.5.5)."""

    id: int
    perms: frozenset[Perm]
    cameras: frozenset[int]
    footage_from_ns: int
    footage_to_ns: int
    valid_from_ns: int
    valid_until_ns: int


@dataclass(frozen=True)
class Principal:
    user: str
    assignments: tuple[Assignment, ...] = ()
    grants: tuple[GrantFacts, ...] = ()
    token_perms: frozenset[Perm] | None = None  # an API token narrows what its owner holds

    @property
    def roles(self) -> list[str]:
        return sorted({a.role for a in self.assignments})


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    grant_id: int | None = None


def decide(p: Principal, perm: Perm, now_ns: int, camera: int | None = None,
           footage: tuple[int, int] | None = None) -> Decision:
    """May `p` use `perm` (on `camera`, for footage in [from, to)) at `now_ns`?

    A role gives a permission on its cameras for any footage; a grant gives it only on the
    grant's cameras, for footage inside its window, while it is valid.
    """
    if p.token_perms is not None and perm not in p.token_perms:
        return Decision(False, Phrase("the API token does not carry {perm}", perm=perm.value))
    if p.token_perms is not None and perm in TOKEN_NEVER:
        return Decision(False, Phrase("{perm} is a person's own act (stored video, the "
                                      "rector's decisions, credentials): never an API "
                                      "token's", perm=perm.value))
    for a in p.assignments:
        if perm in a.perms and (camera is None or a.cameras is None or camera in a.cameras):
            return Decision(True, f"role {a.role}")
    if perm in GRANTABLE and camera is not None:
        for g in p.grants:
            if perm not in g.perms or camera not in g.cameras:
                continue
            if not g.valid_from_ns <= now_ns < g.valid_until_ns:
                continue
            if perm is Perm.LIVE_VIEW or (footage is not None and g.footage_from_ns
                                          <= footage[0] and footage[1] <= g.footage_to_ns):
                return Decision(True, f"grant {g.id}", g.id)
    if camera is not None and perm in CAMERA_SCOPED:
        return Decision(False, Phrase("{perm} on this camera is not given to {user}",
                                      perm=perm.value, user=p.user))
    return Decision(False, Phrase("{perm} is not given to {user}", perm=perm.value, user=p.user))


def holds_somewhere(p: Principal, perm: Perm, now_ns: int) -> bool:
    """Does `p` hold `perm` at all (on some camera, by role or by a live grant)? Route
    guards ask this; which camera and footage is `decide`'s question."""
    if p.token_perms is not None and (perm not in p.token_perms or perm in TOKEN_NEVER):
        return False
    if any(perm in a.perms for a in p.assignments):
        return True
    return perm in CAMERA_SCOPED and any(
        perm in g.perms and g.valid_from_ns <= now_ns < g.valid_until_ns for g in p.grants)


def footage_bounds(p: Principal, perm: Perm, camera: int, now_ns: int) -> list[tuple[int, int]]:
    """The footage windows `p` may see on `camera`: everything for a role, grant windows
    otherwise. Listing endpoints clip what they return to these."""
    if p.token_perms is not None and (perm not in p.token_perms or perm in TOKEN_NEVER):
        return []
    for a in p.assignments:
        if perm in a.perms and (a.cameras is None or camera in a.cameras):
            return [(0, 2**63 - 1)]
    return [(g.footage_from_ns, g.footage_to_ns) for g in p.grants
            if perm in g.perms and camera in g.cameras
            and g.valid_from_ns <= now_ns < g.valid_until_ns]
