"""The REST API's shared parts and its URLconf (mounted at /api/v1/).

Every 4xx is an RFC 9457 problem-details document; lists page with a cursor;
each token has its own request budget. The endpoints themselves live in each
app's api.py.
"""

import datetime as dt
import logging
import math

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import (
    RequestDataTooBig,
    SuspiciousMultipartForm,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.http import Http404, JsonResponse
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView, exception_handler

from core.cache import redis_client
from core.clients import client_address
from core.errors import ActionRefused, CaseNotFound
from core.parsers import BoundedJSONParser, RequestTooLarge

logger = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE_BASE = "https://caisi-portal.example/problems/"


# --- errors: RFC 9457 problem details ----------------------------------------------


class ProblemFieldErrorSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="Dotted path of the field; empty for the whole body.")
    message = serializers.CharField()


class ProblemSerializer(serializers.Serializer):
    """An RFC 9457 problem-details document."""

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    instance = serializers.CharField()
    errors = ProblemFieldErrorSerializer(
        many=True, required=False, help_text="Each field that was not accepted, and why."
    )
    blockers = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="What stands in the way of the action, in words a person can act on.",
    )


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The action cannot be taken now."
    default_code = "action_refused"

    def __init__(self, blockers: list[str]):
        self.blockers = blockers
        super().__init__("; ".join(blockers))


TITLES = {
    400: "The request was not accepted",
    401: "Authentication required",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "The action was refused",
    413: "Too large",
    415: "Unsupported media type",
    429: "Too many requests",
    503: "Service unavailable",
}


def _field_errors(detail, path: str = "") -> list[dict[str, str]]:
    if isinstance(detail, dict):
        errors = []
        for key, value in detail.items():
            name = "" if key == api_settings.NON_FIELD_ERRORS_KEY else key
            errors += _field_errors(value, f"{path}.{name}".strip(".") if name else path)
        return errors
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return [{"field": path, "message": str(item)} for item in detail]
        errors = []
        for index, item in enumerate(detail):
            errors += _field_errors(item, f"{path}.{index}".strip("."))
        return errors
    return [{"field": path, "message": str(detail)}]


def _as_api_exception(exc):
    """Translate the services' refusals and Django's errors into API exceptions."""
    if isinstance(exc, CaseNotFound | Http404):
        return exceptions.NotFound("No case with that number is visible to you.")
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied(str(exc) or None)
    if isinstance(exc, ActionRefused):
        # A refusal says what it is: bad input (400), not this person's to do
        # (403), or not possible in the case's state (409, the default).
        if exc.http_status == 400:
            return exceptions.ValidationError({"non_field_errors": exc.blockers})
        if exc.http_status == 403:
            return exceptions.PermissionDenied("; ".join(exc.blockers))
        return Conflict(exc.blockers)
    if isinstance(exc, RequestDataTooBig):
        return RequestTooLarge()
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent | SuspiciousMultipartForm):
        return exceptions.ParseError(f"The form was not accepted: {exc}")
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    return exc


def problem_details_handler(exc, context):
    """Answer every 4xx with one JSON shape: problem details, validation errors field by field."""
    exc = _as_api_exception(exc)
    response = exception_handler(exc, context)
    if response is None:
        return None  # a server error: Django's 500 handling and logging take over
    code = response.status_code
    request = context.get("request")
    body = {
        "type": PROBLEM_TYPE_BASE + slugify(getattr(exc, "default_code", "") or str(code)),
        "title": TITLES.get(code, "The request failed"),
        "status": code,
        "detail": "",
        "instance": request.path if request is not None else "",
    }
    if isinstance(exc, exceptions.ValidationError):
        body["errors"] = _field_errors(exc.detail)
        body["detail"] = "; ".join(
            f"{e['field']}: {e['message']}" if e["field"] else e["message"] for e in body["errors"]
        )
    elif isinstance(exc, Conflict):
        body["blockers"] = exc.blockers
        body["detail"] = str(exc.detail)
    else:
        body["detail"] = str(getattr(exc, "detail", "") or body["title"])
    response.data = body
    response.content_type = PROBLEM_JSON
    return response


