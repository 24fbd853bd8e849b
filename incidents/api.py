"""The REST API after release: a case's incidents, their notes, and its monitoring reports.

Every view gets its case through `Case.objects.visible_to(user)` (`get_case`),
so a case the user may not see is a 404; a company never reads internal notes.
Writes call `incidents.services`.
"""

from django.db.models import Prefetch
from django.urls import reverse
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response

from accounts.api_permissions import SCHEMA_NOTE, VerifiedIdentityForSensitiveActs
from cases.selectors import get_case
from core.api import READ_PROBLEMS, WRITE_PROBLEMS, PortalAPIView, problems
from core.parsers import BoundedFormParser, UploadPipelineParser, uploaded_data
from core.uploads import accepts_uploads
from incidents import services
from incidents.models import (
    Incident,
    IncidentNote,
    IncidentSeverity,
    MonitoringReport,
    TriageState,
)

TEXT = {"max_length": services.MAX_TEXT}


class IncidentNoteSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.__str__")

    class Meta:
        model = IncidentNote
        fields = ["id", "kind", "author", "body", "internal", "created_at"]


def visible_notes(user):
    """The incident notes this user may read, with their authors, in order."""
    notes = IncidentNote.objects.visible_to(user).select_related("author")
    return notes.order_by("created_at", "pk")


class IncidentSerializer(serializers.ModelSerializer):
    reported_by = serializers.CharField(source="reported_by.__str__")
    notes = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = Incident
        fields = [
            "number",
            "summary",
            "detected_at",
            "severity",
            "affected_versions",
            "affected_uses",
            "users_affected",
            "mitigations",
            "reported_by",
            "reported_at",
            "initial_report_at",
            "last_update_at",
            "resolved_at",
            "final_report_at",
            "triage_state",
            "conclusion",
            "closed_at",
            "response_action",
            "notes",
            "url",
        ]

    @extend_schema_field(IncidentNoteSerializer(many=True))
    def get_notes(self, incident: Incident):
        notes = getattr(incident, "visible_notes", None)  # prefetched by a list
        if notes is None:
            user = self.context["request"].user
            notes = visible_notes(user).filter(incident=incident)
        return IncidentNoteSerializer(notes, many=True).data

    def get_url(self, incident: Incident) -> str:
        return self.context["request"].build_absolute_uri(
            reverse(
                "api:incident-detail",
                kwargs={"number": incident.case.number, "incident": incident.number},
            )
        )


class IncidentReportSerializer(serializers.Serializer):
    summary = serializers.CharField(help_text="What happened.", **TEXT)
    detected_at = serializers.DateTimeField(help_text="When the company became aware of it.")
    severity = serializers.ChoiceField(choices=IncidentSeverity.choices)
    affected_versions = serializers.CharField(required=False, allow_blank=True, **TEXT)
    affected_uses = serializers.CharField(required=False, allow_blank=True, **TEXT)
    users_affected = serializers.CharField(required=False, allow_blank=True, max_length=200)
    mitigations = serializers.CharField(required=False, allow_blank=True, **TEXT)


class IncidentUpdateSerializer(serializers.Serializer):
    body = serializers.CharField(help_text="What is new in this report.", **TEXT)
    resolved = serializers.BooleanField(required=False, default=False)
    final = serializers.BooleanField(
        required=False, default=False, help_text="This is the final report (with `resolved`)."
    )
    affected_versions = serializers.CharField(required=False, allow_blank=True, **TEXT)
    affected_uses = serializers.CharField(required=False, allow_blank=True, **TEXT)
    users_affected = serializers.CharField(required=False, allow_blank=True, max_length=200)
    mitigations = serializers.CharField(required=False, allow_blank=True, **TEXT)


class IncidentTriageSerializer(serializers.Serializer):
    state = serializers.ChoiceField(
        choices=[c for c in TriageState.choices if c[0] != TriageState.REPORTED]
    )
    conclusion = serializers.CharField(required=False, allow_blank=True, **TEXT)


