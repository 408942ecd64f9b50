"""Schemathesis over the served OpenAPI description: generated requests, signed in as the
administrator and as the rector, never get a 500 and always match the declared schema."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import response_schema_conformance

from api_world import World

NOW = 1_790_000_000 * 10**9


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_generated_requests_get_no_server_errors(storage: Any) -> None:
    w = World(storage, NOW)
    w.user("admin", "administrator")
    w.user("rector", "rector")
    clients = [w.login("admin"), w.login("rector")]
    schema = schemathesis.openapi.from_dict(clients[0].get("/api/openapi.json").json())
    operations = []
    for r in schema.get_all_operations():
        assert isinstance(r, Ok), r
        operations.append(r.ok())
    assert len(operations) > 40
    calls = {"n": 0}
    for op in operations:
        if op.path in ("/api/auth/logout", "/api/auth/lock", "/api/auth/unlock"):
            continue  # would end (or lock) the sessions the rest use

        # derandomize: the same examples on every run, so CI cannot turn red by chance;
        # widen max_examples (or drop derandomize) by hand to hunt for new failures; 5 a
        # route keeps the suite within its 10 minutes (12 cost 32 s, issue 21).
        @settings(max_examples=5, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(case=op.as_strategy())
        def check(case: Any) -> None:
            for c in clients:
                kwargs = case.as_transport_kwargs(base_url="https://kuzet.lan")
                kwargs["headers"] = {**kwargs.get("headers", {}), **c.headers}
                kwargs.pop("cookies", None)
                if isinstance(kwargs.get("data"), bytes | str):  # an optional body sent as
                    kwargs["content"] = kwargs.pop("data")  # raw JSON (`null`): httpx's way
                response = c.request(**kwargs)
                calls["n"] += 1
                case.validate_response(response, checks=[not_a_server_error,
                                                         response_schema_conformance])

        check()
    assert calls["n"] > 300
