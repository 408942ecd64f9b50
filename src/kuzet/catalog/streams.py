"""A camera's streams: main (recorded, full resolution) and sub (low resolution, for walls).

One name for a stream everywhere: segment rows store its number (a SMALLINT key column,
two bytes in each of millions of rows), gap rows its label (`String(8)`, as migration
0001 made them), paths, audit entries and the API its label. The conversions live here
and nowhere else: the column types below turn the enum into what each table stores and
back, so no caller ever sees a number or a bare string for a stream.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from sqlalchemy import SmallInteger, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from kuzet.errors import Invalid


class Stream(IntEnum):
    MAIN = 0
    SUB = 1

    @property
    def label(self) -> str:
        """What people, paths and the API call it: "main" or "sub"."""
        return self.name.lower()

    @classmethod
    def parse(cls, label: str) -> Stream:
        for stream in cls:
            if stream.label == label:
                return stream
        raise Invalid("unknown stream {label!r}: main or sub", label=label)


RECORDED_STREAMS = (Stream.MAIN,)  # the sub stream joins when the console records it


class StreamCode(TypeDecorator[Stream]):
    """A stream stored as its number (segments, segment_deletions)."""

    impl = SmallInteger
    cache_ok = True

    def process_bind_param(self, value: Stream | None, dialect: Dialect) -> int | None:
        return None if value is None else int(Stream(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> Stream | None:
        return None if value is None else Stream(value)


class StreamLabel(TypeDecorator[Stream]):
    """A stream stored as its label (gaps)."""

    impl = String(8)
    cache_ok = True

    def process_bind_param(self, value: Stream | None, dialect: Dialect) -> str | None:
        return None if value is None else Stream(value).label

    def process_result_value(self, value: Any, dialect: Dialect) -> Stream | None:
        return None if value is None else Stream.parse(value)
