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
