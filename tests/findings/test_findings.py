import pytest
from django.urls import reverse

from core.errors import ActionRefused, CaseNotFound
from findings import services
from findings.models import Category, Finding, FindingResponse, FindingState, Resolution, Severity
from review import demo
from review.services import assign_evaluator, resubmit, share_findings

from .conftest import upload

Kind, Verdict = FindingResponse.Kind, FindingResponse.Verdict


def draft(
    case, actor, *, severity=Severity.HIGH, title="Prompt injection via tool output", **evidence
):
    return services.draft_finding(
        case=case,
        actor=actor,
        severity=severity,
        category=Category.SECURITY_VULNERABILITY,
        title=title,
        description="Tool output can override the system prompt.",
        **evidence,
    )


@pytest.fixture
def shared_finding(testing_case, cast):
    run = demo.record_evaluation(testing_case, cast.evaluator)
    share_findings(case=testing_case, actor=cast.manager)
    run.refresh_from_db()
    return run


def test_a_drafted_finding_is_internal_and_carries_its_evidence(testing_case, cast, inspect_logs):
    # Sample ids must be samples of the cited log, so the evidence is a real Inspect log.
    run = services.import_inspect_log(
        case=testing_case,
        actor=cast.evaluator,
        upload=upload(inspect_logs["success.eval"]),
        category=Category.SECURITY_VULNERABILITY,
    )
    finding = draft(testing_case, cast.evaluator, evaluation=run, sample_ids="s1, s3")
    assert finding.state == FindingState.DRAFT
    assert finding.sample_ids == ["s1", "s3"]
    event = testing_case.events.order_by("-seq").first()
    assert (event.verb, event.internal) == ("finding_drafted", True)
    assert not Finding.objects.visible_to(cast.liaison).exists()
    assert Finding.objects.visible_to(cast.evaluator).get() == finding


def test_drafting_is_refused_to_the_company_and_to_unassigned_evaluators(testing_case, cast):
    with pytest.raises(ActionRefused):
        draft(testing_case, cast.liaison)
    with pytest.raises(CaseNotFound):
        draft(testing_case, cast.other_evaluator)


def test_evidence_from_another_case_is_refused(testing_case, case_at, cast):
    other = case_at("testing", title="Other review")
    assign_evaluator(case=other, actor=cast.manager, evaluator=cast.evaluator)
    foreign = demo.record_evaluation(other, cast.evaluator).evaluation
    with pytest.raises(ActionRefused, match="evaluation run of this case"):
        services.draft_finding(
            case=testing_case,
            actor=cast.evaluator,
            severity=Severity.LOW,
            category=Category.OTHER,
            title="t",
            description="d",
            evaluation=foreign,
        )


def test_share_findings_shares_every_draft_at_once_and_moves_to_findings(testing_case, cast):
    demo.record_evaluation(testing_case, cast.evaluator)
    draft(testing_case, cast.evaluator, severity=Severity.LOW, title="Second")
    case = share_findings(case=testing_case, actor=cast.manager)
    assert case.status == "findings"
    assert set(case.findings.values_list("state", flat=True)) == {FindingState.SHARED}
    assert Finding.objects.visible_to(cast.liaison).count() == 2
    event = case.events.order_by("-seq").first()
    assert event.verb == "share_findings" and len(event.details["findings"]) == 2