class IncidentNoteCreateSerializer(serializers.Serializer):
    body = serializers.CharField(**TEXT)
    internal = serializers.BooleanField(required=False, default=False)


def _incident(case, number: int) -> Incident:
    found = case.incidents.select_related("case", "reported_by").filter(number=number).first()
    if found is None:
        raise exceptions.NotFound("This case has no such incident.")
    return found


def _body(serializer_class, request) -> dict:
    """Return the validated body; a field the endpoint does not take is refused by name."""
    body = serializer_class(data=request.data)
    unknown = sorted(set(request.data) - set(body.fields))
    if unknown:
        raise exceptions.ValidationError(
            {name: ["This endpoint does not take this field."] for name in unknown}
        )
    body.is_valid(raise_exception=True)
    return dict(body.validated_data)


class IncidentListView(PortalAPIView):
    permission_classes = [*PortalAPIView.permission_classes, VerifiedIdentityForSensitiveActs]

    def is_sensitive_act(self, request) -> bool:
        return request.method == "POST"  # reporting; reading the list is not an act

    @extend_schema(
        operation_id="incidents_list",
        summary="The case's post-release incidents (a company never sees internal notes)",
        responses={200: IncidentSerializer(many=True), **problems(*READ_PROBLEMS)},
    )
    def get(self, request, number: str):
        case = get_case(request, number)
        incidents = case.incidents.select_related("case", "reported_by").prefetch_related(
            # One read of the notes for the whole list, not one per incident.
            Prefetch("notes", queryset=visible_notes(request.user), to_attr="visible_notes")
        )
        return Response(IncidentSerializer(incidents, many=True, context={"request": request}).data)

    @extend_schema(
        operation_id="incidents_report",
        summary="Report a post-release incident of a cleared, released model",
        description="The initial report, due by severity." + SCHEMA_NOTE,
        request=IncidentReportSerializer,
        responses={201: IncidentSerializer, **problems(*WRITE_PROBLEMS)},
    )
    def post(self, request, number: str):
        case = get_case(request, number)
        data = _body(IncidentReportSerializer, request)
        incident = services.report_incident(case=case, actor=request.user, **data)
        payload = IncidentSerializer(_incident(case, incident.number), context={"request": request})
        return Response(
            payload.data, status=status.HTTP_201_CREATED, headers={"Location": payload.data["url"]}
        )


class IncidentDetailView(PortalAPIView):
    @extend_schema(
        operation_id="incidents_retrieve",
        summary="One incident, with the notes the user may read",
        responses={200: IncidentSerializer, **problems(*READ_PROBLEMS)},
    )
    def get(self, request, number: str, incident: int):
        case = get_case(request, number)
        return Response(
            IncidentSerializer(_incident(case, incident), context={"request": request}).data
        )

    @extend_schema(
        operation_id="incidents_update",
        summary="File the company's report on an incident: an update, its resolution, the final "
        "report (company liaisons)",
        request=IncidentUpdateSerializer,
        responses={200: IncidentSerializer, **problems(*WRITE_PROBLEMS)},
    )
    def patch(self, request, number: str, incident: int):
        case = get_case(request, number)
        found = _incident(case, incident)
        services.update_incident(
            incident=found, actor=request.user, **_body(IncidentUpdateSerializer, request)
        )
        return Response(
            IncidentSerializer(_incident(case, incident), context={"request": request}).data
        )


class IncidentTriageView(PortalAPIView):
    @extend_schema(
        operation_id="incidents_triage",
        summary="Triage an incident: acknowledged, under review, or closed with a conclusion "
        "(case managers and clearance officials)",
        request=IncidentTriageSerializer,
        responses={200: IncidentSerializer, **problems(*WRITE_PROBLEMS)},
    )
    def post(self, request, number: str, incident: int):
        case = get_case(request, number)
        found = _incident(case, incident)
        services.triage_incident(
            incident=found, actor=request.user, **_body(IncidentTriageSerializer, request)
        )
        return Response(
            IncidentSerializer(_incident(case, incident), context={"request": request}).data
        )


