"""Who may see a picture of what a camera recorded: the one rule behind stills,
snapshots, event pictures and the frames in incident protocols.

Pure, beside `permissions.decide`. A picture of recorded footage is recorded footage
(clause 3.5.4): it needs the archive permission on its camera with its instant inside the
caller's footage window (clause 3.5.5's grants included), and a person: an API token never
(it runs unattended, with no second factor behind it). One exception keeps the security
post working: a picture at most `LIVE_NS` old shows what is still going on, so where the
route allows it, whoever may watch the camera live sees it (the alarm on the wall, the
frame of the protocol a guard has just marked), as the live picture beside it shows the
same scene.
"""

from __future__ import annotations

from kuzet.access.permissions import Decision, Perm, Principal, decide
from kuzet.errors import Phrase

LIVE_NS = 600 * 10**9  # an alarm at most ten minutes old is still live (issue 16)


def may_see_picture(p: Principal, camera: int, at_ns: int, now_ns: int, *,
                    perm: Perm = Perm.ARCHIVE_VIEW, live: bool = False) -> Decision:
    """May `p` see the picture `camera` recorded at `at_ns`? `perm` is the archive
    permission the route stands on; `live` lets a young picture go to live viewers."""
    if p.token_perms is not None:
        return Decision(False, Phrase("clause 3.5.4: an API token never reaches recorded "
                                      "footage or a picture of it; log in as a person with "
                                      "a second factor"))
    young = live and now_ns - at_ns <= LIVE_NS
    if young:
        d = decide(p, Perm.LIVE_VIEW, now_ns, camera)
        if d.allowed:
            return Decision(True, f"live alarm, {d.reason}", d.grant_id)
    d = decide(p, perm, now_ns, camera, (at_ns, at_ns + 1))
    if d.allowed:
        return d
    if live:
        return Decision(False, Phrase("clause 3.5.4: a picture of recorded footage needs "
                                      "{perm} on its camera at its instant (or live.view "
                                      "while it is at most 10 minutes old): {reason}",
                                      perm=perm.value, reason=d.reason))
    return Decision(False, Phrase("clause 3.5.4: a picture of recorded footage needs {perm} "
                                  "on its camera at its instant: {reason}",
                                  perm=perm.value, reason=d.reason))
