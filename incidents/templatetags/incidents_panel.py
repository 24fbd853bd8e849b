from django import template

from accounts.models import Role
from cases.access import can_see_internal
from cases.models import CaseEvent
from cases.status import Status
from core.folding import prefetched
from incidents import services
from incidents.models import Incident, MaterialChange

register = template.Library()

AFTER_CLEARANCE = (Status.CLEARED, Status.REVOKED)

# The timeline's verbs that change the deployment: the panel's dated history.
DEPLOYMENT_VERBS = (
    "report_release",
    "restrict_deployment",
    "suspend_deployment",
    "retire_deployment",
)


# Each list is the rows the case page read with the case (`core.folding`), if it did.


def _incidents(case) -> list:
    read = prefetched(case, "incidents")
    if read is None:
        return list(Incident.objects.filter(case=case).order_by("-number"))
    return sorted(read, key=lambda i: i.number, reverse=True)


def _reports(case) -> list:
    read = prefetched(case, "monitoring_reports")
    return list(case.monitoring_reports.select_related("document")) if read is None else read


def _material_changes(case) -> list:
    read = prefetched(case, "material_changes")
    if read is None:
        return list(
            MaterialChange.objects.filter(case=case).select_related("declared_by", "decided_by")
        )
    return read


@register.inclusion_tag("incidents/_panel_body.html", takes_context=True)
def after_release_panel(context):
    """Render the case page's deployment, incidents, monitoring reports and material changes."""
    case, user = context["case"], context["user"]
    if case.status not in AFTER_CLEARANCE:
        # The panel shows only after clearance: before it, nothing to read.
        return {"case": case, "user": user}
    return {
        "case": case,
        "user": user,
        "staff": can_see_internal(user),
        "deployment_history": list(
            CaseEvent.objects.filter(case=case, verb__in=DEPLOYMENT_VERBS)
            .select_related("actor")
            .order_by("-seq")
        ),
        "incidents": _incidents(case),
        "reports": _reports(case),
        "material_changes": _material_changes(case),
        "can_report": services.can_report_incident(user, case),
        "can_file": user.role == Role.LIAISON,
        "can_review": user.role in services.TRIAGERS,
    }
