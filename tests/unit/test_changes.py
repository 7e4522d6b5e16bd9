"""The one phrasing of case changes (no database)."""

from __future__ import annotations

from typing import Any

from evacase.domain.changes import case_change_lines, case_creation_lines

OLD: dict[str, Any] = {
    "title": "Broken zipper",
    "description": "It broke.",
    "topic_id": 1,
    "customer_id": 5,
    "backend_system_id": "CRM",
    "backend_id": "C-1",
    "external_order_identifier": None,
    "status_id": 1,
    "priority": 0,
    "assignee_id": None,
    "summary": None,
    "solution": None,
    "is_warranty": False,
    "assigned_organization_unit_id": None,
    "originating_organization_unit_id": None,
    "order_id": None,
}
NAMES = {"topic": "Returns", "status": "InProgress", "assignee": "Pedro Pascal"}


def test_every_field_change_has_one_line_in_one_order() -> None:
    new = {
        "order_id": 9,
        "title": "Zipper",
        "description": "Still broken.",
        "topic_id": 4,
        "customer_id": None,
        "backend_id": "C-2",
        "external_order_identifier": "X-1",
        "status_id": 2,
        "priority": 9,
        "assignee_id": 7,
        "summary": "s",
        "solution": "Replaced",
        "is_warranty": True,
        "assigned_organization_unit_id": 3,
        "originating_organization_unit_id": 4,
    }
    assert case_change_lines(OLD, new, NAMES) == [
        "Case title set to `Zipper`",
        "Case description updated",
        "Case topic set to `Returns`",
        "Case customer removed",
        "Case backend ID set to `C-2`",
        "Case external order identifier updated",
        "Case status set to `InProgress`",
        "Case priority set to `Critical`",
        "Case assigned to `Pedro Pascal`",
        "Case summary updated",
        "Case solution updated",
        "Case warranty set to `True`",
        "Case assigned to organization unit `3`",
        "Case originating organization unit set to `4`",
        "Case order set to `9`",
    ]


def test_unchanged_and_absent_fields_write_nothing_and_clearing_says_removed() -> None:
    assert case_change_lines(OLD, {"title": "Broken zipper", "priority": 0}) == []
    cleared = {**OLD, "assignee_id": None, "backend_id": None, "order_id": None}
    old = {**OLD, "assignee_id": 7, "backend_id": "C-1", "order_id": 3, "solution": "x"}
    assert case_change_lines(old, {**cleared, "solution": None}) == [
        "Case backend ID removed",
        "Case unassigned",
        "Case solution removed",
        "Case order removed",
    ]


def test_a_pushed_identity_changes_with_its_backend_system_too() -> None:
    assert case_change_lines(OLD, {"backend_system_id": "ERP", "backend_id": "C-1"}) == ["Case backend ID set to `C-1`"]


def test_a_new_case_names_how_it_came_its_status_and_assignee() -> None:
    assert case_creation_lines("created", 0, "New") == ["Case created with priority `Low`", "Case status set to `New`"]
    assert case_creation_lines("pushed", 2, "Open", "Eve") == [
        "Case pushed with priority `High`",
        "Case status set to `Open`",
        "Case assigned to `Eve`",
    ]
