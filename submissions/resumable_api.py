"""Resumable weight uploads over the tus protocol (https://tus.io, version 1.0.0).

    POST   /api/v1/cases/{number}/access/{grant}/weights/uploads/         (creation)
    HEAD   /api/v1/cases/{number}/access/{grant}/weights/uploads/{id}/    (how far it got)
    PATCH  /api/v1/cases/{number}/access/{grant}/weights/uploads/{id}/    (the next piece)
    DELETE /api/v1/cases/{number}/access/{grant}/weights/uploads/{id}/    (termination)

Extensions: creation, expiration, termination and checksum (per piece). The
creation takes the file's SHA-256 in its metadata (`sha256`, with `filename`);
it must be the digest the grant's version declares, and the whole file is
held to it when the last piece arrives. Uppy's tus plugin (the upload page)
and `tuspy` (pipelines) speak this as they are. A token or a signed-in
session authenticates, as everywhere in the API; an upload is its sender's
alone, and another's id is a 404.
"""

import base64
import binascii

from django.conf import settings
from django.urls import reverse
from django.utils.http import http_date
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.response import Response

from cases.selectors import get_case
from core.api import PortalAPIView
from submissions import resumable, services
from submissions.models import AccessGrant, WeightsUpload

TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = "creation,expiration,termination,checksum"
PIECE_TYPE = "application/offset+octet-stream"
CHECKSUM_MISMATCH = 460  # the tus checksum extension's status


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = f"This server speaks tus {TUS_VERSION}; send Tus-Resumable: {TUS_VERSION}."
    default_code = "tus_version"


class Locked(exceptions.APIException):
    status_code = status.HTTP_423_LOCKED
    default_detail = "Another request is sending this upload; try again shortly."
    default_code = "upload_busy"


class OffsetConflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "upload_offset"


class ChecksumMismatch(exceptions.APIException):
    status_code = CHECKSUM_MISMATCH
    default_code = "checksum_mismatch"


class TooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"


def _header_int(request, name: str) -> int:
    value = request.headers.get(name, "")
    if not value.isdigit():
        raise exceptions.ValidationError({name: [f"Send {name} as a whole number of bytes."]})
    return int(value)


