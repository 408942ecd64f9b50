"""What the API answers: one pydantic model per reply, one module per route module.

Every JSON route declares its reply as its return type, so the OpenAPI description names
each field (and schemathesis checks every answer against it), and a field added to a
handler but not to its model is a 500 in the tests rather than a silent change of the
API: replies refuse unknown fields just as request bodies do.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict


class Reply(BaseModel):
    model_config = ConfigDict(extra="forbid")


def a_file(*media_types: str) -> dict[str, Any]:
    """Decorator arguments for a route that answers a file (CSV, PDF, a picture, a
    package): its media types in the description instead of FastAPI's default of JSON."""
    content = {t: {"schema": {"type": "string", "format": "binary"}} for t in media_types}
    return {"response_class": Response,
            "responses": {200: {"description": "the file", "content": content}}}
