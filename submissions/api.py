"""The REST API of the company's submission: versions, model access, documents.

Writes call `submissions.services`, the same functions the web pages call.
"""

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response

from cases.selectors import get_case
from core.api import READ_PROBLEMS, WRITE_PROBLEMS, FileNegotiation, PortalAPIView, problems
from core.parsers import BoundedFormParser, UploadPipelineParser, uploaded_data
from core.uploads import accepts_uploads
from submissions import services
from submissions.checklist import GROUPS
from submissions.models import (
    PACKAGE_DOCUMENT_KINDS,
    AccessGrant,
    AccessMethod,
    ChecklistEntry,
    Document,
    ModelVersion,
    Packaging,
    PracticeStatus,
    SafetyReportType,
)
from submissions.selectors import checklist_summary
from submissions.uploads import DOCUMENT_TYPES

# --- model versions -------------------------------------------------------------------


class VersionSerializer(serializers.ModelSerializer):
    digest = serializers.CharField(read_only=True)

    class Meta:
        model = ModelVersion
        fields = [
            "id",
            "label",
            "vcs_reference",
            "artifact_sha256",
            "container_image",
            "digest",
            "packaging",
            "changelog",
            "submitted_at",
            "documentation_carried_forward_at",
            "created_at",
        ]


class VersionCreateSerializer(serializers.Serializer):
    label = serializers.CharField(max_length=100)
    vcs_reference = serializers.CharField(max_length=200)
    artifact_sha256 = serializers.CharField(max_length=64, required=False, allow_blank=True)
    container_image = serializers.CharField(max_length=300, required=False, allow_blank=True)
    packaging = serializers.ChoiceField(choices=Packaging.choices, required=False)
    changelog = serializers.CharField(required=False, allow_blank=True)


class VersionListView(PortalAPIView):
    @extend_schema(
        operation_id="versions_list",
        summary="The case's model versions, oldest first",
        responses={200: VersionSerializer(many=True), **problems(*READ_PROBLEMS)},
    )
    def get(self, request, number: str):
        case = get_case(request, number)
        return Response(VersionSerializer(case.versions.all(), many=True).data)

    @extend_schema(
        operation_id="versions_create",
        summary="Record a model version, pinned by VCS reference and digest (company liaisons)",
        request=VersionCreateSerializer,
        responses={201: VersionSerializer, **problems(*WRITE_PROBLEMS)},
    )
    def post(self, request, number: str):
        case = get_case(request, number)
        body = VersionCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        version = services.add_version(case=case, actor=request.user, **body.validated_data)
        return Response(VersionSerializer(version).data, status=status.HTTP_201_CREATED)


class VersionDocumentationView(PortalAPIView):
    @extend_schema(
        operation_id="versions_carry_documentation",
        summary="Confirm that the documentation on file holds for a revised version (liaisons)",
        request=None,
        responses={200: VersionSerializer, **problems(*WRITE_PROBLEMS)},
    )
    def post(self, request, number: str, pk: int):
        case = get_case(request, number)
        version = case.versions.filter(pk=pk).first()
        if version is None:
            raise exceptions.NotFound("This case has no such version.")
        version = services.carry_documentation_forward(version=version, actor=request.user)
        return Response(VersionSerializer(version).data)


# --- model access -------------------------------------------------------------------------


class AccessGrantSerializer(serializers.ModelSerializer):
    model_version = serializers.SlugRelatedField(
        slug_field="label", read_only=True, allow_null=True
    )
    has_credentials = serializers.BooleanField(read_only=True)
    is_live = serializers.SerializerMethodField()
    is_ready = serializers.SerializerMethodField()

    class Meta:
        model = AccessGrant
        fields = [
            "id",
            "model_version",
            "method",
            "endpoint_url",
            "instructions",
            "has_credentials",
            "nda_reference",
            "nda_signed_on",
            "valid_from",
            "valid_until",
            "checksum_verified",
            "artifact_sha256",
            "revoked_at",
            "revoke_reason",
            "is_live",
            "is_ready",
            "created_at",
        ]

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_is_live(self, grant: AccessGrant) -> bool:
        return grant.is_live()

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_is_ready(self, grant: AccessGrant) -> bool:
        return grant.is_ready()