def problems(*codes: int) -> dict:
    """Return the documented error responses for `extend_schema(responses=...)`."""
    descriptions = {
        400: "The body or a parameter was not accepted; `errors` names each field.",
        401: "No token, or a bad, expired or revoked one (see `WWW-Authenticate`).",
        403: "A read-only token tried to write, a status-only token read beyond case "
        "status, or the user may not do this.",
        404: "No such case, or not one this token's user may see.",
        409: "The action was refused; `blockers` says what stands in its way.",
        413: "The body or a file is larger than the portal takes.",
        429: "Too many requests for this token; `Retry-After` says when to try again.",
        503: "A service the request needs is not available now; nothing was done.",
    }
    return {
        (code, PROBLEM_JSON): OpenApiResponse(ProblemSerializer, description=descriptions[code])
        for code in codes
    }


READ_PROBLEMS = (401, 403, 404, 429)
WRITE_PROBLEMS = (400, 401, 403, 404, 409, 429)


# --- the schema: what generated clients need beyond the views' own declarations ---------

PAGE_PARAMETERS = [
    OpenApiParameter(
        "cursor",
        OpenApiTypes.STR,
        OpenApiParameter.QUERY,
        description="Where the page starts: take it from the `next` or `previous` link.",
    ),
    OpenApiParameter(
        "page_size",
        {"type": "integer", "minimum": 1},
        OpenApiParameter.QUERY,
        description="How many items a page holds (the server caps it).",
    ),
]


def paged(serializer_class, name: str):
    """Return the schema of one cursor page of these items: `next`, `previous`, `results`."""
    return inline_serializer(
        name=name,
        fields={
            "next": serializers.URLField(
                allow_null=True, help_text="The next page, or null on the last."
            ),
            "previous": serializers.URLField(
                allow_null=True, help_text="The previous page, or null on the first."
            ),
            "results": serializer_class(many=True),
        },
    )


HEADER_DOCS = {
    "ETag": "A strong validator of this body: send it back in `If-None-Match`.",
    "Last-Modified": "When what you are shown last changed (an HTTP date).",
    "Cache-Control": "`private, no-cache`: keep the body, but ask again before using it.",
    "Retry-After": "Seconds to wait before the next request.",
    "WWW-Authenticate": "How to authenticate: `Bearer`.",
    "Location": "The URL of what was created, or of the work to poll.",
    "Content-Disposition": "`attachment` with the file's name.",
}


def _headers(*names: str) -> dict:
    return {
        name: {"schema": {"type": "string"}, "description": HEADER_DOCS[name]} for name in names
    }


def declare_headers(result, generator, request, public):
    """Declare the response headers the API sends (a drf-spectacular postprocessing hook).

    Also mark a request body required when every form of it has required fields:
    the server refuses it empty, and generators mishandle an optional body that
    comes in several content types.
    """
    components = result.get("components", {}).get("schemas", {})

    def has_required_fields(media: dict) -> bool:
        schema = media.get("schema", {})
        ref = schema.get("$ref", "")
        if ref:
            schema = components.get(ref.rsplit("/", 1)[-1], {})
        return bool(schema.get("required"))

    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            body = operation.get("requestBody")
            if (
                body
                and body.get("content")
                and all(has_required_fields(media) for media in body["content"].values())
            ):
                body["required"] = True
            responses = operation["responses"]
            conditional = any(
                p.get("name") == "If-None-Match" for p in operation.get("parameters", [])
            )
            for code, response in responses.items():
                names = []
                if conditional and code in ("200", "304"):
                    names += ["ETag", "Last-Modified", "Cache-Control"]
                if code in ("201", "202"):
                    names.append("Location")
                if code == "429":
                    names.append("Retry-After")
                if code == "401":
                    names.append("WWW-Authenticate")
                if code == "200" and any(
                    t not in ("application/json",) for t in response.get("content", {})
                ):
                    names.append("Content-Disposition")
                if names:
                    response.setdefault("headers", {}).update(_headers(*names))
    return result


# --- datetimes -----------------------------------------------------------------------


