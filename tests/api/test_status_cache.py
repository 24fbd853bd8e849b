"""The status API from the shared cache: no query when nothing changed, never stale.

These tests run against a real Redis cache (the test broker's database + 1):
a revoked token, a deactivated person, a membership, an evaluator or a status
that changed must show on the very next request.
"""

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import override_settings
from rest_framework.test import APIClient

from accounts.models import ApiToken, Membership
from accounts.services import revoke_api_token
from core import cache as generations
from review.services import assign_case_manager, assign_evaluator, declare_conflict

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shared_cache")]


def status(client, case, etag=None):
    headers = {"HTTP_IF_NONE_MATCH": etag} if etag else {}
    return client.get(f"/api/v1/cases/{case.number}/status/", **headers)


def warm(client, case):
    """Ask twice, so the second answer came from the cache; return its ETag."""
    assert status(client, case).status_code == 200
    response = status(client, case)
    assert response.status_code == 200
    return response["ETag"]


def test_unchanged_status_costs_no_query(client_for, cast, case_at, django_assert_num_queries):
    case = case_at("triage")
    client = client_for(cast.liaison)
    etag = warm(client, case)
    with django_assert_num_queries(0):
        cached = status(client, case)
        not_modified = status(client, case, etag)
    assert cached.status_code == 200 and cached.json()["status"] == "triage"
    assert cached["ETag"] == etag
    assert not_modified.status_code == 304


def test_revoked_token_is_refused_at_once(token_for, cast, case_at):
    case = case_at("triage")
    raw = token_for(cast.liaison)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    warm(client, case)
    token = ApiToken.objects.get(user=cast.liaison)
    revoke_api_token(actor=cast.liaison, token=token)
    response = status(client, case)
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


def test_deactivated_person_is_refused_at_once(client_for, cast, case_at):
    case = case_at("triage")
    client = client_for(cast.liaison)
    warm(client, case)
    cast.liaison.is_active = False
    cast.liaison.save(update_fields=["is_active"])
    assert status(client, case).status_code == 401


def test_status_change_shows_at_once(client_for, cast, case_at):
    case = case_at("triage")
    client = client_for(cast.liaison)
    etag = warm(client, case)
    assign_case_manager(case=case, actor=cast.manager, manager=cast.manager)
    response = status(client, case, etag)
    assert response.status_code == 200
    assert response.json()["status"] != "triage"
    assert response["ETag"] != etag


def test_another_company_still_gets_404_for_a_cached_case(client_for, cast, case_at):
    case = case_at("triage")
    warm(client_for(cast.liaison), case)
    other = client_for(cast.other_liaison)
    assert status(other, case).status_code == 404
    assert status(other, case).status_code == 404


def test_membership_moved_to_another_company_loses_the_case_at_once(
    client_for, cast, case_at, globex
):
    case = case_at("triage")
    client = client_for(cast.liaison)
    warm(client, case)
    membership = Membership.objects.get(user=cast.liaison)
    membership.organization = globex
    membership.save()
    assert status(client, case).status_code == 404


def test_evaluator_taken_off_a_case_loses_it_at_once(client_for, cast, case_at):
    case = case_at("testing")
    assign_evaluator(case=case, actor=cast.manager, evaluator=cast.evaluator)
    client = client_for(cast.evaluator)
    warm(client, case)
    case.evaluators.remove(cast.evaluator)
    assert status(client, case).status_code == 404


def test_conflict_of_interest_moves_the_access_generation(cast, acme):
    generations.read("nothing", generations.ACCESS)
    before = cache.get(generations.ACCESS)
    declare_conflict(actor=cast.evaluator, organization=acme, reason="Former employee.")
    assert cache.get(generations.ACCESS) not in (None, before)


def test_a_lost_generation_falls_back_to_the_database(
    client_for, cast, case_at, django_assert_max_num_queries
):
    case = case_at("triage")
    client = client_for(cast.liaison)
    warm(client, case)
    cache.delete(generations.ACCESS)  # evicted, or Redis restarted empty
    with django_assert_max_num_queries(4) as queries:
        response = status(client, case)
    assert response.status_code == 200 and response.json()["number"] == case.number
    assert len(queries) >= 1  # read again from the database, not from the old entries


