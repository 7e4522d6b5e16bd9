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

    def __init__(self, message: str | None = None, code: str | None = None, data: Any = None) -> None:
        """`message` defaults to the class's docstring (the catalogue's classes below have one each)."""
        if message is None:
            message = (type(self).__doc__ or type(self).__name__).strip()
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


class RequestTimeout(EvaError):
    status = 408
    type = "RequestTimeout"
    default_code = "RequestTimeout"


class RequestHeaderFieldsTooLarge(EvaError):
    status = 431
    type = "RequestHeaderFieldsTooLarge"
    default_code = "RequestHeaderFieldsTooLarge"


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


# --- The catalogue: one class per EVA code (its docstring is the default message) -------------------------


class BlobBlobIDAndUrlDiffer(ValidationFailed):
    """BlobID and BlobUrl name different blobs."""

    default_code = "Blob:BlobIDAndUrlDiffer"


class BlobBlobIDOrUrlRequired(ValidationFailed):
    """Either BlobID or BlobUrls is required."""

    default_code = "Blob:BlobIDOrUrlRequired"


class BlobDuplicateBlob(ValidationFailed):
    """The same blob is named more than once."""

    default_code = "Blob:DuplicateBlob"


class BlobInvalidBlobUrl(ValidationFailed):
    """A blob URL must contain the blob's GUID."""

    default_code = "Blob:InvalidBlobUrl"


class BlobNotFound(NotFound):
    """The blob is not attached here."""

    default_code = "Blob:NotFound"


class BlobMimeTypeNotAllowed(ValidationFailed):
    """Files of this type are not accepted."""

    default_code = "Blob:MimeTypeNotAllowed"


class BlobContentDoesNotMatchMimeType(ValidationFailed):
    """The content does not match its MIME type."""

    default_code = "Blob:ContentDoesNotMatchMimeType"


class BlobTooLarge(RequestTooLarge):
    """The file is larger than the blob size limit."""

    default_code = "Blob:TooLarge"


class BlobAlreadyUploaded(Conflict):
    """This blob already has its content: blobs do not change once stored."""

    default_code = "Blob:AlreadyUploaded"


class BlobNotUploaded(Conflict):
    """This blob has no content yet: upload it to its Url first."""

    default_code = "Blob:NotUploaded"


class BlobCategoryAndNameTaken(Conflict):
    """A blob with this Category and OriginalName already exists."""

    default_code = "Blob:CategoryAndOriginalNameTaken"


class BlobIsAttached(Conflict):
    """The blob is attached to a case or an interaction."""

    default_code = "Blob:IsAttached"


class BlobNotYours(Forbidden):
    """A customer may attach only blobs they uploaded themselves."""

    default_code = "Blob:NotYours"


class DevelopmentTokensOff(Forbidden):
    """Development tokens are off: paste a token, or run evacase serve without EVACASE_JWT_SECRET (or with
    EVACASE_DOCS_TOKENS=true), on this machine."""

    default_code = "DevelopmentTokensOff"


class PrintNoTarget(ValidationFailed):
    """No printer is configured."""

    default_code = "Print:NoPrintTarget"


class PrintFailed(EvaError):
    """The print command failed."""

    status = 502
    type = "BadGateway"
    default_code = "Print:PrintFailed"


class BlobTooManyBlobs(Conflict):
    """Blob:TooManyBlobs"""

    default_code = "Blob:TooManyBlobs"


class CaseAssigneeIsInvalidUserTypeToAssignToCase(ValidationFailed):
    """Only employees and system users can be assigned to a case."""

    default_code = "Case:AssigneeIsInvalidUserTypeToAssignToCase"


class CaseCanOnlyArchiveClosedCases(Conflict):
    """Only closed cases can be archived."""

    default_code = "Case:CanOnlyArchiveClosedCases"


class CaseCannotRevertCaseStatusToNewStatus(Conflict):
    """A case cannot go back to the New status."""

    default_code = "Case:CannotRevertCaseStatusToNewStatus"


class CaseCannotUpdateTitleOrDescriptionAfterAssignment(Conflict):
    """The title and description cannot be changed once the case is assigned."""

    default_code = "Case:CannotUpdateTitleOrDescriptionAfterAssignment"


class CaseCaseAlreadyClosed(Conflict):
    """The case is closed and can no longer be changed."""

    default_code = "Case:CaseAlreadyClosed"


class CaseCaseIsArchived(Conflict):
    """The case is archived and can no longer be changed."""

    default_code = "Case:CaseIsArchived"


class CaseCaseTopicIsRequiredForCase(ValidationFailed):
    """TopicID is required: every case needs a topic."""

    default_code = "Case:CaseTopicIsRequiredForCase"


class CaseCaseWithBackendIDAlreadyExists(Conflict):
    """A case with this BackendSystemID and BackendID already exists (push with Update: true to update it)."""

    default_code = "Case:CaseWithBackendIDAlreadyExists"


class CaseInvalidPriority(ValidationFailed):
    """Priority must be 0 (Low), 1 (Medium), 2 (High) or 9 (Critical)."""

    default_code = "Case:InvalidPriority"


