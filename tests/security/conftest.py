"""A populated portal for the security suites: one Acme case per status, a Globex case full of
marker strings, and every kind of object a URL can name.

The Globex records carry markers that appear nowhere else, so a test can search
every response body an outsider receives for them. Acme's rich case carries its
own markers, and a draft finding that its company must never see.
"""

import datetime as dt
import hashlib
import os
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.test import Client
from django.utils import timezone
from django_otp_webauthn.models import WebAuthnCredential

from accounts import invitations, organizations
from accounts import services as accounts_services
from accounts.models import Membership, Role, User
from cases import services
from clearance import services as clearance_services
from findings import services as findings_services
from findings.models import Category, InspectImport, Severity
from incidents import services as incident_services
from notifications.models import Notification
from review import demo
from review import services as review_services
from review.services import assign_evaluator, close_case, revoke_clearance, share_findings, withdraw
from submissions import services as submissions_services
from submissions.models import AccessMethod, DocumentKind
from tests.cases.helpers import release
from tests.clearance.conftest import signing_identity, statement_settings  # noqa: F401
from tests.factories import LiaisonFactory, StaffFactory
from tests.findings.conftest import inspect_logs  # noqa: F401
from tests.incidents.helpers import incident_on
from webhooks.services import register_webhook

# Strings that exist only in Globex's records: an Acme person who receives one has seen Globex.
GLOBEX_MARKERS = {
    "title": "GLXTITLE-8841",
    "model": "GLXMODEL-8841",
    "document": "glxdoc-8841.md",
    "document title": "GLXDOCTITLE-8841",
    "message": "GLXMESSAGE-8841",
    "internal message": "GLXINTERNAL-8841",
    "finding": "GLXFINDING-8841",
    "clarification": "GLXQUESTION-8841",
    "version": "glxver-8841",
    "evaluation": "GLXEVAL-8841",
}
ACME_MARKERS = {
    "title": "ACMTITLE-5527",
    "message": "ACMMESSAGE-5527",
    "document": "acmdoc-5527.md",
    "clarification": "ACMQUESTION-5527",
}
# Drafted on an Acme case in testing; Acme's own liaison must never see it.
ACME_DRAFT_FINDING = "ACMDRAFT-5527"
ACME_INTERNAL_MESSAGE = "ACMINTERNAL-5527"

ROLES = (
    "anonymous",
    "liaison",
    "other_liaison",
    "manager",
    "evaluator",
    "other_evaluator",
    "official",
    "auditor",
    "conflicted_manager",
    "conflicted_evaluator",
)


@pytest.fixture(autouse=True)
def roomy_limits(settings, tmp_path):
    """Let one test make thousands of requests, with private media."""
    cache.clear()
    settings.API_THROTTLE_RATE = "1000000/min"
    settings.VERIFY_RATE_LIMIT_PER_MINUTE = 1_000_000
    settings.MEDIA_ROOT = tmp_path / "media"
    yield
    cache.clear()


def _weights_grant(case, liaison):
    now = timezone.now()
    content = b"weights of the model under review"
    # Weights are received for a version that declares their digest.
    version = submissions_services.add_version(
        case=case,
        actor=liaison,
        label="v1.1-weights",
        vcs_reference="git:weights",
        artifact_sha256=hashlib.sha256(content).hexdigest(),
    )
    grant = submissions_services.grant_access(
        case=case,
        actor=liaison,
        model_version=version,
        method=AccessMethod.WEIGHTS_UPLOAD,
        nda_reference="NDA-2026-200",
        nda_signed_on=timezone.localdate(),
        valid_from=now,
        valid_until=now + dt.timedelta(days=30),
    )
    return submissions_services.upload_artifact(
        grant=grant,
        actor=liaison,
        file=ContentFile(content),
        original_name="weights.safetensors",
        expected_sha256=hashlib.sha256(content).hexdigest(),
    )


def _document(case, liaison, *, name: str, title: str):
    return submissions_services.upload_document(
        case=case,
        actor=liaison,
        kind=DocumentKind.OTHER,
        file=ContentFile(f"# {title}\n".encode()),
        original_name=name,
        title=title,
    )