class AccessGrantCreateSerializer(serializers.Serializer):
    method = serializers.ChoiceField(choices=AccessMethod.choices)
    endpoint_url = serializers.URLField(required=False, allow_blank=True, max_length=200)
    instructions = serializers.CharField(required=False, allow_blank=True)
    credentials = serializers.CharField(
        required=False,
        allow_blank=True,
        write_only=True,
        help_text="Stored encrypted; never returned.",
    )
    nda_reference = serializers.CharField(required=False, allow_blank=True, max_length=200)
    nda_signed_on = serializers.DateField(required=False, allow_null=True)
    valid_from = serializers.DateTimeField(required=False, allow_null=True)
    valid_until = serializers.DateTimeField()
    model_version = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="The id of the version this access reaches; the newest version if omitted.",
    )


class AccessGrantView(PortalAPIView):
    @extend_schema(
        operation_id="access_list",
        summary="How CAISI reaches the model: the case's access grants (never the credentials)",
        responses={200: AccessGrantSerializer(many=True), **problems(*READ_PROBLEMS)},
    )
    def get(self, request, number: str):
        case = get_case(request, number)
        grants = case.access_grants.select_related("model_version")
        return Response(AccessGrantSerializer(grants, many=True).data)

    @extend_schema(
        operation_id="access_create",
        summary="Grant CAISI access to the model (company liaisons)",
        request=AccessGrantCreateSerializer,
        responses={201: AccessGrantSerializer, **problems(*WRITE_PROBLEMS)},
    )
    def post(self, request, number: str):
        case = get_case(request, number)
        body = AccessGrantCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        version_id = data.pop("model_version", None)
        version = None
        if version_id is not None:
            version = case.versions.filter(pk=version_id).first()
            if version is None:
                raise exceptions.ValidationError(
                    {"model_version": ["This case has no model version with that id."]}
                )
        grant = services.grant_access(case=case, actor=request.user, model_version=version, **data)
        return Response(AccessGrantSerializer(grant).data, status=status.HTTP_201_CREATED)


# --- documents -----------------------------------------------------------------------------


class DocumentSerializer(serializers.ModelSerializer):
    model_version = serializers.SlugRelatedField(
        slug_field="label", read_only=True, allow_null=True
    )
    download_url = serializers.SerializerMethodField()

    card_missing_sections = serializers.ListField(
        child=serializers.CharField(), read_only=True, help_text="Required sections not found."
    )
    card_problems = serializers.ListField(
        child=serializers.CharField(), read_only=True, help_text="What the card check found wrong."
    )
    card_self_reported = serializers.ListField(
        child=serializers.DictField(child=serializers.CharField()),
        read_only=True,
        help_text="Results the card reports about itself, as it gives them.",
    )

    class Meta:
        model = Document
        fields = [
            "id",
            "kind",
            "report_type",
            "title",
            "version_number",
            "model_version",
            "original_name",
            "content_type",
            "size",
            "sha256",
            "state",
            "review_comment",
            "card_missing_sections",
            "card_problems",
            "card_self_reported",
            "uploaded_at",
            "reviewed_at",
            "download_url",
        ]

    @extend_schema_field(OpenApiTypes.URI)
    def get_download_url(self, document: Document) -> str:
        return self.context["request"].build_absolute_uri(
            reverse(
                "api:document-download",
                kwargs={"number": self.context["case"].number, "pk": document.pk},
            )
        )


class DocumentUploadSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=PACKAGE_DOCUMENT_KINDS)
    file = serializers.FileField()
    title = serializers.CharField(required=False, allow_blank=True, max_length=200)
    report_type = serializers.ChoiceField(
        choices=SafetyReportType.choices,
        required=False,
        allow_blank=True,
        help_text="For a safety report: what it covers.",
    )
    model_version = serializers.IntegerField(
        required=False, allow_null=True, help_text="The id of the version this document describes."
    )


