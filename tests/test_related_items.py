"""SetCaseRelatedData and RemoveCaseRelatedItems."""

from __future__ import annotations

import asyncpg

from tests.dbstate import ledger, snapshot
from tests.helpers import Api, customer, employee

AGENT = employee(110, ["Cases:Manage"])
CUSTOMER = customer(111)


async def customer_case(api: Api) -> int:
    body = {"Title": "Broken kettle", "Description": "It leaks.", "TopicID": 1}
    case_id: int = (await api.ok("CustomerCreateCase", body, CUSTOMER))["ID"]
    return case_id


async def test_related_data_is_added_shown_and_removed(api: Api, db: asyncpg.Connection) -> None:
    case_id = await customer_case(api)
    await db.execute("INSERT INTO users (id, user_type) VALUES (112, 2)")
    await db.execute("INSERT INTO orders (id, customer_id) VALUES (5001, 112)")
    await api.ok(
        "SetCaseRelatedData",
        {
            "CaseID": case_id,
            "OrderID": 5001,
            "ExternalOrderIdentifier": "WEB-5001",
            "OverwriteCaseCustomerWithCustomerOfOrder": True,
            "RelatedItems": [
                {
                    "OrderLineID": 9,
                    "ProductID": 77,
                    "SerialNumber": "SN-1",
                    "IsWarranty": True,
                    "WarrantyExpiration": "2027-01-31T00:00:00Z",
                    "WarrantyAdditionalInformation": "Two years",
                },
                {"ProductID": 78, "WarrantyExpiration": "2027-02-01T12:00:00"},
            ],
        },
        AGENT,
    )
    view = await api.ok("GetCaseByID", {"ID": case_id}, AGENT)
    assert (view["OrderID"], view["ExternalOrderIdentifier"], view["Customer"]["ID"]) == (5001, "WEB-5001", 112)
    items = view["RelatedItems"]
    assert [{k: v for k, v in i.items() if k != "ID"} for i in items] == [
        {
            "OrderLineID": 9,
            "ProductID": 77,
            "SerialNumber": "SN-1",
            "IsWarranty": True,
            "WarrantyExpiration": "2027-01-31T00:00:00.000Z",
            "WarrantyAdditionalInformation": "Two years",
        },
        {"ProductID": 78, "IsWarranty": False, "WarrantyExpiration": "2027-02-01T12:00:00.000Z"},
    ]
    assert (await ledger(db, case_id))[2:] == [
        "Case order set to `5001`",
        "Case customer set to the customer of the order",
        "Case external order identifier updated",
        "2 related items added to the case",
    ]
    before = await snapshot(db)
    err = await api.error("RemoveCaseRelatedItems", {"CaseID": case_id, "ItemIDs": [items[0]["ID"], 999]}, AGENT, 404)
    assert (err["Code"], err["Data"]) == ("CaseRelatedItem:NotFound", {"ItemIDs": [999]})
    assert await snapshot(db) == before
    await api.ok("RemoveCaseRelatedItems", {"CaseID": case_id, "ItemIDs": [items[0]["ID"]]}, AGENT)
    assert [i["ID"] for i in (await api.ok("GetCaseByID", {"ID": case_id}, AGENT))["RelatedItems"]] == [items[1]["ID"]]
    await api.ok("RemoveCaseRelatedItems", {"CaseID": case_id, "ItemIDs": [], "RemoveAll": True}, AGENT)
    assert "RelatedItems" not in await api.ok("GetCaseByID", {"ID": case_id}, AGENT)
    assert (await ledger(db, case_id))[-2:] == [
        "1 related item removed from the case",
        "1 related item removed from the case",
    ]


async def test_overwriting_the_customer_needs_a_known_order(api: Api, db: asyncpg.Connection) -> None:
    case_id = await customer_case(api)
    before = await snapshot(db)
    err = await api.error(
        "SetCaseRelatedData",
        {"CaseID": case_id, "OrderID": 404, "OverwriteCaseCustomerWithCustomerOfOrder": True},
        AGENT,
        404,
    )
    assert err["Code"] == "Order:NotFound"
    err = await api.error(
        "SetCaseRelatedData", {"CaseID": case_id, "OverwriteCaseCustomerWithCustomerOfOrder": True}, AGENT, 400
    )
    assert err["Code"] == "Case:OrderRequiredToOverwriteCustomer"
    after = await snapshot(db)
    after["users"] = before["users"] = []
    assert after == before
