"""A URL that may carry a password (a camera's stream, the MQTT broker), in a type that
cannot be shown by accident.

`str`, `repr`, f-strings and a log line's `%s` or `%r` give the URL with its password
masked (`rtsp://user:***@host/…`); `json.dumps` refuses it (TypeError), so a status file,
a listing or an audit entry says which form it writes (`shown`). Only `reveal()` gives
the URL itself, where a connection is opened: Kuzet's RTSP client, FFmpeg's, the MQTT
client. The catalog stores camera URLs as text, as given; they are wrapped where a camera
row is read for recording or listed, and where the command line or the API takes one in
to check and show it. In settings (pydantic) it is read from text and written out, as
JSON, in its shown form. It imports nothing of Kuzet's.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from pydantic import GetCoreSchemaHandler
from pydantic_core import CoreSchema, core_schema


class SecretUrl:
    __slots__ = ("_url",)

    def __init__(self, url: str) -> None:
        self._url = url

    def reveal(self) -> str:
        """The URL, password and all: for opening a connection, never for showing it."""
        return self._url

    @property
    def shown(self) -> str:
        """The URL with its password, if any, replaced by `***`."""
        parts = urlsplit(self._url)
        if parts.password is None:
            return self._url
        userinfo, _, host = parts.netloc.rpartition("@")
        return parts._replace(netloc=f"{userinfo.partition(':')[0]}:***@{host}").geturl()

    def __str__(self) -> str:
        return self.shown

    def __repr__(self) -> str:
        return f"SecretUrl({self.shown!r})"

    def __format__(self, spec: str) -> str:
        return format(self.shown, spec)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretUrl) and other._url == self._url

    def __hash__(self) -> int:
        return hash(self._url)

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler
                                     ) -> CoreSchema:
        """A settings field: text (or a SecretUrl) in; in JSON, the shown form out."""
        from_text = core_schema.no_info_after_validator_function(cls, core_schema.str_schema())
        return core_schema.json_or_python_schema(
            json_schema=from_text,
            python_schema=core_schema.union_schema([core_schema.is_instance_schema(cls),
                                                    from_text]),
            serialization=core_schema.plain_serializer_function_ser_schema(
                str, when_used="json"))
