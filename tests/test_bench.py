"""Keep the benchmark's seeder honest: the data it makes is data the portal accepts."""

import pytest
from django.db import connection

from cases import services
from cases.models import Case, CaseEvent
from cases.services import verify_chain
from deadlines.models import Deadline
from findings.models import Finding
from submissions.models import Document, ModelVersion


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the seeder loads with COPY")
def test_seeder_makes_the_cases_asked_for_with_timelines_whose_hash_chains_verify(liaison):
    from bench.seed import seed

    counts = seed(cases=50)

    assert Case.objects.count() == counts["case"] == 50
    assert CaseEvent.objects.count() == counts["event"] >= 50 * 8
    assert ModelVersion.objects.count() == counts["version"] > 0
    assert Document.objects.count() == counts["document"] > 0
    assert Finding.objects.count() == counts["finding"] > 0
    assert Deadline.objects.pending().count() > 0
    assert Case.objects.values("status").distinct().count() >= 8
    assert [case.number for case in Case.objects.all() if verify_chain(case)] == []
    # The portal's own numbering carries on after the seeded cases.
    opened = services.open_case(actor=liaison, title="After the seed", model_name="m")
    assert Case.objects.filter(number=opened.number).count() == 1