@accepts_uploads("SUBMISSION_DOCUMENT_MAX_BYTES")
class DocumentListView(PortalAPIView):
    parser_classes = [UploadPipelineParser, BoundedFormParser]

    @extend_schema(
        operation_id="documents_list",
        summary="The case's documents, every version, with download links",
        responses={200: DocumentSerializer(many=True), **problems(*READ_PROBLEMS)},
    )
    def get(self, request, number: str):
        case = get_case(request, number)
        documents = case.documents.select_related("model_version")
        context = {"request": request, "case": case}
        return Response(DocumentSerializer(documents, many=True, context=context).data)

    @extend_schema(
        operation_id="documents_upload",
        summary="Upload a document of the package as the next version of its kind "
        "(company liaisons; multipart/form-data)",
        request={"multipart/form-data": DocumentUploadSerializer},
        responses={201: DocumentSerializer, **problems(*WRITE_PROBLEMS)},
    )
    def post(self, request, number: str):
        case = get_case(request, number)  # a token's outsider gets a 404 before any byte is read
        body = DocumentUploadSerializer(data=uploaded_data(request, field="file"))
        body.is_valid(raise_exception=True)
        data = body.validated_data
        version = None
        if data.get("model_version") is not None:
            version = case.versions.filter(pk=data["model_version"]).first()
            if version is None:
                raise exceptions.ValidationError(
                    {"model_version": ["This case has no model version with that id."]}
                )
        document = services.upload_document(
            case=case,
            actor=request.user,
            kind=data["kind"],
            file=data["file"],
            original_name=data["file"].name,
            title=data.get("title", ""),
            report_type=data.get("report_type", ""),
            model_version=version,
        )
        context = {"request": request, "case": case}
        return Response(
            DocumentSerializer(document, context=context).data, status=status.HTTP_201_CREATED
        )


class DocumentDownloadView(PortalAPIView):
    content_negotiation_class = FileNegotiation

    @extend_schema(
        operation_id="documents_download",
        summary="Download one document's file",
        responses={
            # Served as the type it was checked to be on upload (older files: octet-stream).
            **{
                (200, content_type): OpenApiResponse(
                    OpenApiTypes.BINARY, description="The file, as an attachment."
                )
                # Bytes first: a generated client hands any of them over as a file.
                for content_type in [
                    "application/octet-stream",
                    *sorted(set(DOCUMENT_TYPES.values())),
                ]
            },
            **problems(*READ_PROBLEMS),
        },
    )
    def get(self, request, number: str, pk: int):
        from submissions.views import _attachment

        case = get_case(request, number)
        document = case.documents.filter(pk=pk).first()
        if document is None or not document.file:
            raise exceptions.NotFound("This case has no such document.")
        document.case = case
        file = services.take_document(document=document, actor=request.user)
        return _attachment(file, document.original_name, document.content_type)


class DocumentReviewSerializer(serializers.Serializer):
    accept = serializers.BooleanField()
    comment = serializers.CharField(
        required=False, allow_blank=True, help_text="Required when asking for changes."
    )


class DocumentReviewView(PortalAPIView):
    @extend_schema(
        operation_id="documents_review",
        summary="Accept a document, or ask for changes (case managers)",
        request=DocumentReviewSerializer,
        responses={200: DocumentSerializer, **problems(*WRITE_PROBLEMS)},
    )
    def post(self, request, number: str, pk: int):
        case = get_case(request, number)
        document = case.documents.filter(pk=pk).first()
        if document is None:
            raise exceptions.NotFound("This case has no such document.")
        body = DocumentReviewSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        document = services.review_document(
            document=document,
            actor=request.user,
            accept=body.validated_data["accept"],
            comment=body.validated_data.get("comment", ""),
        )
        context = {"request": request, "case": case}
        return Response(DocumentSerializer(document, context=context).data)


# --- revoking access ---------------------------------------------------------------------------


class AccessRevokeSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, help_text="Why CAISI's access ends.")
    confirmed = serializers.BooleanField(
        help_text="True: CAISI's access ends now, whatever testing is under way."
    )


