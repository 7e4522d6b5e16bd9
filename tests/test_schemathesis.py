"""Schemathesis (property-based API testing) over every operation of /openapi.json against a live server
(issue 18): whatever schema-shaped or not quite shaped body it sends, no answer is a 5xx, and every answer's
status, content type and body conform to the document (also with EVA-IDs-Mode: StringIDs, which it sends too)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import msgspec
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from evacase.auth import UserType
from evacase.openapi import openapi_document, package_version
from evacase.services import build_registry
from tests.helpers import FUNCTIONALITY_NAMES, token
from tests.live import live_server as serving_live

schema = schemathesis.openapi.from_dict(
    json.loads(msgspec.json.encode(openapi_document(build_registry(), package_version())))
)
# CI: the generated examples only (a few per operation); EVACASE_HYPOTHESIS_EXAMPLES above 30 adds Schemathesis'
# coverage phase (boundary values of every field: about a second per operation here).
schema.config.phases.coverage.enabled = int(os.environ.get("EVACASE_HYPOTHESIS_EXAMPLES", "30")) > 30
# An employee who is also a customer, holding every functionality: the bodies, not the rules, are under test.
EVERYONE = token(1, UserType.EMPLOYEE | UserType.CUSTOMER, list(FUNCTIONALITY_NAMES))
# Examples per operation: three in CI (the suite's five minutes; 112 operations), more with
# EVACASE_HYPOTHESIS_EXAMPLES.
EXAMPLES = max(3, int(os.environ.get("EVACASE_HYPOTHESIS_EXAMPLES", "30")) // 10)
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]


@pytest.fixture(scope="module")
def live_server(pg_admin_dsn: str, template_dsn: str) -> Iterator[str]:
    with serving_live(pg_admin_dsn, "schemathesis") as (url, _):
        yield url


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_documented(case: schemathesis.Case, live_server: str) -> None:
    case.call_and_validate(base_url=live_server, headers={"Authorization": f"Bearer {EVERYONE}"}, checks=CHECKS)
