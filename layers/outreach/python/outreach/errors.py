"""Domain errors: raised by services, turned into RFC 9457 problems in one place."""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    """Base of every error a service raises on purpose.

    ``status``, ``slug`` and ``title`` fix the problem document; ``detail`` says
    what happened in this case; ``extra`` adds members (e.g. ``existing_id``).
    """

    status: ClassVar[int] = 400
    slug: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra or {}
        self.headers = headers or {}


class BadRequest(DomainError):
    """The request is malformed (a tampered cursor, unparsable body...)."""


class Unauthorized(DomainError):
    """No valid credentials."""

    status = 401
    slug = "unauthorized"
    title = "Unauthorized"

    def __init__(self, detail: str = "Missing or invalid credentials") -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(DomainError):
    """Authenticated, but the caller's role does not allow this."""

    status = 403
    slug = "forbidden"
    title = "Forbidden"


class NotFound(DomainError):
    """The resource does not exist in the caller's organization."""

    status = 404
    slug = "not-found"
    title = "Not found"


class Conflict(DomainError):
    """The request conflicts with the current state (a duplicate, an illegal move)."""

    status = 409
    slug = "conflict"
    title = "Conflict"


class PayloadTooLarge(DomainError):
    """The body exceeds the route's limit."""

    status = 413
    slug = "payload-too-large"
    title = "Payload too large"


class UnsupportedMediaType(DomainError):
    """The body's content type is not one the route accepts."""

    status = 415
    slug = "unsupported-media-type"
    title = "Unsupported media type"


class ValidationFailed(DomainError):
    """The body is well-formed but breaks a rule; ``errors`` lists each failure
    (``{loc, msg}``) and ``error_count`` counts them, as every 422 problem does (the
    document's ``ValidationProblem``)."""

    status = 422
    slug = "validation-failed"
    title = "Validation failed"

    def __init__(self, detail: str, errors: list[dict[str, Any]]) -> None:
        # At most as many as a request validation problem lists (MAX_REPORTED_ERRORS).
        super().__init__(detail, extra={"errors": errors[:100], "error_count": len(errors)})
        self.errors = errors


class TooManyRequests(DomainError):
    """Rate limited; ``retry_after`` seconds until the caller may try again."""

    status = 429
    slug = "too-many-requests"
    title = "Too many requests"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(max(1, retry_after))})
        self.retry_after = retry_after


class ServiceUnavailable(DomainError):
    """A service the request needs (the SMS provider) cannot take it now; ``retry_after``
    seconds until the caller may try again. Nothing was done."""

    status = 503
    slug = "service-unavailable"
    title = "Service unavailable"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(max(1, retry_after))})
