"""The REST API of steps 5 and 6: findings, the company's answers, clarification requests.

A company sees only shared findings: drafts are read through
`Finding.objects.visible_to(user)`, the same queryset the case page uses.
Writes call `findings.services`.
"""

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response

from accounts.api_permissions import SCHEMA_NOTE, VerifiedIdentityForSensitiveActs
from cases.access import can_see_internal
from cases.selectors import get_case
from core.api import READ_PROBLEMS, WRITE_PROBLEMS, PortalAPIView, problems
from core.parsers import BoundedFormParser, BoundedJSONParser, UploadPipelineParser, uploaded_data
from core.uploads import accepts_uploads
from findings import services
from findings.forms import holds_nul
from findings.models import (
    Category,
    ClarificationRequest,
    EvaluationRun,
    Finding,
    FindingResponse,
    InspectImport,
    Severity,
)

# --- findings --------------------------------------------------------------------------


class FindingResponseSerializer(serializers.ModelSerializer):
    fixed_in_version = serializers.SlugRelatedField(
        slug_field="label", read_only=True, allow_null=True
    )

    class Meta:
        model = FindingResponse
        fields = [
            "round",
            "kind",
            "fixed_in_version",
            "mitigation",
            "rationale",
            "responded_at",
            "verdict",
            "review_note",
            "reviewed_at",
        ]


class FindingSerializer(serializers.ModelSerializer):
    model_version = serializers.SlugRelatedField(slug_field="label", read_only=True)
    # By id: several runs may share a title (two imports of one task).
    evaluation = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    sample_ids = serializers.ListField(child=serializers.CharField())
    responses = FindingResponseSerializer(many=True, read_only=True)

    class Meta:
        model = Finding
        fields = [
            "id",
            "title",
            "severity",
            "category",
            "description",
            "state",
            "model_version",
            "evaluation",
            "sample_ids",
            "created_at",
            "shared_at",
            "resolution",
            "resolved_at",
            "responses",
        ]


class FindingDraftSerializer(serializers.Serializer):
    severity = serializers.ChoiceField(choices=Severity.choices, help_text="Always chosen.")
    category = serializers.ChoiceField(
        choices=Category.choices,
        required=False,
        allow_blank=True,
        help_text="Omitted, the category of the cited evaluation.",
    )
    title = serializers.CharField(max_length=200)
    description = serializers.CharField()
    evaluation = serializers.IntegerField(
        required=False, allow_null=True, help_text="The id of the evaluation run it came from."
    )
    sample_ids = serializers.ListField(child=serializers.CharField(max_length=200), required=False)


def visible_findings(request, case):
    return (
        Finding.objects.visible_to(request.user)
        .filter(case=case)
        .select_related("model_version", "evaluation")
        .prefetch_related("responses__fixed_in_version")
    )


def get_finding(request, case, pk: int) -> Finding:
    finding = visible_findings(request, case).filter(pk=pk).first()
    if finding is None:
        raise exceptions.NotFound("This case has no such finding.")
    return finding


class FindingListView(PortalAPIView):
    @extend_schema(
        operation_id="findings_list",
        summary="The case's findings with the company's answers (a company sees shared ones only)",
        responses={200: FindingSerializer(many=True), **problems(*READ_PROBLEMS)},
    )
    def get(self, request, number: str):
        case = get_case(request, number)
        return Response(FindingSerializer(visible_findings(request, case), many=True).data)

    @extend_schema(
        operation_id="findings_draft",
        summary="Draft a finding during testing; it stays internal until shared (evaluators)",
        request=FindingDraftSerializer,
        responses={201: FindingSerializer, **problems(*WRITE_PROBLEMS)},
    )
    def post(self, request, number: str):
        case = get_case(request, number)
        body = FindingDraftSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        evaluation_id = data.pop("evaluation", None)
        evaluation = None
        if evaluation_id is not None:
            evaluation = EvaluationRun.objects.filter(case=case, pk=evaluation_id).first()
            if evaluation is None:
                raise exceptions.ValidationError(
                    {"evaluation": ["This case has no evaluation run with that id."]}
                )
        finding = services.draft_finding(
            case=case, actor=request.user, evaluation=evaluation, **data
        )
        return Response(
            FindingSerializer(get_finding(request, case, finding.pk)).data,
            status=status.HTTP_201_CREATED,
        )


class FindingEditSerializer(serializers.Serializer):
    severity = serializers.ChoiceField(choices=Severity.choices, required=False)
    category = serializers.ChoiceField(
        choices=Category.choices,
        required=False,
        allow_blank=True,
        help_text="Empty: the category of the cited evaluation.",
    )
    title = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False)
    evaluation = serializers.IntegerField(
        required=False, allow_null=True, help_text="The id of the evaluation run it came from."
    )
    sample_ids = serializers.ListField(child=serializers.CharField(max_length=200), required=False)


