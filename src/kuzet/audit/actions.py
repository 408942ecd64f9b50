"""What an audit entry records: one member per action Kuzet writes to the log.

The values are the strings stored in the chain, hashed and exported, so a value never
changes once written; a new act gets a new member. Each comment says what the entry records
and the clause of UE-10-22 behind it (4.2, the access log, unless another is named);
docs/design/audit.md lists them with who writes each. Readers filter by the stored string,
which may be one an older version wrote.
"""

from __future__ import annotations

from enum import StrEnum


class AuditAction(StrEnum):
    # -- logging in and being refused (4.2; the LAN gate 3.5.3) ------------------------
    AUTH_LOGIN = "auth.login"  # a session begins; its seq names the session
    AUTH_LOGIN_FAILED = "auth.login_failed"  # a refused login, with the reason kept
    AUTH_LOCKOUT = "auth.lockout"  # failures in a row lock an account for an address
    AUTH_LOGOUT = "auth.logout"  # a session ended by its owner
    AUTH_SESSION_END = "auth.session_end"  # a session ended by expiry or a disabled account
    SESSION_LOCK = "session.lock"  # the console's screen locked, idle or by hand
    SESSION_UNLOCK = "session.unlock"  # unlocked by its owner, or a wrong unlock refused
    ACCESS_REFUSED = "access.refused"  # a request refused: permission, CSRF, off the LAN
    TOKEN_CREATE = "token.create"  # an API token made, with its permissions and days
    TOKEN_REVOKE = "token.revoke"  # an API token ended by its owner

    # -- accounts (4.1, 4.2) -----------------------------------------------------------
    USER_CREATE = "user.create"  # an account made
    USER_DISABLE = "user.disable"  # an account disabled (or the refusal, by rank)
    USER_ENABLE = "user.enable"  # an account enabled again (or the refusal, by rank)
    USER_PASSWORD_CHANGE = "user.password_change"  # by its owner, with the current one
    USER_PASSWORD_RESET = "user.password_reset"  # by someone above, or the command line
    USER_RECOVERY_CODE = "user.recovery_code"  # a recovery code spent on a lost phone
    USER_TOTP_ENROL = "user.totp_enrol"  # a second factor's secret issued
    USER_TOTP_CONFIRM = "user.totp_confirm"  # the second factor confirmed with a code
    USER_TOTP_RESET_REQUEST = "user.totp_reset_request"  # first of the two people
    USER_TOTP_RESET = "user.totp_reset"  # second of the two: the factor removed

    # -- roles (3.5.4, 4.1) ------------------------------------------------------------
    ROLE_EDIT = "role.edit"  # a role's permissions changed, before and after
    GROUP_CREATE = "group.create"  # a camera group made
    ROLE_ASSIGN = "role.assign"  # a role given at once (no approval needed)
    ROLE_REQUEST = "role.request"  # a role asked for, awaiting the rector
    ROLE_APPROVE = "role.approve"  # the rector's approval (or its refusal)
    ROLE_REJECT = "role.reject"  # the rector's rejection (or its refusal)
    ROLE_REVOKE = "role.revoke"  # a role taken back (or the refusal)
    # At start-up, several rector assignments active (an older Kuzet's), one entry per
    # holder, shown to them at their next login (3.5.4, 4.1; access.reconcile).
    ROLE_SEVERAL_RECTORS = "role.several_rectors"

    # -- grants: access on the rector's instruction (3.5.5) ---------------------------
    GRANT_REQUEST = "grant.request"  # cameras, footage window, validity, instruction
    GRANT_APPROVE = "grant.approve"  # the rector's approval (or its refusal)
    GRANT_REJECT = "grant.reject"  # the rector's rejection (or its refusal)
    GRANT_REVOKE = "grant.revoke"  # a grant ended early (or the refusal)

    # -- seeing footage (3.5.4, 4.2) ---------------------------------------------------
    LIVE_START = "live.start"  # live view opened; its seq names the viewing
    LIVE_STOP = "live.stop"  # live view closed
    ARCHIVE_OPEN = "archive.open"  # stored footage opened, with purpose and window
    ARCHIVE_CLOSE = "archive.close"  # stored footage closed
    SNAPSHOT = "snapshot"  # a stamped picture of a recorded frame, with its purpose
    CAMERA_STILL = "camera.still"  # the latest recorded frame, to draw detection zones on
    DETECTION_SNAPSHOT = "detection.snapshot"  # a detection event's picture shown

    # -- cameras and disks (3.3, 3.3.5) ------------------------------------------------
    CAMERA_ADD = "camera.add"  # a camera added (URL masked), with zone and place
    CAMERA_REMOVE = "camera.remove"  # a camera no longer recorded; recordings stay
    CAMERA_RETENTION = "camera.retention"  # a camera's days kept (at most 30, 3.3)
    CAMERA_ZONE = "camera.zone"  # a camera's installation zone set, before and after (3.3.9)
    CAMERA_AUDIO = "camera.audio"  # sound kept on the rector's order, or no longer (3.1.2)
    CAMERA_CERTIFICATE = "camera.certificate"  # an rtsps:// camera's TLS pin set or removed
    CAMERA_ONVIF = "camera.onvif"  # where a camera's ONVIF clock is read, set or removed
    CAMERA_NTP = "camera.ntp"  # a camera pointed at the campus's time servers over ONVIF
    VOLUME_ADD = "volume.add"  # a disk or mount added for new recordings
    VOLUME_STATE = "volume.state"  # a volume enabled, drained or removed
    NODE_STATE = "node.state"  # a recording node drained or taken back (issue 25)
    NODE_FORGET = "node.forget"  # a node that is down for good taken off the list
    CAMERA_MOVE = "camera.move"  # a camera pinned to a node, or placed automatically again
    CLUSTER_INIT = "cluster.init"  # the cluster's certificate authority made

    # -- the regulation's editions and their acquaintance (3.1.4, 3.4.7, 4.1, 4.3) -------
    EDITION_PREPARE = "edition.prepare"  # an edition or amendment prepared, its texts' digests
    EDITION_APPROVE = "edition.approve"  # the rector's approval with the order (or its refusal)
    EDITION_REJECT = "edition.reject"  # the rector's rejection (or its refusal)
    EDITION_WITHDRAW = "edition.withdraw"  # a draft withdrawn by whoever prepared it
    EDITION_SCAN = "edition.scan"  # the signed document's scan attached (its digest)
    EDITION_ACQUAINT = "edition.acquaint"  # an account acquainted with the edition in force
    # -- places and warning signs (3.4.5) ---------------------------------------------------
    PLACE_ADD = "place.add"  # a place entered, its zone, kind and cameras
    PLACE_CHANGE = "place.change"  # a place's fields or cameras, before and after
    SIGN_ADD = "sign.add"  # a sign put up before a place
    SIGN_CHECK = "sign.check"  # a sign checked in place, or found taken down
    SIGN_PHOTO = "sign.photo"  # a sign's photograph attached
    PLACE_COVERAGE = "place.coverage"  # the coverage report read as PDF or CSV
    # -- meetings and the acquaintance of staff and students (3.4.6, 3.4.7) ---------------
    MEETING_ADD = "meeting.add"  # a general meeting where people were told
    MEETING_MINUTES = "meeting.minutes"  # its minutes attached (their digest)
    PEOPLE_IMPORT = "people.import"  # a list of staff or students imported: counts only
    PEOPLE_REMOVE = "people.remove"  # a person who left taken off the lists (the row's id)
    PEOPLE_READ = "people.read"  # the lists or a sheet's names read: counts only
    SHEET_MAKE = "sheet.make"  # a sign-off sheet made for a unit and the edition in force
    SHEET_SCAN = "sheet.scan"  # its signed scan attached (its digest)
    SHEET_MARK = "sheet.mark"  # who signed, refused or was absent, as counts

    # -- live video to police duty units and control centres (3.2.11; issue 24) --------
    CENTRE_REQUEST = "centre.request"  # a centre, or a change of its cameras, asked for
    CENTRE_APPROVE = "centre.approve"  # the rector's approval (or its refusal)
    CENTRE_REJECT = "centre.reject"  # the rector's rejection (or its refusal)
    CENTRE_WITHDRAW = "centre.withdraw"  # a request withdrawn by whoever made it
    CENTRE_DISABLE = "centre.disable"  # a centre disabled: its sessions end at once
    CENTRE_PUSH = "centre.push"  # an incident's camera pushed to a centre for a time
    CENTRE_PUSH_END = "centre.push_end"  # a push ended before its time
    CENTRE_REVIEW = "centre.review"  # the rector's review of a push afterwards
    RESTREAM_START = "restream.start"  # a centre's session of a camera began
    RESTREAM_END = "restream.end"  # it ended: how long, bytes, frames, why
    RESTREAM_REFUSED = "restream.refused"  # a connection or request refused, or a minute's
    RESTREAM_CUT = "restream.cut"  # a session cut by the head of internal security

    # -- the equipment register (3.3.1-3.3.8, 3.4.3; issue 22) -------------------------
    EQUIPMENT_ADD = "equipment.add"  # an item entered in the register, its passport
    EQUIPMENT_CHANGE = "equipment.change"  # an item's passport or state, before and after
    EQUIPMENT_IMPORT = "equipment.import"  # a CSV import: rows, items added and changed
    EQUIPMENT_LOG = "equipment.log"  # a check, fault or repair written in an item's log
    EQUIPMENT_EXPORT = "equipment.register_export"  # the register as CSV or its passport

    # -- retention and integrity (3.3, 3.5.1) ------------------------------------------
    RECORDINGS_DELETE = "recordings.delete"  # footage deleted: reason, count, bytes, range
    PICTURES_DELETE = "pictures.delete"  # pictures of expired footage cleared: counts, cut-off
    INTEGRITY_SAMPLE = "integrity.sample"  # the daily re-hash: files checked, problems
    RECORDINGS_READ = "recordings.read"  # a camera's segments listed on the command line

    # -- holds: special retention (3.3) ------------------------------------------------
    HOLD_REQUEST = "hold.request"  # cameras, range, reason and incident
    HOLD_APPROVE = "hold.approve"  # the rector's approval with an expiry (or its refusal)
    HOLD_REJECT = "hold.reject"  # the rector's rejection (or its refusal)
    HOLD_RELEASE = "hold.release"  # a hold ended early (or the refusal)
    HOLD_REMIND = "hold.remind"  # the daily reminder of undecided holds to the rector
    HOLDS_READ = "holds.read"  # the holds listed on the server's command line

    # -- the console's marks (3.5.7) ---------------------------------------------------
    BOOKMARK_INCIDENT = "bookmark.incident"  # the guard's incident button on a camera
    BOOKMARK_NOTE = "bookmark.note"  # a note at an instant of a camera

    # -- documents: protocols (3.5.7), acts (3.5.8), viewing sessions (3.5.5) ----------
    PROTOCOL_START = "protocol.start"  # a protocol begun at a camera's instant
    PROTOCOL_SUBMIT = "protocol.submit"  # numbered and closed, with its content's digest
    PROTOCOL_REVIEW = "protocol.review"  # reviewed by the head of security
    PROTOCOL_DOCUMENT = "protocol.document"  # its PDF produced
    # a member of the Management Board has read a registered protocol addressed to it
    PROTOCOL_ACKNOWLEDGE = "protocol.acknowledge"
    ACT_START = "act.start"  # an act begun on registered protocols
    ACT_REGISTER = "act.register"  # numbered and closed, with its content's digest
    ACT_DOCUMENT = "act.document"  # its PDF produced
    VIEWING_SESSION = "viewing.session"  # a viewing session: attendees, footage, purpose
    VIEWING_DOCUMENT = "viewing.document"  # its minutes' PDF produced
    HOLDS_REGISTER_EXPORT = "holds.register_export"  # the register as CSV (3.3)
    VIEWINGS_REGISTER_EXPORT = "viewings.register_export"
    ACTS_REGISTER_EXPORT = "acts.register_export"
    PROTOCOLS_REGISTER_EXPORT = "protocols.register_export"
    TRANSFERS_REGISTER_EXPORT = "transfers.register_export"  # (3.5.6)
    RESTREAM_REGISTER_EXPORT = "restream.register_export"  # the sessions as CSV (3.2.11)

    # -- transfers to third parties (3.5.6) --------------------------------------------
    TRANSFER_REGISTER = "transfer.register"  # a reasoned request, numbered
    TRANSFER_BASIS = "transfer.basis"  # the basis document's scan attached (its digest)
    TRANSFER_BASIS_READ = "transfer.basis_read"  # the scan read
    TRANSFER_APPROVE = "transfer.approve"  # the rector's approval (or its refusal)
    TRANSFER_REJECT = "transfer.reject"  # the rector's rejection (or its refusal)
    TRANSFER_EXECUTE = "transfer.execute"  # the export package made (3.2.4, 3.2.5)
    TRANSFER_PACKAGE_DOWNLOAD = "transfer.package_download"  # the package taken away
    TRANSFER_PACKAGE_DISCARD = "transfer.package_discard"  # the package's files deleted
    TRANSFER_DOCUMENT = "transfer.document"  # the hand-over act's PDF produced

    # -- detection (3.2.12) ------------------------------------------------------------
    DETECTION_RULE_ADD = "detection.rule_add"  # a rule on a camera, with its spec
    DETECTION_RULE_ENABLE = "detection.rule_enable"
    DETECTION_RULE_DISABLE = "detection.rule_disable"
    DETECTION_RULE_REMOVE = "detection.rule_remove"
    DETECTION_ACKNOWLEDGE = "detection.acknowledge"  # an event acknowledged, with a note
    DETECTION_MOTION_SETTINGS = "detection.motion_settings"  # a camera's motion settings

    # -- the log itself (4.2) ----------------------------------------------------------
    AUDIT_READ = "audit.read"  # entries read, with the filter
    AUDIT_EXPORT = "audit.export"  # entries exported as CSV
    AUDIT_CHECKPOINT = "audit.checkpoint"  # a signed checkpoint of the head (audit.md)

    # -- what leaves the LAN (3.2.11, 3.5.3) -------------------------------------------
    # at each start of `kuzet serve`: the external endpoint (masked) and what it receives
    EGRESS_EXTERNAL = "egress.external"
