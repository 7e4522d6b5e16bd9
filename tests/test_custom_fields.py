"""Custom fields of cases: the guide's two examples, definitions and options, every data type and rule, who
sees and changes what, required fields and defaults, deletion, PushCase by name."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from hypothesis import given
from hypothesis import strategies as st

from evacase.auth import UserType
from tests.dbstate import ledger, snapshot
from tests.guide_examples import PUSH_CASE_CUSTOM_FIELDS, PUSH_CASE_REQUEST
from tests.helpers import Api, customer, employee, token
from tests.strategies import PROPERTY_SETTINGS, json_values

ADMIN = employee(50, ["CustomFields", "CustomFieldTypes", "Cases"])
AGENT = employee(51, ["Cases"])
CUSTOMER_ID = 52
CUSTOMER = customer(CUSTOMER_ID, "Cathy", "Client")
INTEGRATOR = token(53, UserType.API, ["PushCases"])

CREATE_CUSTOM_FIELD_REQUEST = {  # the guide's example, verbatim
    "Name": "Car brand",
    "DataType": 4,
    "IsArray": False,
    "TypeID": 9,
    "EnumValues": {"audi": "Audi", "bmw": "BMW", "tesla": "Tesla", "ford": "Ford"},
}
SET_CUSTOM_FIELD_OPTIONS_REQUEST = {  # the guide's example, verbatim
    "CustomFieldID": 37,
    "OrganizationUnitSetID": 9,
    "IsRequired": False,
    "VisibleByUserTypes": 3,
    "EditableByUserTypes": 3,
}


async def new_field(api: Api, name: str, data_type: int, options: dict[str, Any] | None = None, **extra: Any) -> int:
    field_id: int = (await api.ok("CreateCustomField", {"Name": name, "DataType": data_type, **extra}, ADMIN))["ID"]
    if options is not None:
        await api.ok("SetCustomFieldOptions", {"CustomFieldID": field_id, **options}, ADMIN)
    return field_id


async def employee_case(api: Api, values: list[dict[str, Any]] | None = None, tok: str = AGENT) -> int:
    body: dict[str, Any] = {"Title": "Broken zipper", "Description": "It broke.", "TopicID": 1}
    if values is not None:
        body["CustomFields"] = values
    case_id: int = (await api.ok("CreateCase", body, tok))["ID"]
    return case_id


async def customer_case(api: Api, values: list[dict[str, Any]] | None = None) -> int:
    body: dict[str, Any] = {"Title": "Broken zipper", "Description": "It broke.", "TopicID": 1}
    if values is not None:
        body["CustomFields"] = values
    case_id: int = (await api.ok("CustomerCreateCase", body, CUSTOMER))["ID"]
    return case_id


async def values_of(api: Api, case_id: int, tok: str = AGENT) -> dict[str, Any]:
    view = await api.ok("GetCaseByID", {"ID": case_id}, tok)
    return {k: v.get("Value") for k, v in view.get("CustomFieldValuesWithOptions", {}).items()}


async def error_code(api: Api, service: str, body: dict[str, Any], tok: str, status: int = 400) -> str:
    err = await api.error(service, body, tok, status)
    code: str = err["Code"]
    return code


# --- the guide ------------------------------------------------------------------------------------------


async def test_the_guides_custom_field_examples_replay(api: Api, db: asyncpg.Connection) -> None:
    await db.execute("SELECT setval(pg_get_serial_sequence('custom_fields', 'id'), 36)")  # the guide's field is 37
    types = await api.ok("GetCustomFieldTypes", {}, ADMIN)
    assert types == {"CustomFieldTypes": [{"ID": 9, "Name": "Case", "Description": "Case"}]}
    assert await api.ok("CreateCustomField", CREATE_CUSTOM_FIELD_REQUEST, ADMIN) == {"ID": 37}
    assert await api.ok("SetCustomFieldOptions", SET_CUSTOM_FIELD_OPTIONS_REQUEST, ADMIN) == {}
    assert await api.ok("GetCustomFieldByID", {"ID": 37}, ADMIN) == {
        "ID": 37,
        "Name": "Car brand",
        "DataType": 4,
        "IsArray": False,
        "EnumValues": {"audi": "Audi", "bmw": "BMW", "tesla": "Tesla", "ford": "Ford"},
        "Order": 0,
        "TypeID": 9,
        "TypeName": "Case",
        "VisibleByUserTypes": 3,
        "EditableByUserTypes": 3,
    }
    options = await api.ok("ListCustomFieldOptions", {}, ADMIN)
    assert options == {
        "Results": [
            {
                "CustomFieldID": 37,
                "OrganizationUnitSet": {"ID": 9},
                "IsRequired": False,
                "VisibleByUserTypes": 3,
                "EditableByUserTypes": 3,
            }
        ]
    }
    # Visible to and editable by employees and customers (3): the customer picks a brand and sees it.
    case_id = await customer_case(api, [{"CustomFieldID": 37, "StringValue": "bmw"}])
    view = await api.ok("CustomerGetCaseByID", {"ID": case_id}, CUSTOMER)
    assert view["CustomFields"] == {
        "37": {
            "CustomFieldID": 37,
            "Name": "Car brand",
            "DataType": 4,
            "IsArray": False,
            "EnumValues": {"audi": "Audi", "bmw": "BMW", "tesla": "Tesla", "ford": "Ford"},
            "Options": {"IsEditable": True, "IsRequired": False},
            "Value": {"StringValue": "bmw"},
        }
    }
    assert (await values_of(api, case_id)) == {"37": {"StringValue": "bmw"}}


async def test_the_guides_push_sample_replays_with_its_custom_fields(api: Api, db: asyncpg.Connection) -> None:
    one = await new_field(api, "CustomField1", 1)
    two = await new_field(api, "CustomField2", 0)
    body = {**PUSH_CASE_REQUEST, "CustomFields": PUSH_CASE_CUSTOM_FIELDS}
    case_id = (await api.ok("PushCase", body, INTEGRATOR))["ID"]
    assert await values_of(api, case_id) == {str(one): {"BoolValue": True}, str(two): {"StringValue": "yes"}}


# --- definitions ----------------------------------------------------------------------------------------


async def test_definition_rules(api: Api, db: asyncpg.Connection) -> None:
    assert await error_code(api, "CreateCustomField", {"Name": "Brand", "DataType": 4}, ADMIN) == (
        "CustomFields:DataTypeEnumRequiresSomeEnumValues"
    )
    body = {"Name": "Brand", "DataType": 4, "EnumValues": {}}
    assert await error_code(api, "CreateCustomField", body, ADMIN) == "CustomFields:DataTypeEnumRequiresSomeEnumValues"
    body = {"Name": "Serial", "DataType": 0, "EnumValues": {"a": "A"}}
    assert await error_code(api, "CreateCustomField", body, ADMIN) == (
        "CustomFields:EnumValuesAreOnlyAllowedWhenCustomFieldIsOfDataTypeEnum"
    )
    assert await error_code(api, "CreateCustomField", {"Name": "Serial", "TypeID": 1}, ADMIN) == (
        "CustomFields:UnsupportedType"
    )
    first = await new_field(api, "Serial", 0, BackendID="SER")
    assert await error_code(api, "CreateCustomField", {"Name": "Other", "BackendID": "SER"}, ADMIN, 409) == (
        "CustomFields:DuplicateBackendID"
    )
    assert await error_code(api, "CreateCustomField", {"Name": "serial"}, ADMIN, 409) == "CustomFields:DuplicateName"
    # Update: absent keeps, null clears; DataType, IsArray and TypeID cannot change (not in the request).
    await api.ok("UpdateCustomField", {"ID": first, "DisplayName": "Serial number", "Order": 3}, ADMIN)
    await api.ok("UpdateCustomField", {"ID": first, "BackendID": None, "DataType": 2}, ADMIN)
    got = await api.ok("GetCustomFieldByID", {"ID": first}, ADMIN)
    assert (got["DisplayName"], got["Order"], got.get("BackendID"), got["DataType"]) == ("Serial number", 3, None, 0)
    body = {"ID": first, "EnumValues": {"a": "A"}}
    assert await error_code(api, "UpdateCustomField", body, ADMIN) == (
        "CustomFields:EnumValuesAreOnlyAllowedWhenCustomFieldIsOfDataTypeEnum"
    )
    assert await error_code(api, "GetCustomFieldByID", {"ID": 999}, ADMIN, 404) == "CustomField:NotFound"


async def test_list_custom_fields_pages_in_order_and_customers_see_their_fields(api: Api) -> None:
    ids = [await new_field(api, f"F{n}", 0, Order=order) for n, order in enumerate([5, 1, 5, 0, 3])]
    await api.ok("SetCustomFieldOptions", {"CustomFieldID": ids[2], "VisibleByUserTypes": 2}, ADMIN)
    seen, token_ = [], None
    while True:
        body = {"PageToken": token_} if token_ else {"InitialPageConfig": {"Limit": 2}}
        page = await api.ok("ListCustomFields", body, AGENT)
        seen += [r["Name"] for r in page["Results"]]
        token_ = page.get("NextPageToken")
        if not token_:
            break
    assert seen == ["F3", "F1", "F4", "F0", "F2"]
    listed = await api.ok("ListCustomFields", {}, CUSTOMER)
    assert [r["ID"] for r in listed["Results"]] == [ids[2]]
    filtered = await api.ok("ListCustomFields", {"InitialPageConfig": {"Filter": {"Name": "f4"}}}, AGENT)
    assert [r["Name"] for r in filtered["Results"]] == ["F4"]


# --- values: every data type ----------------------------------------------------------------------------

ROUND_TRIPS = [
    (0, False, {"StringValue": "abc"}, {"StringValue": "abc"}),
    (1, False, {"BoolValue": False}, {"BoolValue": False}),
    (2, False, {"NumberValue": 42}, {"NumberValue": 42}),
    (2, False, {"NumberValue": 42.0}, {"NumberValue": 42}),
    (3, False, {"NumberValue": 2.5}, {"NumberValue": 2.5}),
    (5, False, {"StringValue": "long text"}, {"StringValue": "long text"}),
    (6, False, {"DateTimeValue": "2024-05-01T12:00:00+02:00"}, {"DateTimeValue": "2024-05-01T10:00:00.000Z"}),
    (7, False, {"DateTimeValue": "2024-05-01"}, {"DateTimeValue": "2024-05-01"}),
    (
        8,
        False,
        {"BlobValue": "b832ece7-93ea-4c5e-ad64-11402201315d"},
        {"BlobValue": "b832ece7-93ea-4c5e-ad64-11402201315d"},
    ),
    (
        0,
        True,
        {"ArrayValues": [{"StringValue": "a"}, {"StringValue": "b"}]},
        {"ArrayValues": [{"StringValue": "a"}, {"StringValue": "b"}]},
    ),
    (
        2,
        True,
        {"ArrayValues": [{"NumberValue": 1}, {"NumberValue": 2}]},
        {"ArrayValues": [{"NumberValue": 1}, {"NumberValue": 2}]},
    ),
]


@pytest.mark.parametrize(("data_type", "is_array", "sent", "shown"), ROUND_TRIPS)
async def test_every_data_type_round_trips(
    api: Api, db: asyncpg.Connection, data_type: int, is_array: bool, sent: dict[str, Any], shown: dict[str, Any]
) -> None:
    field_id = await new_field(api, "Field", data_type, IsArray=is_array)
    case_id = await employee_case(api, [{"CustomFieldID": field_id, **sent}])
    assert await values_of(api, case_id) == {str(field_id): shown}
    stored = await db.fetchval("SELECT value::text FROM case_custom_field_values WHERE case_id = $1", case_id)
    assert stored is not None


async def test_enum_values(api: Api) -> None:
    field_id = await new_field(api, "Car brand", 4, EnumValues={"audi": "Audi", "bmw": "BMW"})
    case_id = await employee_case(api, [{"CustomFieldID": field_id, "StringValue": "audi"}])
    body = {"ID": case_id, "CustomFields": [{"CustomFieldID": field_id, "StringValue": "Audi"}]}
    assert await error_code(api, "UpdateCase", body, AGENT) == "CustomFields:WrongEnumValue"


VALIDATION_CASES = [
    (0, {"MinimumLength": 3}, {"StringValue": "ab"}, "CustomFields:TooShort"),
    (0, {"MaximumLength": 3}, {"StringValue": "abcd"}, "CustomFields:TooLong"),
    (0, {"Regex": "^[A-Z]{2}\\d+$"}, {"StringValue": "ab12"}, "CustomFields:RegexNotMatched"),
    (2, {"MinimumValue": 10}, {"NumberValue": 9}, "CustomFields:TooSmall"),
    (3, {"MaximumValue": 1.5}, {"NumberValue": 1.75}, "CustomFields:TooLarge"),
    (2, {}, {"NumberValue": 4.5}, "CustomFields:IntegerCantHaveFraction"),
    (6, {"MinimumDate": "2024-01-01T00:00:00Z"}, {"DateTimeValue": "2023-12-31T23:59:59Z"}, "CustomFields:TooEarly"),
    (7, {"MaximumDate": "2024-01-01"}, {"DateTimeValue": "2024-01-02"}, "CustomFields:TooLate"),
    (0, {}, {"NumberValue": 1}, "CustomFields:InvalidType"),
    (1, {}, {"StringValue": "true"}, "CustomFields:InvalidType"),
    (0, {}, {"ArrayValues": [{"StringValue": "a"}]}, "CustomFields:ArrayNotAllowedForDataType"),
    (6, {}, {"DateTimeValue": "yesterday"}, "CustomFields:InvalidType"),
]


@pytest.mark.parametrize(("data_type", "options", "sent", "code"), VALIDATION_CASES)
async def test_each_validation_rule(
    api: Api, db: asyncpg.Connection, data_type: int, options: dict[str, Any], sent: dict[str, Any], code: str
) -> None:
    field_id = await new_field(api, "Field", data_type, options)
    before = await snapshot(db)
    body = {"Title": "Broken zipper", "Description": "It broke.", "TopicID": 1}
    err = await api.error("CreateCase", {**body, "CustomFields": [{"CustomFieldID": field_id, **sent}]}, AGENT, 400)
    assert (err["Code"], err["Data"]) == (code, {"CustomFieldID": field_id})
    after = await snapshot(db)
    after["users"] = [u for u in after["users"] if u["id"] != 51]
    assert after == before


async def test_length_bounds_apply_to_each_element_of_an_array(api: Api) -> None:
    field_id = await new_field(api, "Tags", 0, {"MaximumLength": 3}, IsArray=True)
    good = [{"CustomFieldID": field_id, "ArrayValues": [{"StringValue": "abc"}, {"StringValue": "de"}]}]
    await employee_case(api, good)
    bad = [{"CustomFieldID": field_id, "ArrayValues": [{"StringValue": "abc"}, {"StringValue": "defg"}]}]
    body = {"Title": "Broken zipper", "Description": "It broke.", "TopicID": 1, "CustomFields": bad}
    assert await error_code(api, "CreateCase", body, AGENT) == "CustomFields:TooLong"
    scalar = [{"CustomFieldID": field_id, "StringValue": "abc"}]
    assert await error_code(api, "CreateCase", {**body, "CustomFields": scalar}, AGENT) == "CustomFields:InvalidType"


async def test_the_regex_matches_anywhere_in_the_value(api: Api) -> None:
    field_id = await new_field(api, "Code", 0, {"Regex": "\\d{3}"})
    await employee_case(api, [{"CustomFieldID": field_id, "StringValue": "ab123cd"}])
    body = {"CustomFieldID": field_id, "Regex": "("}
    assert await error_code(api, "SetCustomFieldOptions", body, ADMIN) == "CustomFields:InvalidRegex"


# --- required, defaults, updates ------------------------------------------------------------------------


async def test_required_fields_and_defaults(api: Api, db: asyncpg.Connection) -> None:
    required = await new_field(api, "Serial", 0, {"IsRequired": True})
    defaulted = await new_field(api, "Channel", 0, {"CustomFieldDefaultValue": {"StringValue": "web"}})
    body = {"Title": "Broken zipper", "Description": "It broke.", "TopicID": 1}
    err = await api.error("CreateCase", body, AGENT, 400)
    assert (err["Code"], err["Data"]) == ("CustomFields:Required", {"CustomFieldID": required})
    case_id = await employee_case(api, [{"CustomFieldID": required, "StringValue": "SN-1"}])
    assert await values_of(api, case_id) == {
        str(required): {"StringValue": "SN-1"},
        str(defaulted): {"StringValue": "web"},
    }
    # An update touches only what it lists; clearing a required field is refused, clearing another is fine.
    clear = {"ID": case_id, "CustomFields": [{"CustomFieldID": required}]}
    assert await error_code(api, "UpdateCase", clear, AGENT) == "CustomFields:Required"
    await api.ok("UpdateCase", {"ID": case_id, "CustomFields": [{"CustomFieldID": defaulted}]}, AGENT)
    assert await values_of(api, case_id) == {str(required): {"StringValue": "SN-1"}, str(defaulted): None}
    # Required is not enforced on a customer who may not edit the field, nor on imports; defaults apply to both.
    customers = await customer_case(api)
    stored = await db.fetch(
        "SELECT custom_field_id, value::text FROM case_custom_field_values WHERE case_id = $1", customers
    )
    assert [tuple(r) for r in stored] == [(defaulted, '"web"')]
    pushed = {"BackendID": "P1", "Title": "Pushed", "Description": "d", "Status": "New", "CaseTopic": {"Name": "Other"}}
    pushed_id = (await api.ok("PushCase", pushed, INTEGRATOR))["ID"]
    assert await values_of(api, pushed_id) == {str(required): None, str(defaulted): {"StringValue": "web"}}
    # A default must suit the field.
    body = {"CustomFieldID": required, "CustomFieldDefaultValue": {"NumberValue": 1}}
    assert await error_code(api, "SetCustomFieldOptions", body, ADMIN) == "CustomFields:InvalidType"


async def test_customers_need_required_fields_they_may_edit(api: Api) -> None:
    field_id = await new_field(
        api, "Order number", 0, {"IsRequired": True, "VisibleByUserTypes": 3, "EditableByUserTypes": 3}
    )
    body = {"Title": "Broken zipper", "Description": "It broke.", "TopicID": 1}
    err = await api.error("CustomerCreateCase", body, CUSTOMER, 400)
    assert (err["Code"], err["Data"]) == ("CustomFields:Required", {"CustomFieldID": field_id})
    case_id = await customer_case(api, [{"CustomFieldID": field_id, "StringValue": "O-1"}])
    assert await values_of(api, case_id) == {str(field_id): {"StringValue": "O-1"}}


async def test_changes_are_private_notes_never_customer_ledger_lines(api: Api, db: asyncpg.Connection) -> None:
    field_id = await new_field(api, "Serial", 0, {"VisibleByUserTypes": 3})
    case_id = await employee_case(api, [{"CustomFieldID": field_id, "StringValue": "SN-1"}])
    await api.ok(
        "UpdateCase", {"ID": case_id, "CustomFields": [{"CustomFieldID": field_id, "StringValue": "SN-2"}]}, AGENT
    )
    notes = await db.fetch("SELECT text FROM interactions WHERE case_id = $1 AND type = 1 ORDER BY id", case_id)
    assert [n["text"] for n in notes] == ["Custom field `Serial` set to `SN-1`", "Custom field `Serial` set to `SN-2`"]
    assert not any("Serial" in line for line in await ledger(db, case_id))


# --- who sees and changes what --------------------------------------------------------------------------


async def test_visibility_and_editability_per_user_type(api: Api, db: asyncpg.Connection) -> None:
    staff_only = await new_field(api, "Internal rating", 2)  # no options: employees, System and Api users
    customer_visible = await new_field(api, "Warranty until", 7, {"VisibleByUserTypes": 3, "EditableByUserTypes": 1})
    customer_editable = await new_field(api, "Colour", 0, {"VisibleByUserTypes": 3, "EditableByUserTypes": 3})
    case_id = await customer_case(api, [{"CustomFieldID": customer_editable, "StringValue": "red"}])
    values = [
        {"CustomFieldID": staff_only, "NumberValue": 4},
        {"CustomFieldID": customer_visible, "DateTimeValue": "2026-01-31"},
    ]
    await api.ok("UpdateCase", {"ID": case_id, "CustomFields": values}, AGENT)
    # The customer sees two fields, never the staff-only one, by any service.
    view = await api.ok("CustomerGetCaseByID", {"ID": case_id}, CUSTOMER)
    assert {k: (v["Value"], v["Options"]["IsEditable"]) for k, v in view["CustomFields"].items()} == {
        str(customer_visible): ({"DateTimeValue": "2026-01-31"}, False),
        str(customer_editable): ({"StringValue": "red"}, True),
    }
    listed = await api.ok("ListCustomFields", {}, CUSTOMER)
    assert staff_only not in [r["ID"] for r in listed["Results"]]
    interactions = await api.ok("CustomerListCaseInteractions", {"CaseID": case_id}, CUSTOMER)
    assert not any("Internal rating" in (i.get("Text") or "") for i in interactions["Results"])
    assert all(i["Type"] != 1 for i in interactions["Results"])
    # The customer changes only what they may edit; an invisible field does not exist for them.
    update = {"ID": case_id, "CustomFields": [{"CustomFieldID": customer_editable, "StringValue": "blue"}]}
    await api.ok("CustomerUpdateCase", update, CUSTOMER)
    update["CustomFields"] = [{"CustomFieldID": customer_visible, "DateTimeValue": "2030-01-01"}]
    assert await error_code(api, "CustomerUpdateCase", update, CUSTOMER) == "CustomFields:NotAllowed"
    update["CustomFields"] = [{"CustomFieldID": staff_only, "NumberValue": 1}]
    assert await error_code(api, "CustomerUpdateCase", update, CUSTOMER) == "CustomFields:UnknownFieldForType"
    update["CustomFields"] = [{"CustomFieldID": 999, "NumberValue": 1}]
    assert await error_code(api, "CustomerUpdateCase", update, CUSTOMER) == "CustomFields:UnknownFieldForType"
    # Employees see all three; a field only customers may see (2) is unknown to them.
    customers_only = await new_field(api, "Customer note", 0, {"VisibleByUserTypes": 2, "EditableByUserTypes": 2})
    assert set(await values_of(api, case_id)) == {str(staff_only), str(customer_visible), str(customer_editable)}
    body = {"ID": case_id, "CustomFields": [{"CustomFieldID": customers_only, "StringValue": "x"}]}
    assert await error_code(api, "UpdateCase", body, AGENT) == "CustomFields:UnknownFieldForType"
    await api.ok("CustomerUpdateCase", {**body, "ID": case_id}, CUSTOMER)
    # A closed case: customers cannot change values.
    await api.ok("UpdateCaseState", {"ID": case_id, "StatusID": 3}, AGENT)
    update["CustomFields"] = [{"CustomFieldID": customer_editable, "StringValue": "green"}]
    assert await error_code(api, "CustomerUpdateCase", update, CUSTOMER, 409) == "Case:CaseAlreadyClosed"


async def test_deleting_a_field_removes_its_values(api: Api, db: asyncpg.Connection) -> None:
    field_id = await new_field(api, "Serial", 0)
    case_id = await employee_case(api, [{"CustomFieldID": field_id, "StringValue": "SN-1"}])
    await api.ok("DeleteCustomField", {"ID": field_id}, ADMIN)
    assert await db.fetchval("SELECT count(*) FROM case_custom_field_values") == 0
    assert await values_of(api, case_id) == {}
    assert await error_code(api, "DeleteCustomField", {"ID": field_id}, ADMIN, 404) == "CustomField:NotFound"


async def test_unset_options_returns_to_the_defaults(api: Api) -> None:
    field_id = await new_field(api, "Colour", 0, {"VisibleByUserTypes": 2, "EditableByUserTypes": 2})
    assert (await api.ok("ListCustomFields", {}, CUSTOMER))["Results"] != []
    await api.ok("UnsetCustomFieldOptions", {"CustomFieldID": field_id, "OrganizationUnitSetID": 9}, ADMIN)
    assert (await api.ok("ListCustomFields", {}, CUSTOMER))["Results"] == []
    assert (await api.ok("ListCustomFieldOptions", {}, ADMIN))["Results"] == []
    got = await api.ok("GetCustomFieldByID", {"ID": field_id}, ADMIN)
    assert (got["VisibleByUserTypes"], got["EditableByUserTypes"]) == (2049, 2049)


async def test_set_options_merges_absent_keeps_null_clears(api: Api) -> None:
    field_id = await new_field(api, "Serial", 0, {"MinimumLength": 2, "MaximumLength": 9, "Regex": "x"})
    await api.ok("SetCustomFieldOptions", {"CustomFieldID": field_id, "MaximumLength": None}, ADMIN)
    (options,) = (await api.ok("ListCustomFieldOptions", {}, ADMIN))["Results"]
    assert options == {"CustomFieldID": field_id, "MinimumLength": 2, "Regex": "x"}
    body = {"CustomFieldID": field_id, "MaximumLength": 1}
    assert await error_code(api, "SetCustomFieldOptions", body, ADMIN) == "CustomFields:InvalidOptions"


async def test_push_case_sets_values_by_name(api: Api, db: asyncpg.Connection) -> None:
    brand = await new_field(api, "Car brand", 4, EnumValues={"audi": "Audi", "bmw": "BMW"})
    tags = await new_field(api, "Tags", 0, IsArray=True)
    km = await new_field(api, "Kilometres", 2, {"IsRequired": True})
    body = {"BackendID": "P1", "Title": "Pushed", "Description": "d", "Status": "New", "CaseTopic": {"Name": "Other"}}
    values = {"car BRAND": "bmw", "Tags": ["a", "b"], "Kilometres": "12000"}
    case_id = (await api.ok("PushCase", {**body, "CustomFields": values}, INTEGRATOR))["ID"]
    assert await values_of(api, case_id) == {
        str(brand): {"StringValue": "bmw"},
        str(tags): {"ArrayValues": [{"StringValue": "a"}, {"StringValue": "b"}]},
        str(km): {"NumberValue": 12000},
    }
    update = {**body, "Update": True, "CustomFields": {"Kilometres": {"NumberValue": 13000}, "Tags": None}}
    await api.ok("PushCase", update, INTEGRATOR)
    assert (await values_of(api, case_id))[str(tags)] is None
    before = await snapshot(db)
    bad = {**body, "Update": True, "CustomFields": {"Car brand": "fiat"}}
    assert await error_code(api, "PushCase", bad, INTEGRATOR) == "CustomFields:WrongEnumValue"
    bad["CustomFields"] = {"Nope": 1}
    err = await api.error("PushCase", bad, INTEGRATOR, 400)
    assert (err["Code"], err["Data"]) == ("CustomFields:UnknownFieldForType", {"Field": "CustomFields.Nope"})
    assert await snapshot(db) == before


# --- property: values against options -------------------------------------------------------------------

bounds = st.one_of(st.none(), st.integers(min_value=-50, max_value=50))
lengths = st.one_of(st.none(), st.integers(min_value=0, max_value=6))


@PROPERTY_SETTINGS
@given(
    low=bounds,
    high=bounds,
    number=st.one_of(st.integers(min_value=-60, max_value=60), st.floats(min_value=-60, max_value=60)),
    min_length=lengths,
    max_length=lengths,
    text=st.text(alphabet="ab1", max_size=8),
    regex=st.sampled_from([None, "a", "^b", "1$"]),
)
async def test_values_are_accepted_exactly_when_they_satisfy_the_options(
    api: Api,
    low: int | None,
    high: int | None,
    number: float,
    min_length: int | None,
    max_length: int | None,
    text: str,
    regex: str | None,
) -> None:
    import re

    if low is not None and high is not None and low > high:
        low, high = high, low
    if min_length is not None and max_length is not None and min_length > max_length:
        min_length, max_length = max_length, min_length
    numbers = await new_field(api, f"N{id(text)}{number}", 2, {"MinimumValue": low, "MaximumValue": high})
    texts = await new_field(
        api, f"T{id(text)}{number}", 0, {"MinimumLength": min_length, "MaximumLength": max_length, "Regex": regex}
    )
    body = {"Title": "t", "Description": "d", "TopicID": 1}
    number_ok = float(number).is_integer() and (low is None or number >= low) and (high is None or number <= high)
    r = await api.call(
        "CreateCase", {**body, "CustomFields": [{"CustomFieldID": numbers, "NumberValue": number}]}, AGENT
    )
    assert (r.status_code == 200) == number_ok, (number, low, high, r.text)
    text_ok = (
        (min_length is None or len(text) >= min_length)
        and (max_length is None or len(text) <= max_length)
        and (regex is None or re.search(regex, text) is not None)
    )
    r = await api.call("CreateCase", {**body, "CustomFields": [{"CustomFieldID": texts, "StringValue": text}]}, AGENT)
    assert (r.status_code == 200) == text_ok, (text, min_length, max_length, regex, r.text)
    await api.ok("DeleteCustomField", {"ID": numbers}, ADMIN)
    await api.ok("DeleteCustomField", {"ID": texts}, ADMIN)


@PROPERTY_SETTINGS
@given(
    orders=st.lists(st.integers(min_value=-3, max_value=3), max_size=12), limit=st.integers(min_value=1, max_value=5)
)
async def test_paging_through_custom_fields_returns_each_once_in_order_both_ways(
    api: Api, db: asyncpg.Connection, orders: list[int], limit: int
) -> None:
    await db.execute("DELETE FROM custom_fields")
    await db.execute(
        "INSERT INTO custom_fields (name, data_type, display_order) SELECT 'F' || n, 0, o"
        " FROM unnest($1::integer[]) WITH ORDINALITY AS t (o, n)",
        orders,
    )
    expected = [r["id"] for r in await db.fetch("SELECT id FROM custom_fields ORDER BY display_order, id")]
    pages: list[dict[str, Any]] = []
    body: dict[str, Any] = {"InitialPageConfig": {"Limit": limit}}
    while True:
        page = await api.ok("ListCustomFields", body, AGENT)
        pages.append(page)
        if "NextPageToken" not in page:
            break
        body = {"PageToken": page["NextPageToken"]}
    assert [f["ID"] for p in pages for f in p["Results"]] == expected
    # Back from the last page: each previous page is the one seen before it.
    for earlier, later in zip(reversed(pages[:-1]), reversed(pages[1:]), strict=True):
        back = await api.ok("ListCustomFields", {"PageToken": later["PreviousPageToken"]}, AGENT)
        assert [f["ID"] for f in back["Results"]] == [f["ID"] for f in earlier["Results"]]


value_objects = st.dictionaries(
    st.sampled_from(["StringValue", "NumberValue", "BoolValue", "DateTimeValue", "BlobValue", "ArrayValues"]),
    json_values,
    max_size=2,
)


@PROPERTY_SETTINGS
@given(
    data_type=st.integers(min_value=0, max_value=8),
    is_array=st.booleans(),
    options=st.dictionaries(
        st.sampled_from(["MinimumLength", "MaximumLength", "MinimumValue", "MaximumValue", "MinimumDate", "Regex"]),
        json_values,
        max_size=3,
    ),
    value=st.one_of(value_objects, json_values),
)
async def test_any_field_with_any_options_and_any_value_never_answers_500(
    api: Api, data_type: int, is_array: bool, options: dict[str, Any], value: Any
) -> None:
    extra = {"EnumValues": {"a": "A"}} if data_type == 4 else {}
    field_id = await new_field(api, "Fuzzed", data_type, IsArray=is_array, **extra)
    r = await api.call("SetCustomFieldOptions", {"CustomFieldID": field_id, **options}, ADMIN)
    assert r.status_code < 500, r.text
    kv = {"CustomFieldID": field_id, **value} if isinstance(value, dict) else {"CustomFieldID": field_id}
    body = {"Title": "t", "Description": "d", "TopicID": 1, "CustomFields": [kv]}
    r = await api.call("CreateCase", body, AGENT)
    assert r.status_code < 500, r.text
    pushed = {"BackendID": f"Z{field_id}", "Title": "t", "Description": "d", "Status": "New", "Topic": "Other"}
    r = await api.call("PushCase", {**pushed, "CustomFields": {"Fuzzed": value}}, INTEGRATOR)
    assert r.status_code < 500, r.text
    await api.ok("DeleteCustomField", {"ID": field_id}, ADMIN)


async def test_customer_services_judge_as_a_customer_whatever_the_callers_type(api: Api) -> None:
    staff_only = await new_field(api, "Internal rating", 2)
    shared = await new_field(api, "Colour", 0, {"VisibleByUserTypes": 3, "EditableByUserTypes": 3})
    own = employee(54, ["Cases"])  # an employee who opens a case of their own through the customer services
    body = {"Title": "My own case", "Description": "d", "TopicID": 1}
    kv = {"CustomFieldID": staff_only, "NumberValue": 1}
    assert await error_code(api, "CustomerCreateCase", {**body, "CustomFields": [kv]}, own) == (
        "CustomFields:UnknownFieldForType"
    )
    case_id = (
        await api.ok(
            "CustomerCreateCase", {**body, "CustomFields": [{"CustomFieldID": shared, "StringValue": "red"}]}, own
        )
    )["ID"]
    await api.ok("UpdateCase", {"ID": case_id, "CustomFields": [kv]}, AGENT)
    view = await api.ok("CustomerGetCaseByID", {"ID": case_id}, own)
    assert list(view["CustomFields"]) == [str(shared)]
    assert set(await values_of(api, case_id, own)) == {str(staff_only), str(shared)}  # the employee view
