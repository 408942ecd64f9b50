"""Names people type, to the rows they mean, inside the caller's transaction."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kuzet.access.models import User
from kuzet.catalog.models import Camera
from kuzet.errors import NotFound


def user_named(s: Session, name: str) -> User:
    user = s.scalar(select(User).where(User.name == name))
    if user is None:
        raise NotFound("no account named {name!r}", name=name)
    return user


def camera_ids(s: Session, names: list[str]) -> list[int]:
    """Ids of cameras still recorded; a removed or unknown name is refused."""
    ids = []
    for n in names:
        cam_id = s.scalar(select(Camera.id).where(Camera.name == n, Camera.removed_ns.is_(None)))
        if cam_id is None:
            raise NotFound("no camera named {name!r}", name=n)
        ids.append(cam_id)
    return ids
