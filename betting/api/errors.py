"""Every API error is JSON ``{"error": <code>, "reason": <words>}`` with its HTTP status: 400, 401,
403, 404, 405, 413, 429 and 500. A 500 never carries a traceback: it is logged with the request id."""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, ValidationError

from core.errors import SharplineError

logger = logging.getLogger(__name__)

REASONS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    429: "rate_limited",
    500: "server_error",
}


class ApiError(SharplineError):
    """An error the API answers with ``status`` and ``reason`` (and extra JSON fields)."""

    def __init__(self, status: int, reason: str, **extra: object) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.extra = extra
        self.headers: dict[str, str] = {}


class RateLimited(ApiError):
    def __init__(self, rate: str, retry_after: int) -> None:
        super().__init__(429, f"too many requests for this token: at most {rate}", rate=rate)
        self.headers["Retry-After"] = str(retry_after)


def error_body(status: int, reason: str, **extra: object) -> dict[str, object]:
    return {"error": REASONS.get(status, "error"), "reason": reason, **extra}


def error_response(status: int, reason: str, **extra: object) -> JsonResponse:
    return JsonResponse(error_body(status, reason, **extra), status=status)


def _validation_reason(errors: list[dict[str, object]]) -> tuple[str, list[dict[str, str]]]:
    fields = []
    for error in errors:
        loc = error.get("loc", ())
        parts = loc if isinstance(loc, list | tuple) else ()  # pydantic's path: always a list or tuple
        location = ".".join(str(part) for part in parts if part not in ("query", "body", "path", "form"))
        fields.append({"field": location, "message": str(error.get("msg", "invalid"))})
    reason = "; ".join(f"{f['field'] or 'request'}: {f['message']}" for f in fields) or "the request is not valid"
    return reason, fields


def install(api: NinjaAPI) -> None:
    """Replace Ninja's default handlers (``{"detail": ...}``, 422, a re-raised 500) with ours."""

    @api.exception_handler(ApiError)
    def api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
        response = error_response(exc.status, exc.reason, **exc.extra)
        for name, value in exc.headers.items():
            response[name] = value
        return response

    @api.exception_handler(ValidationError)
    def invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        reason, fields = _validation_reason(list(exc.errors))
        return error_response(400, reason, fields=fields)

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        response = error_response(
            401, "send Authorization: Bearer <token> with a personal API token that is not revoked"
        )
        response["WWW-Authenticate"] = 'Bearer realm="api"'
        return response

    @api.exception_handler(AuthorizationError)
    def unauthorized(request: HttpRequest, exc: AuthorizationError) -> HttpResponse:
        return error_response(403, str(exc))

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        return error_response(exc.status_code, str(exc))

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return error_response(404, str(exc) or "no such object")

    @api.exception_handler(PermissionDenied)
    def denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        return error_response(403, str(exc) or "not allowed")

    @api.exception_handler(RequestDataTooBig)
    def too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        return error_response(413, "the request body is too large")

    @api.exception_handler(SuspiciousOperation)
    def suspicious(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
        return error_response(400, "the request is malformed")

    @api.exception_handler(Exception)
    def server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
        # Logged whole (with the request id, core/observe/log.py); the client gets words, never the traceback.
        logger.exception("API error on %s %s", request.method, request.path)
        return error_response(500, "an unexpected error on the server; it has been logged")
