"""The Management Board and the protocols addressed to it (clause 3.5.7).

A guard's protocol is addressed to the Board. Its members (`board_member`, and the rector,
its Chairman) read the registered protocols and the registered acts resting on them
(`protocol.read`), never a draft (a draft is its author's until it is numbered), and
never the frame a protocol keeps: that is footage (3.5.4), which the Board does not view.
Each member acknowledges a protocol once: a row and its audit entry in one transaction.

`Reader` is who reads and through which right, and decides what they see (pure);
`Board` keeps the acknowledgements.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from kuzet.audit.actions import AuditAction
from kuzet.audit.log import Actor, append_act
from kuzet.errors import Conflict, NotFound
from kuzet.governance.models import Protocol, ProtocolAcknowledgement


@dataclass(frozen=True)
class Reader:
    """Someone reading protocols: `name`, and whether they review every protocol
    (`protocol.review`) or read the Board's (`protocol.read`); anyone else reads only their
    own (`protocol.write`)."""

    name: str
    reviewer: bool
    board: bool

    def sees(self, author: str, registered: bool) -> bool:
        """Whether a protocol by `author` (numbered when `registered`) is visible."""
        return self.reviewer or author == self.name or (self.board and registered)

    def sees_frame(self, author: str) -> bool:
        """Whether the protocol's frame may go into what this reader gets: to a reviewer and
        to its author, who still need the picture right at its instant
        (`access.pictures`); never to the Board, which reads it as a document only."""
        return self.reviewer or author == self.name

    def author_filter(self) -> str | None:
        """Whose protocols a listing is narrowed to (None: no narrowing by author)."""
        return None if self.reviewer or self.board else self.name

    def registered_or_by(self) -> str | None:
        """For the Board: a listing keeps the registered protocols and the reader's own
        drafts (None: no such narrowing)."""
        return self.name if self.board and not self.reviewer else None


@dataclass(frozen=True)
class Acknowledgement:
    member: str
    at_ns: int


class Board:
    def __init__(self, session: sessionmaker[Session]) -> None:
        self.session = session

    def acknowledge(self, actor: Actor, protocol_id: int, now_ns: int) -> Acknowledgement:
        """`actor`, a member of the Board, has read the registered protocol; a protocol
        not registered, or acknowledged by this member already, is refused (Conflict) and
        nothing is written."""
        try:
            with self.session.begin() as s:
                p = s.get(Protocol, protocol_id, with_for_update=True)
                if p is None:
                    raise NotFound("no protocol {protocol_id}", protocol_id=protocol_id)
                if p.number is None:
                    raise Conflict("refused: a draft is not yet addressed to the Management "
                                   "Board; it is acknowledged once registered (UE-10-22 3.5.7)")
                if _acknowledged(s, protocol_id, actor.name):
                    raise _twice(actor.name, p.number)
                entry = append_act(s, actor, AuditAction.PROTOCOL_ACKNOWLEDGE,
                                   f"protocol/{p.id}", number=p.number)
                s.add(ProtocolAcknowledgement(protocol_id=p.id, member=actor.name,
                                              at_ns=now_ns, entry=entry.seq))
        except IntegrityError as exc:  # a twin request committed between the check and here
            raise _twice(actor.name, str(protocol_id)) from exc
        return Acknowledgement(actor.name, now_ns)

    def of(self, protocol_ids: list[int]) -> dict[int, list[Acknowledgement]]:
        """The acknowledgements of each protocol, in the order they were made."""
        found: dict[int, list[Acknowledgement]] = {i: [] for i in protocol_ids}
        if not protocol_ids:
            return found
        with self.session() as s:
            for row in s.scalars(select(ProtocolAcknowledgement)
                                 .where(ProtocolAcknowledgement.protocol_id.in_(protocol_ids))
                                 .order_by(ProtocolAcknowledgement.id)):
                found[row.protocol_id].append(Acknowledgement(row.member, row.at_ns))
        return found


def _acknowledged(s: Session, protocol_id: int, member: str) -> bool:
    return s.scalar(select(ProtocolAcknowledgement.id).where(
        ProtocolAcknowledgement.protocol_id == protocol_id,
        ProtocolAcknowledgement.member == member)) is not None


def _twice(member: str, number: str) -> Conflict:
    return Conflict("refused: {member} has acknowledged protocol {number} already; a member "
                    "acknowledges a protocol once (UE-10-22 3.5.7)", member=member, number=number)
