"""Token verification and functionality rules, below the HTTP layer."""

from __future__ import annotations

import time

import jwt
import pytest

from evacase.auth import Scope, TokenVerifier, caller_from_claims, parse_functionality, strip_scheme
from evacase.config import Settings
from evacase.errors import Unauthorized
from tests.helpers import SECRET


def test_a_cached_token_is_refused_once_it_expires() -> None:
    verifier = TokenVerifier(Settings(jwt_secret=SECRET))
    exp = int(time.time()) - TokenVerifier.LEEWAY_SECONDS + 2  # valid (within the leeway) for 1 to 2 more seconds
    tok = jwt.encode({"sub": "1", "user_type": 2, "exp": exp}, SECRET, algorithm="HS256")
    assert verifier.verify(tok).user_id == 1
    time.sleep(exp + TokenVerifier.LEEWAY_SECONDS - time.time() + 0.2)
    with pytest.raises(Unauthorized):
        verifier.verify(tok)


def test_the_none_algorithm_cannot_be_configured() -> None:
    with pytest.raises(ValueError, match="none"):
        TokenVerifier(Settings(jwt_secret=SECRET, jwt_algorithm="none"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Cases", ("Cases", Scope.ALL)),
        ("Cases:View", ("Cases", Scope.VIEW)),
        ("Cases:none", ("Cases", Scope.NONE)),
        ("PushCases:Settings", ("PushCases", Scope.SETTINGS)),
        ("CaseTopics:Manage", ("CaseTopics", Scope.MANAGE)),
    ],
)
def test_functionalities_parse_to_name_and_scope(text: str, expected: tuple[str, Scope]) -> None:
    assert parse_functionality(text) == expected


@pytest.mark.parametrize(
    ("held", "required", "allowed"),
    [
        (["Cases:View"], ("Cases", Scope.VIEW), True),
        (["Cases:View"], ("Cases", Scope.EDIT), False),
        (["Cases:Manage"], ("Cases", Scope.DELETE), True),
        (["Cases:Manage"], ("Cases", Scope.SETTINGS), False),
        (["Cases"], ("Cases", Scope.SETTINGS), True),
        (["Cases:Create"], ("Cases", Scope.NONE), True),  # any scope satisfies Name:None
        (["Cases:View", "Cases:Edit"], ("Cases", Scope.EDIT), True),
        (["CaseTopics:View"], ("Cases", Scope.VIEW), False),
    ],
)
def test_functionality_scopes_combine_as_evas_flags(
    held: list[str], required: tuple[str, Scope], allowed: bool
) -> None:
    caller = caller_from_claims({"sub": "1", "user_type": 1, "functionalities": held, "exp": 1})
    assert caller.has_functionality(*required) is allowed


@pytest.mark.parametrize(
    ("header", "token"), [("Bearer abc", "abc"), ("eva abc", "abc"), ("abc", "abc"), ("  EVA   abc ", "abc")]
)
def test_authorization_schemes_are_stripped(header: str, token: str) -> None:
    assert strip_scheme(header) == token


def test_organization_units_and_ids_from_other_systems_are_read_from_claims() -> None:
    caller = caller_from_claims(
        {"sub": 5, "user_type": 1, "organization_units": [3, "4"], "custom_id": "E5", "backend_id": "B5", "exp": 9}
    )
    assert (caller.organization_units, caller.custom_id, caller.backend_id) == ((3, 4), "E5", "B5")
    assert caller_from_claims({"sub": "5", "user_type": 1, "organization_units": [], "exp": 9}).organization_units == ()


