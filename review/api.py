"""The REST API of cases: list, detail, status for polling, timeline, lifecycle actions.

Every view gets its case through `Case.objects.visible_to(user)`, so a token
sees exactly what its user sees; a case the user may not see is a 404.
"""

import hashlib
import re
import tempfile
from collections import Counter

from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.http import http_date, parse_etags, parse_http_date_safe
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response

from accounts.api_permissions import (
    SCHEMA_NOTE,
    SENSITIVE_CASE_ACTIONS,
    VerifiedIdentityForSensitiveActs,
)
from accounts.authentication import bearer_digest, known_token, token_key
from accounts.models import Role, User
from cases import access
from cases import services as case_services
from cases.intake import INTAKE_EDITABLE
from cases.models import Case, CaseEvent, Message, ReleaseType
from cases.selectors import get_case, visible_cases
from cases.status import Status
from core import cache as generations
from core.api import (
    PAGE_PARAMETERS,
    READ_PROBLEMS,
    WRITE_PROBLEMS,
    FileNegotiation,
    LastChangePagination,
    PortalAPIView,
    PortalGenericAPIView,
    TimelinePagination,
    paged,
    problems,
)
from core.errors import NotAllowed
from core.signing import SigningIdentityMissing
from findings.models import Finding, FindingState, Severity
from findings.selectors import with_overdue_request
from review import policy, services
from review.lifecycle import TRANSITIONS, Param, ParamKind, actions_from, parameters_by_name
from review.views import record_response
from submissions.models import REQUIRED_DOCUMENT_KINDS, DocumentState, latest_of_each_kind

# Bumped whenever a representation changes shape, so old ETags stop matching.
REPRESENTATION_VERSION = "2"
# What a case number can be (CAISI-2026-0001); anything else is not a cache key.
CACHEABLE_NUMBER = re.compile(r"[A-Za-z0-9-]{1,20}")


# --- conditional requests -----------------------------------------------------------


def changed_at(case: Case, user):
    """Return when what this user is shown of the case last changed.

    A company's view moves only with events shown to it (`cases.access`), so
    CAISI's internal work cannot be timed from the ETag, dates or order.
    """
    return getattr(case, access.changed_at_field(user))


def case_etag(case: Case, user, view: str) -> str:
    """Return a strong ETag for what this user is shown of the case.

    Every change to a case appends a timeline event, which moves the time it
    last changed for those shown the event; the role is part of it because
    companies and CAISI see different bodies, and the date because flags such
    as a short lead time or an overdue request turn with the calendar, not
    with an event.
    """
    key = f"{REPRESENTATION_VERSION}:{view}:{case.pk}:{case.status}:"
    key += f"{changed_at(case, user).isoformat()}:{user.role}:{timezone.localdate().isoformat()}"
    return '"' + hashlib.sha256(key.encode()).hexdigest()[:40] + '"'


def conditional_headers(last_change, etag: str) -> dict[str, str]:
    return {
        "ETag": etag,
        "Last-Modified": http_date(last_change.timestamp()),
        # Clients may keep the body but must ask again before using it.
        "Cache-Control": "private, no-cache",
    }


def is_not_modified(request, last_change, etag: str) -> bool:
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match:
        tags = parse_etags(if_none_match)
        return "*" in tags or etag in tags or etag in (t.removeprefix("W/") for t in tags)
    since = parse_http_date_safe(request.headers.get("If-Modified-Since", ""))
    return since is not None and int(last_change.timestamp()) <= since


CONDITIONAL_PARAMETERS = [
    OpenApiParameter(
        "If-None-Match",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        description="The ETag of the body you hold; 304 without a body if nothing changed.",
    ),
    OpenApiParameter(
        "If-Modified-Since",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        description="An HTTP date; 304 if the case has not changed since.",
    ),
]
NOT_MODIFIED = {
    304: OpenApiResponse(description="Not modified: the body you hold is current."),
}