def test_fixed_answer_names_a_revised_version_and_is_verified_after_resubmission(
    testing_case, cast
):
    finding = demo.record_evaluation(testing_case, cast.evaluator)
    share_findings(case=testing_case, actor=cast.manager)
    revised = demo.revise(testing_case, cast.liaison, label="v1.0-rc2")
    response = services.respond_to_finding(
        finding=finding, actor=cast.liaison, kind=Kind.FIXED, fixed_in_version=revised
    )
    assert (response.round, response.verdict) == (1, Verdict.PENDING)
    with pytest.raises(ActionRefused, match="has not been resubmitted"):
        services.review_finding_response(finding=finding, actor=cast.manager, verdict="verified")
    resubmit(case=testing_case, actor=cast.liaison)
    finding = services.review_finding_response(
        finding=finding, actor=cast.manager, verdict=Verdict.VERIFIED
    )
    assert (finding.state, finding.resolution) == (FindingState.RESOLVED, Resolution.VERIFIED_FIXED)
    verbs = list(testing_case.events.values_list("verb", flat=True))
    assert verbs.count("finding_answered") == 1 and verbs.count("finding_answer_reviewed") == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": Kind.FIXED}, "Name the revised model version"),
        ({"kind": Kind.MITIGATED}, "Describe the mitigation"),
        ({"kind": Kind.DISPUTED, "mitigation": "rate limits"}, "Give the rationale"),
        ({"kind": Kind.DISPUTED, "rationale": "out of scope"}, "Propose a mitigation"),
        ({"kind": "ignored"}, "not a kind of answer"),
    ],
)
def test_incomplete_answers_are_refused_with_what_is_missing(testing_case, cast, kwargs, message):
    finding = demo.record_evaluation(testing_case, cast.evaluator)
    share_findings(case=testing_case, actor=cast.manager)
    with pytest.raises(ActionRefused, match=message):
        services.respond_to_finding(finding=finding, actor=cast.liaison, **kwargs)
    finding.refresh_from_db()
    assert finding.state == FindingState.SHARED


def test_the_tested_version_cannot_be_named_as_the_fix(testing_case, cast):
    finding = demo.record_evaluation(testing_case, cast.evaluator)
    share_findings(case=testing_case, actor=cast.manager)
    with pytest.raises(ActionRefused, match="revised version"):
        services.respond_to_finding(
            finding=finding,
            actor=cast.liaison,
            kind=Kind.FIXED,
            fixed_in_version=finding.model_version,
        )


def test_a_rejected_rationale_can_be_answered_again_then_accepted(testing_case, cast):
    finding = demo.record_evaluation(testing_case, cast.evaluator)
    share_findings(case=testing_case, actor=cast.manager)
    services.respond_to_finding(
        finding=finding,
        actor=cast.liaison,
        kind=Kind.DISPUTED,
        rationale="The prompts need operator access.",
        mitigation="Operator accounts are vetted.",
    )
    with pytest.raises(ActionRefused, match="Say why"):
        services.review_finding_response(finding=finding, actor=cast.manager, verdict="rejected")
    with pytest.raises(ActionRefused, match="accepted or rejected"):
        services.review_finding_response(finding=finding, actor=cast.manager, verdict="verified")
    finding = services.review_finding_response(
        finding=finding, actor=cast.manager, verdict="rejected", note="Reproduced as a user."
    )
    assert finding.state == FindingState.SHARED
    second = services.respond_to_finding(
        finding=finding,
        actor=cast.liaison,
        kind=Kind.MITIGATED,
        mitigation="Role-play classifier deployed.",
    )
    assert second.round == 2
    finding = services.review_finding_response(
        finding=finding, actor=cast.manager, verdict="accepted"
    )
    assert finding.resolution == Resolution.MITIGATION_ACCEPTED
    assert [r.verdict for r in finding.responses.all()] == ["rejected", "accepted"]


def test_only_the_company_answers_and_only_a_case_manager_reviews(testing_case, cast):
    finding = demo.record_evaluation(testing_case, cast.evaluator)
    share_findings(case=testing_case, actor=cast.manager)
    with pytest.raises(ActionRefused):
        services.respond_to_finding(
            finding=finding, actor=cast.manager, kind=Kind.MITIGATED, mitigation="x"
        )
    with pytest.raises(CaseNotFound):
        services.respond_to_finding(
            finding=finding, actor=cast.other_liaison, kind=Kind.MITIGATED, mitigation="x"
        )
    services.respond_to_finding(
        finding=finding, actor=cast.liaison, kind=Kind.MITIGATED, mitigation="x"
    )
    with pytest.raises(ActionRefused, match="takes no answer"):
        services.respond_to_finding(
            finding=finding, actor=cast.liaison, kind=Kind.MITIGATED, mitigation="y"
        )
    for outsider in (cast.evaluator, cast.official, cast.auditor, cast.liaison):
        with pytest.raises(ActionRefused):
            services.review_finding_response(finding=finding, actor=outsider, verdict="accepted")