class AccessRevokeView(PortalAPIView):
    @extend_schema(
        operation_id="access_revoke",
        summary="Revoke an access grant now, with the reason (company liaisons)",
        request=AccessRevokeSerializer,
        responses={200: AccessGrantSerializer, **problems(*WRITE_PROBLEMS)},
    )
    def post(self, request, number: str, pk: int):
        case = get_case(request, number)
        grant = case.access_grants.filter(pk=pk).first()
        if grant is None:
            raise exceptions.NotFound("This case has no such access grant.")
        body = AccessRevokeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        revoked = services.revoke_access(grant=grant, actor=request.user, **body.validated_data)
        return Response(AccessGrantSerializer(revoked).data)


# --- the deployment checklist --------------------------------------------------------------


class ChecklistAnswerSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=PracticeStatus.choices,
        allow_null=True,
        help_text="null: take the answer back, so the practice is unanswered.",
    )
    evidence_document = serializers.IntegerField(
        required=False, allow_null=True, help_text="The id of a document of this case."
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=4000)


class ChecklistPracticeSerializer(serializers.Serializer):
    key = serializers.CharField()
    group = serializers.CharField()
    title = serializers.CharField()
    aim = serializers.CharField()
    baseline = serializers.ListField(child=serializers.CharField())
    recommended = serializers.ListField(child=serializers.CharField())
    status = serializers.ChoiceField(choices=PracticeStatus.choices, allow_null=True)
    evidence_document = serializers.IntegerField(allow_null=True)
    note = serializers.CharField()
    updated_at = serializers.DateTimeField(allow_null=True)


class ChecklistSerializer(serializers.Serializer):
    answered = serializers.IntegerField()
    total = serializers.IntegerField()
    practices = ChecklistPracticeSerializer(many=True)


class ChecklistUpdateSerializer(serializers.Serializer):
    answers = serializers.DictField(
        child=ChecklistAnswerSerializer(),
        required=False,
        default=dict,
        help_text="Practice key → its answer; practices not named keep theirs.",
    )


def checklist_body(case) -> dict:
    entries = {e.practice: e for e in ChecklistEntry.objects.filter(case=case)}
    summary = checklist_summary(list(entries.values()))
    practices = []
    for group in GROUPS:
        for practice in group.practices:
            entry = entries.get(practice.key)
            practices.append(
                {
                    "key": practice.key,
                    "group": group.key,
                    "title": practice.title,
                    "aim": practice.aim,
                    "baseline": list(practice.baseline),
                    "recommended": list(practice.recommended),
                    "status": entry.status if entry else None,
                    "evidence_document": entry.evidence_document_id if entry else None,
                    "note": entry.note if entry else "",
                    "updated_at": entry.updated_at if entry else None,
                }
            )
    return {"answered": summary.answered, "total": summary.total, "practices": practices}


class ChecklistView(PortalAPIView):
    @extend_schema(
        operation_id="checklist_read",
        summary="The deployment checklist: every practice and the company's answer",
        responses={200: ChecklistSerializer, **problems(*READ_PROBLEMS)},
    )
    def get(self, request, number: str):
        case = get_case(request, number)
        return Response(ChecklistSerializer(checklist_body(case)).data)

    @extend_schema(
        operation_id="checklist_update",
        summary="Answer deployment practices while the case is open (company liaisons)",
        request=ChecklistUpdateSerializer,
        responses={200: ChecklistSerializer, **problems(*WRITE_PROBLEMS)},
    )
    def patch(self, request, number: str):
        case = get_case(request, number)
        body = ChecklistUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        answers = {}
        documents = {d.pk: d for d in case.documents.all()}
        for key, answer in body.validated_data["answers"].items():
            document_id = answer.get("evidence_document")
            if document_id is not None and document_id not in documents:
                raise exceptions.ValidationError(
                    {f"answers.{key}.evidence_document": ["This case has no such document."]}
                )
            answers[key] = {
                "status": answer["status"] or "",
                "evidence_document": documents.get(document_id),
                "note": answer.get("note", ""),
            }
        services.record_checklist(case=case, actor=request.user, answers=answers)
        return Response(ChecklistSerializer(checklist_body(case)).data)