# --- representations ----------------------------------------------------------------


class OrganizationSerializer(serializers.Serializer):
    name = serializers.CharField()
    slug = serializers.CharField()


class PersonSerializer(serializers.Serializer):
    name = serializers.CharField(source="get_full_name")
    email = serializers.EmailField()


class ChangedAtField(serializers.DateTimeField):
    """When what the requesting user is shown of the case last changed."""

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", "When what you are shown of the case last changed.")
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, case):
        return super().to_representation(changed_at(case, self.context["request"].user))


class CaseSummarySerializer(serializers.ModelSerializer):
    organization = OrganizationSerializer()
    updated_at = ChangedAtField()
    status_label = serializers.CharField(source="get_status_display")
    deployment_status_label = serializers.CharField(source="get_deployment_status_display")
    step = serializers.IntegerField(allow_null=True, help_text="The review step, 1–7.")
    case_manager = PersonSerializer(allow_null=True)
    short_lead_time = serializers.BooleanField(
        help_text="The planned release is closer than a review usually takes."
    )
    url = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = [
            "number",
            "title",
            "model_name",
            "organization",
            "status",
            "status_label",
            "step",
            "deployment_status",
            "deployment_status_label",
            "case_manager",
            "planned_release_date",
            "short_lead_time",
            "created_at",
            "status_changed_at",
            "updated_at",
            "url",
        ]

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, case: Case) -> str:
        return self.context["request"].build_absolute_uri(
            reverse("api:case-detail", kwargs={"number": case.number})
        )


class CaseStatusSerializer(serializers.ModelSerializer):
    """What a release pipeline polls: the status and when it last changed."""

    status_label = serializers.CharField(source="get_status_display")
    step = serializers.IntegerField(allow_null=True, help_text="The review step, 1–7.")
    is_open = serializers.BooleanField()
    updated_at = ChangedAtField()
    deployment_status_label = serializers.CharField(source="get_deployment_status_display")

    class Meta:
        model = Case
        fields = [
            "number",
            "status",
            "status_label",
            "step",
            "is_open",
            "deployment_status",
            "deployment_status_label",
            "deployment_changed_at",
            "status_changed_at",
            "updated_at",
        ]


class VersionSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    label = serializers.CharField()
    vcs_reference = serializers.CharField()
    digest = serializers.CharField()
    packaging = serializers.CharField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class CountsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    by_severity = serializers.DictField(child=serializers.IntegerField())
    by_state = serializers.DictField(child=serializers.IntegerField())


class RequiredDocumentSerializer(serializers.Serializer):
    kind = serializers.CharField()
    label = serializers.CharField()
    present = serializers.BooleanField()
    state = serializers.CharField(allow_null=True)
    version_number = serializers.IntegerField(allow_null=True)


class DocumentsSummarySerializer(serializers.Serializer):
    total = serializers.IntegerField()
    by_state = serializers.DictField(child=serializers.IntegerField())
    required = RequiredDocumentSerializer(many=True)
    url = serializers.URLField()


class StatementChangeSerializer(serializers.Serializer):
    change = serializers.CharField()
    at = serializers.DateTimeField()
    reason = serializers.CharField()


class StatementSerializer(serializers.Serializer):
    number = serializers.CharField()
    status = serializers.CharField(
        help_text="issued (valid), suspended, superseded, revoked or expired: the live status."
    )
    status_label = serializers.CharField()
    issued_at = serializers.DateTimeField()
    valid_until = serializers.DateTimeField(allow_null=True)
    history = StatementChangeSerializer(many=True)
    version_label = serializers.CharField()
    vcs_reference = serializers.CharField()
    digest = serializers.CharField(help_text="The digest CAISI verified; empty when it could not.")
    digest_verification = serializers.CharField(
        help_text="received_weights, container_digest or endpoint_only (not verified by CAISI)."
    )
    declared_digest = serializers.CharField(help_text="The digest the company declared.")
    scope = serializers.CharField()
    conditions = serializers.CharField()
    verification_url = serializers.URLField()
    download_url = serializers.URLField()


class ClarificationDueSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    due_date = serializers.DateField()
    overdue = serializers.BooleanField()


class DeadlinesSerializer(serializers.Serializer):
    planned_release_date = serializers.DateField(allow_null=True)
    access_expires_at = serializers.DateTimeField(allow_null=True)
    clarification_requests = ClarificationDueSerializer(many=True)


class AvailableActionSerializer(serializers.Serializer):
    action = serializers.CharField()
    label = serializers.CharField()
    params = serializers.ListField(child=serializers.CharField())
    blockers = serializers.ListField(child=serializers.CharField())
    url = serializers.URLField()


class CaseDetailSerializer(CaseSummarySerializer):
    versions = serializers.SerializerMethodField()
    findings = serializers.SerializerMethodField()
    documents = serializers.SerializerMethodField()
    clearance_statement = serializers.SerializerMethodField()
    deadlines = serializers.SerializerMethodField()
    available_actions = serializers.SerializerMethodField()

    class Meta(CaseSummarySerializer.Meta):
        fields = CaseSummarySerializer.Meta.fields + [
            "description",
            "architecture",
            "parameter_count",
            "training_compute",
            "training_data_description",
            "intended_uses",
            "modality",
            "release_type",
            "versions",
            "findings",
            "documents",
            "clearance_statement",
            "deadlines",
            "available_actions",
        ]

    def _absolute(self, path: str) -> str:
        return self.context["request"].build_absolute_uri(path)

    @extend_schema_field(VersionSummarySerializer(many=True))
    def get_versions(self, case: Case):
        return VersionSummarySerializer(case.versions.all(), many=True).data

    @extend_schema_field(CountsSerializer)
    def get_findings(self, case: Case):
        """Count the findings the user may see (a company never counts drafts)."""

        rows = (
            Finding.objects.visible_to(self.context["request"].user)
            .filter(case=case)
            .values("severity", "state")
            .annotate(n=Count("pk"))
            .order_by()
        )
        by_severity, by_state = Counter(), Counter()
        for row in rows:
            by_severity[row["severity"]] += row["n"]
            by_state[row["state"]] += row["n"]
        states = list(FindingState.values)
        if not access.can_see_internal(self.context["request"].user):
            states.remove(FindingState.DRAFT)
        return {
            "total": sum(by_severity.values()),
            "by_severity": {s: by_severity[s] for s in Severity.values},
            "by_state": {s: by_state[s] for s in states},
        }

    @extend_schema_field(DocumentsSummarySerializer)
    def get_documents(self, case: Case):

        documents = list(case.documents.all())
        latest = latest_of_each_kind(documents)
        by_state = Counter(doc.state for doc in latest.values())
        return {
            "total": len(documents),
            "by_state": {s: by_state[s] for s in DocumentState.values},
            "required": [
                {
                    "kind": kind.value,
                    "label": kind.label,
                    "present": kind in latest,
                    "state": latest[kind].state if kind in latest else None,
                    "version_number": latest[kind].version_number if kind in latest else None,
                }
                for kind in REQUIRED_DOCUMENT_KINDS
            ],
            "url": self._absolute(reverse("api:case-documents", kwargs={"number": case.number})),
        }

    @extend_schema_field(StatementSerializer(allow_null=True))
    def get_clearance_statement(self, case: Case):
        statements = sorted(case.clearance_statements.all(), key=lambda s: s.issued_at)
        if not statements:
            return None
        statement = statements[-1]
        return {
            "number": statement.number,
            "status": statement.live_status,
            "status_label": statement.live_status_label,
            "issued_at": statement.issued_at,
            "valid_until": statement.valid_until,
            "history": [
                {"change": c.change, "at": c.at, "reason": c.reason}
                for c in statement.history.all()
            ],
            "version_label": statement.version_label,
            "vcs_reference": statement.vcs_reference,
            "digest": statement.digest,
            "digest_verification": statement.digest_verification,
            "declared_digest": statement.declared_digest,
            "scope": statement.scope,
            "conditions": statement.conditions,
            "verification_url": statement.get_verification_url(),
            # The API's own URL: a token fetches it (the web's asks for a sign-in).
            "download_url": self._absolute(
                reverse(
                    "api:statement-download",
                    kwargs={"number": case.number, "statement": statement.number},
                )
            ),
        }

    @extend_schema_field(DeadlinesSerializer)
    def get_deadlines(self, case: Case):
        now = timezone.now()
        live = [g.valid_until for g in case.access_grants.all() if g.is_live(now)]
        today = timezone.localdate()
        return {
            "planned_release_date": case.planned_release_date,
            "access_expires_at": max(live) if live else None,
            "clarification_requests": [
                {"id": r.pk, "due_date": r.due_date, "overdue": r.due_date < today}
                for r in sorted(case.clarification_requests.all(), key=lambda r: r.due_date)
                if r.is_open
            ],
        }

    @extend_schema_field(AvailableActionSerializer(many=True))
    def get_available_actions(self, case: Case):
        user = self.context["request"].user
        return [
            {
                "action": t.action.value,
                "label": t.action.label,
                "params": list(t.params),
                "blockers": services.gate_blockers(case, t.action),
                "url": self._absolute(
                    reverse("api:case-action", kwargs={"number": case.number, "action": t.action})
                ),
            }
            for t in actions_from(case)
            if policy.can_take(user, case, t.action)
        ]


