"""Errors in the shape Google answers them, so clients' error handling is exercised as it is in production."""

from __future__ import annotations

from typing import Any

# Google's canonical status names by HTTP code (google.rpc.Code as the JSON error body spells it).
STATUS_BY_CODE = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    501: "NOT_IMPLEMENTED",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}

# What Google says for each status when nothing more specific applies (seen in real replies).
DEFAULT_MESSAGES = {
    400: "Request contains an invalid argument.",
    401: (
        "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other "
        "valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project."
    ),
    403: "The caller does not have permission",
    404: "Requested entity was not found.",
    409: "The operation was aborted.",
    429: (
        "Quota exceeded for quota metric 'Write requests' and limit 'Write requests per minute per user' "
        "of service 'sheets.googleapis.com' for consumer 'project_number:000000000000'."
    ),
    500: "Internal error encountered.",
    502: "Bad Gateway",
    503: "The service is currently unavailable.",
    504: "The request timed out. Please try again.",
}


class ApiError(Exception):
    """An API failure that the HTTP layer turns into Google's {"error": {...}} body."""

    def __init__(self, code: int, message: str | None = None, status: str | None = None) -> None:
        self.code = code
        self.message = message if message is not None else DEFAULT_MESSAGES.get(code, "Error")
        self.status = status or STATUS_BY_CODE.get(code, "UNKNOWN")
        super().__init__(f"{self.code} {self.status}: {self.message}")

    def body(self) -> dict[str, Any]:
        """The JSON body exactly as Google sends it."""
        return {"error": {"code": self.code, "message": self.message, "status": self.status}}


def invalid(message: str) -> ApiError:
    """A 400 INVALID_ARGUMENT, the answer to almost every malformed request."""
    return ApiError(400, message)


def not_found() -> ApiError:
    return ApiError(404)


class RequestError(Exception):
    """A batchUpdate request that cannot be applied; the caller prefixes "Invalid requests[i].<kind>: "."""
