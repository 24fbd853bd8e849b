"""The counts the database keeps stay equal to counting the rows, whatever writes them."""

from collections import Counter

import pytest
from django.db.models import BooleanField, Count, ExpressionWrapper, F, Q

from cases import services
from cases.models import Case, CaseCount
from findings.models import Finding, FindingCount, FindingState
from review import demo
from review import services as review_services
from review.desk import dashboard_data

pytestmark = pytest.mark.django_db


def kept_case_counts() -> Counter:
    return Counter(
        {
            (c.organization_id, c.status, c.submitted): c.count
            for c in CaseCount.objects.filter(count__gt=0)
        }
    )


def counted_cases() -> Counter:
    rows = (
        Case.objects.order_by()
        .annotate(submitted=ExpressionWrapper(Q(submitted_at__isnull=False), BooleanField()))
        .values_list("organization_id", "status", "submitted")
        .annotate(n=Count("pk"))
    )
    return Counter({(org, status, submitted): n for org, status, submitted, n in rows})


def kept_finding_counts() -> Counter:
    return Counter(
        {
            (c.organization_id, c.severity, c.state): c.count
            for c in FindingCount.objects.filter(count__gt=0)
        }
    )


def counted_findings() -> Counter:
    rows = (
        Finding.objects.order_by()
        .values_list(F("case__organization_id"), "severity", "state")
        .annotate(n=Count("pk"))
    )
    return Counter({(org, severity, state): n for org, severity, state, n in rows})


def people(cast) -> dict:
    return {
        "liaison": cast.liaison,
        "manager": cast.manager,
        "evaluator": cast.evaluator,
        "official": cast.official,
    }


def test_case_counts_follow_cases_created_moved_withdrawn_and_closed(cast, acme):
    draft = services.open_case(actor=cast.liaison, title="Draft", model_name="Atlas")
    assert kept_case_counts() == counted_cases() == Counter({(acme.pk, "intake", False): 1})
    moving = demo.advance(
        services.open_case(actor=cast.liaison, title="Moving", model_name="Orion"),
        "access",
        people(cast),
    )
    assert kept_case_counts() == counted_cases()
    assert kept_case_counts()[(acme.pk, "access", True)] == 1
    # A draft withdrawn stays a draft; a submitted case withdrawn is counted as submitted.
    review_services.withdraw(case=draft, actor=cast.liaison, reason="Not this one.")
    review_services.close_case(case=moving, actor=cast.manager, reason="Superseded.")
    assert (
        kept_case_counts()
        == counted_cases()
        == Counter({(acme.pk, "withdrawn", False): 1, (acme.pk, "closed", True): 1})
    )
    # A compare-and-swap `update()` counts too: no code path can skip the count.
    Case.objects.filter(pk=moving.pk).update(status="triage")
    assert kept_case_counts() == counted_cases()
    assert kept_case_counts()[(acme.pk, "triage", True)] == 1


def test_case_counts_follow_a_case_moved_to_another_company(cast, acme, globex):
    ours = services.open_case(actor=cast.liaison, title="Ours", model_name="Atlas")
    services.open_case(actor=cast.other_liaison, title="Theirs", model_name="Zeta")
    assert kept_case_counts() == counted_cases()
    assert kept_case_counts()[(globex.pk, "intake", False)] == 1
    Case.objects.filter(pk=ours.pk).update(organization=globex)
    assert kept_case_counts() == counted_cases() == Counter({(globex.pk, "intake", False): 2})


def test_finding_counts_follow_findings_drafted_shared_resolved_and_deleted(cast, case_at):
    case = case_at("findings")
    assert counted_findings() and kept_finding_counts() == counted_findings()
    finding = Finding.objects.filter(case=case).order_by("pk").first()
    Finding.objects.filter(pk=finding.pk).update(state=FindingState.RESOLVED)
    assert kept_finding_counts() == counted_findings()
    extra = Finding.objects.create(
        case=case,
        model_version=finding.model_version,
        severity="critical",
        category="other",
        title="Late find",
        description="Found after sharing.",
        created_by=cast.evaluator,
    )
    assert kept_finding_counts() == counted_findings()
    assert kept_finding_counts()[(case.organization_id, "critical", "draft")] >= 1
    extra.delete()
    assert kept_finding_counts() == counted_findings()


def test_the_dashboard_figures_are_the_counts_of_the_cases_each_person_may_see(
    cast, case_at, acme, globex
):
    ours = case_at("findings")  # the evaluator is assigned on the way
    theirs = demo.advance(
        services.open_case(actor=cast.other_liaison, title="Theirs", model_name="Zeta"),
        "triage",
        {**people(cast), "liaison": cast.other_liaison},
    )
    services.open_case(actor=cast.liaison, title="A draft", model_name="Atlas")
    data = dashboard_data(cast.manager)
    counts = dict(data["status_counts"])
    # Staff never count a company's drafts.
    assert (counts["Intake"], counts["Triage"], counts["Findings"]) == (0, 1, 1)
    findings_before = data["findings_table"]
    # A conflict with Globex takes its cases out of the manager's figures, and only them.
    review_services.declare_conflict(
        actor=cast.manager, organization=globex, reason="Former Globex employee."
    )
    manager = type(cast.manager).objects.get(pk=cast.manager.pk)
    counts = dict(dashboard_data(manager)["status_counts"])
    assert (counts["Triage"], counts["Findings"]) == (0, 1)
    # An evaluator's figures are those of the cases assigned to them.
    evaluator = dashboard_data(cast.evaluator)
    assert dict(evaluator["status_counts"])["Findings"] == 1
    assert dict(evaluator["status_counts"])["Triage"] == 0
    assert evaluator["findings_table"] == findings_before
    assert sum(sum(row) for _, row in findings_before) == Finding.objects.filter(case=ours).count()
    assert theirs.status == "triage"
