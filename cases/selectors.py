"""Reads of cases shared by every app's pages and API: the visible case, or a 404."""

from django.shortcuts import get_object_or_404
from rest_framework import exceptions

from cases.access import mark_read_through_visible_to
from cases.models import Case


def get_visible_case(user, number: str) -> Case:
    """Return the case if this user may see it; any other case is a 404."""
    case = get_object_or_404(
        Case.objects.visible_to(user).select_related("organization", "case_manager"),
        number=number,
    )
    mark_read_through_visible_to(case, user)
    return case


def visible_cases(user):
    return Case.objects.visible_to(user)


def get_case(request, number: str, queryset=None) -> Case:
    """Return the case if the request's user may see it; any other case is a 404 (API)."""
    queryset = visible_cases(request.user) if queryset is None else queryset
    case = queryset.filter(number=number).first()
    if case is None:
        raise exceptions.NotFound("No case with that number is visible to you.")
    return case
