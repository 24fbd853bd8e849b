"""The lifecycle table walked completely: right roles, wrong roles, wrong statuses.

After clearance a row starts from a case status and a deployment status; the
walk covers every pair.
"""

import pytest

from accounts.models import Role
from cases import services
from cases.models import CaseEvent
from cases.status import DeploymentStatus, Status
from core.errors import ActionRefused, CaseNotFound
from review.lifecycle import TABLE, TRANSITIONS, Action
from review.services import (
    assign_case_manager,
    close_case,
    perform,
    retire_deployment,
    revoke_clearance,
    submit_intake,
    withdraw,
)
from tests.cases.helpers import deploy, open_gate, params_for, release, the_cast
from tests.factories import StaffFactory

# The status each source is reached in, and for the terminal ones, how.
REACHABLE = ["intake", "triage", "access", "documentation", "testing", "findings", "cleared"]


def case_in(status, case_at, cast, deployment=DeploymentStatus.NOT_RELEASED):
    if status == Status.CLEARED:
        return deploy(case_at("cleared"), deployment, cast)
    if status in REACHABLE:
        assert deployment == DeploymentStatus.NOT_RELEASED
        return case_at(status)
    if status == Status.REVOKED:
        case = case_at("cleared")
        if deployment != DeploymentStatus.NOT_RELEASED:
            case = release(case, cast)
        case = revoke_clearance(case=case, actor=cast.official, reason="Test revocation.")
        if deployment == DeploymentStatus.RETIRED:
            case = retire_deployment(case=case, actor=cast.liaison, reason="Revoked.")
        return case
    if status == Status.WITHDRAWN:
        return withdraw(case=case_at("triage"), actor=cast.liaison, reason="Plans changed.")
    if status == Status.CLOSED:
        return close_case(case=case_at("triage"), actor=cast.manager, reason="Stale.")
    raise AssertionError(status)


ROLE_NAMES = {
    Role.LIAISON: "liaison",
    Role.CASE_MANAGER: "manager",
    Role.CLEARANCE_OFFICIAL: "official",
}


def acting_roles(transition) -> list[str]:
    return sorted(ROLE_NAMES[role] for role in transition.actors)


def deployments_of(transition) -> list:
    """The deployment statuses a row starts from; a row that reads none starts from any."""
    if transition.deployment_sources is None:
        return [DeploymentStatus.NOT_RELEASED]
    return sorted(transition.deployment_sources)


ROWS = [
    (t.action.value, source.value, deployment.value)
    for t in TABLE
    for source in sorted(t.sources)
    for deployment in deployments_of(t)
]
ROWS_BY_ROLE = [
    (action, source, deployment, name)
    for action, source, deployment in ROWS
    for name in acting_roles(TRANSITIONS[action])
]
# Every (case status, deployment status) a case can stand in.
STANDINGS = (
    [(status, DeploymentStatus.NOT_RELEASED) for status in Status]
    + [
        (Status.CLEARED, deployment)
        for deployment in DeploymentStatus
        if deployment != DeploymentStatus.NOT_RELEASED
    ]
    + [(Status.REVOKED, DeploymentStatus.RELEASED), (Status.REVOKED, DeploymentStatus.RETIRED)]
)


def test_every_status_and_action_is_in_the_table():
    assert {t.action for t in TABLE} == set(Action)
    reached = {t.target for t in TABLE if t.target is not None} | {Status.INTAKE}
    assert reached == set(Status)
    deployed = {t.deployment_target for t in TABLE if t.deployment_target is not None}
    assert deployed | {DeploymentStatus.NOT_RELEASED} == set(DeploymentStatus)


@pytest.mark.parametrize(("action", "source", "deployment", "role"), ROWS_BY_ROLE)
def test_allowed_action_by_right_role_succeeds_with_one_event(
    action, source, deployment, role, case_at, cast
):
    transition = TRANSITIONS[action]
    case = case_in(source, case_at, cast, deployment)
    open_gate(case, action, cast)
    deployment = case.deployment_status  # opening a gate may have released the model
    actor = the_cast(cast)[role]
    before = CaseEvent.objects.filter(case=case).count()

    case = perform(case=case, actor=actor, action=action, **params_for(action, cast, case))

    assert case.status == (transition.target or source)
    assert case.deployment_status == (transition.deployment_target or deployment)
    events = CaseEvent.objects.filter(case=case).order_by("seq")
    assert events.count() == before + 1
    last = events.last()
    if transition.target is None:  # the case's status stays: nothing moves it on the event
        assert (last.verb, last.from_status, last.to_status, last.actor_id) == (
            action,
            "",
            "",
            actor.pk,
        )
    else:
        assert (last.verb, last.from_status, last.to_status, last.actor_id) == (
            action,
            source,
            transition.target,
            actor.pk,
        )
    if transition.deployment_target is not None:
        assert last.details["deployment"] == {
            "from": deployment,
            "to": transition.deployment_target,
        }
    assert services.verify_chain(case) is None


