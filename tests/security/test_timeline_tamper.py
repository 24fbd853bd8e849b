"""The red team's attacks on the timeline, as a database owner would make them.

"A red team rewrote a clearance's scope and recomputed the chain, and deleted a
case's two newest events; `verify_timeline` said 'all intact' both times."
The append-only triggers stop the portal's own connections; an owner switches
them off. Only the signed checkpoint of each chain's head, and the content
hashes the events carry, can show what such an owner did.
"""

import base64
import hashlib
import json
from io import StringIO

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.core.management import call_command
from django.core.management.base import CommandError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, connection, transaction

from cases import services
from cases.models import CaseEvent, CheckpointHead, Message, TimelineCheckpoint
from cases.tasks import checkpoint_timelines
from clearance.apps import STATEMENT_CONTENT
from clearance.models import ClearanceStatement
from tests.clearance.conftest import signing_identity, statement_settings  # noqa: F401

pytestmark = pytest.mark.usefixtures("statement_settings")


def as_owner(*statements):
    """Run SQL with the triggers off, as the database's owner can."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        for sql, params in statements:
            cursor.execute(sql, params)


def rechain(case, *, from_seq: int, edit=lambda event: None):
    """Rewrite the case's events from `from_seq` on and recompute every hash after them."""
    events = list(CaseEvent.objects.filter(case=case).order_by("seq"))
    prev = events[from_seq - 2].hash if from_seq > 1 else ""
    updates = []
    for event in events[from_seq - 1 :]:
        edit(event)
        event.prev_hash = prev
        event.hash = event.compute_hash(case.number)
        prev = event.hash
        updates.append(
            (
                "UPDATE cases_caseevent SET details = %s::jsonb, prev_hash = %s, hash = %s "
                "WHERE id = %s",
                [
                    json.dumps(event.details, cls=DjangoJSONEncoder),
                    event.prev_hash,
                    event.hash,
                    event.pk,
                ],
            )
        )
    as_owner(*updates)


def chain_links_hold(case) -> bool:
    prev = ""
    for event in CaseEvent.objects.filter(case=case).order_by("seq"):
        if event.prev_hash != prev or event.hash != event.compute_hash(case.number):
            return False
        prev = event.hash
    return True


def verify_timeline() -> str:
    out = StringIO()
    call_command("verify_timeline", stdout=out)
    return out.getvalue()


def forged_scope_event(statement_number: str, new_scope: str):
    """Return an edit that puts the forged scope, and its forged content hash, in the event."""

    def edit(event):
        if event.verb == "issue_clearance":
            statement = ClearanceStatement.objects.get(number=statement_number)
            event.details["scope"] = new_scope
            event.details["content_sha256"] = STATEMENT_CONTENT.sha256(statement)

    return edit


def test_rewritten_clearance_scope_with_a_recomputed_chain_is_caught_by_the_checkpoint(
    case_at,
):
    case = case_at("cleared")
    assert services.sign_checkpoint() is not None
    statement = case.clearance_statements.get()
    issued = case.events.get(verb="issue_clearance")

    forged = "Any use whatsoever, including open weights."
    as_owner(
        (
            "UPDATE clearance_clearancestatement SET scope = %s WHERE id = %s",
            [forged, statement.pk],
        )
    )
    rechain(case, from_seq=issued.seq, edit=forged_scope_event(statement.number, forged))

    # What the red team saw: the chain alone holds, every hash and link recomputed.
    assert chain_links_hold(case)
    with pytest.raises(CommandError, match=rf"{case.number}: .*the timeline was rewritten"):
        verify_timeline()


def test_rewritten_statement_scope_alone_is_caught_by_the_event_content_hash(case_at):
    case = case_at("cleared")
    statement = case.clearance_statements.get()
    as_owner(
        (
            "UPDATE clearance_clearancestatement SET scope = %s WHERE id = %s",
            ["Any use whatsoever.", statement.pk],
        )
    )
    issued = case.events.get(verb="issue_clearance")
    with pytest.raises(
        CommandError,
        match=rf"{case.number}: timeline broken at event #{issued.seq} .*clearance statement "
        "it records was changed",
    ):
        verify_timeline()


def test_two_newest_events_deleted_are_caught_by_the_checkpoint(case_at):
    case = case_at("findings")
    services.sign_checkpoint()
    newest = list(case.events.order_by("-seq")[:2])
    as_owner(("DELETE FROM cases_caseevent WHERE id IN (%s, %s)", [e.pk for e in newest]))

    # What the red team saw: the chain that is left holds link by link.
    assert chain_links_hold(case)
    with pytest.raises(CommandError, match=r"its newest events were removed"):
        verify_timeline()


def test_a_later_checkpoint_does_not_sign_over_a_cut_chain(case_at):
    case = case_at("findings")
    services.sign_checkpoint()
    newest = case.events.order_by("-seq").first()
    as_owner(("DELETE FROM cases_caseevent WHERE id = %s", [newest.pk]))
    services.record_event(case=case, actor=None, verb="note_added", details={})
    services.record_event(case=case, actor=None, verb="note_added", details={})

    services.sign_checkpoint()
    assert not CheckpointHead.objects.filter(case=case, checkpoint__seq=2).exists()
    with pytest.raises(CommandError, match="the timeline was rewritten"):
        verify_timeline()