def detail_queryset(user):
    return (
        visible_cases(user)
        .select_related("organization", "case_manager")
        .prefetch_related(
            "versions",
            "documents",
            "clearance_statements__history",
            "access_grants",
            "clarification_requests",
        )
    )


# --- writes: opening a case and its intake ---------------------------------------------


class IntakeSerializer(serializers.ModelSerializer):
    """The intake fields; a draft may leave any of them empty until submit_intake."""

    release_type = serializers.ChoiceField(choices=ReleaseType.choices, required=False)

    class Meta:
        model = Case
        fields = list(INTAKE_EDITABLE)
        extra_kwargs = {"title": {"required": False}, "model_name": {"required": False}}


class CaseCreateSerializer(IntakeSerializer):
    class Meta(IntakeSerializer.Meta):
        extra_kwargs = {"title": {"required": True}, "model_name": {"required": True}}


# --- filters ------------------------------------------------------------------------------


class CaseFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Status.choices, required=False)
    organization = serializers.SlugField(
        required=False, help_text="An organization's slug (CAISI staff only)."
    )
    updated_after = serializers.DateTimeField(
        required=False, help_text="Only cases changed after this time (ISO 8601)."
    )
    short_lead_time = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Open cases whose planned release is closer than a review usually takes.",
    )
    overdue = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Cases with a clarification request past its due date.",
    )


class CaseChangePagination(LastChangePagination):
    """The cases most recently changed first, as far as the requesting user is shown them."""

    def paginate_queryset(self, queryset, request, view=None):
        self.ordering = (f"-{access.changed_at_field(request.user)}", "-pk")
        return super().paginate_queryset(queryset, request, view)