class InstantField(serializers.DateTimeField):
    """A datetime in the portal's time zone, or in UTC where that zone's offset is no RFC 3339 one.

    Before standard time (1883 in New York) a zone's local mean time is offset by
    seconds (-04:56:02), which RFC 3339 and the schema's `date-time` cannot write.
    """

    def enforce_timezone(self, value):
        value = super().enforce_timezone(value)
        offset = value.utcoffset() if timezone.is_aware(value) else None
        if offset is not None and offset.total_seconds() % 60:
            return value.astimezone(dt.UTC)
        return value


# Every model serializer's datetimes, as the schema promises them.
serializers.ModelSerializer.serializer_field_mapping[models.DateTimeField] = InstantField


# --- who may write ------------------------------------------------------------------


class TokenAllowsWrite(BasePermission):
    """A read-only token may read; any write with it is a 403."""

    message = "This token is read-only; create a read-write token to make changes."

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return True
        # request.auth is the API token a client sent (None for a signed-in session).
        return not getattr(request.auth, "read_only", False)


class TokenScopeAllows(BasePermission):
    """A token scoped to case status reads the case list and each case's status, nothing else.

    A service account's read-only token has this scope ("read status only"): a
    release pipeline finds its case's number in the list and polls its status.
    A view opens itself to such tokens with `open_to_status_tokens = True`.
    """

    message = (
        "This token may read case status only (/api/v1/cases/ and "
        "/api/v1/cases/{number}/status/); create a read-and-write token for more."
    )

    def has_permission(self, request, view) -> bool:
        if not getattr(request.auth, "status_only", False):
            return True
        return request.method in SAFE_METHODS and getattr(view, "open_to_status_tokens", False)


# --- paging and throttling -------------------------------------------------------------


class CheckedCursorPagination(CursorPagination):
    """A cursor whose position does not fit the ordering field is invalid, like any bad cursor.

    A `page_size` that is not a whole number of 1 or more is a 400, not quietly the default.
    """

    page_size_query_param = "page_size"

    def paginate_queryset(self, queryset, request, view=None):
        self.model = queryset.model
        return super().paginate_queryset(queryset, request, view)

    def get_page_size(self, request):
        self.page_size = settings.API_PAGE_SIZE
        asked = request.query_params.get(self.page_size_query_param)
        if asked is not None and not (asked.isascii() and asked.isdigit() and int(asked) >= 1):
            raise exceptions.ValidationError(
                {self.page_size_query_param: ["Give a whole number of 1 or more."]}
            )
        return super().get_page_size(request)

    def decode_cursor(self, request):
        cursor = super().decode_cursor(request)
        if cursor is not None and cursor.position is not None:
            field = self.model._meta.get_field(self.ordering[0].lstrip("-"))
            try:
                # A crafted position would otherwise reach the database and fail there.
                if "\x00" in cursor.position:
                    raise DjangoValidationError("NUL")
                field.to_python(cursor.position)
            except (DjangoValidationError, ValueError, TypeError):
                raise exceptions.NotFound(self.invalid_cursor_message) from None
        return cursor


class LastChangePagination(CheckedCursorPagination):
    """Cursor pages of cases, the most recently changed first."""

    ordering = ("-updated_at", "-pk")
    max_page_size = 200


class TimelinePagination(CheckedCursorPagination):
    """Cursor pages of a case's timeline, oldest first, so a client can read it as it grows."""

    ordering = ("seq",)
    max_page_size = 500