class IncidentNoteView(PortalAPIView):
    @extend_schema(
        operation_id="incidents_note",
        summary="Add a note to an incident: shared, or internal (CAISI staff)",
        request=IncidentNoteCreateSerializer,
        responses={201: IncidentNoteSerializer, **problems(*WRITE_PROBLEMS)},
    )
    def post(self, request, number: str, incident: int):
        case = get_case(request, number)
        found = _incident(case, incident)
        note = services.add_incident_note(
            incident=found, actor=request.user, **_body(IncidentNoteCreateSerializer, request)
        )
        return Response(IncidentNoteSerializer(note).data, status=status.HTTP_201_CREATED)


# --- monitoring reports ----------------------------------------------------------------


class MonitoringReportSerializer(serializers.ModelSerializer):
    document = serializers.SerializerMethodField()

    class Meta:
        model = MonitoringReport
        fields = [
            "id",
            "statement_number",
            "sequence",
            "due_at",
            "state",
            "submitted_at",
            "review_comment",
            "reviewed_at",
            "document",
        ]

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_document(self, report: MonitoringReport):
        if report.document_id is None:
            return None
        return self.context["request"].build_absolute_uri(
            reverse(
                "api:document-download",
                kwargs={"number": report.case.number, "pk": report.document_id},
            )
        )


class MonitoringReportUploadSerializer(serializers.Serializer):
    file = serializers.FileField()


class MonitoringReportReviewSerializer(serializers.Serializer):
    accept = serializers.BooleanField()
    comment = serializers.CharField(required=False, allow_blank=True, **TEXT)


def _report(case, pk: int) -> MonitoringReport:
    found = case.monitoring_reports.select_related("case").filter(pk=pk).first()
    if found is None:
        raise exceptions.NotFound("This case has no such monitoring report.")
    return found


class MonitoringReportListView(PortalAPIView):
    @extend_schema(
        operation_id="monitoring_reports_list",
        summary="The monitoring reports the case's clearance asks for, due and filed",
        responses={200: MonitoringReportSerializer(many=True), **problems(*READ_PROBLEMS)},
    )
    def get(self, request, number: str):
        case = get_case(request, number)
        reports = case.monitoring_reports.select_related("case")
        context = {"request": request}
        return Response(MonitoringReportSerializer(reports, many=True, context=context).data)


@accepts_uploads("SUBMISSION_DOCUMENT_MAX_BYTES")
class MonitoringReportUploadView(PortalAPIView):
    parser_classes = [UploadPipelineParser, BoundedFormParser]

    @extend_schema(
        operation_id="monitoring_reports_file",
        summary="File a due monitoring report (company liaisons; multipart/form-data)",
        request={"multipart/form-data": MonitoringReportUploadSerializer},
        responses={200: MonitoringReportSerializer, **problems(*WRITE_PROBLEMS)},
    )
    def post(self, request, number: str, pk: int):
        case = get_case(request, number)  # an outsider gets a 404 before any byte is read
        report = _report(case, pk)
        body = MonitoringReportUploadSerializer(data=uploaded_data(request, field="file"))
        body.is_valid(raise_exception=True)
        upload = body.validated_data["file"]
        filed = services.submit_monitoring_report(
            report=report, actor=request.user, file=upload, original_name=upload.name
        )
        return Response(MonitoringReportSerializer(filed, context={"request": request}).data)


class MonitoringReportReviewView(PortalAPIView):
    @extend_schema(
        operation_id="monitoring_reports_review",
        summary="Accept a filed monitoring report or ask for changes (case managers, officials)",
        request=MonitoringReportReviewSerializer,
        responses={200: MonitoringReportSerializer, **problems(*WRITE_PROBLEMS)},
    )
    def post(self, request, number: str, pk: int):
        case = get_case(request, number)
        report = _report(case, pk)
        data = _body(MonitoringReportReviewSerializer, request)
        reviewed = services.review_monitoring_report(report=report, actor=request.user, **data)
        return Response(MonitoringReportSerializer(reviewed, context={"request": request}).data)
