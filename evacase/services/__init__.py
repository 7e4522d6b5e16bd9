"""The EVA surface: one module per domain, each holding its wire Structs and thin handlers in its own `ops`.

`build_registry()` composes them, explicitly: a module not listed here serves nothing (tests/test_registry.py
checks that every module is)."""

from __future__ import annotations

from evacase.registry import Registry
from evacase.services import (
    assignment,
    blob_storage,
    blobs,
    case_contacts,
    case_links,
    case_list,
    case_tags,
    case_view,
    cases,
    change_feed,
    current_user,
    custom_field_options,
    custom_fields,
    customer_blobs,
    customer_cases,
    customer_interactions,
    endpoint_configurations,
    event_export_configurations,
    interactions,
    organization_units,
    ping,
    push_case,
    push_settings,
    receipts,
    related_items,
    service_levels,
    statuses,
    topics,
)

MODULES = (
    ping,
    current_user,
    topics,
    customer_cases,
    customer_interactions,
    customer_blobs,
    cases,
    case_view,
    case_list,
    case_tags,
    case_contacts,
    case_links,
    change_feed,
    interactions,
    blobs,
    blob_storage,
    related_items,
    receipts,
    statuses,
    service_levels,
    assignment,
    organization_units,
    push_settings,
    push_case,
    custom_fields,
    custom_field_options,
    endpoint_configurations,
    event_export_configurations,
)


def build_registry() -> Registry:
    """Every service evacase offers."""
    return Registry(*(module.ops for module in MODULES))
