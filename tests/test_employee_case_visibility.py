"""The employee-visibility matrix (issues 4 and 17): every employee service that reaches a case, called on a case
outside the caller's organization units or outside their `case_scopes`, is answered exactly like a case that does
not exist and changes nothing; the same call on a case in sight succeeds. The list of services is checked against
the registry, so a new case service cannot be forgotten here."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import asyncpg
import pytest

from evacase.auth import UserType
from evacase.services import build_registry
from tests.conftest import make_settings, serving
from tests.dbstate import snapshot
from tests.factories import a_stored_blob, a_user
from tests.helpers import Api, customer, employee
from tests.test_push_case import push

ME, OTHER, CUSTOMER = 900, 901, 950
ADMIN = employee(902, ["Cases:Manage"])
ME_UNRESTRICTED = employee(ME, ["Cases:Manage"])  # writes the notes (only their author may change them)
# In sight: unit 10 and assigned to me. The scope hides a case assigned to someone else; the unit, one in unit 20.
ME_TOKEN = employee(ME, ["Cases:Manage", "PushCases:None"], organization_units=[10], case_scopes=["assigned"])
BLOB = "5a1e0c52-6e1b-4a54-9d0b-8c1e1a7f0{:03d}"

Ids = dict[str, Any]
Body = Callable[[Ids, Ids], dict[str, Any]]  # (the case's ids, the linked case's ids) -> request body

# Every employee service that names a case (or one of its interactions), with a body that succeeds on a case in sight.
SERVICES: dict[str, Body] = {
    "GetCaseByID": lambda c, _: {"ID": c["case"]},
    "UpdateCase": lambda c, _: {"ID": c["case"], "Title": "Renamed"},
    "UpdateCaseState": lambda c, _: {"ID": c["case"], "Priority": 2},
    "UpdateCaseSummary": lambda c, _: {"ID": c["case"], "Summary": "Seen."},
    "ArchiveCase": lambda c, _: {"ID": c["case"]},
    "CreateCaseInteraction": lambda c, _: {"CaseID": c["case"], "InteractionType": 1, "Text": "A note"},
    "ListCaseInteractions": lambda c, _: {"CaseID": c["case"]},
    "GetCaseInteraction": lambda c, _: {"ID": c["message"]},
    "UpdateCaseInteraction": lambda c, _: {"ID": c["note"], "Text": "Edited"},
    "DeleteCaseInteraction": lambda c, _: {"ID": c["note"]},
    "ListBlobsForCase": lambda c, _: {"CaseID": c["case"]},
    "AttachBlobToCase": lambda c, _: {"CaseID": c["case"], "BlobID": c["spare_blob"]},
    "DeleteCaseBlob": lambda c, _: {"CaseID": c["case"], "BlobID": c["blob"]},
    "AddBlobToCaseInteraction": lambda c, _: {"InteractionID": c["note"], "BlobID": c["spare_blob"]},
    "RemoveCaseInteractionBlob": lambda c, _: {"InteractionID": c["note"], "BlobID": c["blob"]},
    "AddCaseContact": lambda c, _: {"CaseID": c["case"], "Contact": {"EmailAddress": "new@example.com"}},
    "RemoveCaseContact": lambda c, _: {"CaseID": c["case"], "ContactID": c["contact"]},
    "AddCaseTags": lambda c, _: {"CaseID": c["case"], "Tags": ["seen"]},
    "RemoveCaseTags": lambda c, _: {"CaseID": c["case"], "Tags": ["vip"]},
    "LinkCases": lambda c, other: {"CaseID": c["case"], "LinkedCaseID": other["case"]},
    "UnlinkCases": lambda c, other: {"CaseID": c["case"], "LinkedCaseID": other["case"]},
    "SetCaseRelatedData": lambda c, _: {"CaseID": c["case"], "ExternalOrderIdentifier": "WEB-1"},
    "RemoveCaseRelatedItems": lambda c, _: {"CaseID": c["case"], "ItemIDs": [], "RemoveAll": True},
    "GetCaseReceipt": lambda c, _: {"CaseID": c["case"]},
    "PrintCaseReceipt": lambda c, _: {"CaseID": c["case"]},
    "PushCase": lambda c, _: push(ID=c["case"], BackendID=f"V-{c['case']}"),
}
# Names of one case from both sides: the same matrix again with the hidden case as the *linked* one.
BOTH_SIDES = {"LinkCases", "UnlinkCases"}
# Services whose success needs a closed case: every case is closed before they are called.
ON_CLOSED_CASES = {"ArchiveCase"}
# Case services that name no single case: their lists are checked by tests/test_case_scopes.py.
LISTS_AND_CREATES = {"ListCases", "ListChangedCases", "CreateCase"}


def test_the_matrix_holds_every_employee_service_that_reaches_a_case() -> None:
    registry = build_registry()
    reaching = set()
    for name in registry.names():
        op = registry.get(name)
        assert op is not None
        if not op.access.user_types & UserType.EMPLOYEE or name.startswith("Customer"):
            continue
        fields = set(op.request_type.__struct_fields__)
        by_case = op.access.functionality is not None and op.access.functionality[0] == "Cases"
        if by_case or {"CaseID", "InteractionID"} & fields or name == "PushCase":
            reaching.add(name)
    assert reaching == set(SERVICES) | LISTS_AND_CREATES


@pytest.fixture
async def api(db_dsn: str) -> AsyncIterator[Api]:
    """The app with a print command (one that prints nowhere), so PrintCaseReceipt reaches its case."""
    async with serving(make_settings(db_dsn, print_command="true")) as client:
        yield client


async def a_case_with_everything(api: Api, db: asyncpg.Connection, n: int, assignee: int, unit: int) -> Ids:
    """A customer's case with a message, a note, a blob on each, a contact, a tag, a related item and a link to
    the first case made: whatever the services above act on."""
    body = {"Title": f"Case {n}", "Description": "d", "TopicID": 1}
    case_id: int = (await api.ok("CustomerCreateCase", body, customer(CUSTOMER)))["ID"]
    message = await api.ok("CustomerCreateCaseInteraction", {"CaseID": case_id, "Text": "Hi"}, customer(CUSTOMER))
    note_body = {"CaseID": case_id, "InteractionType": 1, "Text": "n"}
    note = await api.ok("CreateCaseInteraction", note_body, ME_UNRESTRICTED)
    blob, spare = BLOB.format(2 * n), BLOB.format(2 * n + 1)
    for guid in (blob, spare):
        await a_stored_blob(db, 902, guid, owner_type=1)
    await api.ok("AttachBlobToCase", {"CaseID": case_id, "BlobID": blob}, ADMIN)
    await api.ok("AddBlobToCaseInteraction", {"InteractionID": note["ID"], "BlobID": blob}, ME_UNRESTRICTED)
    contact = await api.ok("AddCaseContact", {"CaseID": case_id, "Contact": {"PhoneNumber": "+31612345678"}}, ADMIN)
    await api.ok("AddCaseTags", {"CaseID": case_id, "Tags": ["vip"]}, ADMIN)
    await api.ok("SetCaseRelatedData", {"CaseID": case_id, "RelatedItems": [{"ProductID": 77}]}, ADMIN)
    await api.ok("UpdateCase", {"ID": case_id, "AssignedOrganizationUnitID": unit}, ADMIN)
    await api.ok("UpdateCaseState", {"ID": case_id, "AssigneeID": assignee}, ADMIN)
    return {
        "case": case_id,
        "message": message["ID"],
        "note": note["ID"],
        "blob": blob,
        "spare_blob": spare,
        "contact": contact["ID"],
    }


@pytest.mark.parametrize("service", sorted(SERVICES))
async def test_a_case_out_of_sight_is_not_found_through_every_employee_service(
    api: Api, db: asyncpg.Connection, service: str
) -> None:
    for user in (ME, OTHER, 902):
        await a_user(db, user, user_type=UserType.EMPLOYEE)
    await db.execute("INSERT INTO organization_units (id, name) VALUES (10, 'Store'), (20, 'Other store')")
    seen = await a_case_with_everything(api, db, 1, ME, 10)
    by_scope = await a_case_with_everything(api, db, 2, OTHER, 10)
    by_unit = await a_case_with_everything(api, db, 3, ME, 20)
    partner = await a_case_with_everything(api, db, 4, ME, 10)
    for pair in ((seen, partner), (by_scope, partner), (by_unit, partner)):
        await api.ok("LinkCases", {"CaseID": pair[0]["case"], "LinkedCaseID": pair[1]["case"]}, ADMIN)
    if service in ON_CLOSED_CASES:
        for ids in (seen, by_scope, by_unit, partner):
            await api.ok("UpdateCaseState", {"ID": ids["case"], "StatusID": 3}, ADMIN)
    absent = {key: value + 10_000 if isinstance(value, int) else BLOB.format(999) for key, value in seen.items()}
    body = SERVICES[service]
    before = await snapshot(db)

    answers = []
    for hidden in (by_scope, by_unit, absent):
        calls = [body(hidden, partner)] + ([body(partner, hidden)] if service in BOTH_SIDES else [])
        for call in calls:
            r = await api.call(service, call, ME_TOKEN)
            assert r.status_code == 404, (service, call, r.text)
            error = r.json()["Error"]
            answers.append((error["Code"], re.sub(r"\d+", "#", error["Message"])))
    assert await snapshot(db) == before
    assert len(set(answers)) == 1, answers  # out of sight and absent: one answer

    r = await api.call(service, body(seen, partner), ME_TOKEN)
    assert r.status_code == 200, (service, r.text)
