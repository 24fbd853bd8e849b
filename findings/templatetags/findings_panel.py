from django import template
from django.db.models import Count, Window

from cases.access import can_post_message, can_see_internal
from cases.models import Message
from cases.status import Status
from core.folding import prefetched
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
    # The newest few, each with the count of the whole thread: one query.
    recent = list(
        thread.select_related("author")
        .annotate(thread_count=Window(Count("pk")))
        .order_by("-created_at", "-pk")[:RECENT_MESSAGES]
    )[::-1]
    findings = prefetched(case, "findings")
    if findings is None:
        findings = list(
            Finding.objects.visible_to(user)
            .filter(case=case)
            .select_related("case", "model_version", "evaluation")
            .order_by("created_at")
        )
    else:
        findings = sorted(Finding.objects.shown_to(user, findings), key=lambda f: f.created_at)
    clarifications = prefetched(case, "clarification_requests")
    if clarifications is None:
        clarifications = list(
            ClarificationRequest.objects.filter(case=case).select_related("asked_by")
        )
    evaluations = []
    if staff:
        evaluations = prefetched(case, "evaluations")
        if evaluations is None:
            evaluations = list(
                EvaluationRun.objects.filter(case=case).select_related("model_version")
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
        "recent_messages": recent,
        "message_count": recent[0].thread_count if recent else 0,
        "clarifications": clarifications,
        "evaluations": evaluations,
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
