"""
API v1 against its own description, by Schemathesis: every operation of
the OpenAPI document (docs/openapi.json, which api/tests/test_openapi.py
keeps equal to what the server serves), on a real server process with a
personal access token. No answer may be a 5xx, nor differ from what the
description says; invalid input must be refused.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from tests.server import ROOT, ChatServer, running

# Examples per operation and kind (valid, invalid): enough to reach every
# parameter's edges, few enough for the whole run to take a minute or two.
EXAMPLES = 25
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]

SCHEMA = schemathesis.openapi.from_path(ROOT / "docs" / "openapi.json")
OPERATIONS = {
    operation.label: operation
    for operation in (result.ok() for result in SCHEMA.get_all_operations())
}


# Revoking tokens by id would revoke the one the test runs with: that
# operation runs with a token of another user, whose ids it cannot touch.
OWN_CREDENTIALS = {"DELETE /api/v1/tokens/{token_id}"}


class Site:
    def __init__(self, server: ChatServer, token: str, other_token: str) -> None:
        self.server = server
        self.token = token
        self.other_token = other_token


def _post(server: ChatServer, token: str, path: str, body: dict[str, Any]) -> None:
    request = urllib.request.Request(
        server.url + path,
        data=json.dumps(body).encode(),
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
        },
    )
    with urllib.request.urlopen(request) as response:
        assert response.status in (200, 201)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with running(
        Path(tmp_path_factory.mktemp("api-conformance")), RATE_LIMITS="off"
    ) as server:
        server.create_user("alice")
        server.create_user("bob")
        # Staff, so that managing a room's webhooks is tried on a real room.
        server.manage(
            "shell",
            "-c",
            "from accounts.models import User; "
            "User.objects.filter(username='alice').update(is_staff=True)",
        )
        token = server.create_token("alice")
        other_token = server.create_token("bob")
        # Something to read, edit, react to and search for.
        for text in ("hello there", "a second message", "search me"):
            _post(server, token, "/api/v1/rooms/general/messages", {"text": text})
        yield Site(server, token, other_token)


def _cases(operation: Any) -> Any:
    """Valid and invalid requests; half the valid ones in a room that exists."""
    strategies = [
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    ]
    if "{slug}" in operation.path:
        strategies.append(
            operation.as_strategy(
                GenerationMode.POSITIVE, path_parameters={"slug": "general"}
            )
        )
    return st.one_of(strategies)


# What each operation answered, by label.
STATUSES: dict[str, list[int]] = {}


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_every_operation_answers_as_described(label: str, site: Site) -> None:
    operation = OPERATIONS[label]
    token = site.other_token if label in OWN_CREDENTIALS else site.token

    @given(case=_cases(operation))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def check(case: Any) -> None:
        response = case.call_and_validate(
            base_url=site.server.url,
            headers={"Authorization": f"Bearer {token}"},
            checks=CHECKS,
        )
        STATUSES.setdefault(label, []).append(response.status_code)

    check()
    if label.startswith("GET ") and not label.endswith("/revisions"):
        # Not only refusals: reading works, so the answers checked include
        # real rooms and messages (revisions need one's own edited message).
        assert 200 in STATUSES[label]


def test_every_operation_is_tried() -> None:
    # An operation Schemathesis could not read would silently go untested.
    described = json.loads((ROOT / "docs" / "openapi.json").read_text())["paths"]
    labels = {
        f"{method.upper()} {path}"
        for path, operations in described.items()
        for method in operations
    }
    assert labels == set(OPERATIONS)
