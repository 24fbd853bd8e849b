"""Races on real PostgreSQL: row locks keep one winner and distinct case numbers."""

import threading

import pytest
from django.db import connection

from cases import services
from cases.models import Case, CaseEvent
from core.errors import ActionRefused
from review.services import assign_case_manager

pytestmark = pytest.mark.django_db(transaction=True)


def run_together(count: int, work) -> list:
    """Start `count` threads at one barrier; return what each returned or raised."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def target(i):
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as exc:  # collected and asserted on by the caller
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_two_threads_racing_one_transition_leave_one_winner_and_one_event(case_at, cast):
    assert connection.vendor == "postgresql"
    case = case_at("triage")

    results = run_together(
        2,
        lambda i: assign_case_manager(case=case, actor=cast.manager, manager=cast.manager),
    )

    winners = [r for r in results if isinstance(r, Case)]
    losers = [r for r in results if isinstance(r, ActionRefused)]
    assert len(winners) == 1 and len(losers) == 1, results
    assert CaseEvent.objects.filter(case=case, verb="assign_case_manager").count() == 1
    assert services.verify_chain(case) is None


def test_many_threads_opening_cases_at_once_get_distinct_numbers(cast):
    results = run_together(
        12,
        lambda i: [
            services.open_case(actor=cast.liaison, title=f"Race {i}-{n}", model_name="M").number
            for n in range(4)
        ],
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    numbers = [number for batch in results for number in batch]
    assert len(numbers) == 48
    assert len(set(numbers)) == 48


def test_concurrent_events_on_one_case_keep_the_chain_linear(case_at, cast):
    case = case_at("intake")
    results = run_together(
        8,
        lambda i: services.record_event(
            case=case, actor=cast.liaison, verb="note_added", details={"n": i}
        ),
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    seqs = list(CaseEvent.objects.filter(case=case).order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))
    assert services.verify_chain(case) is None
