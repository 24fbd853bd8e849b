"""Bring a case to the point where one action's gate is open, and name its parameters."""

import datetime as dt
import threading

from django.db import connection
from django.utils import timezone

from cases.status import DeploymentStatus
from deadlines import services as deadlines
from incidents.services import pending_material_change
from review import demo
from review.lifecycle import Action
from review.services import (
    assign_evaluator,
    declare_material_change,
    perform,
    report_release,
    suspend_clearance,
)
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
    elif action == Action.REINSTATE_CLEARANCE:
        if not case.clearance_statements.filter(status="suspended").exists():
            suspend_clearance(case=case, actor=cast.official, reason="An incident is reviewed.")
    elif (
        action in (Action.ACCEPT_MATERIAL_CHANGE, Action.REQUIRE_RESUBMISSION)
        and pending_material_change(case) is None
    ):
        if case.deployment_status == DeploymentStatus.NOT_RELEASED:
            release(case, cast)
        declare_material_change(
            case=case, actor=cast.liaison, change="Tool use was enabled on the public API."
        )
    case.refresh_from_db()


def release(case, cast):
    return report_release(
        case=case,
        actor=cast.liaison,
        release_date=timezone.localdate(),
        channel="Public API",
        notes="General availability.",
    )


# How a cleared case is brought to each deployment status (from not yet released).
DEPLOYMENT_PATH = {
    DeploymentStatus.NOT_RELEASED: [],
    DeploymentStatus.RELEASED: [Action.REPORT_RELEASE],
    DeploymentStatus.RESTRICTED: [Action.REPORT_RELEASE, Action.RESTRICT_DEPLOYMENT],
    DeploymentStatus.SUSPENDED: [Action.REPORT_RELEASE, Action.SUSPEND_DEPLOYMENT],
    DeploymentStatus.RETIRED: [Action.REPORT_RELEASE, Action.RETIRE_DEPLOYMENT],
}


def deploy(case, deployment: str, cast):
    """Take a cleared case, not yet released, to this deployment status."""
    for action in DEPLOYMENT_PATH[DeploymentStatus(deployment)]:
        case = perform(
            case=case, actor=cast.liaison, action=action, **params_for(action, cast, case)
        )
    return case


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
        Action.REPORT_RELEASE: {
            "release_date": timezone.localdate() - dt.timedelta(days=1),
            "channel": "Public API",
        },
        Action.RESTRICT_DEPLOYMENT: {
            "uses": "Enterprise customers only.",
            "reason": "An incident is under review.",
        },
        Action.SUSPEND_DEPLOYMENT: {"reason": "Remediation of a jailbreak."},
        Action.RETIRE_DEPLOYMENT: {"reason": "Replaced by a successor."},
        Action.SUSPEND_CLEARANCE: {"reason": "A critical incident is under review."},
        Action.REINSTATE_CLEARANCE: {"reason": "The remediation was verified."},
        Action.DECLARE_MATERIAL_CHANGE: {"change": "Image input was added."},
        Action.ACCEPT_MATERIAL_CHANGE: {"reason": "The change stays within the reviewed scope."},
        Action.REQUIRE_RESUBMISSION: {"reason": "Image input was not reviewed."},
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
