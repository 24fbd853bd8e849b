"""Rows read with their parent (core.folding) are the rows a query reads, field for field."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.models import Case
from core import folding
from core.folding import Fold
from review.case_page import CASE_PAGE_FOLDS, case_for_page
from submissions.models import AccessGrant, Document, ModelVersion

pytestmark = pytest.mark.django_db


def fields(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def test_folded_rows_equal_the_rows_read_by_query(cast, case_at):
    case = case_at("findings")
    names = [fold.name for fold in CASE_PAGE_FOLDS]
    expected = {name: [fields(r) for r in getattr(case, name).all()] for name in names}
    assert expected["versions"] and expected["findings"] is not None
    [folded] = folding.fetch(Case.objects.filter(pk=case.pk), CASE_PAGE_FOLDS)
    with CaptureQueriesContext(connection) as captured:
        for name in names:
            assert [fields(r) for r in getattr(folded, name).all()] == expected[name], name
    assert len(captured) == 0
    # The case's rows name it without a read; their own foreign keys read with them too.
    grant = folded.access_grants.all()[0]
    with CaptureQueriesContext(connection) as captured:
        assert grant.case is folded
        assert grant.created_by_id and (grant.revoked_by is None) == (grant.revoked_by_id is None)
    assert len(captured) == 0


def test_a_case_with_nothing_folded_has_empty_lists(cast, case_at):
    case = case_at("intake")
    folds = [Fold("access_grants", AccessGrant.objects.all(), related=("revoked_by",))]
    [folded] = folding.fetch(Case.objects.filter(pk=case.pk), folds)
    assert folding.prefetched(folded, "access_grants") == []
    assert folding.prefetched(folded, "documents") is None


def test_the_case_page_read_answers_the_version_under_test_without_a_query(cast, case_at):
    case = case_at("findings")
    page_case = case_for_page(cast.manager, case.number)
    with CaptureQueriesContext(connection) as captured:
        version = ModelVersion.objects.under_test(page_case)
        latest = page_case.documents.latest_per_kind()
    assert len(captured) == 0
    assert version == ModelVersion.objects.under_test(case)
    assert latest == Document.objects.filter(case=case).latest_per_kind()


def test_the_case_page_read_refuses_a_case_the_person_may_not_see(cast, case_at):
    from django.http import Http404

    case = case_at("findings")
    with pytest.raises(Http404):
        case_for_page(cast.other_liaison, case.number)


def test_a_fold_that_reads_the_parent_table_itself_is_refused(cast, case_at):
    # Its subquery would name the parent's table, and the outer row with it.
    if connection.vendor != "postgresql":
        pytest.skip("Folding into one query is PostgreSQL's; elsewhere folds are prefetches.")
    case = case_at("triage")
    folds = (Fold("versions", ModelVersion.objects.order_by("case__number")),)
    with pytest.raises(ValueError, match="cannot be folded"):
        folding.fetch(Case.objects.filter(pk=case.pk), folds)
