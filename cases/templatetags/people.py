"""How people are named on pages: `{{ event.actor|shown_to:user }}`."""

from django import template

from cases.access import name_shown

register = template.Library()


@register.filter
def shown_to(person, viewer) -> str:
    """Name a person as this viewer may see them (a company sees "CAISI evaluator")."""
    return name_shown(person, viewer)
