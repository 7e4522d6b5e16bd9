"""`evacase demo`: a believable shop to try evacase with — customers with cases in every status, conversations with
answers and private notes, pushed cases from a call centre, a custom field, tags, contacts and links — written
through the services themselves (each call as the customer, agent or integrator it would come from), so every
rule, ledger line and event applies. Each run adds a fresh set."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import msgspec

from evacase.auth import UserType, mint_token
from evacase.dispatch import Incoming, dispatch
from evacase.runtime import Runtime

CUSTOMERS = [(701, "Sam", "Jansen"), (702, "Noor", "Bakker"), (703, "Lena", "Visser"), (704, "Tom", "de Boer")]
AGENTS = [(801, "Pedro", "Pascal"), (802, "Ada", "Lovelace")]
INTEGRATOR = 901
STORIES = [
    ("Shipping", "Parcel stuck in Utrecht", "Tracking has not moved for five days."),
    ("Returns", "Wrong size delivered", "I ordered an M and received an XL."),
    ("Payment", "Charged twice", "My card shows two payments for order 325."),
    ("Products", "Zipper broke on day one", "The jacket's zipper came off the first time I used it."),
    ("Account", "Cannot change my e-mail address", "The form says my new address is invalid."),
    ("Promotions", "Discount code not accepted", "WINTER20 says it has expired, the mail says it has not."),
]
TOPIC_IDS = {"Products": 1, "Shipping": 2, "Payment": 3, "Returns": 4, "Account": 5, "Promotions": 6}


class DemoFailed(RuntimeError):
    pass


@dataclass
class Demo:
    rt: Runtime
    secret: str
    made: dict[str, int] = field(default_factory=dict)

    def token(
        self, user_id: int, user_type: int, first: str, last: str, functionalities: list[str] | None = None
    ) -> str:
        return mint_token(
            self.secret,
            user_id=user_id,
            user_type=user_type,
            first_name=first,
            last_name=last,
            functionalities=functionalities,
            expires_in=7 * 86400,
        )

    async def call(self, service: str, body: dict[str, Any], tok: str) -> Any:
        outcome = await dispatch(
            self.rt, Incoming(service, msgspec.json.encode(body), os.urandom(16).hex(), authorization=tok)
        )
        if outcome.status != 200:
            raise DemoFailed(f"{service}: {outcome.status} {outcome.body.decode()[:300]}")
        self.made[service] = self.made.get(service, 0) + 1
        return msgspec.json.decode(outcome.body)


async def fill(rt: Runtime, secret: str) -> dict[str, Any]:
    """Write the demo shop; the tokens to try it with and what was made."""
    demo = Demo(rt, secret)
    staff = ["Cases:Manage", "CustomFields:Manage", "PushCases", "CaseStatuses:Manage", "CaseTopics:Manage"]
    agents = [demo.token(i, UserType.EMPLOYEE, first, last, staff) for i, first, last in AGENTS]
    customers = [demo.token(i, UserType.CUSTOMER, first, last) for i, first, last in CUSTOMERS]
    integrator = demo.token(INTEGRATOR, UserType.API, "Call", "Centre", ["PushCases", "Cases:View"])
    for tok in agents:
        await demo.call("Ping", {}, tok)
    field_id = (
        await demo.call(
            "CreateCustomField",
            {"Name": f"Preferred channel {os.urandom(3).hex()}", "DataType": 0, "DisplayName": "Preferred channel"},
            agents[0],
        )
    )["ID"]
    cases = []
    for n, (topic, title, text) in enumerate(STORIES):
        who = customers[n % len(customers)]
        case_id = (
            await demo.call(
                "CustomerCreateCase",
                {
                    "TopicID": TOPIC_IDS[topic],
                    "Title": title,
                    "Description": text,
                    "CustomerReference": f"MY-{1000 + n}",
                    "Contacts": [{"FirstName": "Partner", "EmailAddress": f"partner{n}@home.example"}],
                },
                who,
            )
        )["ID"]
        cases.append((case_id, who))
        await demo.call("CustomerCreateCaseInteraction", {"CaseID": case_id, "Text": "Any news on this?"}, who)
    agent, other = agents
    # Every status: New (the last two stay untouched), InProgress with an answer and a private note, Completed with
    # a solution, Cancelled by the customer, reopened by the customer.
    first, second, third, fourth = (c for c, _ in cases[:4])
    for case_id in (first, second, third, fourth):
        await demo.call("UpdateCaseState", {"ID": case_id, "StatusID": 2, "AssigneeID": AGENTS[0][0]}, agent)
        await demo.call(
            "CreateCaseInteraction",
            {"CaseID": case_id, "InteractionType": 0, "Text": "Thanks for reaching out, we are looking into it."},
            agent,
        )
        await demo.call(
            "CreateCaseInteraction",
            {"CaseID": case_id, "InteractionType": 1, "Text": "Checked with the warehouse: two parcels left."},
            agent,
        )
        await demo.call("AddCaseTags", {"CaseID": case_id, "Tags": ["demo", "priority customer"]}, agent)
    await demo.call("UpdateCaseState", {"ID": second, "StatusID": 3, "Solution": "A new jacket is on its way."}, other)
    await demo.call("CustomerCancelCase", {"ID": third, "Reason": "Found the second payment refunded."}, cases[2][1])
    await demo.call("UpdateCaseState", {"ID": fourth, "StatusID": 3, "Solution": "Zipper replaced."}, agent)
    await demo.call("CustomerReopenCase", {"ID": fourth, "Reason": "It broke again."}, cases[3][1])
    await demo.call("LinkCases", {"CaseID": fourth, "LinkedCaseID": first, "Type": "Related"}, agent)
    await demo.call(
        "UpdateCase",
        {"ID": first, "CustomFields": [{"CustomFieldID": field_id, "StringValue": "WhatsApp"}]},
        agent,
    )
    # A call centre pushes its cases, with the customer and the call's notes.
    run = os.urandom(3).hex()
    for n in range(3):
        await demo.call(
            "PushCase",
            {
                "BackendSystemID": "CallCentre",
                "BackendID": f"CC-{run}-{n}",
                "Title": f"Phone call about order {400 + n}",
                "Description": "The customer called about a late delivery.",
                "Status": "New",
                "Topic": "Shipping",
                "Priority": n,
                "Origin": "Voice",
                "Customer": {"BackendID": f"CC-CUST-{run}-{n}", "FirstName": "Kim", "LastName": f"Caller {n}"},
                "Interactions": [{"BackendID": "call", "Type": 1, "Text": "Caller was friendly but worried."}],
            },
            integrator,
        )
    return {
        "tokens": {
            "customer": customers[0],
            "employee": agent,
            "integrator": integrator,
        },
        "made": demo.made,
    }
