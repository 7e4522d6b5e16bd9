"""The event outbox: every change to a case or its interactions records its EVA event in the change's own
transaction, by every path (customer, employee, PushCase, custom fields), one case-level event per transaction,
nothing for a change that rolls back, and PushCase's DisableEventExports records without exporting."""

from __future__ import annotations

from typing import Any

import asyncpg

from evacase.auth import UserType
from tests.helpers import Api, customer, employee, token

AGENT = employee(90, ["Cases:Manage", "CustomFields", "CustomFieldTypes"])
CUSTOMER_ID = 91
CUSTOMER = customer(CUSTOMER_ID, "Cathy", "Client")
INTEGRATOR = token(92, UserType.API, ["PushCases:None"])


async def events(db: asyncpg.Connection, after: int = 0) -> list[tuple[Any, ...]]:
    """The recorded events after event `after`: (case, type, interaction, exported), in order."""
    rows = await db.fetch(
        "SELECT case_id, event_type, interaction_id, is_exported FROM case_events WHERE id > $1 ORDER BY id", after
    )
    return [tuple(r) for r in rows]


async def last_event(db: asyncpg.Connection) -> int:
    return int(await db.fetchval("SELECT coalesce(max(id), 0) FROM case_events"))


async def test_every_path_records_its_events_in_order(api: Api, db: asyncpg.Connection) -> None:
    body = {"Title": "My parcel is late", "Description": "Two weeks.", "TopicID": 2}
    case_id = (await api.ok("CustomerCreateCase", body, CUSTOMER))["ID"]
    assert await events(db) == [(case_id, "created", None, True)]

    mark = await last_event(db)
    await api.ok("CustomerUpdateCase", {"ID": case_id, "Title": "My parcel is very late"}, CUSTOMER)
    assert await events(db, mark) == [(case_id, "updated", None, True)]

    mark = await last_event(db)
    message = await api.ok("CustomerCreateCaseInteraction", {"CaseID": case_id, "Text": "Any news?"}, CUSTOMER)
    assert await events(db, mark) == [(case_id, "interaction_created", message["ID"], True)]

    mark = await last_event(db)
    await api.ok("UpdateCaseState", {"ID": case_id, "StatusID": 2, "AssigneeID": 90}, AGENT)
    assert await events(db, mark) == [(case_id, "updated", None, True)]  # one, though ledger lines were written

    mark = await last_event(db)
    note = await api.ok("CreateCaseInteraction", {"CaseID": case_id, "InteractionType": 1, "Text": "Lost."}, AGENT)
    await api.ok("UpdateCaseInteraction", {"ID": note["ID"], "Text": "Lost by the courier."}, AGENT)
    await api.ok("DeleteCaseInteraction", {"ID": note["ID"]}, AGENT)
    assert await events(db, mark) == [
        (case_id, "interaction_created", note["ID"], True),  # private notes too: receivers are staff systems
        (case_id, "interaction_updated", note["ID"], True),
        (case_id, "interaction_deleted", note["ID"], True),
    ]

    mark = await last_event(db)
    await api.ok("CustomerUpdateCaseInteraction", {"ID": message["ID"], "Text": "Any news at all?"}, CUSTOMER)
    await api.ok("UpdateCaseSummary", {"ID": case_id, "Summary": "Courier lost it."}, AGENT)
    await api.ok("UpdateCaseState", {"ID": case_id, "StatusID": 3, "Solution": "Sent again."}, AGENT)
    await api.ok("ArchiveCase", {"ID": case_id}, AGENT)
    assert await events(db, mark) == [
        (case_id, "interaction_updated", message["ID"], True),
        (case_id, "updated", None, True),
        (case_id, "updated", None, True),
        (case_id, "archived", None, True),  # the archive's ledger line merges into it
    ]


async def test_custom_field_values_and_related_items_are_case_updates(api: Api, db: asyncpg.Connection) -> None:
    field_id = (await api.ok("CreateCustomField", {"Name": "serial", "DataType": 0}, AGENT))["ID"]
    case_id = (await api.ok("CreateCase", {"Title": "Broken", "Description": "x", "TopicID": 1}, AGENT))["ID"]
    mark = await last_event(db)
    values = [{"CustomFieldID": field_id, "StringValue": "SN-1"}]
    await api.ok("UpdateCase", {"ID": case_id, "CustomFields": values}, AGENT)
    note_id = await db.fetchval("SELECT max(id) FROM interactions WHERE case_id = $1 AND type = 1", case_id)
    # The value change is the case's update; the private note recording it is an interaction of its own.
    assert sorted(await events(db, mark), key=str) == [
        (case_id, "interaction_created", note_id, True),
        (case_id, "updated", None, True),
    ]
    mark = await last_event(db)
    items = {"CaseID": case_id, "RelatedItems": [{"ProductID": 7}]}
    await api.ok("SetCaseRelatedData", items, AGENT)
    assert await events(db, mark) == [(case_id, "updated", None, True)]


