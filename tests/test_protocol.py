"""The wire protocol: routing, authentication, EVA error bodies and statuses, ID modes, headers, CORS, health."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import asyncpg
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from evacase.auth import UserType
from tests.conftest import make_settings, serving
from tests.helpers import SECRET, Api, customer, employee, token

TOPICS = "ListCaseTopics"


def claims(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {"sub": "7", "user_type": 2, "exp": int(time.time()) + 600}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


async def test_service_names_match_case_insensitively(api: Api) -> None:
    for name in ("ping", "PING", "Ping", "pInG"):
        assert await api.ok(name, {}, customer(1)) == {}


async def test_an_empty_body_means_an_empty_request(api: Api) -> None:
    r = await api.raw("ListCaseTopics", b"", customer(1))
    assert r.status_code == 200 and len(r.json()["Results"]) == 7


async def test_unknown_service_is_404_with_an_eva_error_body(api: Api) -> None:
    r = await api.call("NoSuchService", {}, customer(1))
    assert r.status_code == 404
    assert r.json() == {
        "Error": {
            "Code": "UnknownService",
            "Type": "NotFound",
            "Message": "The service 'NoSuchService' does not exist.",
            "RequestID": r.headers["EVA-Request-ID"],
        }
    }


async def test_every_response_carries_a_request_id_header(api: Api) -> None:
    ok = await api.call("Ping", {}, customer(1))
    failed = await api.call("Ping", {}, None)
    ids = {ok.headers["EVA-Request-ID"], failed.headers["EVA-Request-ID"]}
    assert len(ids) == 2 and all(len(i) == 32 for i in ids)


@pytest.mark.parametrize("scheme", ["Bearer ", "bearer ", "eva ", "EVA ", ""])
async def test_the_token_is_accepted_with_bearer_eva_or_no_prefix(api: Api, scheme: str) -> None:
    r = await api.client.post("/message/Ping", json={}, headers={"Authorization": scheme + customer(1)})
    assert r.status_code == 200 and r.json() == {}


async def test_missing_token_is_401(api: Api) -> None:
    err = await api.error("Ping", {}, None, 401)
    assert (err["Type"], err["Code"]) == ("Unauthorized", "MissingToken")


async def test_a_token_with_a_bad_signature_is_401(api: Api) -> None:
    forged = jwt.encode(claims(), "another-secret-another-secret-xx", algorithm="HS256")
    err = await api.error("Ping", {}, forged, 401)
    assert (err["Type"], err["Code"], err["Message"]) == (
        "Unauthorized",
        "InvalidToken",
        "The token is not valid: Signature verification failed.",
    )


async def test_integer_and_numeric_string_subjects_are_both_accepted(api: Api) -> None:
    for sub in (7, "7"):
        assert await api.ok("Ping", {}, jwt.encode(claims(sub=sub), SECRET, algorithm="HS256")) == {}


async def test_an_expired_token_is_401(api: Api) -> None:
    expired = jwt.encode(claims(exp=int(time.time()) - 31), SECRET, algorithm="HS256")
    err = await api.error("Ping", {}, expired, 401)
    assert (err["Type"], err["Code"]) == ("Unauthorized", "ExpiredToken")


async def test_a_token_used_before_its_nbf_is_401(api: Api) -> None:
    early = jwt.encode(claims(nbf=int(time.time()) + 120), SECRET, algorithm="HS256")
    assert (await api.error("Ping", {}, early, 401))["Code"] == "InvalidToken"


async def test_a_token_without_exp_is_401(api: Api) -> None:
    err = await api.error("Ping", {}, jwt.encode(claims(exp=None), SECRET, algorithm="HS256"), 401)
    assert err["Code"] == "InvalidToken"


async def test_an_unsigned_alg_none_token_is_401(api: Api) -> None:
    unsigned = jwt.encode(claims(), None, algorithm="none")
    err = await api.error("Ping", {}, unsigned, 401)
    assert err["Code"] == "InvalidToken"


async def test_a_token_signed_with_another_algorithm_is_401(api: Api) -> None:
    other = jwt.encode(claims(), SECRET + "-for-hs512-signing-purposes-only!" * 2, algorithm="HS512")
    assert (await api.error("Ping", {}, other, 401))["Code"] == "InvalidToken"


@pytest.mark.parametrize(
    "bad",
    [
        {"sub": "abc"},
        {"sub": "0"},
        {"sub": True},
        {"user_type": "customer"},
        {"functionalities": "Cases:View"},
        {"functionalities": ["Cases:Sometimes"]},
        {"organization_units": [0]},
        {"given_name": 5},
    ],
)
async def test_tokens_with_malformed_claims_are_401(api: Api, bad: dict[str, object]) -> None:
    tok = jwt.encode(claims(**bad), SECRET, algorithm="HS256")
    assert (await api.error("Ping", {}, tok, 401))["Code"] == "InvalidToken"


async def test_issuer_and_audience_are_checked_when_configured(db_dsn: str) -> None:
    async with serving(make_settings(db_dsn, jwt_issuer="https://id.shop", jwt_audience="evacase")) as api:
        right = jwt.encode(claims(iss="https://id.shop", aud="evacase"), SECRET, algorithm="HS256")
        wrong_iss = jwt.encode(claims(iss="https://evil", aud="evacase"), SECRET, algorithm="HS256")
        wrong_aud = jwt.encode(claims(iss="https://id.shop", aud="other"), SECRET, algorithm="HS256")
        assert await api.ok("Ping", {}, right) == {}
        assert (await api.error("Ping", {}, wrong_iss, 401))["Code"] == "InvalidToken"
        assert (await api.error("Ping", {}, wrong_aud, 401))["Code"] == "InvalidToken"


@pytest.mark.parametrize("kind", ["rsa", "ec"])
@pytest.mark.parametrize("given_as", ["pem", "path"])
async def test_public_key_verification_accepts_only_tokens_of_the_matching_private_key(
    db_dsn: str, kind: str, given_as: str, tmp_path: Path
) -> None:
    if kind == "rsa":
        key: object = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        alg = "RS256"
    else:
        key = ec.generate_private_key(ec.SECP256R1())
        alg = "ES256"
    public_pem = (
        key.public_key()
        .public_bytes(  # type: ignore[attr-defined]
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        .decode()
    )
    configured = public_pem
    if given_as == "path":
        (tmp_path / "key.pem").write_text(public_pem)
        configured = str(tmp_path / "key.pem")
    async with serving(make_settings(db_dsn, jwt_secret=None, jwt_public_key=configured)) as api:
        assert await api.ok("Ping", {}, jwt.encode(claims(), key, algorithm=alg)) == {}  # type: ignore[arg-type]
        hs256 = customer(1)  # signed with a shared secret: not accepted when a public key is configured
        assert (await api.error("Ping", {}, hs256, 401))["Code"] == "InvalidToken"


async def test_malformed_json_is_400(api: Api) -> None:
    r = await api.raw("CustomerCreateCase", b'{"Title": ', customer(1))
    assert r.status_code == 400
    assert r.json()["Error"] == {
        "Code": "MalformedJSON",
        "Type": "RequestValidationFailure",
        "Message": "The request body is not valid JSON.",
        "RequestID": r.headers["EVA-Request-ID"],
    }


async def test_a_body_that_is_not_an_object_is_400(api: Api) -> None:
    r = await api.raw("Ping", b"[1, 2]", customer(1))
    assert r.status_code == 400
    assert r.json()["Error"]["Message"] == "The request must be an object, got an array"


async def test_wrong_types_are_400_naming_the_field(api: Api) -> None:
    err = await api.error("CustomerCreateCase", {"Title": 12345, "Description": "x", "TopicID": 1}, customer(1), 400)
    assert err == {
        "Code": "RequestValidationFailure",
        "Type": "RequestValidationFailure",
        "Message": "Title must be a string, got an integer",
        "RequestID": err["RequestID"],
        "Data": {"Field": "Title"},
    }


async def test_missing_required_fields_are_400_naming_the_field(api: Api) -> None:
    err = await api.error("CustomerCreateCase", {"Title": "Hello there", "TopicID": 1}, customer(1), 400)
    assert (err["Message"], err["Data"]) == ("Description is required", {"Field": "Description"})


@pytest.mark.parametrize(
    ("title", "message"),
    [
        ("abcd", "Title must not be blank and must be between 5 and 200 characters"),
        ("x" * 201, "Title must not be blank and must be between 5 and 200 characters"),
        ("       ", "Title must not be blank and must be between 5 and 200 characters"),
    ],
)
async def test_out_of_bounds_strings_are_400_with_the_rule(api: Api, title: str, message: str) -> None:
    body = {"Title": title, "Description": "d", "TopicID": 1}
    err = await api.error("CustomerCreateCase", body, customer(1), 400)
    assert (err["Code"], err["Message"]) == ("RequestValidationFailure", message)


async def test_ids_beyond_bigint_and_non_positive_ids_are_400(api: Api) -> None:
    for bad in (0, -1, 2**63, "12a"):
        err = await api.error("CustomerGetCaseByID", {"ID": bad}, customer(1), 400)
        assert err["Data"] == {"Field": "ID"}


async def test_nul_characters_are_400_not_500(api: Api) -> None:
    body = {"Title": "Nul \u0000 here", "Description": "d", "TopicID": 1}
    err = await api.error("CustomerCreateCase", body, customer(1), 400)
    assert err["Type"] == "RequestValidationFailure"


async def test_unknown_fields_are_ignored(api: Api) -> None:
    body = {"Title": "Hello there", "Description": "d", "TopicID": 1, "SomethingNew": {"x": [1]}}
    assert "ID" in await api.ok("CustomerCreateCase", body, customer(1))


async def test_an_oversized_body_is_413(api: Api) -> None:
    big = b'{"Text": "' + b"x" * (1024 * 1024) + b'"}'
    r = await api.raw("Ping", big, customer(1))
    assert r.status_code == 413
    assert r.json()["Error"]["Type"] == "RequestTooLarge"
    assert r.json()["Error"]["Message"] == "The request body is larger than the limit of 1048576 bytes."


async def test_numeric_string_ids_are_accepted_and_string_ids_mode_returns_strings(api: Api) -> None:
    tok = customer(1)
    created = await api.ok("CustomerCreateCase", {"Title": "Hello there", "Description": "d", "TopicID": "2"}, tok)
    plain = await api.ok("CustomerGetCaseByID", {"ID": str(created["ID"])}, tok)
    assert plain["ID"] == created["ID"] and plain["TopicID"] == 2 and plain["StatusID"] == 1
    stringy = await api.ok("CustomerGetCaseByID", {"ID": created["ID"]}, tok, EVA_IDs_Mode="StringIDs")
    assert stringy["ID"] == str(created["ID"]) and stringy["TopicID"] == "2" and stringy["StatusID"] == "1"
    assert stringy["Priority"] == 0 and stringy["IsWarranty"] is False
    listed = await api.ok("CustomerListCaseInteractions", {"CaseID": created["ID"]}, tok, EVA_IDs_Mode="StringIDs")
    assert all(isinstance(i["ID"], str) and i["CaseID"] == str(created["ID"]) for i in listed["Results"])
    assert all(isinstance(i["Type"], int) for i in listed["Results"])


async def test_anonymous_ping_is_refused_but_health_needs_no_token(api: Api) -> None:
    assert (await api.call("Ping", {}, None)).status_code == 401
    r = await api.client.get("/health")
    assert (r.status_code, r.json()) == (200, {"Status": "OK"})
    assert len(r.headers["EVA-Request-ID"]) == 32


async def test_forbidden_is_403_with_the_missing_functionality(api: Api) -> None:
    err = await api.error(TOPICS, {}, employee(9, ["Cases:View"]), 403)
    assert err == {
        "Code": "Forbidden",
        "Type": "Forbidden",
        "Message": "You are not authorized to execute this request: it requires the functionality CaseTopics:View.",
        "RequestID": err["RequestID"],
        "Data": {"Functionality": "CaseTopics:View"},
    }


@pytest.mark.parametrize("functionality", ["CaseTopics:View", "CaseTopics", "CaseTopics:All", "CaseTopics:Manage"])
async def test_employees_list_topics_with_the_view_functionality(api: Api, functionality: str) -> None:
    body = await api.ok(TOPICS, {}, employee(9, [functionality]))
    assert body["Results"][0] == {
        "ID": 7,
        "Name": "Other",
        "Description": "Anything not covered by the other topics.",
        "DisplayName": "Other",
    }


async def test_a_user_type_outside_the_operation_is_403(api: Api) -> None:
    # ListCaseTopics is for employees, API users and customers; a bare "Business"-like type is refused.
    err = await api.error(TOPICS, {}, token(3, 256, ["CaseTopics:View"]), 403)
    assert err["Type"] == "Forbidden"


async def test_cors_preflight_allows_the_configured_origin_and_eva_headers(db_dsn: str) -> None:
    async with serving(make_settings(db_dsn, cors_origins=("https://shop.example",))) as api:
        client = api.client
        pre = await client.options(
            "/message/Ping",
            headers={
                "Origin": "https://shop.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type,eva-user-agent,eva-ids-mode",
            },
        )
        assert pre.status_code == 200
        assert pre.headers["access-control-allow-origin"] == "https://shop.example"
        assert "POST" in pre.headers["access-control-allow-methods"]
        r = await client.post(
            "/message/Ping",
            json={},
            headers={"Origin": "https://shop.example", "Authorization": customer(1)},
        )
        assert r.headers["access-control-expose-headers"] == "EVA-Request-ID, X-Request-ID"
        denied = await client.options(
            "/message/Ping",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        )
        assert denied.status_code == 400


async def test_no_cors_headers_without_configured_origins(api: Api) -> None:
    r = await api.client.post("/message/Ping", json={}, headers={"Origin": "https://x", "Authorization": customer(1)})
    assert "access-control-allow-origin" not in r.headers


async def test_system_user_type_counts_as_an_employee(api: Api) -> None:
    body = await api.ok(TOPICS, {}, token(4, UserType.SYSTEM, ["CaseTopics:View"]))
    assert len(body["Results"]) == 7


async def test_other_paths_and_methods_answer_with_eva_error_bodies(api: Api) -> None:
    r = await api.client.get("/message/Ping")
    assert r.status_code == 405
    assert r.json()["Error"]["Type"] == "MethodNotAllowed"
    assert r.json()["Error"]["RequestID"] == r.headers["EVA-Request-ID"]
    r = await api.client.post("/nothing/here", json={})
    assert (r.status_code, r.json()["Error"]["Type"]) == (404, "NotFound")


async def test_a_page_token_from_one_instance_works_on_another(db_dsn: str) -> None:
    async with serving(make_settings(db_dsn)) as one, serving(make_settings(db_dsn)) as two:
        first = await one.ok("ListCaseTopics", {"InitialPageConfig": {"Limit": 3}}, customer(1))
        second = await two.ok("ListCaseTopics", {"PageToken": first["NextPageToken"]}, customer(1))
        assert [t["ID"] for t in first["Results"] + second["Results"]] == [7, 6, 5, 4, 3, 2]


async def test_message_paths_other_than_one_service_name_are_404(api: Api) -> None:
    for path in ("/message/", "/message/Ping/extra"):
        r = await api.client.post(path, json={}, headers={"Authorization": customer(1)})
        assert (r.status_code, r.json()["Error"]["Type"]) == (404, "NotFound"), path
        assert r.json()["Error"]["RequestID"] == r.headers["EVA-Request-ID"]


async def test_a_body_sent_in_chunks_is_read_whole_and_limited_without_a_length(api: Api) -> None:
    async def chunks(parts: list[bytes]) -> Any:
        for part in parts:
            yield part

    headers = {"Authorization": f"Bearer {customer(1)}", "Content-Type": "application/json"}
    r = await api.client.post("/message/Ping", content=chunks([b"{", b"}"]), headers=headers)
    assert (r.status_code, r.json(), r.headers["content-type"]) == (200, {}, "application/json")
    assert r.headers["content-length"] == "2"
    big = [b'{"Text": "', *([b"x" * 65536] * 17), b'"}']
    r = await api.client.post("/message/Ping", content=chunks(big), headers=headers)
    assert (r.status_code, r.json()["Error"]["Type"]) == (413, "RequestTooLarge")


@pytest.mark.parametrize(
    ("configured", "origin", "expected"),
    [
        (
            ("https://shop.example",),
            "https://shop.example",
            {
                "access-control-expose-headers": "EVA-Request-ID, X-Request-ID",
                "access-control-allow-origin": "https://shop.example",
                "vary": "Origin",
            },
        ),
        (
            ("https://shop.example",),
            "https://evil.example",
            {"access-control-expose-headers": "EVA-Request-ID, X-Request-ID", "vary": "Origin"},
        ),
        (
            ("*",),
            "https://any.example",
            {
                "access-control-expose-headers": "EVA-Request-ID, X-Request-ID",
                "access-control-allow-origin": "*",
                "vary": "Origin",
            },
        ),
        (("https://shop.example",), None, {"vary": "Origin"}),
    ],
    ids=["allowed origin", "other origin", "any origin", "no Origin header"],
)
async def test_answers_carry_the_cors_headers_starlette_would_add(
    db_dsn: str, configured: tuple[str, ...], origin: str | None, expected: dict[str, str]
) -> None:
    # The same headers on a service's answer (added by MessageEndpoint itself) as on /health (Starlette's
    # CORSMiddleware): one behaviour whichever path answers.
    cors = ("access-control-expose-headers", "access-control-allow-origin", "vary")
    headers = {"Authorization": customer(1)} | ({"Origin": origin} if origin else {})
    async with serving(make_settings(db_dsn, cors_origins=configured)) as api:
        message = await api.client.post("/message/Ping", json={}, headers=headers)
        health = await api.client.get("/health", headers=headers)
    assert message.status_code == 200
    assert {k: v for k, v in message.headers.items() if k in cors} == expected
    assert {k: v for k, v in health.headers.items() if k in cors} == expected


async def test_an_incoming_request_id_or_trace_is_honoured_and_a_bad_one_ignored(api: Api) -> None:
    tok = customer(5)
    given = await api.call("Ping", {}, tok, X_Request_ID="shop-7f3a:checkout")
    assert (given.headers["EVA-Request-ID"], given.headers["X-Request-ID"]) == ("shop-7f3a:checkout",) * 2
    failed = await api.call("GetCaseByID", {"ID": 1}, tok, X_Request_ID="shop-7f3a:checkout")
    assert failed.json()["Error"]["RequestID"] == "shop-7f3a:checkout"
    trace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    traced = await api.call("Ping", {}, tok, traceparent=trace)
    assert traced.headers["EVA-Request-ID"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert "X-Request-ID" not in traced.headers
    for bad in ("x" * 65, "two words", "a;b", "<script>"):
        r = await api.call("Ping", {}, tok, X_Request_ID=bad)
        assert len(r.headers["EVA-Request-ID"]) == 32 and "X-Request-ID" not in r.headers, bad
    for bad_trace in ("00-" + "0" * 32 + "-00f067aa0ba902b7-01", "zz-nonsense", trace.upper()):
        r = await api.call("Ping", {}, tok, traceparent=bad_trace)
        assert r.headers["EVA-Request-ID"] != "4bf92f3577b34da6a3ce929d0e0e4736", bad_trace


async def test_readiness_needs_this_codes_schema_and_liveness_needs_nothing(db_dsn: str) -> None:
    async with serving(make_settings(db_dsn)) as api:
        conn = await asyncpg.connect(db_dsn)
        try:
            await conn.execute("UPDATE schema_version SET version = version + 1")  # a newer instance migrated
            ready = await api.client.get("/health")
            assert (ready.status_code, ready.json()) == (503, {"Status": "SchemaMismatch"})
            live = await api.client.get("/health/live")
            assert (live.status_code, live.json()) == (200, {"Status": "OK"})
            await conn.execute("UPDATE schema_version SET version = version - 1")
            assert (await api.client.get("/health")).status_code == 200
        finally:
            await conn.close()
