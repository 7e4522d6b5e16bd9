"""Employee-side blob references on cases and interactions."""

from __future__ import annotations

import asyncpg
import pytest

from tests.dbstate import ISO_MS, ledger, snapshot
from tests.factories import a_stored_blob
from tests.helpers import Api, customer, employee

AGENT = employee(100, ["Cases:Manage"])
CUSTOMER = customer(101)
G1 = "2f0a3c52-6e1b-4a54-9d0b-8c1e1a7f0001"
G2 = "2f0a3c52-6e1b-4a54-9d0b-8c1e1a7f0002"
BASE = "http://evacase.test/blob"  # the test client's origin: blob URLs are evacase's own


@pytest.fixture(autouse=True)
async def stored(db: asyncpg.Connection) -> None:
    """G1 and G2 were stored (by the agent) before these tests attach them."""
    await a_stored_blob(db, 100, G1, owner_type=1)
    await a_stored_blob(db, 100, G2, owner_type=1)


async def customer_case(api: Api) -> int:
    body = {"Title": "Scratched screen", "Description": "Photo attached.", "TopicID": 1}
    case_id: int = (await api.ok("CustomerCreateCase", body, CUSTOMER))["ID"]
    return case_id


async def test_blobs_on_a_case_are_listed_shown_and_ledgered(api: Api, db: asyncpg.Connection) -> None:
    case_id = await customer_case(api)
    url = f"{BASE}/{G2}"
    await api.ok("AttachBlobToCase", {"CaseID": case_id, "BlobID": G1, "BlobUrls": [url]}, AGENT)
    listed = await api.ok("ListBlobsForCase", {"CaseID": case_id}, AGENT)
    assert all(ISO_MS.match(b.pop("CreationTime")) for b in listed["Result"])
    assert listed == {
        "Result": [
            {"BlobID": G1, "MimeType": "image/png", "Url": f"{BASE}/{G1}"},
            {"BlobID": G2, "MimeType": "image/png", "Url": url},
        ]
    }
    view = await api.ok("GetCaseByID", {"ID": case_id}, AGENT)
    shown = [
        {"ID": G1, "Url": f"{BASE}/{G1}", "MimeType": "image/png", "Size": 32},
        {"ID": G2, "Url": url, "MimeType": "image/png", "Size": 32},
    ]
    assert (view["BlobIDs"], view["Blobs"]) == ([G1, G2], shown)
    assert (await api.ok("CustomerGetCaseByID", {"ID": case_id}, CUSTOMER))["BlobIDs"] == [G1, G2]
    await api.ok("DeleteCaseBlob", {"CaseID": case_id, "BlobUrl": url}, AGENT)
    assert (await api.ok("ListBlobsForCase", {"CaseID": case_id}, AGENT))["Result"][0]["BlobID"] == G1
    assert (await ledger(db, case_id))[2:] == [
        f"Blob `{G1}` added to the case",
        f"Blob `{G2}` added to the case",
        f"Blob `{G2}` removed from the case",
    ]
    err = await api.error("DeleteCaseBlob", {"CaseID": case_id, "BlobID": G2}, AGENT, 404)
    assert err["Code"] == "Blob:NotFound"
    err = await api.error("AttachBlobToCase", {"CaseID": case_id, "BlobID": G1}, AGENT, 409)
    assert err["Code"] == "Case:BlobAlreadyAttached"


async def test_a_closed_case_takes_no_blobs_and_hidden_cases_are_not_found(api: Api, db: asyncpg.Connection) -> None:
    case_id = await customer_case(api)
    await api.ok("UpdateCaseState", {"ID": case_id, "StatusID": 3}, AGENT)
    before = await snapshot(db)
    err = await api.error("AttachBlobToCase", {"CaseID": case_id, "BlobID": G1}, AGENT, 409)
    assert err["Code"] == "Case:CaseAlreadyClosed"
    assert await snapshot(db) == before
    await db.execute("UPDATE cases SET assigned_organization_unit_id = 20 WHERE id = $1", case_id)
    store = employee(102, ["Cases:Manage"], organization_units=[10])
    err = await api.error("ListBlobsForCase", {"CaseID": case_id}, store, 404)
    assert err["Code"] == "Case:NotFound"
    assert await api.ok("ListBlobsForCase", {"CaseID": case_id}, AGENT) == {"Result": []}


async def test_blobs_on_a_private_note_stay_out_of_the_ledger(api: Api, db: asyncpg.Connection) -> None:
    case_id = await customer_case(api)
    note = (await api.ok("CreateCaseInteraction", {"CaseID": case_id, "InteractionType": 1, "Text": "See"}, AGENT))[
        "ID"
    ]
    answer = (await api.ok("CreateCaseInteraction", {"CaseID": case_id, "Text": "Look"}, AGENT))["ID"]
    await api.ok("AddBlobToCaseInteraction", {"InteractionID": note, "BlobID": G1}, AGENT)
    await api.ok("AddBlobToCaseInteraction", {"InteractionID": answer, "BlobID": G2}, AGENT)
    assert (await api.ok("GetCaseInteraction", {"ID": note}, AGENT))["BlobIDs"] == [G1]
    await api.ok("RemoveCaseInteractionBlob", {"InteractionID": note, "BlobID": G1}, AGENT)
    assert "BlobIDs" not in await api.ok("GetCaseInteraction", {"ID": note}, AGENT)
    assert (await ledger(db, case_id))[2:] == [f"Blob `{G2}` added to interaction {answer}"]
    err = await api.error(
        "AddBlobToCaseInteraction", {"InteractionID": note, "BlobID": G2}, employee(103, ["Cases:Edit"]), 403
    )
    assert err["Code"] == "CaseInteraction:CanOnlyUpdateOwnInteraction"
