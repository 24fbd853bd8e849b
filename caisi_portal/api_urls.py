"""The REST API's URLconf: every app's endpoints under /api/v1/."""

from django.urls import path, re_path

from clearance import api as clearance_api
from core.api import nowhere
from findings import api as findings_api
from incidents import api as incidents_api
from review import api as cases_api
from submissions import api as submissions_api
from submissions import resumable_api
from webhooks import api as webhooks_api


def urls():
    """Return the /api/v1/ URLconf for `include()`."""
    C = "cases/<str:number>"
    patterns = [
        path("cases/", cases_api.CaseListView.as_view(), name="case-list"),
        path(f"{C}/", cases_api.CaseDetailView.as_view(), name="case-detail"),
        path(f"{C}/status/", cases_api.CaseStatusView.as_view(), name="case-status"),
        path(f"{C}/timeline/", cases_api.TimelineView.as_view(), name="case-timeline"),
        path(f"{C}/actions/<str:action>/", cases_api.ActionView.as_view(), name="case-action"),
        path(f"{C}/export/", cases_api.CaseExportView.as_view(), name="case-export"),
        path(
            f"{C}/statements/<str:statement>/pdf/",
            clearance_api.StatementDownloadView.as_view(),
            name="statement-download",
        ),
        path(f"{C}/versions/", submissions_api.VersionListView.as_view(), name="case-versions"),
        path(
            f"{C}/versions/<int:pk>/carry-documentation/",
            submissions_api.VersionDocumentationView.as_view(),
            name="version-carry-documentation",
        ),
        path(f"{C}/access/", submissions_api.AccessGrantView.as_view(), name="case-access"),
        # Resumable weight uploads: the tus protocol (submissions/resumable_api.py).
        path(
            f"{C}/access/<int:pk>/weights/uploads/",
            resumable_api.WeightsUploadsView.as_view(),
            name="weights-uploads",
        ),
        path(
            f"{C}/access/<int:pk>/weights/uploads/<uuid:upload>/",
            resumable_api.WeightsUploadView.as_view(),
            name="weights-upload",
        ),
        path(f"{C}/documents/", submissions_api.DocumentListView.as_view(), name="case-documents"),
        path(
            f"{C}/documents/<int:pk>/download/",
            submissions_api.DocumentDownloadView.as_view(),
            name="document-download",
        ),
        path(
            f"{C}/documents/<int:pk>/review/",
            submissions_api.DocumentReviewView.as_view(),
            name="document-review",
        ),
        path(f"{C}/findings/", findings_api.FindingListView.as_view(), name="case-findings"),
        path(
            f"{C}/findings/<int:pk>/",
            findings_api.FindingDetailView.as_view(),
            name="finding-detail",
        ),
        path(
            f"{C}/findings/<int:pk>/responses/",
            findings_api.FindingResponseView.as_view(),
            name="finding-responses",
        ),
        path(
            f"{C}/findings/<int:pk>/review/",
            findings_api.FindingReviewView.as_view(),
            name="finding-review",
        ),
        path(
            f"{C}/clarifications/",
            findings_api.ClarificationListView.as_view(),
            name="case-clarifications",
        ),
        path(
            f"{C}/clarifications/<int:pk>/answer/",
            findings_api.ClarificationAnswerView.as_view(),
            name="clarification-answer",
        ),
        path(f"{C}/evaluations/", findings_api.EvaluationView.as_view(), name="case-evaluations"),
        path(
            f"{C}/evaluations/logs/",
            findings_api.InspectLogImportView.as_view(),
            name="evaluation-log-import",
        ),
        path(
            f"{C}/evaluations/imports/<int:pk>/",
            findings_api.InspectImportView.as_view(),
            name="inspect-import",
        ),
        path(f"{C}/incidents/", incidents_api.IncidentListView.as_view(), name="case-incidents"),
        path(
            f"{C}/incidents/<int:incident>/",
            incidents_api.IncidentDetailView.as_view(),
            name="incident-detail",
        ),
        path(
            f"{C}/incidents/<int:incident>/triage/",
            incidents_api.IncidentTriageView.as_view(),
            name="incident-triage",
        ),
        path(
            f"{C}/incidents/<int:incident>/notes/",
            incidents_api.IncidentNoteView.as_view(),
            name="incident-notes",
        ),
        path(
            f"{C}/monitoring-reports/",
            incidents_api.MonitoringReportListView.as_view(),
            name="case-monitoring-reports",
        ),
        path(
            f"{C}/monitoring-reports/<int:pk>/file/",
            incidents_api.MonitoringReportUploadView.as_view(),
            name="monitoring-report-file",
        ),
        path(
            f"{C}/monitoring-reports/<int:pk>/review/",
            incidents_api.MonitoringReportReviewView.as_view(),
            name="monitoring-report-review",
        ),
        path(f"{C}/evaluators/", cases_api.EvaluatorsView.as_view(), name="case-evaluators"),
        path(f"{C}/messages/", cases_api.MessagesView.as_view(), name="case-messages"),
        path(
            f"{C}/access/<int:pk>/revoke/",
            submissions_api.AccessRevokeView.as_view(),
            name="access-revoke",
        ),
        path(f"{C}/checklist/", submissions_api.ChecklistView.as_view(), name="case-checklist"),
        path(
            f"{C}/clarifications/<int:pk>/close/",
            findings_api.ClarificationCloseView.as_view(),
            name="clarification-close",
        ),
        path("webhooks/", webhooks_api.WebhookListView.as_view(), name="webhook-list"),
        path("webhooks/<int:pk>/", webhooks_api.WebhookDetailView.as_view(), name="webhook-detail"),
        path(
            "webhooks/<int:pk>/rotate-secret/",
            webhooks_api.WebhookRotateSecretView.as_view(),
            name="webhook-rotate-secret",
        ),
        path(
            "webhooks/<int:pk>/test/", webhooks_api.WebhookTestView.as_view(), name="webhook-test"
        ),
        # Anything else under /api/v1/ is a problem-details 404, not the web's HTML page.
        re_path(r"", nowhere),
    ]
    return patterns, "api"
