"""Bring a case to the point where one action's gate is open, and name its parameters."""

import threading

from django.db import connection

from deadlines import services as deadlines
from review import demo
from review.lifecycle import Action
from review.services import assign_evaluator
from submissions.models import ModelVersion


def people(cast) -> dict:
    return {
        "liaison": cast.liaison,
        "manager": cast.manager,
        "evaluator": cast.evaluator,
        "official": cast.official,
    }


def open_gate(case, action: str, cast) -> None:
    """Add to the case what `action`'s gate asks for."""
    if action == Action.SUBMIT_INTAKE:
        demo.fill_intake(case, cast.liaison)
    elif action == Action.VERIFY_ACCESS:
        demo.grant_access(case, cast.liaison)
    elif action == Action.ACCEPT_DOCUMENTATION:
        demo.provide_documents(case, cast.liaison, cast.manager)
    elif action == Action.SHARE_FINDINGS:
        assign_evaluator(case=case, actor=cast.manager, evaluator=cast.evaluator)
        demo.record_evaluation(case, cast.evaluator)
    elif action == Action.RESUBMIT:
        demo.revise(case, cast.liaison, label=f"v-revised-{case.versions.count() + 1}")
    elif action == Action.ISSUE_CLEARANCE:
        demo.resolve_findings(case, cast.manager)


def params_for(action: str, cast, case) -> dict:
    return {
        Action.ASSIGN_CASE_MANAGER: {"manager": cast.manager},
        Action.ISSUE_CLEARANCE: {
            "version": ModelVersion.objects.under_test(case),
            "scope": "The reviewed version behind the restricted API.",
        },
        Action.REVOKE_CLEARANCE: {"reason": "A serious capability was found after release."},
        Action.CLOSE_CASE: {"reason": "The company stopped responding."},
        Action.WITHDRAW: {"reason": "Release plans changed."},
    }.get(action, {})


def the_cast(cast) -> dict:
    """Every person of the standard cast, by name."""
    return {
        "liaison": cast.liaison,
        "other_liaison": cast.other_liaison,
        "manager": cast.manager,
        "evaluator": cast.evaluator,
        "other_evaluator": cast.other_evaluator,
        "official": cast.official,
        "auditor": cast.auditor,
    }


def sweep_at_once(moment, *, sweepers: int, batch: int) -> list[int]:
    """Start `sweepers` reminder sweeps at the same instant, each on its own connection.

    Return how many reminders each one sent.
    """
    barrier = threading.Barrier(sweepers)
    counts: list[int] = []

    def sweeper():
        try:
            barrier.wait()
            counts.append(deadlines.sweep_reminders(now=moment, batch=batch))
        finally:
            connection.close()

    threads = [threading.Thread(target=sweeper) for _ in range(sweepers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return counts
