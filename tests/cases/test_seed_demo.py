from django.core.management import call_command

from accounts.models import User
from cases.models import Case, CaseEvent
from deadlines.services import wanted_deadlines

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
    call_command("verify_timeline")
