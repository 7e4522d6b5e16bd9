"""The customer-isolation matrix: every Customer* service called by another customer on the first one's case
and interactions is answered 404, exactly like a case that does not exist, and changes nothing."""

from __future__ import annotations

import asyncpg
import pytest

from tests.dbstate import snapshot
from tests.factories import a_stored_blob
from tests.helpers import Api, customer
from tests.test_customer_cases import ALICE, BOB, new_case
from tests.test_customer_interactions import say

G1 = "b832ece7-93ea-4c5e-ad64-11402201315d"
G2 = "0f4e8b2a-1c2d-4e5f-8a9b-0c1d2e3f4a5b"

CASE_SERVICES = [
    ("CustomerGetCaseByID", lambda c, i: {"ID": c}),
    ("CustomerUpdateCase", lambda c, i: {"ID": c, "Title": "Taken over", "Description": "mine now", "TopicID": 2}),
    ("CustomerCreateCaseInteraction", lambda c, i: {"CaseID": c, "Text": "I am not Alice"}),
    ("CustomerListCaseInteractions", lambda c, i: {"CaseID": c}),
    ("CustomerAddBlobToCase", lambda c, i: {"CaseID": c, "BlobID": G2}),
    ("CustomerRemoveCaseBlob", lambda c, i: {"CaseID": c, "BlobID": G1}),
]
INTERACTION_SERVICES = [
    ("CustomerGetCaseInteraction", lambda c, i: {"ID": i}),
    ("CustomerUpdateCaseInteraction", lambda c, i: {"ID": i, "Text": "rewritten"}),
    ("CustomerDeleteCaseInteraction", lambda c, i: {"ID": i}),
    ("CustomerAddBlobToCaseInteraction", lambda c, i: {"InteractionID": i, "BlobID": G2}),
    ("CustomerRemoveCaseInteractionBlob", lambda c, i: {"InteractionID": i, "BlobID": G1}),
]


@pytest.mark.parametrize(
    ("service", "body"), CASE_SERVICES + INTERACTION_SERVICES, ids=lambda v: v if isinstance(v, str) else None
)
async def test_another_customers_case_is_answered_as_not_found(
    api: Api, db: asyncpg.Connection, service: str, body: object
) -> None:
    case_id = await new_case(api, ALICE)
    message = await say(api, case_id, "Alice's message")
    await a_stored_blob(db, ALICE, G1)
    await a_stored_blob(db, BOB, G2)  # Bob's own upload: only the case decides the answer
    await api.ok("CustomerAddBlobToCase", {"CaseID": case_id, "BlobID": G1}, customer(ALICE))
    await api.ok("CustomerAddBlobToCaseInteraction", {"InteractionID": message, "BlobID": G1}, customer(ALICE))
    await api.ok("Ping", {}, customer(BOB))  # Bob is a known user: only case data could change below
    missing_case, missing_interaction = case_id + 1000, message + 1000
    before = await snapshot(db)

    foreign = await api.error(service, body(case_id, message), customer(BOB), 404)  # type: ignore[operator]
    absent = await api.error(service, body(missing_case, missing_interaction), customer(BOB), 404)  # type: ignore[operator]

    assert await snapshot(db) == before
    assert (foreign["Code"], foreign["Message"]) == (absent["Code"], absent["Message"])


async def test_another_customers_cases_never_appear_in_their_list(api: Api) -> None:
    await new_case(api, ALICE, Title="Alice's secret case")
    assert (await api.ok("CustomerListCases", {}, customer(BOB)))["Results"] == []
