from django import template

from cases.access import can_contribute
from submissions.policy import can_add_version, can_take_model_access
from submissions.selectors import case_panel

register = template.Library()


@register.inclusion_tag("submissions/_panel_body.html", takes_context=True)
def submissions_panel(context):
    """Render the case page's versions, access, documents and checklist panel."""
    case, user = context["case"], context["user"]
    return {
        "case": case,
        "user": user,
        "can_contribute": can_contribute(user, case),
        "can_reveal": can_take_model_access(user, case),
        "can_add_version": can_add_version(user, case),
        **case_panel(case),
    }
