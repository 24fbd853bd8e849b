"""Random action sequences by random people: the lifecycle never leaves its table."""

import contextlib

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from cases import services
from cases.models import CaseEvent
from cases.status import Status
from core.errors import ActionRefused, CaseNotFound
from review.lifecycle import TRANSITIONS, Action, starts_from
from review.services import gate_blockers, perform
from tests.cases.helpers import open_gate, params_for, the_cast

ACTIONS = [a.value for a in Action]
PEOPLE = [
    "liaison",
    "other_liaison",
    "manager",
    "evaluator",
    "other_evaluator",
    "official",
    "auditor",
]


def test_random_action_sequences_keep_every_invariant(cast):
    people = the_cast(cast)

    class CaseMachine(RuleBasedStateMachine):
        @initialize()
        def open(self):
            self.case = services.open_case(actor=cast.liaison, title="Random", model_name="R")
            self.cleared_from_open_gate = True

        def sees(self, name: str) -> bool:
            if name in ("other_liaison", "other_evaluator"):
                return False
            if name == "evaluator":
                return self.case.evaluators.filter(pk=cast.evaluator.pk).exists()
            return True

        @rule(action=st.sampled_from(ACTIONS))
        def prepare(self, action):
            """Add what an action's gate asks for, when the company or CAISI still can."""
            # Adding material to a closed case is refused, and nothing is written; CAISI
            # cannot prepare anything on a draft it does not see.
            with contextlib.suppress(ActionRefused, CaseNotFound):
                open_gate(self.case, action, cast)
            self.case.refresh_from_db()

        @rule(
            action=st.sampled_from(ACTIONS),
            name=st.sampled_from(PEOPLE),
            with_params=st.booleans(),
        )
        def act(self, action, name, with_params):
            transition = TRANSITIONS[action]
            actor = people[name]
            params = params_for(action, cast, self.case) if with_params else {}
            before_status = self.case.status
            before_events = CaseEvent.objects.filter(case=self.case).count()
            blockers = gate_blockers(self.case, action, **params)
            expected = (
                self.sees(name)
                and actor.role in transition.actors
                and starts_from(transition, self.case)
                and all(params.get(p) for p in transition.params)
                and not blockers
            )
            try:
                perform(case=self.case, actor=actor, action=action, **params)
                succeeded = True
            except (ActionRefused, CaseNotFound):
                succeeded = False
            self.case.refresh_from_db()
            after_events = CaseEvent.objects.filter(case=self.case).count()

            assert succeeded == expected, (action, name, before_status, blockers)
            if succeeded:
                assert self.case.status == (transition.target or before_status)
                assert after_events == before_events + 1
            else:
                assert self.case.status == before_status
                assert after_events == before_events
            if succeeded and transition.target == Status.CLEARED:
                assert blockers == []

        @invariant()
        def status_is_valid(self):
            assert self.case.status in Status.values

        @invariant()
        def chain_verifies(self):
            assert services.verify_chain(self.case) is None

        @invariant()
        def cleared_means_no_blocking_finding_open(self):
            if self.case.status == Status.CLEARED:
                assert gate_blockers(self.case, Action.ISSUE_CLEARANCE) == [] or (
                    self.case.clearance_statements.filter(status="issued").exists()
                )

    CaseMachine.TestCase.settings = settings(
        max_examples=int(__import__("os").environ.get("STATE_MACHINE_EXAMPLES", "30")),
        stateful_step_count=20,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    CaseMachine.TestCase().runTest()