def _case_evaluation(case, evaluation_id):
    if evaluation_id is None:
        return None
    evaluation = EvaluationRun.objects.filter(case=case, pk=evaluation_id).first()
    if evaluation is None:
        raise exceptions.ValidationError(
            {"evaluation": ["This case has no evaluation run with that id."]}
        )
    return evaluation


class FindingDetailView(PortalAPIView):
    @extend_schema(
        operation_id="findings_read",
        summary="One finding with the company's answers (a company sees shared ones only)",
        responses={200: FindingSerializer, **problems(*READ_PROBLEMS)},
    )
    def get(self, request, number: str, pk: int):
        case = get_case(request, number)
        return Response(FindingSerializer(get_finding(request, case, pk)).data)

    @extend_schema(
        operation_id="findings_edit",
        summary="Change a draft finding before it is shared (evaluators, during testing)",
        request=FindingEditSerializer,
        responses={200: FindingSerializer, **problems(*WRITE_PROBLEMS)},
    )
    def patch(self, request, number: str, pk: int):
        case = get_case(request, number)
        finding = get_finding(request, case, pk)
        body = FindingEditSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        if "evaluation" in data:
            data["evaluation"] = _case_evaluation(case, data["evaluation"])
        services.edit_draft_finding(finding=finding, actor=request.user, data=data)
        return Response(FindingSerializer(get_finding(request, case, pk)).data)

    @extend_schema(
        operation_id="findings_delete",
        summary="Delete a draft finding before it is shared (evaluators, during testing)",
        responses={204: None, **problems(*WRITE_PROBLEMS)},
    )
    def delete(self, request, number: str, pk: int):
        case = get_case(request, number)
        finding = get_finding(request, case, pk)
        services.delete_draft_finding(finding=finding, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AnswerFindingSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=FindingResponse.Kind.choices)
    fixed_in_version = serializers.CharField(
        required=False, help_text="fixed: the label of the revised version with the fix."
    )
    mitigation = serializers.CharField(
        required=False, allow_blank=True, help_text="mitigated or disputed: the guardrail."
    )
    rationale = serializers.CharField(
        required=False, allow_blank=True, help_text="disputed: why the company disagrees."
    )


class FindingResponseView(PortalAPIView):
    permission_classes = [*PortalAPIView.permission_classes, VerifiedIdentityForSensitiveActs]

    def is_sensitive_act(self, request) -> bool:
        return True

    @extend_schema(
        operation_id="findings_respond",
        summary="Answer a shared finding: fixed, mitigated or disputed (company liaisons)",
        description="The company's answer for this round." + SCHEMA_NOTE,
        request=AnswerFindingSerializer,
        responses={201: FindingSerializer, **problems(*WRITE_PROBLEMS)},
    )
    def post(self, request, number: str, pk: int):
        case = get_case(request, number)
        finding = get_finding(request, case, pk)
        body = AnswerFindingSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        label = data.pop("fixed_in_version", None)
        version = None
        if label:
            version = case.versions.filter(label=label).first()
            if version is None:
                raise exceptions.ValidationError(
                    {"fixed_in_version": ["This case has no version with that label."]}
                )
        services.respond_to_finding(
            finding=finding, actor=request.user, fixed_in_version=version, **data
        )
        return Response(
            FindingSerializer(get_finding(request, case, pk)).data,
            status=status.HTTP_201_CREATED,
        )


class ReviewAnswerSerializer(serializers.Serializer):
    verdict = serializers.ChoiceField(
        choices=[
            c for c in FindingResponse.Verdict.choices if c[0] != FindingResponse.Verdict.PENDING
        ]
    )
    note = serializers.CharField(
        required=False, allow_blank=True, help_text="Required when rejecting the answer."
    )


class FindingReviewView(PortalAPIView):
    @extend_schema(
        operation_id="findings_review",
        summary="Verify a fix, or accept or reject the company's answer (case managers)",
        request=ReviewAnswerSerializer,
        responses={200: FindingSerializer, **problems(*WRITE_PROBLEMS)},
    )
    def post(self, request, number: str, pk: int):
        case = get_case(request, number)
        finding = get_finding(request, case, pk)
        body = ReviewAnswerSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.review_finding_response(finding=finding, actor=request.user, **body.validated_data)
        return Response(FindingSerializer(get_finding(request, case, pk)).data)


# --- evaluations (internal to CAISI) --------------------------------------------------------


