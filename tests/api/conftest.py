"""Fixtures for the REST API: token clients for each member of the cast, and webhook workers."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts import organizations
from accounts.models import Membership
from accounts.services import create_api_token
from tests.api.receivers import embedded_default as embedded_default  # noqa: F401 - a fixture
from tests.api.receivers import live_worker as live_worker  # noqa: F401 - a fixture
from tests.conftest import fresh
from tests.factories import LiaisonFactory


@pytest.fixture(autouse=True)
def fresh_throttle_budget():
    # Throttle counters live in the cache; each test starts with a full budget.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def token_for(db):
    """Return a function that creates a token for a user and returns the token text."""

    def make(user, *, read_only: bool = False, expires_at=None, name: str = "test") -> str:
        _, raw = create_api_token(user=user, name=name, read_only=read_only, expires_at=expires_at)
        return raw

    return make


@pytest.fixture
def client_for(token_for):
    """Return a function that gives an API client authenticated by a new token of this user."""

    def make(user, *, read_only: bool = False) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(user, read_only=read_only)}")
        return client

    return make


# --- every role a token can stand for (tests/api/roles.py) ---


@pytest.fixture
def admin(acme, liaison):
    person = LiaisonFactory(email="admin@acme.example", organization=acme)
    Membership.objects.filter(user=person).update(is_administrator=True)
    return fresh(person)


@pytest.fixture
def service_account(admin):
    return organizations.create_service_account(actor=admin, name="release pipeline")


@pytest.fixture
def people(cast, admin, service_account):
    return {
        "liaison": cast.liaison,
        "company_admin": admin,
        "service_read_only": service_account,
        "service_read_write": service_account,
        "case_manager": cast.manager,
        "evaluator": cast.evaluator,
        "official": cast.official,
        "auditor": cast.auditor,
        "unassigned_evaluator": cast.other_evaluator,
        "other_liaison": cast.other_liaison,
    }


@pytest.fixture
def token_as(people, admin, service_account, token_for):
    """Return a function giving a new token of the named role (tests/api/roles.py)."""

    def make(role: str) -> str:
        if not role.startswith("service_"):
            return token_for(people[role])
        _, raw = organizations.create_service_token(
            actor=admin,
            account=service_account,
            name=role,
            read_only=role == "service_read_only",
        )
        return raw

    return make


@pytest.fixture
def api_as(token_as):
    """Return a function giving an API client holding a token of the named role."""

    def make(role: str) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_as(role)}")
        return client

    return make
