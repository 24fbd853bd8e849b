"""The REST API of clearance statements: the signed PDF, fetched with a token."""

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions

from cases.selectors import get_case
from clearance import policy
from core.api import READ_PROBLEMS, Conflict, FileNegotiation, PortalAPIView, problems


class StatementDownloadView(PortalAPIView):
    content_negotiation_class = FileNegotiation

    @extend_schema(
        operation_id="statements_download",
        summary="Download a clearance statement's signed PDF",
        description="The `clearance_statement.download_url` of the case. While the statement "
        "is being signed the answer is 409; ask again shortly.",
        responses={
            (200, "application/pdf"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The signed statement, as an attachment."
            ),
            **problems(*READ_PROBLEMS, 409),
        },
    )
    def get(self, request, number: str, statement: str):
        case = get_case(request, number)
        found = case.clearance_statements.filter(number=statement).first()
        if found is None:
            raise exceptions.NotFound("This case has no such statement.")
        found.case = case
        if not policy.can_download_statement(request.user, found):
            raise Conflict(["The statement is still being signed; ask again in a moment."])
        response = FileResponse(
            found.pdf.open("rb"),
            as_attachment=True,
            filename=f"{found.number}.pdf",
            content_type="application/pdf",
        )
        response["X-Content-Type-Options"] = "nosniff"
        return response