class EvaluationSerializer(serializers.ModelSerializer):
    model_version = serializers.SlugRelatedField(slug_field="label", read_only=True)
    metrics = serializers.DictField(
        help_text="Flat metrics; a null value is a non-number the log gave (see metric_notes)."
    )
    metric_notes = serializers.DictField(
        child=serializers.CharField(),
        read_only=True,
        help_text="Metrics stored as null because the log gave no number (NaN, Infinity).",
    )
    inspect_scores = serializers.ListField(
        child=serializers.DictField(),
        read_only=True,
        help_text="Every scorer, its reducer and its metrics.",
    )

    class Meta:
        model = EvaluationRun
        fields = [
            "id",
            "category",
            "title",
            "summary",
            "metrics",
            "metric_notes",
            "status",
            "model_version",
            "started_at",
            "completed_at",
            "inspect_eval_id",
            "inspect_run_id",
            "inspect_task",
            "inspect_model",
            "inspect_status",
            "inspect_error",
            "inspect_traceback",
            "inspect_sample_count",
            "inspect_epochs",
            "inspect_total_samples",
            "inspect_completed_samples",
            "inspect_sample_errors",
            "inspect_scores",
            "inspect_log_sha256",
        ]


class EvaluationRecordSerializer(serializers.Serializer):
    category = serializers.ChoiceField(choices=Category.choices)
    title = serializers.CharField(max_length=200)
    summary = serializers.CharField(required=False, allow_blank=True)
    metrics = serializers.DictField(child=serializers.FloatField(), required=False)
    status = serializers.ChoiceField(choices=EvaluationRun.RunStatus.choices, required=False)

    def validate_metrics(self, value: dict) -> dict:
        if holds_nul(value):
            raise serializers.ValidationError("Metric names cannot contain NUL characters.")
        return value


class InspectImportSerializer(serializers.Serializer):
    log = serializers.FileField(help_text="The .eval or .json log Inspect AI wrote.")
    category = serializers.ChoiceField(choices=Category.choices)
    title = serializers.CharField(max_length=200, required=False, allow_blank=True)
    summary = serializers.CharField(required=False, allow_blank=True)
    model_version = serializers.IntegerField(
        required=False, allow_null=True, help_text="The id of the version tested."
    )


class InspectImportStateSerializer(serializers.ModelSerializer):
    evaluation = serializers.PrimaryKeyRelatedField(source="run", read_only=True, allow_null=True)

    class Meta:
        model = InspectImport
        fields = [
            "id",
            "name",
            "size",
            "sha256",
            "state",
            "refusal",
            "evaluation",
            "created_at",
            "finished_at",
        ]


def _internal_case(request, number: str):
    """The case, for CAISI staff only: evaluation runs and their imports are internal."""
    case = get_case(request, number)
    if not can_see_internal(request.user):
        raise exceptions.PermissionDenied("Evaluation runs are internal to CAISI.")
    return case


@accepts_uploads("INSPECT_LOG_MAX_BYTES")
class EvaluationView(PortalAPIView):
    parser_classes = [BoundedJSONParser, UploadPipelineParser, BoundedFormParser]

    def _case(self, request, number):
        return _internal_case(request, number)

    @extend_schema(
        operation_id="evaluations_list",
        summary="The case's evaluation runs (CAISI staff)",
        responses={200: EvaluationSerializer(many=True), **problems(403, *READ_PROBLEMS)},
    )
    def get(self, request, number: str):
        case = self._case(request, number)
        runs = case.evaluations.select_related("model_version")
        return Response(EvaluationSerializer(runs, many=True).data)

    @extend_schema(
        operation_id="evaluations_record",
        summary="Record an evaluation run from JSON metrics (evaluators)",
        description="An Inspect log is imported with `evaluations_import_log`; this path "
        "also takes that multipart `log` form, as it always has.",
        request={"application/json": EvaluationRecordSerializer},
        responses={201: EvaluationSerializer, **problems(*WRITE_PROBLEMS)},
    )
    def post(self, request, number: str):
        case = self._case(request, number)
        if request.content_type.startswith("multipart/"):
            return self._import(request, case)
        body = EvaluationRecordSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        run = services.record_evaluation_run(case=case, actor=request.user, **body.validated_data)
        return Response(EvaluationSerializer(run).data, status=status.HTTP_201_CREATED)

    def _import(self, request, case):
        body = InspectImportSerializer(data=uploaded_data(request, field="log"))
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
        done = services.import_or_queue_inspect_log(
            case=case, actor=request.user, upload=data.pop("log"), model_version=version, **data
        )
        if isinstance(done, InspectImport):
            location = reverse("api:inspect-import", args=[case.number, done.pk])
            return Response(
                InspectImportStateSerializer(done).data,
                status=status.HTTP_202_ACCEPTED,
                headers={"Location": location},
            )
        return Response(EvaluationSerializer(done).data, status=status.HTTP_201_CREATED)