def _globex_case(cast):
    """A Globex case in findings with a marker in every record a page can show."""
    m = GLOBEX_MARKERS
    people = {
        "liaison": cast.other_liaison,
        "manager": cast.manager,
        "evaluator": cast.other_evaluator,
        "official": cast.official,
    }
    case = services.open_case(actor=cast.other_liaison, title=m["title"], model_name=m["model"])
    case = demo.advance(case, "testing", people)
    assign_evaluator(case=case, actor=cast.manager, evaluator=cast.other_evaluator)
    demo.add_version(case, cast.other_liaison, label=m["version"])
    run = findings_services.record_evaluation_run(
        case=case,
        actor=cast.other_evaluator,
        category=Category.HALLUCINATION,
        title=m["evaluation"],
        summary="Citation accuracy.",
        metrics={"accuracy": 0.9},
    )
    findings_services.draft_finding(
        case=case,
        actor=cast.other_evaluator,
        evaluation=run,
        severity=Severity.MEDIUM,
        category=Category.HALLUCINATION,
        title=m["finding"],
        description="Invented citations.",
    )
    case = share_findings(case=case, actor=cast.manager)
    _document(case, cast.other_liaison, name=m["document"], title=m["document title"])
    services.post_message(case=case, actor=cast.other_liaison, body=m["message"])
    services.post_message(case=case, actor=cast.manager, body=m["internal message"], internal=True)
    findings_services.ask_clarification(
        case=case,
        actor=cast.manager,
        question=m["clarification"],
        due_date=timezone.localdate() + dt.timedelta(days=7),
    )
    case.refresh_from_db()
    return case


def _acme_cases(case_at, cast) -> dict:
    cases = {status: case_at(status) for status in ("intake", "triage", "access", "documentation")}
    cases["testing"] = case_at("testing")
    assign_evaluator(case=cases["testing"], actor=cast.manager, evaluator=cast.evaluator)
    run = findings_services.record_evaluation_run(
        case=cases["testing"],
        actor=cast.evaluator,
        category=Category.DANGEROUS_CAPABILITY,
        title="Uplift probe",
        summary="Probe.",
        metrics={},
    )
    findings_services.draft_finding(
        case=cases["testing"],
        actor=cast.evaluator,
        evaluation=run,
        severity=Severity.CRITICAL,
        category=Category.DANGEROUS_CAPABILITY,
        title=ACME_DRAFT_FINDING,
        description="Draft, internal to CAISI.",
    )
    services.post_message(
        case=cases["testing"], actor=cast.manager, body=ACME_INTERNAL_MESSAGE, internal=True
    )
    cases["findings"] = case_at("findings", title=ACME_MARKERS["title"])
    cases["cleared"] = case_at("cleared")
    revoked = case_at("cleared")
    cases["revoked"] = revoke_clearance(
        case=revoked, actor=cast.official, reason="Deployed outside the reviewed scope."
    )
    cases["withdrawn"] = withdraw(
        case=case_at("triage"), actor=cast.liaison, reason="Release cancelled."
    )
    cases["closed"] = close_case(
        case=case_at("access"), actor=cast.manager, reason="No response from the company."
    )
    return cases


@pytest.fixture
def conflicted(db):
    """A case manager and an evaluator who have declared a conflict with Acme (in `world`)."""
    return SimpleNamespace(
        manager=StaffFactory(
            email="conflicted-manager@caisi.example", staff_role=Role.CASE_MANAGER
        ),
        evaluator=StaffFactory(
            email="conflicted-evaluator@caisi.example", staff_role=Role.EVALUATOR
        ),
    )


@pytest.fixture
def company_admin(cast):
    """Acme's company administrator, beside its ordinary liaison."""
    person = LiaisonFactory(email="admin@acme.example", organization=cast.liaison.organization)
    Membership.objects.filter(user=person).update(is_administrator=True)
    return User.objects.get(pk=person.pk)


