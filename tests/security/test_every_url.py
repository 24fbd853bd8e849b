"""Every URL pattern of the portal, requested by every role, against an expectation table.

The routes come from the resolver itself, so a URL added without a row here
fails `test_every_route_has_a_row_in_the_table`: what a new page shows to whom
has to be decided on purpose. Each response body is also searched for marker
strings that exist only in the other company's records.
"""

import re
from types import SimpleNamespace

import pytest
from django.test import Client

from tests.security.conftest import (
    ACME_DRAFT_FINDING,
    ACME_INTERNAL_MESSAGE,
    ACME_MARKERS,
    GLOBEX_MARKERS,
    ROLES,
    person_of,
)
from tests.security.urlwalk import every_route

# Columns, in the order of ROLES: anonymous, Acme's liaison, Globex's liaison, the case
# manager, the evaluator assigned to the Acme cases, an evaluator assigned only to Globex,
# the clearance official, the auditor, a case manager and an evaluator who declared a
# conflict with Acme (the evaluator had been assigned to its cases before). Case-scoped rows
# name Acme's case in findings; to the conflicted two it does not exist.
# A GET on a POST-only page is a 405 for everyone signed in, before any case is looked up
# (the outsiders' test checks a missing case gets the same answer); anonymous web visitors
# are sent to sign in (302).
#                                         anon liai othL mgr  eval othE offi audi cnfM cnfE
EXPECTED_GET = {
    "": (302, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "healthz": (200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "accounts/login/": (200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "accounts/logout/": (405, 405, 405, 405, 405, 405, 405, 405, 405, 405),
    "accounts/password_change/": (302, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "accounts/password_change/done/": (302, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "accounts/password_reset/": (200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "accounts/password_reset/done/": (200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "accounts/reset/<uidb64>/<token>/": (200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "accounts/reset/done/": (200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    # Two-step verification: everyone here has passed it already, so its page sends them on.
    "accounts/two-step/": (302, 302, 302, 302, 302, 302, 302, 302, 302, 302),
    "accounts/two-step/set-up/": (302, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "accounts/two-step/recovery-codes/": (302, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "me/security/": (302, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "me/security/recovery-codes/": (302, 405, 405, 405, 405, 405, 405, 405, 405, 405),
    # Each person's own security keys; the key in the URL is the case manager's.
    "me/security/keys/": (302, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "me/security/keys/<int:pk>/remove/": (302, 405, 405, 405, 405, 405, 405, 405, 405, 405),
    # Single sign-on: no provider is configured here, so its pages do not exist
    # (tests/e2e/test_sso_journey.py signs in through real ones).
    "accounts/sso/company/": (404, 404, 404, 404, 404, 404, 404, 404, 404, 404),
    "accounts/sso/company/callback/": (404, 404, 404, 404, 404, 404, 404, 404, 404, 404),
    "accounts/sso/company/verify/": (404, 404, 404, 404, 404, 404, 404, 404, 404, 404),
    "accounts/sso/staff/": (404, 404, 404, 404, 404, 404, 404, 404, 404, 404),
    "accounts/sso/staff/callback/": (404, 404, 404, 404, 404, 404, 404, 404, 404, 404),
    "verify/": (200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    # Security keys: the enrolment page, and the library's POST-only ceremonies.
    "accounts/two-step/security-key/": (302, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "webauthn/registration/begin/": (403, 405, 405, 405, 405, 405, 405, 405, 405, 405),
    "webauthn/registration/complete/": (403, 405, 405, 405, 405, 405, 405, 405, 405, 405),
    "webauthn/authentication/begin/": (403, 405, 405, 405, 405, 405, 405, 405, 405, 405),
    "webauthn/authentication/complete/": (403, 405, 405, 405, 405, 405, 405, 405, 405, 405),
    "webauthn/jsi18n/": (200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "verify/<str:code>/": (200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "api/schema/": (200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "api/docs/": (200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "api/v1/": (404, 404, 404, 404, 404, 404, 404, 404, 404, 404),
    # Personal pages. The token and webhook in the URLs belong to the case manager, the
    # conflict to the conflicted case manager.
    "me/conflicts/": (302, 403, 403, 200, 200, 200, 200, 200, 200, 200),
    "me/conflicts/<int:pk>/end/": (302, 405, 405, 405, 405, 405, 405, 405, 405, 405),
    "me/api-tokens/": (302, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "me/api-tokens/<int:pk>/revoke/": (302, 405, 405, 405, 405, 405, 405, 405, 405, 405),
    "me/webhooks/": (302, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "me/webhooks/<int:pk>/": (302, 404, 404, 200, 404, 404, 404, 404, 404, 404),
    "me/webhooks/<int:pk>/deactivate/": (302, 405, 405, 405, 405, 405, 405, 405, 405, 405),
    "me/webhooks/<int:pk>/rotate-secret/": (302, 405, 405, 405, 405, 405, 405, 405, 405, 405),
    "me/webhooks/<int:pk>/delete/": (302, 405, 405, 405, 405, 405, 405, 405, 405, 405),
    "me/webhooks/<int:pk>/test/": (302, 405, 405, 405, 405, 405, 405, 405, 405, 405),
    "notifications/": (302, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "notifications/read/": (302, 405, 405, 405, 405, 405, 405, 405, 405, 405),
    "notifications/settings/": (302, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "cases/new/": (302, 200, 200, 403, 403, 403, 403, 403, 403, 403),
    "desk/": (302, 403, 403, 200, 200, 200, 200, 200, 200, 200),
    "desk/assign/": (302, 405, 405, 405, 405, 405, 405, 405, 405, 405),
    "desk/dashboard/": (302, 403, 403, 200, 200, 200, 200, 200, 200, 200),
    # The case's pages.
    "cases/<case:number>/": (302, 200, 404, 200, 200, 404, 200, 200, 404, 404),
    "cases/<case:number>/intake/": (302, 403, 404, 403, 403, 404, 403, 403, 404, 404),
    "cases/<case:number>/actions/<slug:action>/": (
        302,
        200,
        404,
        403,
        403,
        404,
        403,
        403,
        404,
        404,
    ),  # fmt: skip
    "cases/<case:number>/evaluators/": (302, 403, 404, 200, 200, 404, 200, 200, 404, 404),
    # Whether the statement's PDF is signed yet: for whoever may see the case.
    "cases/<str:number>/statements/<str:statement>/signing/": (
        302,
        200,
        404,
        200,
        200,
        404,
        200,
        200,
        404,
        404,
    ),  # fmt: skip
    "cases/<str:number>/statements/<str:statement>/pdf/": (
        302,
        200,
        404,
        200,
        200,
        404,
        200,
        200,
        404,
        404,
    ),  # fmt: skip
    "cases/<case:number>/versions/new/": (302, 200, 404, 403, 403, 404, 403, 403, 404, 404),
    "cases/<case:number>/versions/<int:pk>/edit/": (
        302,
        403,
        404,
        403,
        403,
        404,
        403,
        403,
        404,
        404,
    ),  # fmt: skip
    "cases/<case:number>/versions/compare/": (302, 200, 404, 200, 200, 404, 200, 200, 404, 404),
    "cases/<case:number>/access/new/": (302, 200, 404, 403, 403, 404, 403, 403, 404, 404),
    "cases/<case:number>/access/<int:pk>/reveal/": (
        302,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
    ),  # fmt: skip
    "cases/<case:number>/access/<int:pk>/revoke/": (
        302,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
    ),  # fmt: skip
    "cases/<case:number>/access/<int:pk>/weights/": (
        302,
        200,
        404,
        403,
        403,
        404,
        403,
        403,
        404,
        404,
    ),  # fmt: skip
    "cases/<case:number>/access/<int:pk>/weights/download/": (
        302,
        200,
        404,
        200,
        200,
        404,
        403,
        403,
        404,
        404,
    ),  # fmt: skip
    "cases/<case:number>/documents/": (302, 200, 404, 200, 200, 404, 200, 200, 404, 404),
    "cases/<case:number>/documents/upload/": (302, 200, 404, 403, 403, 404, 403, 403, 404, 404),
    "cases/<case:number>/documents/<int:pk>/download/": (
        302,
        200,
        404,
        200,
        200,
        404,
        200,
        200,
        404,
        404,
    ),  # fmt: skip
    "cases/<case:number>/documents/<int:pk>/review/": (
        302,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
    ),  # fmt: skip
    "cases/<case:number>/checklist/": (302, 200, 404, 200, 200, 404, 200, 200, 404, 404),
    "cases/<case:number>/messages/": (302, 200, 404, 200, 200, 404, 200, 200, 404, 404),
    "cases/<case:number>/clarifications/new/": (302, 403, 404, 200, 200, 404, 403, 403, 404, 404),
    "cases/<case:number>/clarifications/<int:pk>/answer/": (
        302,
        200,
        404,
        403,
        403,
        404,
        403,
        403,
        404,
        404,
    ),  # fmt: skip
    "cases/<case:number>/clarifications/<int:pk>/close/": (
        302,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
    ),  # fmt: skip
    # Evaluations are CAISI's working material: the company gets a 404 for them.
    "cases/<case:number>/evaluations/new/": (302, 403, 404, 403, 403, 404, 403, 403, 404, 404),
    "cases/<case:number>/evaluations/import/": (302, 403, 404, 403, 403, 404, 403, 403, 404, 404),
    "cases/<case:number>/evaluations/<int:pk>/": (302, 404, 404, 200, 200, 404, 200, 200, 404, 404),
    "cases/<case:number>/evaluations/imports/<int:pk>/": (
        302,
        404,
        404,
        200,
        200,
        404,
        200,
        200,
        404,
        404,
    ),  # fmt: skip
    "cases/<case:number>/evaluations/<int:pk>/finish/": (
        302,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
    ),  # fmt: skip
    # This run was recorded by hand, so it has no Inspect log to download.
    "cases/<case:number>/evaluations/<int:pk>/log/": (
        302,
        404,
        404,
        404,
        404,
        404,
        404,
        404,
        404,
        404,
    ),
    # The world's run was recorded without a log: no viewer, no bytes, for anyone.
    "cases/<case:number>/evaluations/<int:pk>/viewer/": (
        302,
        404,
        404,
        404,
        404,
        404,
        404,
        404,
        404,
        404,
    ),
    "cases/<case:number>/evaluations/<int:pk>/viewer/<path:path>": (
        302,
        404,
        404,
        404,
        404,
        404,
        404,
        404,
        404,
        404,
    ),
    "cases/<case:number>/evaluations/<int:pk>/viewer/logs/<str:name>": (
        302,
        404,
        404,
        404,
        404,
        404,
        404,
        404,
        404,
        404,
    ),
    "cases/<case:number>/findings/<int:pk>/samples/<int:sample>/": (
        302,
        404,
        404,
        404,
        404,
        404,
        404,
        404,
        404,
        404,
    ),
    "cases/<case:number>/findings/new/": (302, 403, 404, 403, 403, 404, 403, 403, 404, 404),
    "cases/<case:number>/findings/<int:pk>/": (302, 200, 404, 200, 200, 404, 200, 200, 404, 404),
    "cases/<case:number>/findings/<int:pk>/respond/": (
        302,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
    ),
    "cases/<case:number>/findings/<int:pk>/review/": (
        302,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
    ),
    "cases/<case:number>/findings.csv": (302, 200, 404, 200, 200, 404, 200, 200, 404, 404),
    # The record export is recorded on the timeline, so it is a POST (see test_record_export).
    "cases/<case:number>/record.zip": (302, 405, 405, 405, 405, 405, 405, 405, 405, 405),
    # The REST API: 401 without credentials, 405 for a method the endpoint does not serve.
    "api/v1/cases/": (401, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "api/v1/cases/<str:number>/": (401, 200, 404, 200, 200, 404, 200, 200, 404, 404),
    "api/v1/cases/<str:number>/status/": (401, 200, 404, 200, 200, 404, 200, 200, 404, 404),
    "api/v1/cases/<str:number>/timeline/": (401, 200, 404, 200, 200, 404, 200, 200, 404, 404),
    "api/v1/cases/<str:number>/actions/<str:action>/": (
        401,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
    ),  # fmt: skip
    "api/v1/cases/<str:number>/versions/": (401, 200, 404, 200, 200, 404, 200, 200, 404, 404),
    "api/v1/cases/<str:number>/access/": (401, 200, 404, 200, 200, 404, 200, 200, 404, 404),
    "api/v1/cases/<str:number>/documents/": (401, 200, 404, 200, 200, 404, 200, 200, 404, 404),
    "api/v1/cases/<str:number>/documents/<int:pk>/download/": (
        401,
        200,
        404,
        200,
        200,
        404,
        200,
        200,
        404,
        404,
    ),  # fmt: skip
    "api/v1/cases/<str:number>/documents/<int:pk>/review/": (
        401,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
    ),  # fmt: skip
    "api/v1/cases/<str:number>/findings/": (401, 200, 404, 200, 200, 404, 200, 200, 404, 404),
    "api/v1/cases/<str:number>/findings/<int:pk>/responses/": (
        401,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
    ),  # fmt: skip
    "api/v1/cases/<str:number>/findings/<int:pk>/review/": (
        401,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
    ),  # fmt: skip
    "api/v1/cases/<str:number>/clarifications/": (401, 200, 404, 200, 200, 404, 200, 200, 404, 404),
    "api/v1/cases/<str:number>/clarifications/<int:pk>/answer/": (
        401,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
    ),  # fmt: skip
    "api/v1/cases/<str:number>/evaluations/": (401, 403, 404, 200, 200, 404, 200, 200, 404, 404),
    "api/v1/cases/<str:number>/evaluations/imports/<int:pk>/": (
        401,
        403,
        404,
        200,
        200,
        404,
        200,
        200,
        404,
        404,
    ),  # fmt: skip
    # A revised version's documentation carried forward, and a draft finding edited or
    # deleted (POST only); the finding's API answers whoever sees the case.
    "cases/<case:number>/versions/<int:pk>/carry-documentation/": (
        302,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
    ),  # fmt: skip
    "cases/<case:number>/findings/<int:pk>/edit/": (
        302,
        403,
        404,
        403,
        403,
        404,
        403,
        403,
        404,
        404,
    ),  # fmt: skip
    "cases/<case:number>/findings/<int:pk>/delete/": (
        302,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
    ),  # fmt: skip
    "api/v1/cases/<str:number>/versions/<int:pk>/carry-documentation/": (
        401,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
    ),  # fmt: skip
    "api/v1/cases/<str:number>/findings/<int:pk>/": (
        401,
        200,
        404,
        200,
        200,
        404,
        200,
        200,
        404,
        404,
    ),  # fmt: skip
    # After clearance, on Acme's cleared and released case: the company and CAISI staff
    # report incidents (the auditor only reads); CAISI reviews the monitoring reports.
    "cases/<case:number>/incidents/new/": (302, 200, 404, 200, 200, 404, 200, 403, 404, 404),
    "cases/<case:number>/incidents/<int:incident>/": (
        302,
        200,
        404,
        200,
        200,
        404,
        200,
        200,
        404,
        404,
    ),
    "cases/<case:number>/incidents/<int:incident>/update/": (
        302,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
    ),
    "cases/<case:number>/incidents/<int:incident>/triage/": (
        302,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
    ),
    "cases/<case:number>/incidents/<int:incident>/notes/": (
        302,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
    ),
    "cases/<case:number>/monitoring-reports/<int:pk>/file/": (
        302,
        200,
        404,
        403,
        403,
        404,
        403,
        403,
        404,
        404,
    ),
    "cases/<case:number>/monitoring-reports/<int:pk>/review/": (
        302,
        403,
        404,
        200,
        403,
        404,
        200,
        403,
        404,
        404,
    ),
    "api/v1/cases/<str:number>/incidents/": (401, 200, 404, 200, 200, 404, 200, 200, 404, 404),
    "api/v1/cases/<str:number>/incidents/<int:incident>/": (
        401,
        200,
        404,
        200,
        200,
        404,
        200,
        200,
        404,
        404,
    ),
    "api/v1/cases/<str:number>/incidents/<int:incident>/triage/": (
        401,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
    ),
    "api/v1/cases/<str:number>/incidents/<int:incident>/notes/": (
        401,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
    ),
    "api/v1/cases/<str:number>/monitoring-reports/": (
        401,
        200,
        404,
        200,
        200,
        404,
        200,
        200,
        404,
        404,
    ),
    "api/v1/cases/<str:number>/monitoring-reports/<int:pk>/file/": (
        401,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
    ),
    "api/v1/cases/<str:number>/monitoring-reports/<int:pk>/review/": (
        401,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
    ),
    # Resumable weight uploads (tus): POST, HEAD, PATCH and DELETE only.
    "api/v1/cases/<str:number>/access/<int:pk>/weights/uploads/": (401, *(405,) * 9),
    "api/v1/cases/<str:number>/access/<int:pk>/weights/uploads/<uuid:upload>/": (401, *(405,) * 9),
    # The whole record, for CAISI staff tokens; the company downloads its own from the page.
    "api/v1/cases/<str:number>/export/": (401, 403, 404, 200, 200, 404, 200, 200, 404, 404),
    # Companies join: the public request and invitation pages (the table's token is made up),
    # and the case managers' task of deciding requests, which the auditor reads.
    "request-access/": (200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "request-access/sent/": (200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "invitations/<str:token>/": (404, 404, 404, 404, 404, 404, 404, 404, 404, 404),
    "desk/access-requests/": (302, 403, 403, 200, 403, 403, 403, 200, 200, 403),
    "desk/access-requests/<int:pk>/decide/": (302, 405, 405, 405, 405, 405, 405, 405, 405, 405),
    # A company's own people: its administrator's pages (see COMPANY_ADMIN_GET); the two
    # liaisons of the table are ordinary colleagues. The audit trail is Acme's.
    "organization/": (302, 403, 403, 403, 403, 403, 403, 403, 403, 403),
    "organization/invite/": (302, 405, 405, 405, 405, 405, 405, 405, 405, 405),
    "organization/invitations/<int:pk>/withdraw/": (
        302,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
    ),  # fmt: skip
    "organization/people/<int:pk>/remove/": (302, 405, 405, 405, 405, 405, 405, 405, 405, 405),
    "organization/people/<int:pk>/administrator/": (
        302,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
    ),  # fmt: skip
    "organization/people/<int:pk>/point-of-contact/": (
        302,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
    ),  # fmt: skip
    "organization/service-accounts/": (302, 405, 405, 405, 405, 405, 405, 405, 405, 405),
    "organization/service-accounts/<int:pk>/tokens/": (
        302,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
        405,
    ),  # fmt: skip
    "organization/tokens/<int:pk>/revoke/": (302, 405, 405, 405, 405, 405, 405, 405, 405, 405),
    "organizations/<slug:slug>/audit/": (302, 403, 404, 200, 200, 200, 200, 200, 200, 200),
    # Public pages, linked from every footer.
    "accessibility/": (200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "privacy/": (200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    # The idle-timeout keep-alive is POST only, for everyone (anonymous included: it answers
    # a signed-out page with a 401, not a sign-in redirect).
    "accounts/session/stay/": (405, 405, 405, 405, 405, 405, 405, 405, 405, 405),
    # Opening a notice marks it read and goes to its case; the notice is Acme's liaison's,
    # and another person's notice is a 404.
    "notifications/<int:pk>/": (302, 302, 404, 404, 404, 404, 404, 404, 404, 404),
    # The pipeline API: the same answers as the case's pages. The evaluators of a case are
    # CAISI's to see; messages, checklist and the statement's PDF are for whoever sees the
    # case; the rest are POST only.
    "api/v1/cases/<str:number>/statements/<str:statement>/pdf/": (
        401,
        200,
        404,
        200,
        200,
        404,
        200,
        200,
        404,
        404,
    ),  # fmt: skip
    "api/v1/cases/<str:number>/evaluators/": (401, 403, 404, 200, 200, 404, 200, 200, 404, 404),
    "api/v1/cases/<str:number>/messages/": (401, 200, 404, 200, 200, 404, 200, 200, 404, 404),
    "api/v1/cases/<str:number>/checklist/": (401, 200, 404, 200, 200, 404, 200, 200, 404, 404),
    "api/v1/cases/<str:number>/evaluations/logs/": (401, *(405,) * 9),
    "api/v1/cases/<str:number>/access/<int:pk>/revoke/": (401, *(405,) * 9),
    "api/v1/cases/<str:number>/clarifications/<int:pk>/close/": (401, *(405,) * 9),
    # Webhooks by API, as on the personal pages: the webhook in the URLs is the case
    # manager's, and another person's is a 404.
    "api/v1/webhooks/": (401, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "api/v1/webhooks/<int:pk>/": (401, 404, 404, 200, 404, 404, 404, 404, 404, 404),
    "api/v1/webhooks/<int:pk>/rotate-secret/": (401, *(405,) * 9),
    "api/v1/webhooks/<int:pk>/test/": (401, *(405,) * 9),
}

# The company administrator, a role of its own: Acme's liaison who also manages its people.
# They get what Acme's liaison gets (the table's second column), except on these pages;
# a row added to EXPECTED_GET needs a line here only if the two differ.
COMPANY_ADMIN_GET = {
    "organization/": 200,
    "organizations/<slug:slug>/audit/": 200,
    # The notice in the URL is the liaison's own, not the administrator's.
    "notifications/<int:pk>/": 404,
}

OUTSIDERS = ("other_liaison", "other_evaluator", "conflicted_manager", "conflicted_evaluator")
MISSING_CASE = "CAISI-2026-9999"
# The Acme cases the standard evaluator was assigned to on their way.
EVALUATOR_ASSIGNED = ("testing", "findings", "cleared", "revoked")
# Objects named by <int:pk>, by the word before it in the route.
PK_OWNERS = {
    "versions": "version",
    "access": "grant",
    "documents": "document",
    "clarifications": "clarification",
    "evaluations": "evaluation",
    "imports": "inspect_import",
    "findings": "finding",
    "conflicts": "conflict",
    "api-tokens": "token",
    "keys": "security_key",
    "webhooks": "webhook",
    "monitoring-reports": "monitoring_report",
    "access-requests": "access_request",
    "invitations": "invitation",
    "people": "person",
    "service-accounts": "service_account",
    "tokens": "token",
    "notifications": "notification",
}
# Routes about what follows release: they name Acme's cleared (and released) case.
AFTER_RELEASE = ("statements", "incidents", "monitoring-reports")
PLACEHOLDER = re.compile(r"<(?:(\w+):)?(\w+)>")


def is_case_scoped(route: str) -> bool:
    return "<case:number>" in route or "<str:number>" in route


def url_for(route: str, world, *, number: str | None = None, objects=None) -> str:
    """Fill the route's placeholders with the world's objects (the rich Acme case by default)."""
    objects = objects or world

    def value(match) -> str:
        name = match.group(2)
        if name == "number":
            if number:
                return number
            after_release = any(word in route for word in AFTER_RELEASE)
            return (world.acme["cleared"] if after_release else world.rich).number
        if name == "pk":
            word = re.search(r"([\w-]+)/<int:pk>", route).group(1)
            # An object the other side's namespace lacks is named by Acme's: still absent there.
            found = getattr(objects, PK_OWNERS[word], None) or getattr(world, PK_OWNERS[word])
            return str(found.pk)
        return {
            "incident": str(world.incident.number),
            "action": "withdraw",
            "statement": world.statement.number,
            "code": world.statement.verification_code,
            "uidb64": "MQ",
            "name": "log.eval",
            "path": "assets/index.js",
            "sample": "1",
            "token": "not-a-reset-token",
            "upload": "0b7e1f3c-2d4a-4e5f-8a6b-9c0d1e2f3a4b",
            "slug": world.rich.organization.slug,
        }[name]

    return "/" + PLACEHOLDER.sub(value, route)


def body_of(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def forbidden_strings(role: str, world) -> list[str]:
    """What this role must never receive: the other company's records, and CAISI's drafts."""
    acme_numbers = [case.number for case in world.acme.values()]
    globex = [*GLOBEX_MARKERS.values(), world.globex.number]
    if role == "anonymous":
        return [*globex, *ACME_MARKERS.values(), *acme_numbers, ACME_DRAFT_FINDING]
    if role in ("liaison", "evaluator"):
        hidden = globex
        if role == "liaison":
            hidden += [ACME_DRAFT_FINDING, ACME_INTERNAL_MESSAGE]
        return hidden
    if role in OUTSIDERS:
        hidden = [*ACME_MARKERS.values(), *acme_numbers, ACME_DRAFT_FINDING]
        if role == "other_liaison":
            hidden.append(GLOBEX_MARKERS["internal message"])
        if role == "conflicted_evaluator":  # assigned to no Globex case either
            hidden += globex
        return hidden
    return []


def leaks(role: str, world, body: bytes, url: str) -> list[str]:
    # A case number the requester typed into the URL may come back (in a 404's "instance").
    allowed = url
    if url.startswith("/verify/"):
        # The public page shows the statement's own facts, as printed on the PDF the code
        # came from; its number names the case.
        allowed += world.statement.number
    return [s for s in forbidden_strings(role, world) if s.encode() in body and s not in allowed]


def routes():
    return [(route, name) for route, name in every_route() if not route.startswith("admin/")]


def test_every_route_has_a_row_in_the_table():
    found = {route for route, _ in routes()}
    assert sorted(found - set(EXPECTED_GET)) == [], "new URL patterns need a row in EXPECTED_GET"
    assert sorted(set(EXPECTED_GET) - found) == [], "rows for URL patterns that no longer exist"


@pytest.mark.django_db
def test_every_route_answers_every_role_as_the_table_says(world, clients):
    mismatches, leaked = [], []
    for route, _ in routes():
        url = url_for(route, world)
        for role, expected in zip(ROLES, EXPECTED_GET[route], strict=True):
            response = clients[role].get(url)
            if response.status_code != expected:
                mismatches.append(f"GET {url} as {role}: {response.status_code}, not {expected}")
            if response.status_code == 302 and role == "anonymous":
                assert response["Location"].startswith("/accounts/login/"), url
            found = leaks(role, world, body_of(response), url)
            if found:
                leaked.append(f"GET {url} as {role} shows {found}")
    assert not mismatches, "\n".join(mismatches)
    assert not leaked, "\n".join(leaked)


@pytest.mark.django_db
def test_every_api_route_answers_a_token_as_the_table_says(world, cast, conflicted, api_as):
    """Programs holding a token get what the person gets in the browser."""
    from rest_framework.test import APIClient

    tokens = {"anonymous": APIClient()}
    tokens |= {role: api_as(person_of(role, cast, conflicted)) for role in ROLES[1:]}
    mismatches = []
    for route, _ in routes():
        if not route.startswith("api/v1/"):
            continue
        url = url_for(route, world)
        for role, expected in zip(ROLES, EXPECTED_GET[route], strict=True):
            response = tokens[role].get(url)
            if response.status_code != expected:
                mismatches.append(f"GET {url} as {role}: {response.status_code}, not {expected}")
            found = leaks(role, world, body_of(response), url)
            if found:
                mismatches.append(f"GET {url} as {role} shows {found}")
    assert not mismatches, "\n".join(mismatches)


def company_admin_expects(route: str) -> int:
    return COMPANY_ADMIN_GET.get(route, EXPECTED_GET[route][ROLES.index("liaison")])


@pytest.mark.django_db
def test_every_route_answers_the_company_administrator_as_the_table_says(world, company_admin):
    client = Client()
    client.force_login(company_admin)
    mismatches = []
    for route, _ in routes():
        url = url_for(route, world)
        response = client.get(url)
        if response.status_code != company_admin_expects(route):
            mismatches.append(
                f"GET {url}: {response.status_code}, not {company_admin_expects(route)}"
            )
        found = leaks("liaison", world, body_of(response), url)
        if found:
            mismatches.append(f"GET {url} shows {found}")
    assert not mismatches, "\n".join(mismatches)


def service_token_client(world, company_admin, *, read_only: bool):
    from rest_framework.test import APIClient

    from accounts import organizations

    _, raw = organizations.create_service_token(
        actor=company_admin, account=world.service_account, name="suite", read_only=read_only
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


# What a service account's status-only token reads: the list (to find a case's number)
# and each case's status. Every other API route is a 403 to it, whatever the case.
STATUS_ONLY_ROUTES = ("api/v1/cases/", "api/v1/cases/<str:number>/status/")


def status_only_expects(route: str) -> int:
    liaison = EXPECTED_GET[route][ROLES.index("liaison")]
    if route in STATUS_ONLY_ROUTES or route == "api/v1/":  # no view: nothing to refuse
        return liaison
    return 403


@pytest.mark.django_db
@pytest.mark.parametrize("scope", ["read and write", "read status only"])
def test_every_api_route_answers_a_service_account_as_its_scope_says(world, company_admin, scope):
    """Acme's service account reads what Acme's liaison reads, no more; status-only, less."""
    read_only = scope == "read status only"
    client = service_token_client(world, company_admin, read_only=read_only)
    mismatches = []
    for route, _ in routes():
        if not route.startswith("api/v1/"):
            continue
        url = url_for(route, world)
        if read_only:
            expected = status_only_expects(route)
        else:
            expected = EXPECTED_GET[route][ROLES.index("liaison")]
        response = client.get(url)
        if response.status_code != expected:
            mismatches.append(f"GET {url}: {response.status_code}, not {expected}")
        found = leaks("liaison", world, body_of(response), url)
        if found:
            mismatches.append(f"GET {url} shows {found}")
    assert not mismatches, "\n".join(mismatches)


@pytest.mark.django_db
def test_outsiders_cannot_tell_a_hidden_case_from_a_missing_one(world, clients):
    """For every case-scoped URL and method: 404, or the very answer a missing case gets."""
    problems = []
    for route, _ in routes():
        if not is_case_scoped(route):
            continue
        url, missing = url_for(route, world), url_for(route, world, number=MISSING_CASE)
        for role in OUTSIDERS:
            client = clients[role]
            for method in ("get", "post"):
                hidden = getattr(client, method)(url, {})
                absent = getattr(client, method)(missing, {})
                if hidden.status_code != absent.status_code or hidden.status_code not in (404, 405):
                    problems.append(
                        f"{method.upper()} {url} as {role}: {hidden.status_code}, "
                        f"a missing case gets {absent.status_code}"
                    )
                found = leaks(role, world, body_of(hidden), url)
                if found:
                    problems.append(f"{method.upper()} {url} as {role} shows {found}")
    assert not problems, "\n".join(problems)


@pytest.mark.django_db
def test_acme_people_get_a_404_for_every_url_of_the_globex_case(world, clients):
    """The same check from the other side, with Globex's own objects in the URLs."""
    globex = world.globex
    objects = SimpleNamespace(
        version=globex.versions.first(),
        grant=globex.access_grants.first(),
        document=globex.documents.first(),
        clarification=globex.clarification_requests.get(),
        evaluation=globex.evaluations.get(),
        finding=globex.findings.get(),
    )
    problems = []
    for route, _ in routes():
        if not is_case_scoped(route) or "statements" in route:
            continue
        url = url_for(route, world, number=globex.number, objects=objects)
        missing = url_for(route, world, number=MISSING_CASE, objects=objects)
        for role in ("liaison", "evaluator"):
            for method in ("get", "post"):
                hidden = getattr(clients[role], method)(url, {})
                absent = getattr(clients[role], method)(missing, {})
                if hidden.status_code != absent.status_code or hidden.status_code not in (404, 405):
                    problems.append(f"{method.upper()} {url} as {role}: {hidden.status_code}")
                found = leaks(role, world, body_of(hidden), url)
                if found:
                    problems.append(f"{method.upper()} {url} as {role} shows {found}")
    assert not problems, "\n".join(problems)


@pytest.mark.django_db
def test_posting_as_an_outsider_changes_nothing(world, clients):
    from cases.models import Case, CaseEvent

    before = {c.number: (c.status, c.updated_at) for c in Case.objects.all()}
    events = CaseEvent.objects.count()
    for route, _ in routes():
        if is_case_scoped(route):
            for role in OUTSIDERS:
                clients[role].post(url_for(route, world), {"reason": "x", "scope": "x"})
    assert {c.number: (c.status, c.updated_at) for c in Case.objects.all()} == before
    assert CaseEvent.objects.count() == events


@pytest.mark.django_db
def test_every_case_page_in_every_status_answers_without_error_or_leak(world, clients):
    """The pages of a case that take no object id, for one Acme case in each status."""
    case_pages = [r for r, _ in routes() if is_case_scoped(r) and "<int:pk>" not in r]
    case_pages = [r for r in case_pages if "statements" not in r]
    problems = []
    for status, case in world.acme.items():
        outsiders = OUTSIDERS if status in EVALUATOR_ASSIGNED else (*OUTSIDERS, "evaluator")
        for route in case_pages:
            url = url_for(route, world, number=case.number)
            for role in ROLES:
                response = clients[role].get(url)
                code = response.status_code
                if role == "anonymous":
                    ok = code == (401 if route.startswith("api/") else 302)
                elif role in outsiders:
                    ok = code in (404, 405)
                else:
                    ok = code < 500
                if not ok:
                    problems.append(f"GET {url} ({status}) as {role}: {code}")
                found = leaks(role, world, body_of(response), url)
                if found:
                    problems.append(f"GET {url} ({status}) as {role} shows {found}")
    assert not problems, "\n".join(problems)


@pytest.mark.django_db
def test_admin_sends_everyone_but_superusers_to_the_admin_sign_in(world, clients):
    problems = []
    for route, _ in every_route():
        if not route.startswith("admin/"):
            continue
        url = "/" + route
        url = url.replace(
            "^(?P<app_label>auth|accounts|cases|submissions|findings|clearance)/$", "cases/"
        )
        url = url.replace("(?P<url>.*)$", "nowhere/")
        url = PLACEHOLDER.sub(str(world.rich.pk), url)
        for role in ROLES:
            response = clients[role].get(url)
            if route == "admin/login/":
                ok = response.status_code == 200
            elif route == "admin/logout/":
                ok = response.status_code in (302, 405)
            else:
                ok = response.status_code == 302 and response["Location"].startswith(
                    "/admin/login/"
                )
            if not ok:
                problems.append(f"GET {url} as {role}: {response.status_code}")
            found = leaks(role, world, body_of(response), url)
            if found:
                problems.append(f"GET {url} as {role} shows {found}")
    assert not problems, "\n".join(problems)


@pytest.mark.django_db
def test_the_markers_reach_those_who_may_see_them(world, clients):
    """The leak search is only worth something if the markers really are on the pages."""
    number = world.globex.number
    pages = [
        f"/cases/{number}/",
        f"/cases/{number}/messages/",
        f"/cases/{number}/documents/",
        f"/api/v1/cases/{number}/",
        f"/api/v1/cases/{number}/findings/",
        f"/api/v1/cases/{number}/versions/",
        f"/api/v1/cases/{number}/clarifications/",
        f"/api/v1/cases/{number}/evaluations/",
    ]
    for role, hidden in [
        # A shared finding cites its evaluation run by id (titles repeat), so the run's
        # title no longer reaches the company through these pages.
        ("other_liaison", {"internal message", "evaluation"}),
        ("manager", set()),
    ]:
        seen = b"".join(body_of(clients[role].get(url)) for url in pages)
        for name, marker in GLOBEX_MARKERS.items():
            assert (marker.encode() in seen) is (name not in hidden), (role, name)
