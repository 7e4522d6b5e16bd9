"""The API described for machines: an OpenAPI 3.1 document generated from the registry (GET /openapi.json,
`evacase openapi`). Every service is `POST /message/<Name>` with its request and response schemas taken from
the msgspec Structs, EVA's error body with the codes each status may carry (from the error catalogue), the
token scheme, EVA's request headers, and who may call it; the blob, health and document endpoints too."""

from __future__ import annotations

import importlib.metadata
import inspect
from typing import Any

import msgspec

from evacase.auth import ANY_USER, Scope, UserType
from evacase.errors import ErrorBody, catalogue
from evacase.registry import Access, Operation, Registry

SCOPE_NAMES = {scope: name.title() for name, scope in Scope.__members__.items()}
ERROR_STATUSES = (400, 401, 403, 404, 409, 413, 422, 429, 503)
HEADERS: list[tuple[str, str, dict[str, Any]]] = [
    ("EVA-User-Agent", "The calling application, e.g. `MyShop/1.0.0` (logged).", {"type": "string"}),
    (
        "EVA-IDs-Mode",
        "`StringIDs`: IDs travel as strings in requests and answers (what EVA's SDK sends).",
        {"type": "string", "enum": ["StringIDs"]},
    ),
    ("EVA-IDs-BackendSystemID", "PushCase: the BackendSystemID when the body has none.", {"type": "string"}),
    (
        "Idempotency-Key",
        "A retried write with the same key is answered once, replayed after.",
        {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
    ),
    (
        "X-Request-ID",
        "The request's ID for logs and errors, echoed back (anything else is ignored).",
        {"type": "string", "pattern": "^[A-Za-z0-9._:@/+=-]{1,64}$"},
    ),
    (
        "traceparent",
        "W3C trace context: without X-Request-ID, its trace ID becomes the request's ID.",
        {"type": "string", "pattern": "^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$"},
    ),
]


def package_version() -> str:
    try:
        return importlib.metadata.version("evacase")
    except importlib.metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def who_may_call(access: Access) -> str:
    """The access rule in words."""
    if access.user_types == ANY_USER:
        who = "any authenticated caller"
    else:
        kinds = {"Employee": UserType.EMPLOYEE, "Customer": UserType.CUSTOMER, "Api": UserType.API}
        names = [name for name, kind in kinds.items() if kind & access.user_types]
        who = " or ".join(names) + " users"
    if access.functionality is not None:
        name, scope = access.functionality
        needed = name if scope == Scope.NONE else f"{name}:{SCOPE_NAMES.get(scope, str(int(scope)))}"
        who += f" with the functionality {needed}"
        if access.exempt:
            who += " (customers need none)"
    if access.anonymous:
        who += "; no token needed"
    return who


STRING_ID = {"type": "string", "pattern": "^-?[0-9]+$"}


def _allow_string_ids(schema: dict[str, Any]) -> None:
    """EVA-IDs-Mode: StringIDs carries every integer ID (a property named ...ID, or a list named ...IDs) as a
    string (messages.string_ids): say so in the schema, either way."""
    for name, prop in (schema.get("properties") or {}).items():
        if name.endswith("ID") and _integer(prop):
            schema["properties"][name] = {"anyOf": [prop, STRING_ID]}
        elif name.endswith("IDs"):
            for variant in prop.get("anyOf", [prop]):
                if variant.get("type") == "array" and _integer(variant.get("items", {})):
                    variant["items"] = {"anyOf": [variant["items"], STRING_ID]}


def _integer(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "integer" or any(v.get("type") == "integer" for v in schema.get("anyOf", []))


def _codes_by_status() -> dict[int, list[str]]:
    codes: dict[int, list[str]] = {}
    for code, cls in sorted(catalogue().items()):
        codes.setdefault(cls.status, []).append(code)
    return codes


def _summary(op: Operation) -> str:
    # The request's own docstring (not one inherited from a base Struct), else its handler module's.
    own = op.request_type.__dict__.get("__doc__")
    doc = (inspect.cleandoc(own) if own else None) or inspect.getdoc(inspect.getmodule(op.handler)) or op.name
    return doc.split("\n\n")[0].replace("\n", " ")


def openapi_document(registry: Registry, version: str) -> dict[str, Any]:
    operations = [registry.get(name) for name in sorted(registry.names())]
    types: list[Any] = [ErrorBody]
    for op in operations:
        assert op is not None
        types += [op.request_type, op.response_type]
    _, components = msgspec.json.schema_components(types, ref_template="#/components/schemas/{name}")
    for component in components.values():
        _allow_string_ids(component)
    codes = _codes_by_status()
    header_parameters = [
        {"name": name, "in": "header", "required": False, "description": text, "schema": schema}
        for name, text, schema in HEADERS
    ]
    error_responses = {
        str(status): {
            "description": "EVA's error body. Codes this status carries: " + ", ".join(f"`{c}`" for c in codes[status])
            if status in codes
            else "EVA's error body.",
            "headers": {"EVA-Request-ID": {"schema": {"type": "string"}}},
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
        }
        for status in ERROR_STATUSES
    }
    paths: dict[str, Any] = {}
    for op in operations:
        assert op is not None
        access = op.access
        paths[f"/message/{op.name}"] = {
            "post": {
                "operationId": op.name,
                "summary": _summary(op),
                "description": f"Who may call: {who_may_call(access)}.",
                "x-eva-access": {
                    "UserTypes": "any" if access.user_types == ANY_USER else access.user_types,
                    "Functionality": list(access.functionality) if access.functionality else None,
                    "Anonymous": access.anonymous,
                    "Writes": op.writes,
                },
                "security": [{"token": []}, {}] if access.anonymous else [{"token": []}],
                "parameters": header_parameters,
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": f"#/components/schemas/{op.request_type.__name__}"}}
                    },
                },
                "responses": {
                    "200": {
                        "description": "The answer.",
                        "headers": {"EVA-Request-ID": {"schema": {"type": "string"}}},
                        "content": {
                            "application/json": {
                                "schema": {"$ref": f"#/components/schemas/{op.response_type.__name__}"}
                            }
                        },
                    },
                    **error_responses,
                },
            }
        }
    paths.update(_other_paths(error_responses))
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "evacase",
            "version": version,
            "description": "Case management that speaks EVA's case API: every service is POST /message/<Name>.",
        },
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "token": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "`Authorization: Bearer <token>`; `eva <token>` and the bare token are taken too.",
                }
            },
        },
    }