class CaseListView(PortalGenericAPIView):
    open_to_status_tokens = True  # where a status-only token finds its case's number
    pagination_class = CaseChangePagination
    serializer_class = CaseSummarySerializer

    def get_queryset(self):
        return with_overdue_request(
            visible_cases(self.request.user).select_related("organization", "case_manager")
        )

    def filter_queryset(self, queryset):
        if "organization" in self.request.query_params and not self.request.user.is_caisi_staff:
            # A company sees its own cases only: the filter is not its to use.
            raise NotAllowed("Only CAISI staff filter by organization.")
        filters = CaseFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        if "status" in data:
            queryset = queryset.filter(status=data["status"])
        if "organization" in data:
            queryset = queryset.filter(organization__slug=data["organization"])
        if "updated_after" in data:
            field = access.changed_at_field(self.request.user)
            queryset = queryset.filter(**{f"{field}__gt": data["updated_after"]})
        if data.get("short_lead_time") is not None:
            short = Case.objects.short_lead_time().values("pk")
            queryset = (
                queryset.filter(pk__in=short)
                if data["short_lead_time"]
                else queryset.exclude(pk__in=short)
            )
        if data.get("overdue") is not None:
            queryset = queryset.filter(has_overdue_request=data["overdue"])
        return queryset

    @extend_schema(
        operation_id="cases_list",
        summary="List the cases this token's user may see, the most recently changed first",
        parameters=[CaseFilterSerializer, *PAGE_PARAMETERS],
        responses={
            200: paged(CaseSummarySerializer, "CasePage"),
            **problems(400, 403, *READ_PROBLEMS),
        },
    )
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        operation_id="cases_create",
        summary="Open a case with its intake (company liaisons)",
        request=CaseCreateSerializer,
        responses={201: CaseDetailSerializer, **problems(*WRITE_PROBLEMS)},
    )
    def post(self, request):
        if not access.can_create_case(request.user):
            raise exceptions.PermissionDenied("Only a company liaison can open a case.")
        body = CaseCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        case = case_services.open_case(actor=request.user, **body.validated_data)
        case = get_case(request, case.number, detail_queryset(request.user))
        data = CaseDetailSerializer(case, context={"request": request}).data
        return Response(data, status=status.HTTP_201_CREATED, headers={"Location": data["url"]})


class CaseDetailView(PortalAPIView):
    @extend_schema(
        operation_id="cases_retrieve",
        summary="A case: status, step, manager, deadlines, versions, findings, documents, "
        "clearance",
        parameters=CONDITIONAL_PARAMETERS,
        responses={200: CaseDetailSerializer, **NOT_MODIFIED, **problems(*READ_PROBLEMS)},
    )
    def get(self, request, number: str):
        # Only what the ETag needs is read before deciding on a 304.
        head = get_case(
            request,
            number,
            visible_cases(request.user).only("pk", "status", access.changed_at_field(request.user)),
        )
        etag = case_etag(head, request.user, "detail")
        last_change = changed_at(head, request.user)
        headers = conditional_headers(last_change, etag)
        if is_not_modified(request, last_change, etag):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers=headers)
        case = get_case(request, number, detail_queryset(request.user))
        data = CaseDetailSerializer(case, context={"request": request}).data
        return Response(data, headers=headers)

    @extend_schema(
        operation_id="cases_intake_update",
        summary="Save intake fields while the case is in intake (company liaisons)",
        request=IntakeSerializer,
        responses={200: CaseDetailSerializer, **problems(*WRITE_PROBLEMS)},
    )
    def patch(self, request, number: str):
        case = get_case(request, number)
        body = IntakeSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        case_services.update_intake(case=case, actor=request.user, data=body.validated_data)
        case = get_case(request, number, detail_queryset(request.user))
        return Response(CaseDetailSerializer(case, context={"request": request}).data)


def status_key(person: int, number: str) -> str:
    return f"casestatus:u:{person}:{number}:{timezone.localdate().isoformat()}"


