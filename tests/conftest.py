"""The standard cast: two companies' liaisons and one CAISI person per staff role."""

import os
from types import SimpleNamespace
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db.backends.postgresql.operations import DatabaseOperations as PostgresOperations

from accounts.models import Role, User
from cases import services
from review import demo
from tests.factories import LiaisonFactory, OrganizationFactory, StaffFactory
from tests.resolver import Resolver

ARTIFACTS = os.environ.get("TEST_ARTIFACTS", "test-artifacts")


def _flush_as_database_owner(sql_flush):
    """Let the test database be emptied between transactional tests.

    The timeline's tables refuse TRUNCATE (cases/migrations/0013); emptying the
    test database is the owner's maintenance, done with triggers switched off.
    """

    def flush(self, style, tables, **kwargs):
        statements = sql_flush(self, style, tables, **kwargs)
        if statements:
            statements = ["SET LOCAL session_replication_role = replica", *statements]
        return statements

    return flush


PostgresOperations.sql_flush = _flush_as_database_owner(PostgresOperations.sql_flush)


def fresh(user: User) -> User:
    """Reload a user so cached role and membership are current."""
    return User.objects.get(pk=user.pk)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # The cast signs in with real passwords; a cheap hasher keeps the suite quick.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def security_key_not_required(settings):
    # Relaxed for the suite: the cast's staff pass TOTP, as before security keys. The
    # tests of the rule itself (tests/e2e/test_security_key_journey.py) switch it on.
    settings.STAFF_REQUIRE_WEBAUTHN = False


@pytest.fixture(autouse=True)
def resolver(monkeypatch) -> Resolver:
    """DNS as the tests say: `.example` names resolve to a public address, others as told.

    Webhook receivers must resolve to public addresses when registered, and the
    tests' names are under .example, which real DNS never answers.
    """
    fake = Resolver()
    monkeypatch.setattr("socket.getaddrinfo", fake.getaddrinfo)
    return fake


def confirmed_authenticator(user: User):
    """Return the person's confirmed TOTP device, giving them one if they have none."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="Test authenticator")


def current_totp_code(device) -> str:
    """Return the code the person's authenticator app would show now."""
    from django_otp.oath import TOTP

    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


@pytest.fixture(autouse=True)
def second_factor_on_test_sign_in(monkeypatch):
    """Let tests that sign staff in with `force_login` or `login` pass the second factor.

    Staff must pass a second factor before any page (accounts/middleware.py). Tests
    that sign someone in through the test client record it in the session exactly
    as the verification page does, with a real confirmed device. Tests of the
    second factor itself sign in through the form and take the real steps.
    """
    from django.test import Client

    from accounts import services as account_services
    from accounts import session_keys

    original_force_login = Client.force_login
    original_login = Client.login

    def mark_passed(client, user):
        if user is None or not account_services.requires_second_factor(user):
            return
        session = client.session
        session[session_keys.SECOND_FACTOR_DEVICE] = confirmed_authenticator(user).persistent_id
        session.save()

    def force_login(self, user, backend=None):
        original_force_login(self, user, backend)
        mark_passed(self, user)

    def login(self, **credentials):
        signed_in = original_login(self, **credentials)
        if signed_in:
            mark_passed(self, User.objects.get(pk=self.session["_auth_user_id"]))
        return signed_in

    monkeypatch.setattr(Client, "force_login", force_login)
    monkeypatch.setattr(Client, "login", login)


@pytest.fixture
def acme(db):
    return OrganizationFactory(name="Acme AI", slug="acme")


@pytest.fixture
def globex(db):
    return OrganizationFactory(name="Globex Labs", slug="globex")


@pytest.fixture
def liaison(acme):
    return fresh(LiaisonFactory(email="liaison@acme.example", organization=acme))


@pytest.fixture
def other_liaison(globex):
    return fresh(LiaisonFactory(email="liaison@globex.example", organization=globex))


@pytest.fixture
def manager(db):
    return StaffFactory(email="manager@caisi.example", staff_role=Role.CASE_MANAGER)


@pytest.fixture
def evaluator(db):
    return StaffFactory(email="evaluator@caisi.example", staff_role=Role.EVALUATOR)


@pytest.fixture
def other_evaluator(db):
    return StaffFactory(email="evaluator2@caisi.example", staff_role=Role.EVALUATOR)


@pytest.fixture
def official(db):
    return StaffFactory(email="official@caisi.example", staff_role=Role.CLEARANCE_OFFICIAL)


@pytest.fixture
def auditor(db):
    return StaffFactory(email="auditor@caisi.example", staff_role=Role.AUDITOR)


@pytest.fixture
def cast(liaison, other_liaison, manager, evaluator, other_evaluator, official, auditor):
    return SimpleNamespace(
        liaison=liaison,
        other_liaison=other_liaison,
        manager=manager,
        evaluator=evaluator,
        other_evaluator=other_evaluator,
        official=official,
        auditor=auditor,
    )


@pytest.fixture
def case_at(cast):
    """Return a function that opens an Acme case and walks it to a status."""

    def make(status: str = "intake", title: str = "Atlas review"):
        case = services.open_case(actor=cast.liaison, title=title, model_name="Atlas")
        if status != "intake":
            case = demo.advance(
                case,
                status,
                {
                    "liaison": cast.liaison,
                    "manager": cast.manager,
                    "evaluator": cast.evaluator,
                    "official": cast.official,
                },
            )
        return case

    return make


@pytest.fixture
def artifacts_dir():
    os.makedirs(ARTIFACTS, exist_ok=True)
    return ARTIFACTS


def redis_cache_url() -> str:
    """A Redis database for the shared cache: TEST_CACHE_URL, else the one after the broker's."""
    from django.conf import settings

    explicit = os.environ.get("TEST_CACHE_URL")
    if explicit:
        return explicit
    broker = urlsplit(settings.CELERY_BROKER_URL)
    number = int(broker.path.strip("/") or 0) + 1
    return urlunsplit(broker._replace(path=f"/{number}"))


@pytest.fixture
def shared_cache(settings):
    """The cache every process shares in production (Redis), emptied before and after."""
    from django.core.cache import cache

    from core import cache as generations

    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.skip("The shared cache needs Redis (CELERY_BROKER_URL).")
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_cache_url(),
        }
    }
    assert generations.enabled()
    cache.clear()
    yield
    cache.clear()
