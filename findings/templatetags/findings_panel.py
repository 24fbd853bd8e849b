from django import template

from cases.access import can_post_message, can_see_internal
from cases.models import Message
from cases.status import Status
from findings import policy, selectors
from findings.models import ClarificationRequest, EvaluationRun, Finding

register = template.Library()

RECENT_MESSAGES = 5


@register.inclusion_tag("findings/_panel_body.html", takes_context=True)
def findings_panel(context):
    """Render the case page's thread, clarifications, evaluations, findings and gate."""
    case, user = context["case"], context["user"]
    staff = can_see_internal(user)
    thread = Message.objects.visible_to(user).filter(case=case)
    findings = list(
        Finding.objects.visible_to(user)
        .filter(case=case)
        .select_related("case", "model_version", "evaluation")
        .order_by("created_at")
    )
    gate, gate_label = [], ""
    if case.status == Status.TESTING and staff:
        gate, gate_label = selectors.testing_blockers(case), "Before the findings can be shared"
    elif case.status == Status.FINDINGS:
        gate, gate_label = selectors.clearance_blockers(case), "Clearance gate"
    return {
        "case": case,
        "user": user,
        "staff": staff,
        "recent_messages": list(
            thread.select_related("author").order_by("-created_at", "-pk")[:RECENT_MESSAGES]
        )[::-1],
        "message_count": thread.count(),
        "clarifications": list(
            ClarificationRequest.objects.filter(case=case).select_related("asked_by")
        ),
        "evaluations": (
            list(EvaluationRun.objects.filter(case=case).select_related("model_version"))
            if staff
            else []
        ),
        "findings": findings,
        "gate": gate,
        "gate_label": gate_label,
        "days_in_status": case.days_in_status(),
        "clock_paused": case.clock_paused,
        "can_post": can_post_message(user, case),
        "can_ask": policy.can_ask_clarification(user, case),
        "can_answer": policy.can_answer_clarification(user, case),
        "can_close": policy.can_close_clarification(user, case),
        "can_record": policy.can_record_evaluation(user, case),
        # Lifecycle actions are the case page's to decide (review.policy); it says.
        "can_share": context.get("can_share_findings", False),
    }