def _other_paths(errors: dict[str, Any]) -> dict[str, Any]:
    guid = {"name": "guid", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}
    json_status = {
        "content": {"application/json": {"schema": {"type": "object", "properties": {"Status": {"type": "string"}}}}}
    }
    return {
        "/blob/{guid}": {
            "get": {
                "operationId": "DownloadBlob",
                "summary": "A stored blob's content (ETag, Range); see GetBlobInfo for who may read it.",
                "parameters": [guid],
                "responses": {
                    "200": {"description": "The content."},
                    "206": {"description": "A range of it."},
                    "416": {"description": "A range outside the content."},
                    **errors,
                },
            },
            "post": {
                "operationId": "UploadBlob",
                "summary": "A blob's content, raw or multipart, to the Url CreateBlob answered.",
                "parameters": [guid],
                "responses": {"200": {"description": "Stored."}, **errors},
            },
        },
        "/health": {
            "get": {
                "operationId": "Health",
                "summary": "Readiness: the database answers (503 while it does not, or while shutting down).",
                "responses": {"200": {"description": "Ready.", **json_status}, "503": {"description": "Not ready."}},
            }
        },
        "/health/live": {
            "get": {
                "operationId": "Liveness",
                "summary": "Liveness: the process answers (never touches the database).",
                "responses": {"200": {"description": "Alive.", **json_status}},
            }
        },
        "/metrics": {
            "get": {
                "operationId": "Metrics",
                "summary": "Prometheus metrics (text format): requests, latency, database faults, pool, outbox, jobs.",
                "responses": {"200": {"description": "The figures."}},
            }
        },
        "/docs": {
            "get": {
                "operationId": "Explorer",
                "summary": "The API explorer: pick a service, read its rules, send a body (an HTML page).",
                "responses": {"200": {"description": "The page.", "content": {"text/html": {}}}},
            }
        },
        "/docs/token": {
            "post": {
                "operationId": "DevelopmentToken",
                "summary": "A development token, valid one day, for the explorer: while EVACASE_DOCS_TOKENS is on "
                "(serve with a secret it generated), for callers on this machine only; else 403 DevelopmentTokensOff.",
                "requestBody": {
                    "required": False,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {"UserType": {"enum": ["customer", "employee", "integrator"]}},
                                "additionalProperties": False,
                            }
                        }
                    },
                },
                "responses": {
                    "200": {
                        "description": "The token and whom it is for.",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["Token", "UserID", "UserType", "Functionalities"],
                                    "properties": {
                                        "Token": {"type": "string"},
                                        "UserID": {"type": "integer"},
                                        "UserType": {"type": "string"},
                                        "Functionalities": {"type": "array", "items": {"type": "string"}},
                                    },
                                }
                            }
                        },
                    },
                    "400": errors["400"],
                    "403": errors["403"],
                },
            }
        },
        "/openapi.json": {
            "get": {
                "operationId": "OpenAPI",
                "summary": "This document.",
                "responses": {"200": {"description": "OpenAPI 3.1."}},
            }
        },
    }