@pytest.fixture
def world(cast, case_at, conflicted, company_admin, statement_settings):  # noqa: F811
    """Every object a URL of the portal can name, for Acme and for Globex."""
    acme = _acme_cases(case_at, cast)
    rich = acme["findings"]
    m = ACME_MARKERS
    document = _document(rich, cast.liaison, name=m["document"], title="Annex")
    grant = _weights_grant(rich, cast.liaison)
    services.post_message(case=rich, actor=cast.liaison, body=m["message"])
    clarification = findings_services.ask_clarification(
        case=rich,
        actor=cast.manager,
        question=m["clarification"],
        due_date=timezone.localdate() + dt.timedelta(days=7),
    )
    finding = rich.findings.get()
    evaluation = rich.evaluations.get()
    version = rich.versions.first()
    inspect_import = InspectImport(
        case=rich,
        requested_by=cast.evaluator,
        name="large.eval",
        size=5,
        sha256="0" * 64,
        category="other",
        model_version=version,
    )
    inspect_import.log.save("large.eval", ContentFile(b"large"), save=False)
    inspect_import.save()
    statement = acme["cleared"].clearance_statements.get()
    clearance_services.render_statement_pdf(statement_id=statement.pk)
    statement.refresh_from_db()
    # After clearance: the cleared model is released, has an incident with an
    # internal note its company must never see, and a monitoring report due.
    cleared = release(acme["cleared"], cast)
    incident = incident_on(cleared, cast.liaison)
    incident_services.add_incident_note(
        incident=incident, actor=cast.manager, body=ACME_INTERNAL_MESSAGE, internal=True
    )
    (monitoring_report,) = incident_services.schedule_monitoring_reports(
        case=cleared, statement_number=statement.number, every_days=90, for_days=90
    )
    token, _ = accounts_services.create_api_token(user=cast.manager, name="ci")
    # A security key of the case manager's (its ceremony runs in the browser tests).
    security_key = WebAuthnCredential.objects.create(
        user=cast.manager,
        name="Manager's key",
        confirmed=True,
        credential_id=os.urandom(32),
        public_key=b"cose",
    )
    webhook, _ = register_webhook(owner=cast.manager, url="https://hooks.example/caisi")
    # A company's people: a request for access, an invitation, a service account.
    access_request = organizations.request_access(
        organization_name="Initech", contact_name="P", email="p@initech.example", reason="Review"
    )
    invitation = invitations.invite(
        organization=rich.organization, email="new@acme.example", invited_by=company_admin
    )
    service_account = organizations.create_service_account(actor=company_admin, name="pipeline")
    # A notice for Acme's liaison about its case: opening it is for that person alone.
    notification = Notification.objects.create(
        user=cast.liaison, case=rich, text="A message was posted on the case"
    )
    globex = _globex_case(cast)
    # The conflicted evaluator had been on Acme's cases; declaring the conflict ends that.
    for case in (acme["testing"], rich):
        assign_evaluator(case=case, actor=cast.manager, evaluator=conflicted.evaluator)
    review_services.declare_conflict(
        actor=conflicted.evaluator, organization=rich.organization, reason="Advised Acme"
    )
    conflict = review_services.declare_conflict(
        actor=conflicted.manager, organization=rich.organization, reason="Former employee"
    )
    rich.refresh_from_db()
    return SimpleNamespace(
        acme=acme,
        rich=rich,
        globex=globex,
        document=document,
        grant=grant,
        clarification=clarification,
        finding=finding,
        evaluation=evaluation,
        inspect_import=inspect_import,
        version=version,
        statement=statement,
        incident=incident,
        monitoring_report=monitoring_report,
        conflict=conflict,
        token=token,
        security_key=security_key,
        webhook=webhook,
        access_request=access_request,
        invitation=invitation,
        person=cast.liaison,
        service_account=service_account,
        notification=notification,
    )


def person_of(role: str, cast, conflicted, company_admin=None):
    """Return the person who plays this role of ROLES (or the company administrator)."""
    if role == "company_admin":
        return company_admin
    if role.startswith("conflicted_"):
        return getattr(conflicted, role.removeprefix("conflicted_"))
    return getattr(cast, role)


@pytest.fixture
def clients(cast, conflicted) -> dict[str, Client]:
    """A signed-in test client per role, and an anonymous one."""
    result = {"anonymous": Client()}
    for role in ROLES[1:]:
        client = Client()
        client.force_login(person_of(role, cast, conflicted))
        result[role] = client
    return result


@pytest.fixture
def api_as(db):
    """Return a function that gives an API client holding a new read-write token of a user."""
    from rest_framework.test import APIClient

    def make(user) -> APIClient:
        _, raw = accounts_services.create_api_token(user=user, name="suite", read_only=False)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        return client

    return make


@pytest.fixture
def testing_case(case_at, cast):
    """An Acme case in testing with the standard evaluator assigned."""
    case = case_at("testing")
    assign_evaluator(case=case, actor=cast.manager, evaluator=cast.evaluator)
    return case