class CaseNotFound(NotFound):
    """The case does not exist."""

    default_code = "Case:NotFound"


class CaseOrderRequiredToOverwriteCustomer(ValidationFailed):
    """OverwriteCaseCustomerWithCustomerOfOrder needs an order."""

    default_code = "Case:OrderRequiredToOverwriteCustomer"


class CaseOrganizationUnitNotAllowed(Forbidden):
    """You cannot assign a case to an organization unit outside your own."""

    default_code = "Case:OrganizationUnitNotAllowed"


class CaseOriginatingOrganizationUnitCanOnlyBeSetOnce(Conflict):
    """The originating organization unit can only be set once."""

    default_code = "Case:OriginatingOrganizationUnitCanOnlyBeSetOnce"


class CaseInteractionInteractionTypeNotAllowed(ValidationFailed):
    """CaseInteraction:InteractionTypeNotAllowed"""

    default_code = "CaseInteraction:InteractionTypeNotAllowed"


class CaseInteractionNotFound(NotFound):
    """The interaction does not exist."""

    default_code = "CaseInteraction:NotFound"


class CaseInteractionTypeNotAllowed(ValidationFailed):
    """CaseInteraction:TypeNotAllowed"""

    default_code = "CaseInteraction:TypeNotAllowed"


class CaseRelatedItemNotFound(NotFound):
    """These related items are not on the case."""

    default_code = "CaseRelatedItem:NotFound"


class CaseStatusCannotChangeIsClosedOfStatusInUse(Conflict):
    """Cases use this status: it cannot be switched between open and closed."""

    default_code = "CaseStatus:CannotChangeIsClosedOfStatusInUse"


class CaseStatusInternalStatusCannotBeDeleted(Conflict):
    """A system status cannot be deleted."""

    default_code = "CaseStatus:InternalStatusCannotBeDeleted"


class CaseStatusIsClosedOfInternalStatusCannotBeModified(Conflict):
    """A system status cannot be switched between open and closed."""

    default_code = "CaseStatus:IsClosedOfInternalStatusCannotBeModified"


class CaseStatusNameOfInternalStatusCannotBeModified(Conflict):
    """The name of a system status cannot be changed."""

    default_code = "CaseStatus:NameOfInternalStatusCannotBeModified"


class CaseStatusNotFound(NotFound):
    """The case status does not exist."""

    default_code = "CaseStatus:NotFound"


class CaseStatusStatusInUse(Conflict):
    """Cases use this status: move them to another status first."""

    default_code = "CaseStatus:StatusInUse"


class CaseTopicCanNotFilterOnBothRootOnlyAndParent(ValidationFailed):
    """Filter.RootOnly and Filter.ParentID cannot be combined."""

    default_code = "CaseTopic:CanNotFilterOnBothRootOnlyAndParent"


class CaseTopicMaximumDepthExceeded(ValidationFailed):
    """CaseTopic:MaximumDepthExceeded"""

    default_code = "CaseTopic:MaximumDepthExceeded"


class CaseTopicNotFound(NotFound):
    """The case topic does not exist."""

    default_code = "CaseTopic:NotFound"


class CaseTopicParentNotFound(NotFound):
    """The parent topic does not exist."""

    default_code = "CaseTopic:ParentNotFound"


class CustomFieldNotFound(NotFound):
    """The custom field does not exist."""

    default_code = "CustomField:NotFound"


class CustomFieldsDataTypeEnumRequiresSomeEnumValues(ValidationFailed):
    """An Enum field needs EnumValues."""

    default_code = "CustomFields:DataTypeEnumRequiresSomeEnumValues"


class CustomFieldsEnumValuesAreOnlyAllowedWhenCustomFieldIsOfDataTypeEnum(ValidationFailed):
    """EnumValues are only allowed for fields of data type Enum."""

    default_code = "CustomFields:EnumValuesAreOnlyAllowedWhenCustomFieldIsOfDataTypeEnum"


class CustomFieldsInvalidOptions(ValidationFailed):
    """CustomFields:InvalidOptions"""

    default_code = "CustomFields:InvalidOptions"


class CustomFieldsInvalidRegex(ValidationFailed):
    """The custom field's pattern cannot be checked; an administrator has to set a new one."""

    default_code = "CustomFields:InvalidRegex"


class CustomFieldsRegexCheckTooExpensive(ValidationFailed):
    """The values of this request are too long to check against their custom fields' patterns in time."""

    default_code = "CustomFields:RegexCheckTooExpensive"


class CustomFieldsUnsupportedType(ValidationFailed):
    """CustomFields:UnsupportedType"""

    default_code = "CustomFields:UnsupportedType"


class IdempotencyInvalidKey(ValidationFailed):
    """Idempotency:InvalidKey"""

    default_code = "Idempotency:InvalidKey"


class IdempotencyKeyReusedWithDifferentRequest(Conflict):
    """This Idempotency-Key was used for a different request; use a new key for a new request."""

    default_code = "Idempotency:KeyReusedWithDifferentRequest"