class CaseStatusView(PortalAPIView):
    open_to_status_tokens = True

    def initial(self, request, *args, **kwargs):
        # The token check, the budget and this view use the shared cache: one round
        # trip for all three once this process has seen the token.
        number, digest = kwargs.get("number", ""), bearer_digest(request)
        if digest and generations.enabled() and CACHEABLE_NUMBER.fullmatch(number):
            keys = [token_key(digest), generations.ACCESS, generations.case_generation(number)]
            counters = {}
            known = known_token(digest)
            if known is not None:
                person, token = known
                keys.append(status_key(person, number))
                for throttle in self.get_throttles():
                    counting = throttle.counters(throttle.token_key(token))
                    if counting is not None:
                        counters.update(counting[0])
                        keys.append(counting[1])
            request._request.cache_prefetch = generations.prefetch(keys, counters)
        super().initial(request, *args, **kwargs)

    @extend_schema(
        operation_id="cases_status",
        summary="A case's status, compact, for polling with If-None-Match",
        parameters=CONDITIONAL_PARAMETERS,
        responses={200: CaseStatusSerializer, **NOT_MODIFIED, **problems(*READ_PROBLEMS)},
    )
    def get(self, request, number: str):
        # Polled often and rarely changed: kept in the shared cache per token (or
        # person) and case, used only while no change of the case or of anyone's
        # access came since.
        def load() -> dict:
            case = get_case(
                request,
                number,
                visible_cases(request.user).only(
                    "pk",
                    "number",
                    "status",
                    "status_changed_at",
                    access.changed_at_field(request.user),
                    "deployment_status",
                    "deployment_changed_at",
                ),
            )
            return {
                "etag": case_etag(case, request.user, "status"),
                "updated_at": changed_at(case, request.user),
                "body": dict(CaseStatusSerializer(case, context={"request": request}).data),
            }

        if not CACHEABLE_NUMBER.fullmatch(number):
            found = load()  # no case has such a number: a 404, never a cache key
        else:
            # What a person is shown is the same whichever of their tokens (or their
            # session) asks, so one entry serves them all.
            found = generations.cached(
                status_key(request.user.pk, number),
                generations.ACCESS,
                generations.case_generation(number),
                load=load,
                prefetched=getattr(request._request, "cache_prefetch", None),
            )
        headers = conditional_headers(found["updated_at"], found["etag"])
        if is_not_modified(request, found["updated_at"], found["etag"]):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers=headers)
        return Response(found["body"], headers=headers)


# --- the timeline ---------------------------------------------------------------------