async def test_a_push_records_its_case_and_interactions_unless_exports_are_disabled(
    api: Api, db: asyncpg.Connection
) -> None:
    body: dict[str, Any] = {
        "BackendSystemID": "CRM",
        "BackendID": "C-1",
        "CaseTopic": {"BackendID": "T-RET", "Name": "Returns"},
        "Title": "Parcel never arrived",
        "Description": "Ordered two weeks ago.",
        "Status": "New",
        "Interactions": [{"BackendID": "I-1", "Type": 0, "Text": "Hello"}, {"BackendID": "I-2", "Text": "Hi"}],
    }
    case_id = (await api.ok("PushCase", body, INTEGRATOR))["ID"]
    recorded = await events(db)
    ids = [r["id"] for r in await db.fetch("SELECT id FROM interactions WHERE case_id = $1 AND type <> 2", case_id)]
    assert sorted(recorded, key=str) == sorted(
        [(case_id, "created", None, True)] + [(case_id, "interaction_created", i, True) for i in ids], key=str
    )
    mark = await last_event(db)
    body.update(Update=True, Title="Parcel found", DisableEventExports=True)
    await api.ok("PushCase", body, INTEGRATOR)
    assert await events(db, mark) == [(case_id, "updated", None, False)]  # recorded for the feed, never exported
    mark = await last_event(db)
    body.update(Title="Parcel delivered", DisableEventExports=False)
    await api.ok("PushCase", body, INTEGRATOR)
    assert await events(db, mark) == [(case_id, "updated", None, True)]  # the setting lasted one transaction only


async def test_a_change_that_rolls_back_records_nothing(api: Api, db: asyncpg.Connection) -> None:
    case_id = (await api.ok("CreateCase", {"Title": "Broken", "Description": "x", "TopicID": 1}, AGENT))["ID"]
    mark = await last_event(db)
    tx = db.transaction()
    await tx.start()
    await db.execute("UPDATE cases SET title = 'Changed' WHERE id = $1", case_id)
    await db.execute("INSERT INTO interactions (case_id, type, text) VALUES ($1, 0, 'x')", case_id)
    assert len(await events(db, mark)) == 2  # recorded inside the transaction...
    await tx.rollback()
    assert await events(db, mark) == []  # ...and gone with it
    # A refused request (an archived case takes no interaction) records nothing either.
    await api.ok("UpdateCaseState", {"ID": case_id, "StatusID": 3}, AGENT)
    await api.ok("ArchiveCase", {"ID": case_id}, AGENT)
    mark = await last_event(db)
    await api.error("CreateCaseInteraction", {"CaseID": case_id, "InteractionType": 0, "Text": "x"}, AGENT, 409)
    assert await events(db, mark) == []


async def test_a_new_message_is_not_also_a_case_update(db: asyncpg.Connection, api: Api) -> None:
    case_id = (await api.ok("CreateCase", {"Title": "Broken", "Description": "x", "TopicID": 1}, AGENT))["ID"]
    mark = await last_event(db)
    await db.execute("UPDATE cases SET last_interaction_time = now() WHERE id = $1", case_id)
    assert await events(db, mark) == []


async def test_the_update_trigger_watches_every_column_but_the_last_interaction_time(db: asyncpg.Connection) -> None:
    columns = {
        r["column_name"]
        for r in await db.fetch("SELECT column_name FROM information_schema.columns WHERE table_name = 'cases'")
    }
    definition = await db.fetchval("SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgname = 'cases_changed_event'")
    watched = {c for c in columns if f"(old.{c} is distinct from new.{c})" in definition.lower()}
    # status_since changes only with status_id, which is watched
    # awaiting_assignment is bookkeeping: the assignment it leads to changes assignee_id
    assert watched == columns - {"id", "last_interaction_time", "status_since", "awaiting_assignment"}