def test_edited_message_body_is_caught_by_the_event_content_hash(cast, case_at):
    case = case_at("documentation")
    message = services.post_message(case=case, actor=cast.liaison, body="We ship on 1 June.")
    as_owner(
        ("UPDATE cases_message SET body = %s WHERE id = %s", ["We ship on 1 July.", message.pk])
    )
    with pytest.raises(CommandError, match="message it records was changed"):
        verify_timeline()
    assert Message.objects.get(pk=message.pk).body == "We ship on 1 July."


def test_forged_checkpoint_head_is_caught_by_the_checkpoint_signature(case_at):
    case = case_at("access")
    checkpoint = services.sign_checkpoint()
    rechain(case, from_seq=1, edit=lambda e: e.details.update(forged=True))
    head = case.events.order_by("-seq").first()
    as_owner(
        (
            "UPDATE cases_checkpointhead SET hash = %s WHERE checkpoint_id = %s AND case_id = %s",
            [head.hash, checkpoint.pk, case.pk],
        )
    )
    with pytest.raises(CommandError, match=r"checkpoint #1 no longer matches the heads it signed"):
        verify_timeline()


def test_checkpoint_resigned_with_another_key_is_refused(case_at):
    case = case_at("triage")
    checkpoint = services.sign_checkpoint()
    rechain(case, from_seq=1, edit=lambda e: e.details.update(forged=True))
    head = case.events.order_by("-seq").first()
    forged_heads = [CheckpointHead(case_number=case.number, seq=head.seq, hash=head.hash)]
    payload = services.checkpoint_payload(checkpoint, forged_heads)
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    signature = other_key.sign(payload, padding.PKCS1v15(), hashes.SHA256())
    as_owner(
        (
            "UPDATE cases_checkpointhead SET hash = %s WHERE checkpoint_id = %s",
            [head.hash, checkpoint.pk],
        ),
        (
            "UPDATE cases_timelinecheckpoint SET root = %s, signature = %s WHERE id = %s",
            [
                hashlib.sha256(payload).hexdigest(),
                base64.b64encode(signature).decode(),
                checkpoint.pk,
            ],
        ),
    )
    with pytest.raises(CommandError, match=r"checkpoint #1's signature does not hold"):
        verify_timeline()


def test_untouched_timelines_and_checkpoints_verify(cast, case_at):
    case = case_at("cleared")
    services.post_message(case=case, actor=cast.manager, body="Internal view.", internal=True)
    first = services.sign_checkpoint()
    assert services.sign_checkpoint() is None  # nothing moved since
    services.record_event(case=case, actor=None, verb="note_added", details={})
    second = services.sign_checkpoint()
    assert (second.seq, second.prev_root) == (2, first.root)
    assert list(second.heads.values_list("case__number", flat=True)) == [case.number]
    out = verify_timeline()
    assert "all intact" in out and "2 checkpoints hold" in out


def test_checkpoint_root_is_the_sha256_of_its_signed_payload(case_at):
    case_at("triage")
    checkpoint = services.sign_checkpoint()
    payload = services.checkpoint_payload(checkpoint, checkpoint.heads.all())
    assert hashlib.sha256(payload).hexdigest() == checkpoint.root
    assert services.checkpoint_problem(checkpoint) is None


def test_deleted_checkpoint_in_the_middle_is_caught(case_at):
    case = case_at("triage")
    services.sign_checkpoint()
    services.record_event(case=case, actor=None, verb="note_added", details={})
    middle = services.sign_checkpoint()
    services.record_event(case=case, actor=None, verb="note_added", details={})
    services.sign_checkpoint()
    as_owner(
        ("DELETE FROM cases_checkpointhead WHERE checkpoint_id = %s", [middle.pk]),
        ("DELETE FROM cases_timelinecheckpoint WHERE id = %s", [middle.pk]),
    )
    with pytest.raises(CommandError, match="checkpoint #3 does not follow checkpoint #1"):
        verify_timeline()


# Committed rows, as in production: TRUNCATE is refused outright, not for pending checks.
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "table", ["cases_caseevent", "cases_timelinecheckpoint", "cases_checkpointhead"]
)
def test_database_refuses_truncate_of_the_timeline_and_its_checkpoints(case_at, table):
    case_at("triage")
    services.sign_checkpoint()
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"TRUNCATE {table} CASCADE")
    assert TimelineCheckpoint.objects.exists() and CaseEvent.objects.exists()


@pytest.mark.parametrize("sql", ["UPDATE {t} SET seq = seq + 100", "DELETE FROM {t}"])
@pytest.mark.parametrize("table", ["cases_timelinecheckpoint", "cases_checkpointhead"])
def test_database_refuses_update_and_delete_of_checkpoints(case_at, table, sql):
    case_at("triage")
    services.sign_checkpoint()
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql.format(t=table))


def test_checkpoint_task_runs_on_the_beat_schedule(settings):
    from caisi_portal.celery import app

    app.loader.import_default_modules()
    app.finalize()
    entries = {entry["task"]: entry for entry in app.conf.beat_schedule.values()}
    assert "cases.tasks.checkpoint_timelines" in entries


def test_checkpoint_task_signs_by_name(case_at):
    case_at("triage")
    assert checkpoint_timelines() == 1
    assert checkpoint_timelines() is None
