"""The error catalogue: one class per EVA code, with its status, type and default message (no database)."""

from __future__ import annotations

import msgspec

from evacase.errors import CaseNotFound, EvaError, UserNotFound, catalogue


def test_each_code_has_one_class_with_a_message_and_a_fitting_status() -> None:
    classes: dict[str, list[type[EvaError]]] = {}
    pending: list[type[EvaError]] = EvaError.__subclasses__()  # the root and InternalError share a code
    while pending:
        cls = pending.pop()
        classes.setdefault(cls.default_code, []).append(cls)
        pending.extend(cls.__subclasses__())
    assert {code: len(found) for code, found in classes.items() if len(found) > 1} == {}
    for code, cls in catalogue().items():
        if ":" in code:  # the catalogue's own classes, beside the generic ones
            assert cls.__doc__ and cls.__doc__.strip(), code
            assert 400 <= cls.status < 600
    assert len([c for c in catalogue() if ":" in c]) >= 60


def test_a_catalogue_error_speaks_evas_body_with_its_default_or_given_message() -> None:
    body = msgspec.json.decode(CaseNotFound().body("r-1"))
    assert body == {
        "Error": {
            "Code": "Case:NotFound",
            "Type": "NotFound",
            "Message": "The case does not exist.",
            "RequestID": "r-1",
        }
    }
    assert UserNotFound("The assignee does not exist.", data={"ID": 3}).body("r") == (
        b'{"Error":{"Code":"User:NotFound","Type":"NotFound","Message":"The assignee does not exist.",'
        b'"RequestID":"r","Data":{"ID":3}}}'
    )
