"""Fixtures for the REST API: token clients for each member of the cast."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.services import create_api_token


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