class InspectLogImportView(EvaluationView):
    """The Inspect log import alone: one content type per operation, for generated clients."""

    parser_classes = [UploadPipelineParser, BoundedFormParser]
    http_method_names = ["post", "options"]

    @extend_schema(
        operation_id="evaluations_import_log",
        summary="Record an evaluation run from an Inspect log, a multipart `log` file (evaluators)",
        description="A log up to `INSPECT_LOG_INLINE_BYTES` is read at once (201); a larger one "
        "is queued (202, its `Location` to poll).",
        request={"multipart/form-data": InspectImportSerializer},
        responses={
            201: EvaluationSerializer,
            202: InspectImportStateSerializer,
            **problems(*WRITE_PROBLEMS, 413),
        },
    )
    def post(self, request, number: str):
        return self._import(request, self._case(request, number))


class InspectImportView(PortalAPIView):
    """A large log the portal is still reading (202 from the import points here)."""

    @extend_schema(
        operation_id="evaluations_import_state",
        summary="How the reading of a large Inspect log goes: queued, imported (with the "
        "evaluation's id) or refused (with the reason) (CAISI staff)",
        responses={200: InspectImportStateSerializer, **problems(403, *READ_PROBLEMS)},
    )
    def get(self, request, number: str, pk: int):
        case = _internal_case(request, number)
        queued = case.inspect_imports.filter(pk=pk).first()
        if queued is None:
            raise exceptions.NotFound("This case has no Inspect log import with that id.")
        return Response(InspectImportStateSerializer(queued).data)


# --- clarification requests -------------------------------------------------------------------


class ClarificationSerializer(serializers.ModelSerializer):
    overdue = serializers.BooleanField(source="is_overdue")

    class Meta:
        model = ClarificationRequest
        fields = [
            "id",
            "question",
            "due_date",
            "status",
            "overdue",
            "answer",
            "created_at",
            "answered_at",
        ]


class ClarificationAskSerializer(serializers.Serializer):
    question = serializers.CharField()
    due_date = serializers.DateField()


class ClarificationListView(PortalAPIView):
    @extend_schema(
        operation_id="clarifications_list",
        summary="The case's clarification requests, newest first",
        responses={200: ClarificationSerializer(many=True), **problems(*READ_PROBLEMS)},
    )
    def get(self, request, number: str):
        case = get_case(request, number)
        return Response(ClarificationSerializer(case.clarification_requests.all(), many=True).data)

    @extend_schema(
        operation_id="clarifications_ask",
        summary="Ask the company a question; the service-level clock pauses (CAISI staff)",
        request=ClarificationAskSerializer,
        responses={201: ClarificationSerializer, **problems(*WRITE_PROBLEMS)},
    )
    def post(self, request, number: str):
        case = get_case(request, number)
        body = ClarificationAskSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        asked = services.ask_clarification(case=case, actor=request.user, **body.validated_data)
        return Response(ClarificationSerializer(asked).data, status=status.HTTP_201_CREATED)


class ClarificationAnswerSerializer(serializers.Serializer):
    answer = serializers.CharField()


class ClarificationAnswerView(PortalAPIView):
    @extend_schema(
        operation_id="clarifications_answer",
        summary="Answer a clarification request (company liaisons)",
        request=ClarificationAnswerSerializer,
        responses={200: ClarificationSerializer, **problems(*WRITE_PROBLEMS)},
    )
    def post(self, request, number: str, pk: int):
        case = get_case(request, number)
        asked = case.clarification_requests.filter(pk=pk).first()
        if asked is None:
            raise exceptions.NotFound("This case has no such clarification request.")
        body = ClarificationAnswerSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        answered = services.answer_clarification(
            request=asked, actor=request.user, answer=body.validated_data["answer"]
        )
        return Response(ClarificationSerializer(answered).data)


class ClarificationCloseSerializer(serializers.Serializer):
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, help_text="Why it is closed."
    )


class ClarificationCloseView(PortalAPIView):
    @extend_schema(
        operation_id="clarifications_close",
        summary="Close a clarification request, answered or no longer needed (case managers)",
        request=ClarificationCloseSerializer,
        responses={200: ClarificationSerializer, **problems(*WRITE_PROBLEMS)},
    )
    def post(self, request, number: str, pk: int):
        case = get_case(request, number)
        asked = case.clarification_requests.filter(pk=pk).first()
        if asked is None:
            raise exceptions.NotFound("This case has no such clarification request.")
        body = ClarificationCloseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        closed = services.close_clarification(
            request=asked, actor=request.user, note=body.validated_data.get("note", "")
        )
        return Response(ClarificationSerializer(closed).data)
