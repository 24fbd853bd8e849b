"""The standard cast: two companies' liaisons and one CAISI person per staff role."""

import os
from types import SimpleNamespace

import pytest

from accounts.models import Role, User
from cases import demo, services
from tests.factories import LiaisonFactory, OrganizationFactory, StaffFactory

ARTIFACTS = os.environ.get("TEST_ARTIFACTS", "test-artifacts")


def fresh(user: User) -> User:
    """Reload a user so cached role and membership are current."""
    return User.objects.get(pk=user.pk)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # The cast signs in with real passwords; a cheap hasher keeps the suite quick.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


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
