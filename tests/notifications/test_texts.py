"""What a notice says: written from its event, naming the thing and the next step."""

import datetime as dt

import pytest
from django.core import mail
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from cases.models import CaseEvent
from deadlines.models import Deadline, DeadlineKind
from deadlines.services import is_time_critical
from findings import services as findings_services
from notifications import services as notifications
from notifications.models import Delivery, Notification, NotificationKind
from notifications.services import notify_event
from review.services import perform
from submissions import services as submissions_services
from submissions.models import DocumentKind

pytestmark = pytest.mark.django_db


def liaison_text(event) -> str:
    return Notification.objects.get(event=event, user__email="liaison@acme.example").text


def test_events_handled_late_each_say_what_happened_then(case_at, cast):
    case = case_at("findings")
    perform(case=case, actor=cast.liaison, action="withdraw", reason="Release cancelled.")
    moves = list(CaseEvent.objects.filter(case=case).exclude(to_status="").order_by("seq"))
    # The worker comes to them only now, with the case already withdrawn.
    for event in moves:
        notify_event(event_id=event.pk)
    texts = [liaison_text(e) for e in moves if e.actor_id != cast.liaison.pk]
    assert texts == [
        f"{case.number} moved to model access. Next: the company grants CAISI access to the model, "
        "and the case manager verifies it.",
        f"{case.number} moved to documentation. Next: the company uploads the documentation "
        "package for CAISI to accept.",
        f"{case.number} moved to testing. Next: CAISI tests the model.",
        f"{case.number} moved to findings. Next: the company answers each shared finding "
        "within 14 days.",
    ]
    withdrawn = Notification.objects.filter(case=case, text__contains="moved to withdrawn")
    assert withdrawn.count() == withdrawn.values("user").distinct().count() >= 1
    assert set(withdrawn.values_list("event_id", flat=True)) == {moves[-1].pk}


def test_a_document_sent_back_is_named_with_what_the_company_does_next(case_at, cast):
    case = case_at("documentation")
    card = submissions_services.upload_document(
        case=case,
        actor=cast.liaison,
        kind=DocumentKind.MODEL_CARD,
        file=ContentFile(b"# Model card\n"),
        original_name="card.md",
    )
    submissions_services.review_document(
        document=card, actor=cast.manager, accept=False, comment="Add the evaluations."
    )
    event = CaseEvent.objects.get(case=case, verb="document_changes_requested")
    notify_event(event_id=event.pk)
    assert liaison_text(event) == (
        f"{case.number}: CAISI asked for changes to the model card (version 1). "
        "Next: the company uploads a revised version."
    )


def ask(case, manager, days: int):
    findings_services.ask_clarification(
        case=case,
        actor=manager,
        question="Which system prompt?",
        due_date=timezone.localdate() + dt.timedelta(days=days),
    )
    event = CaseEvent.objects.filter(case=case, verb="clarification_requested").latest("seq")
    notify_event(event_id=event.pk)
    return Notification.objects.get(event=event, user=case.created_by)


def test_a_clarification_due_within_a_week_is_emailed_at_once_by_default(case_at, cast):
    case = case_at("testing")
    soon = ask(case, cast.manager, days=3)
    due = (timezone.localdate() + dt.timedelta(days=3)).strftime("%B %-d, %Y")
    assert soon.text == (
        f"{case.number}: CAISI asked a clarification question, due {due}. "
        "Next: the company answers it on the case page."
    )
    assert soon.delivery == Delivery.IMMEDIATE
    assert ask(case, cast.manager, days=30).delivery == Delivery.DIGEST


def test_a_chosen_digest_is_kept_even_for_what_is_urgent(case_at, cast):
    notifications.set_preferences(
        user=cast.liaison, choices={NotificationKind.MESSAGE: Delivery.DIGEST}
    )
    case = case_at("testing")
    assert ask(case, cast.manager, days=1).delivery == Delivery.DIGEST


def test_emails_greet_people_by_their_name(case_at, cast):
    cast.liaison.full_name = "Dana Whitfield"
    cast.liaison.save(update_fields=["full_name"])
    case = case_at("testing")
    notice = ask(case, cast.manager, days=2)
    mail.outbox.clear()
    assert notifications.email_notification(notification_id=notice.pk)
    body = mail.outbox[0].body
    assert body.startswith("Hello Dana Whitfield,")
    assert reverse("notifications:open", args=[notice.pk]) in body


def test_opening_a_notice_marks_it_read_and_goes_to_the_case(client, case_at, cast):
    case = case_at("testing")
    notice = ask(case, cast.manager, days=2)
    client.force_login(cast.liaison)
    listing = client.get(reverse("notifications:notifications")).content.decode()
    assert reverse("notifications:open", args=[notice.pk]) in listing
    response = client.get(reverse("notifications:open", args=[notice.pk]))
    assert response.status_code == 302 and response["Location"] == case.get_absolute_url()
    notice.refresh_from_db()
    assert notice.read_at is not None


def test_another_persons_notice_cannot_be_opened(client, case_at, cast):
    case = case_at("testing")
    notice = ask(case, cast.manager, days=2)
    client.force_login(cast.other_liaison)
    assert client.get(reverse("notifications:open", args=[notice.pk])).status_code == 404
    notice.refresh_from_db()
    assert notice.read_at is None


@pytest.mark.parametrize(
    ("kind", "days", "critical"),
    [
        (DeadlineKind.CLARIFICATION_DUE, 3, True),
        (DeadlineKind.CLARIFICATION_DUE, 12, False),
        (DeadlineKind.FINDING_RESPONSE_DUE, 6, True),
        (DeadlineKind.INCIDENT_INITIAL_REPORT, 30, True),
        (DeadlineKind.PLANNED_RELEASE, 1, False),
    ],
)
def test_reminders_of_answers_due_this_week_and_incidents_are_time_critical(kind, days, critical):
    due = timezone.now() + dt.timedelta(days=days)
    assert is_time_critical(Deadline(kind=kind, base_due_at=due, due_at=due)) is critical