@pytest.mark.django_db(transaction=True)
def test_generation_is_bumped_again_after_the_commit(cast, case_at):
    case = case_at("triage")
    key = generations.case_generation(case.number)
    with transaction.atomic():
        assign_case_manager(case=case, actor=cast.manager, manager=cast.manager)
        during = cache.get(key)
        assert during is not None
    assert cache.get(key) not in (None, during)


def test_a_number_no_case_can_have_is_a_404_not_a_cache_key(client_for, cast):
    client = client_for(cast.liaison)
    for number in ("x" * 300, "CAISI 2026 0001", "%00", "Ω"):
        response = client.get(f"/api/v1/cases/{number}/status/")
        assert response.status_code == 404, number
    assert not cache._cache.get_client().keys("*casestatus*")


def test_the_token_budget_is_counted_in_redis(case_at, cast, client_for, settings):
    settings.API_THROTTLE_RATE = "3/min"
    case = case_at("triage")
    client = client_for(cast.liaison)
    assert [status(client, case).status_code for _ in range(3)] == [200, 200, 200]
    refused = status(client, case)
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    assert status(client_for(cast.liaison), case).status_code == 200


def test_an_unreachable_cache_falls_back_to_the_database(client_for, cast, case_at):
    case = case_at("triage")
    client, other = client_for(cast.liaison), client_for(cast.other_liaison)
    nowhere = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        }
    }
    with override_settings(CACHES=nowhere):
        assert generations.enabled()
        response = status(client, case)
        assert response.status_code == 200 and response.json()["status"] == "triage"
        assert status(other, case).status_code == 404


def test_the_cached_token_carries_no_password_hash(client_for, cast, case_at):
    case = case_at("triage")
    client = client_for(cast.liaison)
    assert status(client, case).status_code == 200
    [key] = cache._cache.get_client().keys("*apitoken:*")
    raw = cache._cache.get_client().get(key)
    assert cast.liaison.password.encode() not in raw
    assert b"md5$" not in raw and b"pbkdf2" not in raw


def round_trips(monkeypatch) -> list:
    """Record each command (or pipeline of commands) sent to Redis from now on."""
    from redis.connection import AbstractConnection

    sent = []
    send = AbstractConnection.send_packed_command

    def counted(self, command, check_health=True):
        sent.append(command)
        return send(self, command, check_health)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", counted)
    return sent


def test_a_poll_with_a_token_seen_before_is_one_round_trip_and_no_query(
    client_for, cast, case_at, monkeypatch, django_assert_num_queries
):
    case = case_at("triage")
    client = client_for(cast.liaison)
    etag = warm(client, case)
    sent = round_trips(monkeypatch)
    with django_assert_num_queries(0):
        assert status(client, case, etag).status_code == 304
    # The token, both generations, the answer and the budget: one pipeline.
    assert len(sent) == 1


def test_each_poll_is_counted_once_against_the_token_budget(client_for, cast, case_at):
    from accounts.models import ApiToken

    case = case_at("triage")
    client = client_for(cast.liaison)
    for _ in range(5):
        assert status(client, case).status_code == 200
    token = ApiToken.objects.get(user=cast.liaison)
    redis = cache._cache.get_client()
    counters = redis.keys(f"*throttle_token_token-{token.pk}:*")
    assert sum(int(redis.get(key)) for key in counters) == 5


def test_a_persons_second_token_uses_the_answer_the_first_one_cached(
    client_for, cast, case_at, django_assert_max_num_queries
):
    case = case_at("triage")
    first, second = client_for(cast.liaison), client_for(cast.liaison)
    etag = warm(first, case)
    with django_assert_max_num_queries(3) as queries:  # the second token's own first use
        response = status(second, case, etag)
    assert response.status_code == 304
    assert not any("cases_case" in q["sql"] for q in queries.captured_queries)