def parse_metadata(header: str) -> dict[str, str]:
    """Read Upload-Metadata: comma-separated "key base64value" pairs (a value may be absent)."""
    metadata = {}
    for pair in filter(None, (p.strip() for p in header.split(","))):
        key, _, encoded = pair.partition(" ")
        try:
            metadata[key] = base64.b64decode(encoded, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            raise exceptions.ValidationError(
                {"Upload-Metadata": [f"The value of {key!r} is not base64 of UTF-8 text."]}
            ) from None
    return metadata


def _expires(upload: WeightsUpload) -> str:
    return http_date(upload.expires_at.timestamp())


class TusView(PortalAPIView):
    """The API's view with the tus protocol's version checked and named on every answer."""

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Tus-Resumable"] = TUS_VERSION
        if response.status_code == status.HTTP_412_PRECONDITION_FAILED:
            response["Tus-Version"] = TUS_VERSION
        response["Cache-Control"] = "no-store"
        return response

    def options(self, request, *args, **kwargs):
        return Response(
            status=status.HTTP_204_NO_CONTENT,
            headers={
                "Tus-Version": TUS_VERSION,
                "Tus-Extension": TUS_EXTENSIONS,
                "Tus-Max-Size": str(settings.RESUMABLE_UPLOAD_MAX_BYTES),
                "Tus-Checksum-Algorithm": ",".join(resumable.PIECE_ALGORITHMS),
            },
        )


def _grant(request, number: str, pk: int) -> AccessGrant:
    """Return the case's grant, checking the protocol's version once the case is found."""
    case = get_case(request, number)  # a case the person may not see is a 404
    grant = AccessGrant.objects.select_related("model_version").filter(case=case, pk=pk).first()
    if grant is None:
        raise exceptions.NotFound("No such access grant on this case.")
    if request.headers.get("Tus-Resumable") != TUS_VERSION:
        raise PreconditionFailed()
    grant.case = case
    return grant


@extend_schema(exclude=True)  # the tus protocol, documented at tus.io and in the README
class WeightsUploadsView(TusView):
    def post(self, request, number: str, pk: int):
        grant = _grant(request, number, pk)
        if "Upload-Defer-Length" in request.headers:
            raise exceptions.ValidationError(
                {"Upload-Length": ["Give the file's length when the upload starts."]}
            )
        length = _header_int(request, "Upload-Length")
        if length > settings.RESUMABLE_UPLOAD_MAX_BYTES:
            raise TooLarge(
                f"The file is {length} bytes; uploads take at most "
                f"{settings.RESUMABLE_UPLOAD_MAX_BYTES} bytes."
            )
        metadata = parse_metadata(request.headers.get("Upload-Metadata", ""))
        upload = services.start_weights_upload(
            grant=grant,
            actor=request.user,
            length=length,
            filename=metadata.get("filename") or metadata.get("name") or "",
            expected_sha256=metadata.get("sha256", ""),
        )
        location = reverse(
            "api:weights-upload", kwargs={"number": number, "pk": pk, "upload": upload.pk}
        )
        return Response(
            status=status.HTTP_201_CREATED,
            headers={
                "Location": request.build_absolute_uri(location),
                "Upload-Offset": "0",
                "Upload-Expires": _expires(upload),
            },
        )


@extend_schema(exclude=True)
class WeightsUploadView(TusView):
    def _upload(self, request, number: str, pk: int, upload) -> WeightsUpload:
        grant = _grant(request, number, pk)
        found = WeightsUpload.objects.filter(
            pk=upload, grant=grant, created_by=request.user
        ).first()
        if found is None:
            raise exceptions.NotFound("No such upload.")
        found.grant = grant
        return found

    def head(self, request, number: str, pk: int, upload):
        found = self._upload(request, number, pk, upload)
        try:
            offset = resumable.partial_path(found.pk).stat().st_size
        except FileNotFoundError:
            raise exceptions.NotFound("No such upload.") from None
        return Response(
            status=status.HTTP_200_OK,
            headers={
                "Upload-Offset": str(offset),
                "Upload-Length": str(found.length),
                "Upload-Expires": _expires(found),
            },
        )

    def patch(self, request, number: str, pk: int, upload):
        found = self._upload(request, number, pk, upload)
        if request.content_type.split(";")[0].strip() != PIECE_TYPE:
            raise exceptions.UnsupportedMediaType(
                request.content_type, detail=f"Send each piece as {PIECE_TYPE}."
            )
        offset = _header_int(request, "Upload-Offset")
        length = _header_int(request, "Content-Length")
        checksum = None
        if "Upload-Checksum" in request.headers:
            try:
                checksum = resumable.PieceChecksum.parse(request.headers["Upload-Checksum"])
            except ValueError as problem:
                raise exceptions.ValidationError({"Upload-Checksum": [str(problem)]}) from None
        try:
            services.receive_weights(
                upload=found,
                actor=request.user,
                offset=offset,
                stream=request._request,  # the raw body, read piece by piece
                length=length,
                checksum=checksum,
            )
        except resumable.Busy as busy:
            raise Locked(str(busy)) from None
        except resumable.PieceRefused as refusal:
            raise ChecksumMismatch(str(refusal)) from None
        except services.UploadOffsetConflict as conflict:
            raise OffsetConflict(str(conflict)) from None
        return Response(
            status=status.HTTP_204_NO_CONTENT,
            headers={"Upload-Offset": str(found.received), "Upload-Expires": _expires(found)},
        )

    def delete(self, request, number: str, pk: int, upload):
        found = self._upload(request, number, pk, upload)
        try:
            services.cancel_weights_upload(upload=found, actor=request.user)
        except resumable.Busy as busy:
            raise Locked(str(busy)) from None
        return Response(status=status.HTTP_204_NO_CONTENT)
