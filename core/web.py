"""The one way a page runs a form through a service, and sends the person back to a page."""

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme

from core.errors import ActionRefused


def safe_next(request, candidate: str | None, default: str) -> str:
    """Return `candidate` if it leads to a page of this site, otherwise `default`."""
    # Django's check, not a prefix test: browsers read "/\\evil.example" as //evil.example.
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


# A form sent while a check stood in the way (the identity step-up): what was
# typed, and the page to show it on again once the check is passed.
KEPT_FORM_SESSION_KEY = "web:kept_form"
# Never kept: the token belongs to the request that carried it.
NOT_KEPT_FIELDS = ("csrfmiddlewaretoken",)


def keep_posted_form(request, *, page: str) -> None:
    """Keep this request's posted fields in the session, to fill the form on `page` again."""
    data = {
        name: request.POST.getlist(name) for name in request.POST if name not in NOT_KEPT_FIELDS
    }
    request.session[KEPT_FORM_SESSION_KEY] = {"page": page, "data": data}


def kept_form(request) -> QueryDict | None:
    """Return (once) the fields kept for the page this GET opens, or None."""
    session = getattr(request, "session", None)
    kept = (
        session.get(KEPT_FORM_SESSION_KEY)
        if session is not None and request.method == "GET"
        else None
    )
    if not kept or kept.get("page") != request.path:
        return None
    del session[KEPT_FORM_SESSION_KEY]
    data = QueryDict(mutable=True)
    for name, values in kept["data"].items():
        data.setlist(name, values)
    return data


def submitted(request):
    """Return the posted data, or None for a GET (an empty POST is still a submission).

    A GET that opens a page whose form was kept (`keep_posted_form`) gets what was
    typed then, shown filled again and saved only when it is sent.
    """
    return request.POST if request.method == "POST" else kept_form(request)


def run_form(
    request,
    form,
    perform: Callable[[dict], Any],
    *,
    success: str | Callable[[Any], str],
    then: Any,
    error_field: str | None = None,
) -> HttpResponse | int:
    """On POST, give the cleaned data to `perform` (a service call).

    Return the redirect to `then` when it is done; otherwise the status to render
    the form with: 200 for a GET, 400 for invalid input, the refusal's own status
    (409 unless it says otherwise) with its reasons on the form. The form keeps
    what was typed either way. `success` and `then` may be functions of the result;
    `error_field` puts the refusal's reasons on one field instead of the whole form.
    """
    if request.method != "POST":
        return 200
    if not form.is_valid():
        return 400
    try:
        result = perform(form.cleaned_data)
    except ActionRefused as refusal:
        form.add_error(error_field, refusal.blockers)
        return refusal.http_status
    messages.success(request, success(result) if callable(success) else success)
    target = then(result) if callable(then) else then
    return target if isinstance(target, HttpResponse) else redirect(target)