class IdempotencyRequestInProgress(Conflict):
    """A request with this Idempotency-Key is still being processed; try again shortly."""

    default_code = "Idempotency:RequestInProgress"


class OrderNotFound(NotFound):
    """The order does not exist."""

    default_code = "Order:NotFound"


class PushCaseMultipleOptionsForCaseTopicName(ValidationFailed):
    """PushCase:MultipleOptionsForCaseTopicName"""

    default_code = "PushCase:MultipleOptionsForCaseTopicName"


class PushCaseUnknownOrganizationUnit(ValidationFailed):
    """PushCase:UnknownOrganizationUnit"""

    default_code = "PushCase:UnknownOrganizationUnit"


class PushCaseUnknownParentTopic(NotFound):
    """PushCase:UnknownParentTopic"""

    default_code = "PushCase:UnknownParentTopic"


class PushCaseUnknownPushedStatus(ValidationFailed):
    """PushCase:UnknownPushedStatus"""

    default_code = "PushCase:UnknownPushedStatus"


class PushCaseUnknownPushedTopic(ValidationFailed):
    """PushCase:UnknownPushedTopic"""

    default_code = "PushCase:UnknownPushedTopic"


class UserNotFound(NotFound):
    """The customer does not exist."""

    default_code = "User:NotFound"


class CaseTopicTopicInUse(Conflict):
    """Cases use this topic."""

    default_code = "CaseTopic:TopicInUse"


class CaseBlobAlreadyAttached(Conflict):
    """This blob is already attached to the case."""

    default_code = "Case:BlobAlreadyAttached"


class CaseInteractionBlobAlreadyAttached(Conflict):
    """This blob is already attached to the interaction."""

    default_code = "CaseInteraction:BlobAlreadyAttached"


class CaseStatusStatusNameAlreadyExists(Conflict):
    """A case status with this name already exists."""

    default_code = "CaseStatus:StatusNameAlreadyExists"


class CaseStatusChangedConcurrently(Conflict):
    """The case's status changed between open and closed while the request ran; try again."""

    default_code = "Case:StatusChangedConcurrently"


class CaseInteractionBackendIDAlreadyExists(Conflict):
    """An interaction with this BackendID already exists on the case."""

    default_code = "CaseInteraction:BackendIDAlreadyExists"


class OrganizationUnitBackendIDAlreadyExists(Conflict):
    """Another organization unit has this BackendID."""

    default_code = "OrganizationUnit:BackendIDAlreadyExists"


class CustomFieldsDuplicateName(Conflict):
    """A case custom field with this name exists."""

    default_code = "CustomFields:DuplicateName"


class CustomFieldsDuplicateBackendID(Conflict):
    """Another custom field has this BackendID."""

    default_code = "CustomFields:DuplicateBackendID"


class CaseTopicTopicNameAlreadyExists(Conflict):
    """A topic with this name already exists under the same parent."""

    default_code = "CaseTopic:TopicNameAlreadyExists"


def catalogue() -> dict[str, type[EvaError]]:
    """Every EVA code evacase answers with, by code: the catalogue's classes and the generic ones."""
    found: dict[str, type[EvaError]] = {}
    pending: list[type[EvaError]] = [EvaError]
    while pending:
        cls = pending.pop()
        found.setdefault(cls.default_code, cls)
        pending.extend(cls.__subclasses__())
    return found


class EndpointConfigurationNotFound(NotFound):
    """The endpoint configuration does not exist."""

    default_code = "EndpointConfiguration:NotFound"


class EventExportConfigurationNotFound(NotFound):
    """The event export configuration does not exist."""

    default_code = "EventExportConfiguration:NotFound"


class ServiceLevelCalendarNotFound(NotFound):
    """The service-level calendar does not exist."""

    default_code = "ServiceLevelCalendar:NotFound"


class ServiceLevelCalendarInUse(Conflict):
    """A service-level policy uses this calendar; change the policy first."""

    default_code = "ServiceLevelCalendar:InUse"


class ServiceLevelPolicyNotFound(NotFound):
    """The service-level policy does not exist."""

    default_code = "ServiceLevelPolicy:NotFound"


class AssignmentRuleNotFound(NotFound):
    """The assignment rule does not exist."""

    default_code = "AssignmentRule:NotFound"


class CaseReopenWindowExpired(Conflict):
    """The case was closed too long ago to be reopened: please create a new case (CustomerCreateCase)."""

    default_code = "Case:ReopenWindowExpired"


class CaseCaseIsNotClosed(Conflict):
    """The case is open: only a closed case can be reopened."""

    default_code = "Case:CaseIsNotClosed"


class CaseContactNotFound(NotFound):
    """The case has no such contact."""

    default_code = "CaseContact:NotFound"


class CaseTooManyContacts(Conflict):
    """The case has as many contacts as it may have."""

    default_code = "CaseContact:TooManyContacts"


class CaseTooManyTags(Conflict):
    """The case has as many tags as it may have."""

    default_code = "Case:TooManyTags"


class CaseLinkNotFound(NotFound):
    """The two cases are not linked."""

    default_code = "CaseLink:NotFound"
