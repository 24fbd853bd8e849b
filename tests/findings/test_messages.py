import pytest
from django.urls import reverse

from cases import services
from cases.models import Message
from core.errors import ActionRefused, CaseNotFound
from notifications.models import Notification
from notifications.tasks import notify_case_event


def test_a_shared_message_notifies_the_company_and_an_internal_one_does_not(testing_case, cast):
    shared = services.post_message(case=testing_case, actor=cast.manager, body="Kick-off Monday.")
    internal = services.post_message(
        case=testing_case, actor=cast.manager, body="Their red-team looks thin.", internal=True
    )
    for message, verb in ((shared, "message_posted"), (internal, "internal_note_added")):
        event = testing_case.events.get(verb=verb)
        assert event.internal == message.internal
        notify_case_event(event.pk)  # what the worker runs once the transaction commits
    liaison_notices = Notification.objects.filter(user=cast.liaison)
    assert [n.event.verb for n in liaison_notices] == ["message_posted"]
    assert Notification.objects.filter(user=cast.evaluator).count() == 2


def test_the_liaison_cannot_write_internal_notes(testing_case, cast):
    with pytest.raises(ActionRefused, match="CAISI staff"):
        services.post_message(case=testing_case, actor=cast.liaison, body="x", internal=True)
    message = services.post_message(case=testing_case, actor=cast.liaison, body="Question.")
    assert not message.internal


def test_outsiders_and_auditors_cannot_write(testing_case, cast):
    with pytest.raises(CaseNotFound):
        services.post_message(case=testing_case, actor=cast.other_liaison, body="x")
    with pytest.raises(ActionRefused):
        services.post_message(case=testing_case, actor=cast.auditor, body="x")
    with pytest.raises(ActionRefused, match="empty"):
        services.post_message(case=testing_case, actor=cast.manager, body="   ")


def test_liaison_thread_shows_only_shared_messages_and_counts_them(testing_case, cast, client):
    services.post_message(case=testing_case, actor=cast.manager, body="Shared hello.")
    services.post_message(case=testing_case, actor=cast.manager, body="Secret.", internal=True)
    assert Message.objects.visible_to(cast.liaison).count() == 1
    client.force_login(cast.liaison)
    page = client.get(reverse("findings:messages", kwargs={"number": testing_case.number}))
    body = page.content.decode()
    assert "Shared hello." in body and "Secret." not in body
    assert 'data-testid="message-count">1<' in body
    assert "Internal note" not in body  # the checkbox is not offered


def test_an_empty_message_is_a_400_and_a_forged_internal_flag_is_ignored(
    testing_case, cast, client
):
    client.force_login(cast.liaison)
    url = reverse("findings:messages", kwargs={"number": testing_case.number})
    assert client.post(url, {"body": ""}).status_code == 400
    assert client.post(url, {"body": "Hi", "internal": "on"}).status_code == 302
    assert Message.objects.get().internal is False


def test_staff_must_say_who_reads_a_message_and_nothing_is_chosen_for_them(
    testing_case, cast, client
):
    client.force_login(cast.manager)
    url = reverse("findings:messages", kwargs={"number": testing_case.number})
    form = client.get(url).content.decode()
    assert "Shared with the company" in form and "Internal to CAISI" in form
    assert 'type="radio"' in form and "checked" not in form
    refused = client.post(url, {"body": "Left unchosen."})
    assert refused.status_code == 400
    assert "Choose who can read this" in refused.content.decode()
    assert "Left unchosen." in refused.content.decode()  # what was typed is kept
    assert not Message.objects.exists()
    assert client.post(url, {"body": "For them.", "internal": "shared"}).status_code == 302
    assert client.post(url, {"body": "For us.", "internal": "internal"}).status_code == 302
    assert dict(Message.objects.values_list("body", "internal")) == {
        "For them.": False,
        "For us.": True,
    }


def test_an_internal_note_is_tagged_in_words_and_bordered_on_the_thread_and_case_page(
    testing_case, cast, client
):
    services.post_message(case=testing_case, actor=cast.manager, body="Shared word.")
    services.post_message(case=testing_case, actor=cast.manager, body="Staff word.", internal=True)
    client.force_login(cast.manager)
    for url in (
        reverse("findings:messages", kwargs={"number": testing_case.number}),
        testing_case.get_absolute_url(),
    ):
        body = client.get(url).content.decode()
        internal = body.split('data-testid="message-internal"')[1].split("</li>")[0]
        assert "Staff word." in internal and "Internal: CAISI only" in internal
        assert body.count('data-testid="message-internal"') == 1
        shared = body.split('data-testid="message"')[1].split("</li>")[0]
        assert "Shared word." in shared and "Internal" not in shared
        start = body.index('data-testid="message-internal"')
        item = body[body.rindex("<li", 0, start) : start]
        assert "border-left-1" in item and "border-accent-warm-dark" in item
    # The timeline's internal event carries the same words.
    timeline = body.split('data-testid="timeline"')[1].split("</ul>")[0]
    assert "Internal: CAISI only" in timeline
