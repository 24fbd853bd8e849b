"""The timeline is append-only and its hash chain exposes any change behind the portal's back."""

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from cases import services
from cases.models import AppendOnlyError, CaseEvent
from cases.services import verify_chain
from core import cache as generations


def raw(sql: str, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_database_refuses_update_of_an_event(case_at):
    event = case_at("triage").events.first()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        raw("UPDATE cases_caseevent SET verb = 'forged' WHERE id = %s", [event.pk])
    event.refresh_from_db()
    assert event.verb == "case_opened"


def test_database_refuses_delete_of_an_event(case_at):
    case = case_at("triage")
    count = case.events.count()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        raw("DELETE FROM cases_caseevent WHERE case_id = %s", [case.pk])
    assert case.events.count() == count


def test_orm_refuses_to_change_or_delete_events(case_at):
    event = case_at("intake").events.first()
    event.verb = "forged"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        CaseEvent.objects.filter(pk=event.pk).update(verb="forged")
    with pytest.raises(AppendOnlyError):
        CaseEvent.objects.filter(pk=event.pk).delete()


def test_verify_timeline_passes_on_an_untouched_history(case_at, capsys):
    case_at("findings")
    call_command("verify_timeline")
    assert "all intact" in capsys.readouterr().out


def tamper(sql: str, params):
    """Change a row as a database superuser could, with triggers switched off."""
    raw("SET session_replication_role = replica")
    try:
        raw(sql, params)
    finally:
        raw("SET session_replication_role = DEFAULT")


def test_verifier_names_the_first_altered_event(case_at):
    case = case_at("documentation")
    target = case.events.order_by("seq")[2]
    tamper(
        "UPDATE cases_caseevent SET details = '{\"forged\": true}'::jsonb WHERE id = %s",
        [target.pk],
    )

    assert verify_chain(case).pk == target.pk
    with pytest.raises(CommandError, match=rf"{case.number}: timeline broken at event #3"):
        call_command("verify_timeline")


def test_verifier_catches_a_deleted_event(case_at):
    case = case_at("documentation")
    target = case.events.order_by("seq")[1]
    tamper("DELETE FROM cases_caseevent WHERE id = %s", [target.pk])
    with pytest.raises(CommandError, match="timeline broken at event #3"):
        call_command("verify_timeline", case.number)


def test_verifier_catches_a_rehashed_event_by_the_broken_link(case_at):
    case = case_at("access")
    first, second = case.events.order_by("seq")[:2]
    first.verb = "forged"
    forged_hash = first.compute_hash(case.number)
    tamper(
        "UPDATE cases_caseevent SET verb = 'forged', hash = %s WHERE id = %s",
        [forged_hash, first.pk],
    )
    assert verify_chain(case).pk == second.pk


def case_reads(queries) -> list[str]:
    return [
        q["sql"]
        for q in queries
        if q["sql"].startswith("SELECT") and 'FROM "cases_case"' in q["sql"]
    ]


def test_an_event_reads_its_case_only_to_lock_it(case_at):
    case = case_at("triage")
    with CaptureQueriesContext(connection) as queries:
        services.record_event(case=case, actor=None, verb="note_added", details={})
    assert [" FOR UPDATE" in sql for sql in case_reads(queries)] == [True]


@pytest.mark.usefixtures("shared_cache")
def test_an_event_bumps_the_shared_cache_without_reading_its_case_again(case_at):
    case = case_at("triage")
    generation = generations.case_generation(case.number)
    before = cache.get(generation)
    with CaptureQueriesContext(connection) as queries:
        services.record_event(case=case, actor=None, verb="note_added", details={})
    assert [" FOR UPDATE" in sql for sql in case_reads(queries)] == [True]
    assert cache.get(generation) != before
