"""The OpenAPI description: generated from the code, and kept in review."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT = ROOT / "docs" / "openapi.json"
EXPORT = [
    sys.executable,
    "manage.py",
    "export_openapi_schema",
    "--api",
    "api.v1.api",
    "--indent",
    "2",
    "--sorted",
]


def test_the_committed_description_is_what_the_code_describes() -> None:
    # A change to the API shows in review as a change to docs/openapi.json.
    exported = subprocess.run(
        EXPORT, cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(exported) == json.loads(SNAPSHOT.read_text()), (
        "API v1 changed: run `make openapi` and review docs/openapi.json"
    )


@pytest.mark.django_db
def test_the_server_serves_the_description() -> None:
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    served = response.json()
    assert served["openapi"].startswith("3.1")
    assert served == json.loads(SNAPSHOT.read_text())


@pytest.mark.django_db
def test_every_operation_declares_its_errors_in_the_one_shape() -> None:
    served = Client().get("/api/v1/openapi.json").json()
    for path, operations in served["paths"].items():
        for method, operation in operations.items():
            for status in ("400", "401", "403", "404", "429"):
                schema = operation["responses"][status]["content"]["application/json"][
                    "schema"
                ]
                assert schema == {"$ref": "#/components/schemas/Error"}, (
                    method,
                    path,
                )


@pytest.mark.django_db
def test_the_docs_page_loads_nothing_from_elsewhere() -> None:
    response = Client().get("/api/v1/docs")
    assert response.status_code == 200
    page = response.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in page
    assert "https://" not in page and "http://" not in page and "//cdn" not in page
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self';" in policy
    # Swagger UI's inline styles, and nothing else, beyond the site's rule.
    assert "style-src 'self' 'unsafe-inline'" in policy


@pytest.mark.django_db
def test_the_docs_assets_are_served_by_the_app() -> None:
    from django.contrib.staticfiles import finders

    for name in ("swagger-ui-bundle.js", "swagger-ui.css", "swagger-ui-init.js"):
        assert finders.find(f"ninja/{name}"), name