class EventSerializer(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField()
    label = serializers.CharField(source="verb_label")
    details = serializers.DictField()

    class Meta:
        model = CaseEvent
        fields = [
            "seq",
            "verb",
            "label",
            "actor",
            "from_status",
            "to_status",
            "details",
            "internal",
            "created_at",
            "hash",
        ]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_actor(self, event: CaseEvent):
        if not event.actor_id:
            return None
        return access.name_shown(event.actor, self.context["request"].user)


class TimelineView(PortalGenericAPIView):
    pagination_class = TimelinePagination
    serializer_class = EventSerializer

    @extend_schema(
        operation_id="cases_timeline",
        summary="The case's timeline, oldest first (a company never sees internal events)",
        parameters=PAGE_PARAMETERS,
        responses={200: paged(EventSerializer, "EventPage"), **problems(400, *READ_PROBLEMS)},
    )
    def get(self, request, number: str):
        case = get_case(request, number)
        events = (
            CaseEvent.objects.visible_to(request.user).filter(case=case).select_related("actor")
        )
        page = self.paginate_queryset(events)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


# --- lifecycle actions ------------------------------------------------------------------


def _action_body_field(param: Param, actions: list) -> serializers.Field:
    """The API's field for one parameter of the table (optional for actions without it)."""
    names = ", ".join(a.value for a in actions)
    help_text = f"{names}: {param.help_text}"
    if param.kind == ParamKind.CASE_MANAGER:
        return serializers.EmailField(
            required=False, help_text=f"{names}: the case manager's email."
        )
    if param.kind == ParamKind.DATE:
        return serializers.DateField(required=False, allow_null=True, help_text=help_text)
    if param.kind == ParamKind.DAYS:
        return serializers.IntegerField(
            required=False, allow_null=True, min_value=1, max_value=3650, help_text=help_text
        )
    if param.kind == ParamKind.INCIDENT:
        return serializers.IntegerField(
            required=False, allow_null=True, min_value=1, help_text=help_text
        )
    if param.kind == ParamKind.CHOICES:
        return serializers.ListField(
            child=serializers.ChoiceField(choices=param.choices.choices),
            required=False,
            help_text=help_text,
        )
    if param.kind == ParamKind.MODEL_VERSION:
        return serializers.CharField(
            required=False, max_length=100, help_text=f"{names}: the version's label."
        )
    return serializers.CharField(
        required=False, allow_blank=not param.required, max_length=4000, help_text=help_text
    )


# One body for every action, its fields those of the lifecycle table.
ActionParamsSerializer = type(
    "ActionParamsSerializer",
    (serializers.Serializer,),
    {
        name: _action_body_field(param, actions)
        for name, (param, actions) in parameters_by_name().items()
    },
)


class ActionView(PortalAPIView):
    permission_classes = [*PortalAPIView.permission_classes, VerifiedIdentityForSensitiveActs]

    def is_sensitive_act(self, request) -> bool:
        return self.kwargs.get("action") in SENSITIVE_CASE_ACTIONS

    @extend_schema(
        operation_id="cases_action",
        summary="Take a lifecycle action, with the same checks and gates as the web pages",
        description="Actions: " + ", ".join(TRANSITIONS) + ". A refusal is a 409 whose "
        "`blockers` say what the case still lacks. submit_intake:" + SCHEMA_NOTE,
        parameters=[
            OpenApiParameter(
                "action",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                enum=[str(action) for action in TRANSITIONS],
                description="The lifecycle action to take.",
            )
        ],
        request=ActionParamsSerializer,
        responses={200: CaseStatusSerializer, **problems(*WRITE_PROBLEMS)},
    )
    def post(self, request, number: str, action: str):
        case = get_case(request, number)
        if action not in TRANSITIONS:
            raise exceptions.NotFound(f"There is no action “{action}”.")
        body = ActionParamsSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        params = dict(body.validated_data)
        unknown = sorted(set(params) - TRANSITIONS[action].accepts)
        if unknown:
            raise exceptions.ValidationError(
                {name: [f"{action} takes no {name}."] for name in unknown}
            )
        if "manager" in params:
            manager = User.objects.filter(
                email__iexact=params["manager"], staff_role=Role.CASE_MANAGER
            ).first()
            if manager is None:
                raise exceptions.ValidationError({"manager": ["No case manager has that email."]})
            params["manager"] = manager
        if "version" in params:
            version = case.versions.filter(label=params["version"]).first()
            if version is None:
                raise exceptions.ValidationError(
                    {"version": ["This case has no version with that label."]}
                )
            params["version"] = version
        case = services.perform(case=case, actor=request.user, action=action, **params)
        return Response(CaseStatusSerializer(case, context={"request": request}).data)


# --- evaluators ---------------------------------------------------------------------------


class EvaluatorSerializer(serializers.Serializer):
    name = serializers.CharField(source="get_full_name")
    email = serializers.EmailField()


class EvaluatorAssignSerializer(serializers.Serializer):
    evaluator = serializers.EmailField(help_text="The evaluator's email.")


class EvaluatorsView(PortalAPIView):
    @extend_schema(
        operation_id="evaluators_list",
        summary="The evaluators assigned to the case (CAISI staff)",
        responses={200: EvaluatorSerializer(many=True), **problems(403, *READ_PROBLEMS)},
    )
    def get(self, request, number: str):
        case = get_case(request, number)
        if not access.can_see_internal(request.user):
            raise NotAllowed("Who evaluates a case is CAISI's to see.")
        return Response(EvaluatorSerializer(case.evaluators.order_by("email"), many=True).data)

    @extend_schema(
        operation_id="evaluators_assign",
        summary="Assign an evaluator to the case; refused on a declared conflict (case managers)",
        request=EvaluatorAssignSerializer,
        responses={200: EvaluatorSerializer(many=True), **problems(*WRITE_PROBLEMS)},
    )
    def post(self, request, number: str):
        case = get_case(request, number)
        if request.user.role != Role.CASE_MANAGER:
            # Before reading the body, so the answer tells nothing of CAISI's staff.
            raise NotAllowed("Only a case manager can assign evaluators.")
        body = EvaluatorAssignSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        evaluator = User.objects.filter(
            email__iexact=body.validated_data["evaluator"], staff_role=Role.EVALUATOR
        ).first()
        if evaluator is None:
            raise exceptions.ValidationError({"evaluator": ["No evaluator has that email."]})
        case = services.assign_evaluator(case=case, actor=request.user, evaluator=evaluator)
        return Response(EvaluatorSerializer(case.evaluators.order_by("email"), many=True).data)


# --- the case's message thread ----------------------------------------------------------------


class MessageSerializer(serializers.ModelSerializer):
    author = serializers.SerializerMethodField()

    class Meta:
        model = Message
        fields = ["id", "author", "body", "internal", "created_at"]

    @extend_schema_field(serializers.CharField())
    def get_author(self, message: Message) -> str:
        return access.name_shown(message.author, self.context["request"].user)


class MessagePostSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=20000)
    internal = serializers.BooleanField(
        default=False, help_text="An internal note, never shown to the company (CAISI staff)."
    )


