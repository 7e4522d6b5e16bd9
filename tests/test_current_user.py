"""ValidateToken and GetCurrentUser, the token helpers EVA's SDKs call (issue 18)."""

from __future__ import annotations

import time

import asyncpg
import jwt

from evacase.auth import UserType
from tests.dbstate import normalized
from tests.helpers import SECRET, Api, customer, token


async def test_validate_token_answers_for_a_valid_token_and_says_why_another_is_refused(api: Api) -> None:
    assert await api.ok("ValidateToken", {}, customer(5)) == {}
    missing = await api.error("ValidateToken", {}, None, 401)
    assert missing["Code"] == "MissingToken"
    expired = jwt.encode({"sub": "5", "user_type": 2, "exp": int(time.time()) - 3600}, SECRET, algorithm="HS256")
    err = await api.error("ValidateToken", {}, expired, 401)
    assert (err["Code"], err["Message"]) == ("ExpiredToken", "The token has expired.")
    forged = jwt.encode(
        {"sub": "5", "user_type": 2, "exp": int(time.time()) + 60}, "another-secret-of-32-bytes-at-least"
    )
    err = await api.error("ValidateToken", {}, forged, 401)
    assert err["Message"] == "The token is not valid: Signature verification failed."
    assert SECRET not in err["Message"]


async def test_get_current_user_shows_the_caller_as_evacase_knows_them(api: Api, db: asyncpg.Connection) -> None:
    assert await api.ok("GetCurrentUser", {}, None) == {}
    agent = token(
        61,
        UserType.EMPLOYEE,
        ["Cases:View"],
        "Pedro",
        "Pascal",
        email="pedro@shop.example",
        organization_units=[10, 20],
        custom_id="E-61",
    )
    shown = await api.ok("GetCurrentUser", {}, agent)
    assert normalized(shown) == {
        "User": {
            "ID": "<id>",
            "Type": 1,
            "FirstName": "Pedro",
            "LastName": "Pascal",
            "FullName": "Pedro Pascal",
            "EmailAddress": "pedro@shop.example",
            "EmailAddressVerified": False,
            "CustomID": "E-61",
            "OrganizationUnitIDs": [10, 20],
            "CreationTime": "<time>",
        }
    }
    assert shown["User"]["ID"] == 61
    # A customer token naming a pushed customer is that customer (its ID and what the push said).
    await db.execute(
        "INSERT INTO users (id, user_type, backend_id, is_pushed, first_name)"
        " VALUES (1000000000000001, 2, 'C-9', true, 'Kim')"
    )
    await db.execute("INSERT INTO customer_profiles (user_id, phone_number) VALUES (1000000000000001, '+3161234')")
    pushed = await api.ok("GetCurrentUser", {}, token(7, UserType.CUSTOMER, backend_id="C-9", first_name="Kim"))
    assert (pushed["User"]["ID"], pushed["User"]["BackendID"], pushed["User"]["PhoneNumber"]) == (
        1000000000000001,
        "C-9",
        "+3161234",
    )