class TokenRateThrottle(SimpleRateThrottle):
    """Give each token (or signed-in person) its own budget of requests.

    A sliding window estimated from two counters (this window's and the last
    one's, weighted by how much of it still overlaps) rather than DRF's list of
    every request's time: one small increment instead of reading and writing a
    list as long as the budget (0.4 ms of each API request with a shared cache),
    and no count lost between concurrent requests.
    """

    scope = "token"

    def get_rate(self) -> str:
        return settings.API_THROTTLE_RATE

    def get_cache_key(self, request, view) -> str:
        if request.auth is not None:  # an API token
            return self.token_key(request.auth.pk)
        if request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"anon-{client_address(request)}"
        return f"throttle_{self.scope}_{ident}"

    def token_key(self, token_pk: int) -> str:
        return f"throttle_{self.scope}_token-{token_pk}"

    def counters(self, key: str) -> tuple[dict[str, int], str] | None:
        """Return this window's counter of the key (with its lifetime) and the last window's.

        For a view that counts the request in the round trip of its first cache
        read (see `core.cache.prefetch`); None when no budget applies.
        """
        if self.rate is None:
            return None
        window = int(self.timer() // self.duration)
        return {f"{key}:{window}": 2 * self.duration + 1}, f"{key}:{window - 1}"

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        now = self.timer()
        window = int(now // self.duration)
        counted = self.counted_already(request, key, window)
        if counted is not None:
            window, current, previous = counted
        else:
            try:
                current, previous = self.count(f"{key}:{window}", f"{key}:{window - 1}")
            except Exception:  # the cache is down: serve, uncounted, rather than fail every call
                logger.warning("the API budget cannot be counted", exc_info=True)
                return True
        elapsed = min(now - window * self.duration, self.duration)
        self.retry_after = max(1, math.ceil(self.duration - elapsed))
        overlap = (self.duration - elapsed) / self.duration
        return current + previous * overlap <= self.num_requests

    def counted_already(self, request, key: str, window: int) -> tuple[int, int, int] | None:
        """Return (window, count, last window's count) if the view counted this request already.

        The view's read may have come a moment before, in the window just ended:
        the request is counted there, once.
        """
        prefetched = getattr(getattr(request, "_request", request), "cache_prefetch", None)
        if prefetched is None or self.cache is not cache:
            return None
        for at in (window, window - 1):
            current = prefetched.counted.get(f"{key}:{at}")
            if current is not None and f"{key}:{at - 1}" in prefetched.asked:
                return at, current, int(prefetched.found.get(f"{key}:{at - 1}") or 0)
        return None

    def count(self, key: str, previous_key: str) -> tuple[int, int]:
        """Count this request in its window; return (this window's count, the last one's)."""
        ttl = 2 * self.duration + 1
        client = redis_client() if self.cache is cache else None
        if client is not None:  # Redis: both counters and the expiry in one round trip
            key = self.cache.make_and_validate_key(key)
            pipe = client.pipeline(transaction=False)
            pipe.incr(key)
            pipe.expire(key, ttl)
            pipe.get(self.cache.make_and_validate_key(previous_key))
            current, _, previous = pipe.execute()
            return current, int(previous or 0)
        self.cache.add(key, 0, ttl)
        return self.cache.incr(key), self.cache.get(previous_key, 0)

    def wait(self) -> int:
        return self.retry_after


# --- the base of every API view -------------------------------------------------------------


class PortalAPIView(APIView):
    """A view of /api/v1/: token or session auth, per-token throttle, problem-details errors."""

    # A write with a read-only token is refused as such before its scope is read.
    permission_classes = [IsAuthenticated, TokenAllowsWrite, TokenScopeAllows]
    throttle_classes = [TokenRateThrottle]
    renderer_classes = [JSONRenderer]
    # JSON bodies are JSON only: one content type per body in the schema, so
    # generated clients get it right. A view that takes a file names multipart.
    parser_classes = [BoundedJSONParser]

    def get_exception_handler(self):
        return problem_details_handler


class FileNegotiation(DefaultContentNegotiation):
    """A download's `Accept` names the file's type: its errors are still problem details."""

    def select_renderer(self, request, renderers, format_suffix=None):
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except exceptions.NotAcceptable:
            return renderers[0], renderers[0].media_type


class PortalGenericAPIView(PortalAPIView, GenericAPIView):
    """A paged list of /api/v1/."""


# --- answers made outside DRF ------------------------------------------------------------


def problem_response(request, status: int, detail: str, slug: str) -> JsonResponse:
    """A problem-details answer made outside DRF (middleware, plain views), as the API's own."""
    body = {
        "type": PROBLEM_TYPE_BASE + slug,
        "title": TITLES.get(status, "The request failed"),
        "status": status,
        "detail": detail,
        "instance": request.path,
    }
    return JsonResponse(body, status=status, content_type=PROBLEM_JSON)


@csrf_exempt  # a token client has no CSRF cookie; this view changes nothing
def nowhere(request, *args, **kwargs) -> JsonResponse:
    """Answer a path under /api/v1/ that names no endpoint."""
    return problem_response(request, 404, "There is no such endpoint or object.", "not-found")
