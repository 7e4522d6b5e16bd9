"""The error hierarchy and EVA's error body: {"Error": {"Code", "Type", "Message", "RequestID", "Data"}}."""

from __future__ import annotations

from typing import Any

import msgspec


class ErrorDetail(msgspec.Struct, omit_defaults=True):
    Code: str
    Type: str
    Message: str
    RequestID: str
    Data: Any = None


class ErrorBody(msgspec.Struct):
    Error: ErrorDetail


_encoder = msgspec.json.Encoder()


class EvaError(Exception):
    """Root of every error a client may see. `code` is EVA's domain code where EVA has one."""

    status = 500
    type = "InternalServerError"
    default_code = "InternalServerError"

    def __init__(self, message: str, code: str | None = None, data: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.data = data

    def body(self, request_id: str) -> bytes:
        detail = ErrorDetail(self.code, self.type, self.message, request_id, self.data)
        return _encoder.encode(ErrorBody(detail))


class ValidationFailed(EvaError):
    status = 400
    type = "RequestValidationFailure"
    default_code = "RequestValidationFailure"


class Unauthorized(EvaError):
    status = 401
    type = "Unauthorized"
    default_code = "Unauthorized"


class Forbidden(EvaError):
    status = 403
    type = "Forbidden"
    default_code = "Forbidden"


class NotFound(EvaError):
    status = 404
    type = "NotFound"
    default_code = "NotFound"


class MethodNotAllowed(EvaError):
    status = 405
    type = "MethodNotAllowed"
    default_code = "MethodNotAllowed"


class Conflict(EvaError):
    status = 409
    type = "Conflict"
    default_code = "Conflict"


class RequestTooLarge(EvaError):
    status = 413
    type = "RequestTooLarge"
    default_code = "RequestTooLarge"


class ServiceUnavailable(EvaError):
    """Answered with `Retry-After` (seconds): the condition is expected to pass."""

    status = 503
    type = "ServiceUnavailable"
    default_code = "ServiceUnavailable"
    retry_after = 1


class InternalError(EvaError):
    """A real fault: the body says only that, the log holds the trace."""


def internal_error() -> InternalError:
    return InternalError("An unexpected error occurred. Quote the RequestID when asking for support.")
