"""The API described for machines (issue 18): GET /openapi.json and `evacase openapi` give one valid OpenAPI 3.1
document listing exactly the registered services, and real answers conform to the schemas it gives."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import asyncpg
import msgspec
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from evacase.openapi import openapi_document, package_version
from evacase.services import build_registry
from tests.helpers import Api, customer, employee

AGENT = employee(60, ["Cases:Manage"])


def conforms(document: dict[str, Any], name: str, instance: Any) -> list[str]:
    """What is wrong with `instance` as the schema `name` of the document says (nothing: conforms)."""
    schema = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    return [error.message for error in Draft202012Validator(schema).iter_errors(instance)]


async def test_the_document_is_valid_openapi_and_lists_exactly_the_registered_services(api: Api) -> None:
    r = await api.client.get("/openapi.json")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    document = r.json()
    validate(document)
    assert document["openapi"] == "3.1.0"
    services = {path.removeprefix("/message/") for path in document["paths"] if path.startswith("/message/")}
    assert services == set(build_registry().names())
    for path in ("/blob/{guid}", "/health", "/health/live", "/metrics", "/openapi.json", "/docs", "/docs/token"):
        assert path in document["paths"]
    update = document["paths"]["/message/UpdateCaseState"]["post"]
    assert update["description"] == "Who may call: Employee or Api users with the functionality Cases:Edit."
    assert update["x-eva-access"] == {
        "UserTypes": 2049,
        "Functionality": ["Cases", 2],
        "Anonymous": False,
        "Writes": True,
    }
    assert "`Case:CaseAlreadyClosed`" in update["responses"]["409"]["description"]
    assert {p["name"] for p in update["parameters"]} >= {"EVA-IDs-Mode", "Idempotency-Key", "X-Request-ID"}
    assert document["components"]["securitySchemes"]["token"]["scheme"] == "bearer"


async def test_real_answers_conform_to_the_documented_schemas(api: Api, db: asyncpg.Connection) -> None:
    document = (await api.client.get("/openapi.json")).json()
    body = {"TopicID": 1, "Title": "Broken zipper", "Description": "It broke.", "CustomerReference": "R-1"}
    assert conforms(document, "CustomerCreateCase", body) == []
    created = await api.ok("CustomerCreateCase", body, customer(5))
    await api.ok("AddCaseTags", {"CaseID": created["ID"], "Tags": ["vip"]}, AGENT)
    await api.ok("AddCaseContact", {"CaseID": created["ID"], "Contact": {"EmailAddress": "a@b.example"}}, AGENT)
    calls = [
        ("CustomerCreateCase", created),
        ("CustomerGetCaseByID", await api.ok("CustomerGetCaseByID", {"ID": created["ID"]}, customer(5))),
        ("CustomerListCases", await api.ok("CustomerListCases", {}, customer(5))),
        ("GetCaseByID", await api.ok("GetCaseByID", {"ID": created["ID"]}, AGENT)),
        ("ListCases", await api.ok("ListCases", {"InitialPageConfig": {"Limit": 1}}, AGENT)),
        ("ListCaseTopics", await api.ok("ListCaseTopics", {}, customer(5))),
        ("GetCurrentUser", await api.ok("GetCurrentUser", {}, AGENT)),
        ("Ping", await api.ok("Ping", {}, AGENT)),
    ]
    for service, answer in calls:
        response = document["paths"][f"/message/{service}"]["post"]["responses"]["200"]
        name = response["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
        assert conforms(document, name, answer) == [], service
    failed = await api.call("GetCaseByID", {"ID": 999}, AGENT)
    assert failed.status_code == 404 and conforms(document, "ErrorBody", failed.json()) == []
    assert conforms(document, "CustomerCreateCase", {"TopicID": 1, "Title": "x"}) != []  # able to fail


def test_the_command_prints_the_same_document() -> None:
    printed = subprocess.run(
        [sys.executable, "-m", "evacase.cli", "openapi"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env=dict(os.environ),
    )
    served = json.loads(msgspec.json.encode(openapi_document(build_registry(), package_version())))
    assert json.loads(printed.stdout) == served  # the document the first test validated