class MessagesView(PortalAPIView):
    @extend_schema(
        operation_id="messages_list",
        summary="The case's thread, oldest first (a company never sees internal notes)",
        responses={200: MessageSerializer(many=True), **problems(*READ_PROBLEMS)},
    )
    def get(self, request, number: str):
        case = get_case(request, number)
        messages = Message.objects.visible_to(request.user).filter(case=case)
        return Response(
            MessageSerializer(
                messages.select_related("author"), many=True, context={"request": request}
            ).data
        )

    @extend_schema(
        operation_id="messages_post",
        summary="Write in the case's thread, or an internal note (CAISI staff)",
        request=MessagePostSerializer,
        responses={201: MessageSerializer, **problems(*WRITE_PROBLEMS)},
    )
    def post(self, request, number: str):
        case = get_case(request, number)
        body = MessagePostSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        message = case_services.post_message(case=case, actor=request.user, **body.validated_data)
        return Response(
            MessageSerializer(message, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


# --- the record, exported whole -----------------------------------------------------------


class SigningUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The record cannot be signed now: the portal's signing identity is missing."
    default_code = "signing_unavailable"


class CaseExportView(PortalAPIView):
    content_negotiation_class = FileNegotiation

    @extend_schema(
        operation_id="cases_export",
        summary="Download the case's whole record as a signed ZIP (CAISI staff tokens)",
        description="The ZIP holds manifest.json (every file with its SHA-256 and size, the "
        "case's fields, the export time, who exported, the format version), the timeline as "
        "JSON Lines with each event's hash and link, versions, access records (no "
        "credentials), documents, evaluations and their logs, findings with answers and "
        "decisions, clarifications, messages, statement PDFs, manifest.json.sig (a detached "
        "signature over the manifest with the portal's certificate, signing-certificate.pem) "
        "and verify.py, which checks it all offline with Python and `cryptography`. The "
        "export is recorded on the case's timeline. Company tokens are refused (403): the "
        "company downloads its own record, without anything internal, from the case page.",
        responses={
            (200, "application/zip"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The signed record, as an attachment."
            ),
            **problems(*READ_PROBLEMS, 403, 503),
        },
    )
    def get(self, request, number: str):
        case = get_case(request, number)
        if not policy.can_export_record_by_api(request.user, case):
            raise NotAllowed(
                "The record is exported by API for CAISI staff; a company downloads its own "
                "record from the case page."
            )
        stream = tempfile.TemporaryFile()  # noqa: SIM115 - the response closes it once sent
        try:
            written = services.export_record(case=case, actor=request.user, output=stream)
        except SigningIdentityMissing:
            stream.close()
            raise SigningUnavailable() from None
        return record_response(stream, case, written.audience)
