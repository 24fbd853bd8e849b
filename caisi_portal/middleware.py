"""Request checks that hold for every URL of the portal."""

import logging

from django.db import InterfaceError, OperationalError, connections
from django.http import Http404, HttpResponse
from django.template.loader import render_to_string

from core.api import nowhere, problem_response
from core.uploads import prepare_upload, upload_limit

logger = logging.getLogger(__name__)

DATABASE_UNAVAILABLE = (
    "The database could not be reached while handling your request. Nothing was saved; "
    "please try again in a moment."
)


class RejectNulInPathMiddleware:
    """Answer 404 to any path holding a NUL character.

    No case number, statement number, code or id holds one, and PostgreSQL
    refuses it in a query; refusing it here keeps every view from checking.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path_info:
            if request.path_info.startswith("/api/"):
                return nowhere(request)
            raise Http404("No such page.")
        return self.get_response(request)


class UploadPipelineMiddleware:
    """Put every request's files through the one upload pipeline (core/uploads.py).

    It must come before anything that can read the body: Django's CSRF
    middleware and DRF's session authentication both read request.POST, and
    handlers installed after that are too late. Each file then streams to
    disk under the cap its view declares (none for a view that declares
    none), whatever the route and however the request is authenticated.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        prepare_upload(request, max_bytes=upload_limit(view_func))


class DatabaseUnavailableMiddleware:
    """Answer 503 when the database connection fails mid-request, instead of a 500.

    Every write runs in a transaction (a service's atomic block), and a
    transaction whose connection drops is never committed: PostgreSQL rolls
    it back and Django discards the connection on leaving the block. So the
    person is told plainly that nothing was saved. The next query, here or in
    the next request, opens a new connection.
    """

    retry_after_seconds = 5

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logger.warning(
            "Database unavailable during %s %s: %s", request.method, request.path, exception
        )
        for connection in connections.all(initialized_only=True):
            # Outside a transaction a broken connection is dropped now, so the
            # session save on the way out gets a fresh one.
            if not connection.in_atomic_block:
                connection.close_if_unusable_or_obsolete()
        if request.path_info.startswith("/api/"):
            response = problem_response(request, 503, DATABASE_UNAVAILABLE, "database-unavailable")
        else:
            # No request context: its processors would read the database again.
            response = HttpResponse(
                render_to_string("503.html", {"detail": DATABASE_UNAVAILABLE}), status=503
            )
        response["Retry-After"] = str(self.retry_after_seconds)
        return response