@pytest.mark.parametrize(
    ("claims", "why"),
    [
        ({"sub": "²"}, "`sub` (the user ID) must be a positive integer"),  # a Unicode digit (str.isdigit)
        ({"sub": "١٢٣"}, "`sub` (the user ID) must be a positive integer"),  # Arabic-Indic digits
        ({"sub": "\uff11\uff12\uff13"}, "`sub` (the user ID) must be a positive integer"),  # full-width digits
        ({"sub": "0"}, "`sub` (the user ID) must be a positive integer"),
        ({"sub": -4}, "`sub` (the user ID) must be a positive integer"),
        ({"sub": 4.0}, "`sub` (the user ID) must be a positive integer"),
        ({"sub": " 4"}, "`sub` (the user ID) must be a positive integer"),
        ({"sub": "9" * 30}, "`sub` (the user ID) must be a positive integer"),
        ({"sub": True}, "`sub` (the user ID) must be a positive integer"),
        ({"user_type": 2**32}, "`user_type` must be an EVA UserTypes value"),
        ({"user_type": -1}, "`user_type` must be an EVA UserTypes value"),
        ({"user_type": 1.5}, "`user_type` must be an EVA UserTypes value"),
        ({"user_type": "1"}, "`user_type` must be an EVA UserTypes value"),
        ({"organization_units": [0]}, "each organization unit ID must be a positive integer"),
        ({"organization_units": ["٣"]}, "each organization unit ID must be a positive integer"),
        ({"organization_units": [2**63]}, "each organization unit ID must be a positive integer"),
        ({"organization_units": 3}, "`organization_units` must be a list of IDs"),
        ({"organization_units": list(range(1, 1_002))}, "`organization_units` holds more than 1000 IDs"),
        ({"functionalities": "Cases"}, "`functionalities` must be a list"),
        ({"functionalities": ["Cases:Often"]}, "invalid functionality"),
        ({"email": "x" * 321}, "the claim `email` must be at most 320 characters"),
        ({"given_name": 5}, "the claim `given_name` must be a string"),
        ({"email_verified": "yes"}, "`email_verified` must be true or false"),
    ],
)
def test_claims_other_than_the_readme_documents_are_invalid_tokens_that_say_why(
    claims: dict[str, object], why: str
) -> None:
    with pytest.raises(Unauthorized) as caught:
        caller_from_claims({"sub": "5", "user_type": 2, "exp": 9, **claims})
    assert caught.value.code == "InvalidToken"
    assert caught.value.message.startswith("The token is not valid: ")
    assert why in caught.value.message


def test_ids_are_ascii_decimal_digits_or_integers_and_units_are_deduplicated() -> None:
    caller = caller_from_claims({"sub": "0123", "user_type": 2**31 - 1, "organization_units": [3, "3", 4], "exp": 9})
    assert (caller.user_id, caller.user_type, caller.organization_units) == (123, 2**31 - 1, (3, 4))
    assert caller_from_claims({"sub": 7, "user_type": 0, "exp": 9, "email_verified": True}).email_verified is True


def test_a_bad_signature_says_which_check_failed() -> None:
    verifier = TokenVerifier(Settings(jwt_secret=SECRET))
    forged = jwt.encode(
        {"sub": "1", "user_type": 2, "exp": int(time.time()) + 60},
        "another-secret-of-at-least-32-bytes!",
        algorithm="HS256",
    )
    with pytest.raises(Unauthorized) as caught:
        verifier.verify(forged)
    assert (caught.value.code, caught.value.message) == (
        "InvalidToken",
        "The token is not valid: Signature verification failed.",
    )
    with pytest.raises(Unauthorized) as caught:
        verifier.verify("not.a.token")
    assert caught.value.message.startswith("The token is not valid: ")


@pytest.mark.parametrize(
    ("user_type", "staff", "customer"),
    [
        (1, True, False),
        (2, False, True),
        (17, True, False),
        (2048, True, False),
        (3, True, False),
        (2048 | 2, True, False),
        (0, False, False),
        (4, False, False),
    ],
)
def test_a_token_both_staff_and_customer_counts_as_staff(user_type: int, staff: bool, customer: bool) -> None:
    caller = caller_from_claims({"sub": "5", "user_type": user_type, "exp": 9})
    assert (caller.is_staff, caller.is_customer) == (staff, customer)
