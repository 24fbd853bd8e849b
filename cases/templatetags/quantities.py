"""How quantities are shown on pages: `{{ case.parameter_count|parameters }}`."""

from django import template

from cases.quantities import format_parameter_count

register = template.Library()


@register.filter
def parameters(value) -> str:
    """Show a parameter count as people write it (400B, 1.2T)."""
    return format_parameter_count(value)