def test_a_draft_does_not_exist_for_the_company(testing_case, cast, client):
    finding = draft(testing_case, cast.evaluator)
    with pytest.raises(CaseNotFound):
        services.respond_to_finding(
            finding=finding, actor=cast.liaison, kind=Kind.MITIGATED, mitigation="x"
        )
    client.force_login(cast.liaison)
    url = reverse("findings:finding", kwargs={"number": testing_case.number, "pk": finding.pk})
    assert client.get(url).status_code == 404


def test_liaison_answers_in_the_browser_and_a_bad_answer_keeps_the_text(testing_case, cast, client):
    finding = demo.record_evaluation(testing_case, cast.evaluator)
    share_findings(case=testing_case, actor=cast.manager)
    client.force_login(cast.liaison)
    kwargs = {"number": testing_case.number, "pk": finding.pk}
    page = client.get(reverse("findings:finding", kwargs=kwargs))
    assert page.status_code == 200 and b"Answer this finding" in page.content
    bad = client.post(
        reverse("findings:finding_respond", kwargs=kwargs),
        {"kind": "disputed", "rationale": "Needs operator access to reproduce."},
    )
    assert bad.status_code == 409
    assert "Propose a mitigation" in bad.content.decode()
    assert "Needs operator access to reproduce." in bad.content.decode()
    good = client.post(
        reverse("findings:finding_respond", kwargs=kwargs),
        {"kind": "mitigated", "mitigation": "Output filter."},
    )
    assert good.status_code == 302
    finding.refresh_from_db()
    assert finding.state == FindingState.ANSWERED
    client.force_login(cast.other_liaison)
    assert client.get(reverse("findings:finding", kwargs=kwargs)).status_code == 404


def test_resubmission_keeps_earlier_versions_evaluations_and_findings(testing_case, cast):
    first = demo.record_evaluation(testing_case, cast.evaluator)
    share_findings(case=testing_case, actor=cast.manager)
    revised = demo.revise(testing_case, cast.liaison, label="v1.1")
    case = resubmit(case=testing_case, actor=cast.liaison)
    assert case.status == "testing"
    assert case.events.order_by("-seq").first().details == {"versions": ["v1.1"]}
    second = demo.record_evaluation(case, cast.evaluator)
    assert second.model_version == revised
    first.refresh_from_db()
    assert first.model_version.label == "v1.0-rc1" and first.state == FindingState.SHARED
    assert case.evaluations.count() == 2
    assert set(case.versions.values_list("label", flat=True)) == {"v1.0-rc1", "v1.1"}


def test_the_findings_export_cannot_smuggle_a_spreadsheet_formula(testing_case, cast, client):
    draft(testing_case, cast.evaluator, title='=HYPERLINK("http://evil")')
    client.force_login(cast.manager)
    response = client.get(reverse("findings:export", kwargs={"number": testing_case.number}))
    assert response["Content-Type"].startswith("text/csv")
    assert "'=HYPERLINK" in response.content.decode()


def test_liaison_resubmits_through_the_action_page_and_keeps_seeing_earlier_findings(
    testing_case, cast, client
):
    finding = demo.record_evaluation(testing_case, cast.evaluator)
    share_findings(case=testing_case, actor=cast.manager)
    demo.revise(testing_case, cast.liaison, label="v1.1")
    client.force_login(cast.liaison)
    url = reverse("cases:action", kwargs={"number": testing_case.number, "action": "resubmit"})
    assert client.post(url).status_code == 302
    testing_case.refresh_from_db()
    assert testing_case.status == "testing"
    page = client.get(testing_case.get_absolute_url()).content.decode()
    assert finding.title in page and "version v1.0-rc1" in page
