"""Request checks that hold for every URL of the portal."""

from django.http import Http404


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
                from caisi_portal.api import nowhere

                return nowhere(request)
            raise Http404("No such page.")
        return self.get_response(request)
