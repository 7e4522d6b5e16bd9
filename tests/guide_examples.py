"""The example payloads of EVA's case-management guide (shared/seeds/000_542db4766103de8c.txt), verbatim."""

LIST_CASE_TOPICS_RESPONSE = {
    "Results": [
        {"ID": 7, "Name": "Other", "Description": "Anything not covered by the other topics."},
        {"ID": 6, "Name": "Promotions", "Description": "Anything related to promotions or discounts."},
        {"ID": 5, "Name": "Account", "Description": "Anything related to your account."},
        {"ID": 4, "Name": "Returns", "Description": "Anything related to returns."},
        {"ID": 3, "Name": "Payment", "Description": "Anything related to pending or past payments."},
        {"ID": 2, "Name": "Shipping", "Description": "Anything related to shipments for your order(s)."},
        {"ID": 1, "Name": "Products", "Description": "Anything related to products."},
    ]
}

CUSTOMER_LIST_CASES_RESPONSE = {
    "Results": [
        {
            "ID": 10,
            "TopicID": 1,
            "TopicName": "Products",
            "StatusID": 1,
            "StatusName": "New",
            "Priority": 0,
            "Title": "The stitching on my T-shirt isn't right!!",
            "OrderID": 325,
            "ReportingTime": "2023-03-30T16:30:57.947Z",
        }
    ]
}

CUSTOMER_GET_CASE_BY_ID_REQUEST = {"ID": 10}

CUSTOMER_GET_CASE_BY_ID_RESPONSE = {
    "ID": 10,
    "TopicID": 1,
    "TopicName": "Products",
    "StatusID": 1,
    "StatusName": "New",
    "Priority": 0,
    "Title": "The stitching on my T-shirt isn't right!!",
    "Description": "I ordered your Unisex T-shirt a while ago. When I received it yesterday I immediately noticed "
    "there was something off. The logo stitching seems to be majorly messed up; every letter is crooked and some "
    "are even backwards lol.",
    "OrderID": 325,
    "IsWarranty": False,
    "ReportingTime": "2023-03-30T16:30:57.947Z",
    "DescriptionCanBeModified": True,
    "BlobIDs": ["b832ece7-93ea-4c5e-ad64-11402201315d"],
}

CUSTOMER_LIST_CASE_INTERACTIONS_REQUEST = {"CaseID": 10}

CUSTOMER_LIST_CASE_INTERACTIONS_RESPONSE = {
    "Results": [
        {
            "ID": 39,
            "CaseID": 10,
            "Type": 0,
            "CanBeModified": True,
            "Text": "We are so sorry to hear about this. We've sent you an e-mail with a gift card for your order "
            "amount, hope this helps you out, cheers!",
            "CreationTime": "2023-03-30T16:39:42.963Z",
            "CreatedByID": 118744,
            "CreatedBy": {"FirstName": "Pedro", "LastName": "Pascal", "FullName": "Pedro Pascal"},
        },
        {
            "ID": 38,
            "CaseID": 10,
            "Type": 2,
            "CanBeModified": True,
            "Text": "Case status set to `New`",
            "CreationTime": "2023-03-30T16:30:57.947Z",
            "CreatedBy": {"FirstName": "Pedro", "LastName": "Pascal", "FullName": "Pedro Pascal"},
        },
        {
            "ID": 37,
            "CaseID": 10,
            "Type": 2,
            "CanBeModified": True,
            "Text": "Case created with priority `Low`",
            "CreationTime": "2023-03-30T16:30:57.947Z",
            "CreatedBy": {"FirstName": "Pedro", "LastName": "Pascal", "FullName": "Pedro Pascal"},
        },
    ]
}

CUSTOMER_CREATE_CASE_INTERACTION_REQUEST = {"CaseID": 10, "Text": "YourMessageHere"}

# "Pushing cases": the sample push as JSON. The guide's `--` comments and trailing commas are notation; its bare
# dates (`01/01/11 00:00:00.000`) are written as ISO 8601, and BillingAddress (`/* Same as ShippingAddress */`)
# repeats ShippingAddress. Every other value is the guide's own, `"CountryID": "CUST123"` included. The
# duplicated `"BackendID": "CUST123"` key of the customer appears once. CustomFields are PUSH_CASE_CUSTOM_FIELDS.
_GUIDE_ADDRESS = {
    "Address1": "",
    "Address2": "",
    "HouseNumber": "",
    "FirstName": "",
    "LastName": "",
    "ZipCode": "",
    "City": "",
    "Region": "",
    "District": "",
    "Subdistrict": "",
    "EmailAddress": "",
    "PhoneNumber": "",
    "State": "",
    "CountryID": "",
}

PUSH_CASE_REQUEST = {
    "BackendSystemID": "Sys123",
    "BackendID": "ID-A-123",
    "Topic": "TopicName",
    "Title": "Something wrong",
    "Description": "It rings, but it's not a phone",
    "Summary": "After investigating, it was a phone",
    "Solution": "Gave customer a banana so it wouldn't ring",
    "Customer": {
        "BackendID": "CUST123",
        "EmailAddress": "cust@om.er",
        "Gender": "O",
        "Initials": "",
        "FirstName": "",
        "LastName": "",
        "PhoneNumber": "",
        "DateOfBirth": "2011-01-01T00:00:00.000",
        "PlaceOfBirth": "CUST123",
        "BankAccount": "CUST123",
        "Nickname": "CUST123",
        "ShippingAddress": dict(_GUIDE_ADDRESS),
        "BillingAddress": dict(_GUIDE_ADDRESS),
        "LanguageID": "CUST123",
        "CountryID": "CUST123",
        "FiscalID": "CUST123",
        "SocialSecurityNumber": "CUST123",
        "Title": "CUST123",
        "Salutation": "CUST123",
        "AccountType": 0,
        "Company": {"Name": "", "RegistrationNumber": "", "VatNumber": "", "FiscalID": ""},
        "BackendRelationID": "CUST123",
    },
    "OriginatingOrganizationUnitBackendID": "",
    "Assignee": {"ID": 1, "CustomID": "", "EmailAddress": ""},
    "AssignedOn": "2011-01-01T00:00:00.000",
    "Priority": 1,
    "IsWarranty": False,
    "Status": "SomeStatus",
    "ReportingTime": "2011-01-01T00:00:00.000",
    "LastInteractionTime": "2011-01-01T00:00:00.000",
    "ClosingTime": "2011-01-01T00:00:00.000",
}
PUSH_CASE_CUSTOM_FIELDS = {"CustomField1": "true", "CustomField2": "yes"}
PUSH_CASE_RESPONSE = {"ID": 1}
