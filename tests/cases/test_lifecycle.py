"""The lifecycle table walked completely: right role, wrong roles, wrong statuses."""

import pytest

from accounts.models import Role
from cases import services
from cases.models import CaseEvent
from cases.status import Status
from core.errors import ActionRefused, CaseNotFound
from review.lifecycle import TABLE, TRANSITIONS, Action
from review.services import (
    assign_case_manager,
    close_case,
    perform,
    revoke_clearance,
    submit_intake,
    withdraw,
)
from tests.cases.helpers import open_gate, params_for, the_cast

# The status each source is reached in, and for the terminal ones, how.
REACHABLE = ["intake", "triage", "access", "documentation", "testing", "findings", "cleared"]


def case_in(status, case_at, cast):
    if status in REACHABLE:
        return case_at(status)
    if status == Status.REVOKED:
        case = case_at("cleared")
        return revoke_clearance(case=case, actor=cast.official, reason="Test revocation.")
    if status == Status.WITHDRAWN:
        return withdraw(case=case_at("triage"), actor=cast.liaison, reason="Plans changed.")
    if status == Status.CLOSED:
        return close_case(case=case_at("triage"), actor=cast.manager, reason="Stale.")
    raise AssertionError(status)


def acting_role(transition) -> str:
    return {
        Role.LIAISON: "liaison",
        Role.CASE_MANAGER: "manager",
        Role.CLEARANCE_OFFICIAL: "official",
    }[next(iter(transition.actors))]


ROWS = [(t.action.value, source.value) for t in TABLE for source in sorted(t.sources)]


def test_every_status_and_action_is_in_the_table():
    assert {t.action for t in TABLE} == set(Action)
    reached = {t.target for t in TABLE} | {Status.INTAKE}
    assert reached == set(Status)


@pytest.mark.parametrize(("action", "source"), ROWS)
def test_allowed_action_by_right_role_succeeds_with_one_event(action, source, case_at, cast):
    transition = TRANSITIONS[action]
    case = case_in(source, case_at, cast)
    open_gate(case, action, cast)
    actor = the_cast(cast)[acting_role(transition)]
    before = CaseEvent.objects.filter(case=case).count()

    case = perform(case=case, actor=actor, action=action, **params_for(action, cast, case))

    assert case.status == transition.target
    events = CaseEvent.objects.filter(case=case).order_by("seq")
    assert events.count() == before + 1
    last = events.last()
    assert (last.verb, last.from_status, last.to_status, last.actor_id) == (
        action,
        source,
        transition.target,
        actor.pk,
    )
    assert services.verify_chain(case) is None


@pytest.mark.parametrize(("action", "source"), ROWS)
def test_same_action_by_every_other_role_is_refused(action, source, case_at, cast):
    transition = TRANSITIONS[action]
    case = case_in(source, case_at, cast)
    open_gate(case, action, cast)
    before = CaseEvent.objects.filter(case=case).count()
    right = acting_role(transition)
    for name, person in the_cast(cast).items():
        if name == right:
            continue
        with pytest.raises((ActionRefused, CaseNotFound)):
            perform(case=case, actor=person, action=action, **params_for(action, cast, case))
        case.refresh_from_db()
        assert case.status == source, name
    assert CaseEvent.objects.filter(case=case).count() == before


def test_every_action_from_every_wrong_status_is_refused(case_at, cast):
    cases = {status: case_in(status, case_at, cast) for status in Status}
    for transition in TABLE:
        actor = the_cast(cast)[acting_role(transition)]
        for status, case in cases.items():
            if status in transition.sources:
                continue
            before = CaseEvent.objects.filter(case=case).count()
            with pytest.raises(ActionRefused, match="not possible while"):
                perform(
                    case=case,
                    actor=actor,
                    action=transition.action,
                    **params_for(transition.action, cast, case),
                )
            case.refresh_from_db()
            assert case.status == status
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
    with pytest.raises(ActionRefused, match="Former employee"):
        assign_case_manager(case=case, actor=cast.manager, manager=cast.manager)
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
