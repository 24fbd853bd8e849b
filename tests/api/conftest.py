"""Fixtures for the REST API: token clients for each member of the cast, and webhook workers."""

import pytest
from celery.contrib.testing.worker import start_worker
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.services import create_api_token
from caisi_portal.celery import app
from tests.api.receivers import wait_for
from webhooks import background


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


@pytest.fixture
def live_worker(transactional_db, settings):
    """A real Celery worker thread consuming this suite's Redis broker."""
    settings.WEBHOOK_RETRY_BASE_SECONDS = 1
    if app.conf.task_always_eager:
        pytest.skip("needs CELERY_BROKER_URL pointing at Redis")
    app.control.purge()  # messages left by earlier tests name rows that are gone
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30) as worker:
        yield worker


@pytest.fixture
def embedded_default(transactional_db, settings):
    """No broker: tasks run in-process, and webhooks go to the background sender."""
    settings.WEBHOOK_RETRY_BASE_SECONDS = 1
    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before
    wait_for(lambda: background.sender.idle(), message="the background sender is still busy")
