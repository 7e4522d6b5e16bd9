"""Customers attach and detach blobs (by GUID or by evacase's blob URL) on their cases and messages."""

from __future__ import annotations

import asyncpg
import pytest

from evacase.domain.blobs import MAX_BLOBS_PER_CASE, MAX_BLOBS_PER_INTERACTION
from tests.dbstate import ledger, snapshot
from tests.factories import a_stored_blob
from tests.helpers import Api, customer
from tests.test_customer_cases import ALICE, new_case
from tests.test_customer_interactions import say, staff_line

G1 = "b832ece7-93ea-4c5e-ad64-11402201315d"
G2 = "0f4e8b2a-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
BASE = "http://evacase.test/blob"  # the test client's origin: blob URLs are evacase's own
URL2 = f"{BASE}/{G2.upper()}"


def guid(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


@pytest.fixture(autouse=True)
async def stored(db: asyncpg.Connection) -> None:
    """The blobs these tests attach were stored by Alice first."""
    for g in (G1, G2, *(guid(i) for i in range(MAX_BLOBS_PER_CASE + 1))):
        await a_stored_blob(db, ALICE, g)


async def test_add_by_id_and_url_lists_the_guids_and_writes_the_ledger(api: Api, db: asyncpg.Connection) -> None:
    case_id = await new_case(api)
    await api.ok("CustomerAddBlobToCase", {"CaseID": case_id, "BlobID": G1, "BlobUrls": [URL2]}, customer(ALICE))
    got = await api.ok("CustomerGetCaseByID", {"ID": case_id}, customer(ALICE))
    assert got["BlobIDs"] == [G1, G2]
    rows = await db.fetch(
        "SELECT blob_id::text, url FROM case_blobs WHERE case_id = $1 ORDER BY url NULLS FIRST", case_id
    )
    assert [tuple(r) for r in rows] == [(G1, None), (G2, URL2)]
    assert (await ledger(db, case_id))[2:] == [f"Blob `{G1}` added to the case", f"Blob `{G2}` added to the case"]


async def test_remove_by_id_or_url(api: Api, db: asyncpg.Connection) -> None:
    case_id = await new_case(api)
    await api.ok("CustomerAddBlobToCase", {"CaseID": case_id, "BlobID": G1, "BlobUrls": [URL2]}, customer(ALICE))
    await api.ok("CustomerRemoveCaseBlob", {"CaseID": case_id, "BlobUrl": URL2}, customer(ALICE))
    await api.ok("CustomerRemoveCaseBlob", {"CaseID": case_id, "BlobID": G1}, customer(ALICE))
    assert await db.fetchval("SELECT count(*) FROM case_blobs") == 0
    assert (await ledger(db, case_id))[-1] == f"Blob `{G1}` removed from the case"
    assert "BlobIDs" not in await api.ok("CustomerGetCaseByID", {"ID": case_id}, customer(ALICE))
    err = await api.error("CustomerRemoveCaseBlob", {"CaseID": case_id, "BlobID": G1}, customer(ALICE), 404)
    assert err["Code"] == "Blob:NotFound"


async def test_duplicates_are_refused_and_nothing_is_written(api: Api, db: asyncpg.Connection) -> None:
    case_id = await new_case(api)
    await api.ok("CustomerAddBlobToCase", {"CaseID": case_id, "BlobID": G1}, customer(ALICE))
    before = await snapshot(db)
    err = await api.error(
        "CustomerAddBlobToCase", {"CaseID": case_id, "BlobUrls": [URL2, f"{BASE}/{G1}"]}, customer(ALICE), 409
    )
    assert (err["Code"], err["Type"]) == ("Case:BlobAlreadyAttached", "Conflict")
    err = await api.error(
        "CustomerAddBlobToCase", {"CaseID": case_id, "BlobID": G2, "BlobUrls": [URL2]}, customer(ALICE), 400
    )
    assert err["Code"] == "Blob:DuplicateBlob"
    assert await snapshot(db) == before


async def test_bad_blob_references_are_400(api: Api) -> None:
    case_id = await new_case(api)
    tok = customer(ALICE)
    assert (await api.error("CustomerAddBlobToCase", {"CaseID": case_id}, tok, 400))[
        "Code"
    ] == "Blob:BlobIDOrUrlRequired"
    err = await api.error("CustomerAddBlobToCase", {"CaseID": case_id, "BlobUrls": ["https://x/no-guid"]}, tok, 400)
    assert err["Code"] == "Blob:InvalidBlobUrl"
    err = await api.error("CustomerAddBlobToCase", {"CaseID": case_id, "BlobID": "not-a-guid"}, tok, 400)
    assert err["Data"] == {"Field": "BlobID"}
    err = await api.error("CustomerAddBlobToCase", {"CaseID": case_id, "BlobUrls": ["x" * 2001]}, tok, 400)
    assert (err["Message"], err["Data"]) == (
        "BlobUrls[0] must be between 1 and 2000 characters",
        {"Field": "BlobUrls[0]"},
    )
    urls = [f"{BASE}/{guid(i)}" for i in range(21)]
    err = await api.error("CustomerAddBlobToCase", {"CaseID": case_id, "BlobUrls": urls}, tok, 400)
    assert (err["Message"], err["Data"]) == ("BlobUrls must hold at most 20 items", {"Field": "BlobUrls"})
    err = await api.error("CustomerRemoveCaseBlob", {"CaseID": case_id, "BlobID": G1, "BlobUrl": URL2}, tok, 400)
    assert err["Code"] == "Blob:BlobIDAndUrlDiffer"


async def test_a_case_holds_at_most_the_documented_number_of_blobs(api: Api, db: asyncpg.Connection) -> None:
    case_id = await new_case(api)
    urls = [f"{BASE}/{guid(i)}" for i in range(MAX_BLOBS_PER_CASE)]
    for start in range(0, len(urls), 20):
        await api.ok(
            "CustomerAddBlobToCase", {"CaseID": case_id, "BlobUrls": urls[start : start + 20]}, customer(ALICE)
        )
    err = await api.error("CustomerAddBlobToCase", {"CaseID": case_id, "BlobID": G1}, customer(ALICE), 409)
    assert (err["Code"], err["Data"]) == ("Blob:TooManyBlobs", {"Limit": MAX_BLOBS_PER_CASE})
    assert await db.fetchval("SELECT count(*) FROM case_blobs") == MAX_BLOBS_PER_CASE


async def test_interaction_blobs_on_own_messages_only(api: Api, db: asyncpg.Connection) -> None:
    case_id = await new_case(api)
    mine = await say(api, case_id)
    staff = await staff_line(db, case_id, 0, "answer")
    tok = customer(ALICE)
    await api.ok("CustomerAddBlobToCaseInteraction", {"InteractionID": mine, "BlobUrls": [URL2]}, tok)
    rows = await db.fetch("SELECT interaction_id, blob_id::text FROM interaction_blobs")
    assert [tuple(r) for r in rows] == [(mine, G2)]
    assert (await ledger(db, case_id))[-1] == f"Blob `{G2}` added to interaction {mine}"
    err = await api.error("CustomerAddBlobToCaseInteraction", {"InteractionID": staff, "BlobID": G1}, tok, 403)
    assert err["Code"] == "CaseInteraction:CanOnlyUpdateOwnInteraction"
    err = await api.error("CustomerAddBlobToCaseInteraction", {"InteractionID": mine, "BlobID": G2}, tok, 409)
    assert err["Code"] == "CaseInteraction:BlobAlreadyAttached"
    await api.ok("CustomerRemoveCaseInteractionBlob", {"InteractionID": mine, "BlobID": G2}, tok)
    assert await db.fetchval("SELECT count(*) FROM interaction_blobs") == 0
    assert (await ledger(db, case_id))[-1] == f"Blob `{G2}` removed from interaction {mine}"
    err = await api.error("CustomerRemoveCaseInteractionBlob", {"InteractionID": mine, "BlobID": G2}, tok, 404)
    assert err["Code"] == "Blob:NotFound"


async def test_an_interaction_holds_at_most_the_documented_number_of_blobs(api: Api) -> None:
    case_id = await new_case(api)
    mine = await say(api, case_id)
    urls = [f"{BASE}/{guid(i)}" for i in range(MAX_BLOBS_PER_INTERACTION)]
    await api.ok("CustomerAddBlobToCaseInteraction", {"InteractionID": mine, "BlobUrls": urls}, customer(ALICE))
    err = await api.error(
        "CustomerAddBlobToCaseInteraction", {"InteractionID": mine, "BlobID": G1}, customer(ALICE), 409
    )
    assert err["Code"] == "Blob:TooManyBlobs"


async def test_deleting_a_message_removes_its_blob_references(api: Api, db: asyncpg.Connection) -> None:
    case_id = await new_case(api)
    mine = await say(api, case_id)
    await api.ok("CustomerAddBlobToCaseInteraction", {"InteractionID": mine, "BlobID": G1}, customer(ALICE))
    await api.ok("CustomerDeleteCaseInteraction", {"ID": mine}, customer(ALICE))
    assert await db.fetchval("SELECT count(*) FROM interaction_blobs") == 0
