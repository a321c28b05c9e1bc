"""The one error hierarchy of Dockyard; the API maps it to HTTP in exactly one place.

    DockyardError                 (base; never raised directly)
    ├── Invalid          400      bad input; ``field`` gives a DRF field error body
    ├── Unauthenticated  401      missing or wrong credentials
    ├── Forbidden        403      authenticated but not allowed
    ├── NotFound         404      the object does not exist (or is not visible)
    ├── Conflict         409      the request clashes with current state
    ├── TooLarge         413      the body is larger than allowed
    ├── Unsupported      415      the body is of a type the endpoint does not take
    ├── Unprocessable    422      well-formed but refers to something absent
    ├── TooManyRequests  429      throttled; ``retry_after`` seconds go in ``Retry-After``
    └── Unavailable      503      a dependency (database, scheduler) is down

Services raise these; adapters raise their own errors and services translate them with
``raise Unavailable(...) from exc``.
"""

from __future__ import annotations

PERMISSION_DENIED = "You do not have permission to perform this action."


class DockyardError(Exception):
    status = 500

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def body(self) -> dict[str, object]:
        if self.field:
            return {self.field: [self.message]}
        return {"detail": self.message}


class Invalid(DockyardError):
    status = 400


class Unauthenticated(DockyardError):
    status = 401

    def __init__(self, message: str, *, field: str | None = None, challenge: str = "Token") -> None:
        super().__init__(message, field=field)
        # The WWW-Authenticate scheme: "Token" for the API, Basic for git over HTTP.
        self.challenge = challenge


class Forbidden(DockyardError):
    status = 403

    def __init__(self, message: str = PERMISSION_DENIED, *, field: str | None = None) -> None:
        super().__init__(message, field=field)


class NotFound(DockyardError):
    status = 404

    def __init__(self, message: str = "Not found.", *, field: str | None = None) -> None:
        super().__init__(message, field=field)


class Conflict(DockyardError):
    status = 409


class TooLarge(DockyardError):
    status = 413


class Unsupported(DockyardError):
    status = 415


class Unprocessable(DockyardError):
    status = 422


class TooManyRequests(DockyardError):
    status = 429

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unavailable(DockyardError):
    status = 503