@pytest.mark.parametrize(("action", "source", "deployment"), ROWS)
def test_same_action_by_every_other_role_is_refused(action, source, deployment, case_at, cast):
    transition = TRANSITIONS[action]
    case = case_in(source, case_at, cast, deployment)
    open_gate(case, action, cast)
    deployment = case.deployment_status
    before = CaseEvent.objects.filter(case=case).count()
    right = acting_roles(transition)
    for name, person in the_cast(cast).items():
        if name in right:
            continue
        with pytest.raises((ActionRefused, CaseNotFound)):
            perform(case=case, actor=person, action=action, **params_for(action, cast, case))
        case.refresh_from_db()
        assert (case.status, case.deployment_status) == (source, deployment), name
    assert CaseEvent.objects.filter(case=case).count() == before


def test_every_action_from_every_wrong_status_is_refused(case_at, cast):
    cases = {
        (status, deployment): case_in(status, case_at, cast, deployment)
        for status, deployment in STANDINGS
    }
    for transition in TABLE:
        for name in acting_roles(transition):
            actor = the_cast(cast)[name]
            for (status, deployment), case in cases.items():
                if status in transition.sources and (
                    transition.deployment_sources is None
                    or deployment in transition.deployment_sources
                ):
                    continue
                before = CaseEvent.objects.filter(case=case).count()
                # A draft is the company's alone: to CAISI staff it is not there at all.
                hidden = status == Status.INTAKE and actor.is_caisi_staff
                refusal = CaseNotFound if hidden else ActionRefused
                with pytest.raises(refusal, match="" if hidden else "not possible while"):
                    perform(
                        case=case,
                        actor=actor,
                        action=transition.action,
                        **params_for(transition.action, cast, case),
                    )
                case.refresh_from_db()
                assert (case.status, case.deployment_status) == (status, deployment)
                assert CaseEvent.objects.filter(case=case).count() == before


def test_gate_refusal_lists_every_missing_intake_field(case_at, cast):
    case = case_at("intake")
    with pytest.raises(ActionRefused) as refused:
        submit_intake(case=case, actor=cast.liaison)
    text = " ".join(refused.value.blockers)
    for label in ["architecture", "parameter count", "training compute", "planned release date"]:
        assert label in text
    assert "No model version is recorded" in text
    case.refresh_from_db()
    assert case.status == Status.INTAKE


def test_missing_reason_refuses_close_without_an_event(case_at, cast):
    case = case_at("triage")
    before = case.events.count()
    with pytest.raises(ActionRefused, match="reason is required"):
        close_case(case=case, actor=cast.manager, reason="   ")
    assert case.events.count() == before


def test_conflicted_case_manager_cannot_be_assigned(case_at, cast, acme):
    from accounts.models import ConflictOfInterest

    ConflictOfInterest.objects.create(
        user=cast.manager, organization=acme, reason="Former employee until 2025."
    )
    case = case_at("triage")
    # The conflicted manager no longer sees the case; another manager tries to name them.
    colleague = StaffFactory(staff_role=Role.CASE_MANAGER)
    with pytest.raises(ActionRefused, match="Former employee"):
        assign_case_manager(case=case, actor=colleague, manager=cast.manager)
    case.refresh_from_db()
    assert case.status == Status.TRIAGE and case.case_manager is None


def test_submitting_the_intake_freezes_the_versions(case_at, cast):
    case = case_at("triage")
    assert case.versions.filter(submitted_at__isnull=True).count() == 0


def test_case_numbers_follow_the_year_and_sequence(case_at, cast):
    first = case_at("intake", title="One")
    second = case_at("intake", title="Two")
    year = first.created_at.year
    assert first.number.startswith(f"CAISI-{year}-")
    assert int(second.number.rsplit("-", 1)[1]) == int(first.number.rsplit("-", 1)[1]) + 1
