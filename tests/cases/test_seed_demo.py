import datetime as dt

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from cases.models import Case, CaseEvent, Message
from cases.status import Status
from deadlines.services import wanted_deadlines
from findings.models import ClarificationRequest, Finding, FindingResponse, FindingState
from review.tasks_for import tasks_for
from submissions.models import Document, DocumentState

DEMO_USERS = {
    "liaison@acme.example",
    "liaison@globex.example",
    "manager@caisi.example",
    "evaluator@caisi.example",
    "official@caisi.example",
    "auditor@caisi.example",
}


def test_seed_demo_creates_the_public_cast_and_is_idempotent(db, client, capsys, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.DEBUG = True  # the demo runs only there (tests/security/test_demo_keys.py)
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert "demo-pass-2026" in out
    counts = (User.objects.count(), Case.objects.count(), CaseEvent.objects.count())

    call_command("seed_demo")
    assert (User.objects.count(), Case.objects.count(), CaseEvent.objects.count()) == counts

    assert DEMO_USERS <= set(User.objects.values_list("email", flat=True))
    statuses = set(Case.objects.values_list("status", flat=True))
    assert {"intake", "triage", "access", "documentation", "testing", "findings"} <= statuses
    assert {"cleared", "withdrawn"} <= statuses
    # After clearance: a released model with an open incident and a monitoring report due,
    # a suspended clearance, a retired model.
    released = Case.objects.get(title="Atlas 2 review")
    assert released.deployment_status == "released"
    assert released.incidents.open().exists()
    assert released.monitoring_reports.filter(state="due").exists()
    kinds = {kind for kind, _ in wanted_deadlines(released)}
    assert {"monitoring_report_due", "incident_update"} <= kinds
    suspended = Case.objects.get(title="Helix 0.9 review")
    assert suspended.clearance_statements.get().status == "suspended"
    assert Case.objects.get(title="Helix Classic review").deployment_status == "retired"
    for email in DEMO_USERS:
        assert client.login(username=email, password="demo-pass-2026"), email
    # People with a first and a last name: emails greet them by the first.
    for user in User.objects.filter(email__in=DEMO_USERS):
        first, *rest = user.full_name.split()
        assert rest, user.full_name
        assert first not in {"Acme", "Globex", "CAISI"}, user.full_name
        assert not {"liaison", "manager", "audit", "case"} & {w.lower() for w in rest}
    call_command("verify_timeline")


# --- the story a first look at the demo tells -----------------------------------------


@pytest.fixture
def seeded(db, settings):
    settings.DEBUG = True
    call_command("seed_demo")
    return {user.email: user for user in User.objects.filter(email__in=DEMO_USERS)}


def test_seed_demo_has_a_case_in_every_status_with_its_history_dated_in_the_past(seeded):
    assert set(Case.objects.values_list("status", flat=True)) == set(Status.values)
    today = timezone.localdate()
    for case in Case.objects.all():
        events = list(case.events.order_by("seq"))
        moments = [event.created_at for event in events]
        assert moments == sorted(moments), case.title  # the chain runs forward in time
        assert events[0].verb == "case_opened"
        assert abs(events[0].created_at - case.created_at) < dt.timedelta(seconds=1)
        # The case's step began when its last status change was recorded.
        moves = [e for e in events if e.to_status and e.to_status == case.status]
        assert moves and abs(moves[-1].created_at - case.status_changed_at) < dt.timedelta(
            seconds=1
        ), case.title
        assert case.created_at.year == int(case.number.split("-")[1])
    # Numbered in the order the cases were opened.
    numbers = [n for _, n in sorted(Case.objects.values_list("created_at", "number"))]
    assert numbers == sorted(numbers)
    ages = [(today - timezone.localdate(c.created_at)).days for c in Case.objects.all()]
    assert min(ages) >= 7 and max(ages) >= 180  # weeks and months ago
    open_cases = Case.objects.open().exclude(status=Status.INTAKE)
    waited = [(today - timezone.localdate(c.status_changed_at)).days for c in open_cases]
    assert min(waited) >= 1 and max(waited) >= 30  # in their step for days and weeks
    # Nothing happened in the future.
    assert not CaseEvent.objects.filter(created_at__gt=timezone.now()).exists()


def test_every_demo_user_who_has_work_finds_some_late_some_due_soon_on_a_lived_in_desk(seeded):
    states = set(Finding.objects.values_list("state", flat=True))
    assert {FindingState.DRAFT, FindingState.SHARED, FindingState.RESOLVED} <= states
    assert FindingResponse.objects.filter(verdict=FindingResponse.Verdict.PENDING).exists()
    requests = ClarificationRequest.objects.all()
    assert requests.filter(status=ClarificationRequest.RequestStatus.ANSWERED).exists()
    today = timezone.localdate()
    assert requests.overdue(today).exists()
    assert requests.open().filter(due_date__gte=today).exists()
    assert Document.objects.filter(state=DocumentState.CHANGES_REQUESTED).exists()
    assert Document.objects.filter(state=DocumentState.SUBMITTED).exists()
    internal = Message.objects.filter(internal=True)
    assert internal.exists() and Message.objects.filter(internal=False).exists()
    for email in ("liaison@acme.example", "liaison@globex.example"):
        tasks = tasks_for(seeded[email])
        assert any(t.overdue for t in tasks), email
        assert any(t.due_soon for t in tasks), email
    manager = [t.text for t in tasks_for(seeded["manager@caisi.example"])]
    for work in ("Triage", "Verify the model access", "Review the", "company's answer"):
        assert any(work in text for text in manager), work
    evaluator = tasks_for(seeded["evaluator@caisi.example"])
    assert any("evaluation run" in t.text for t in evaluator)
    official = [t.text for t in tasks_for(seeded["official@caisi.example"])]
    assert any("clearance gate is clear" in text for text in official)
    assert any("awaits CAISI's decision" in text for text in official)
    # Triage is past its service level, so the dashboard has someone waiting long.
    triage = Case.objects.get(status=Status.TRIAGE)
    assert triage.days_in_status() > settings.SERVICE_LEVEL_WORKING_DAYS["triage"]
