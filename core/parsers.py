"""The REST API's body parsers: bounded size, bounded nesting, and the one upload pipeline.

Named in settings.REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"], so every API view
reads bodies through them. (Not in core/api.py: DRF reads that setting while
its APIView class is being defined, which core/api.py imports.)
"""

from django.conf import settings
from django.http import QueryDict
from django.http.multipartparser import MultiPartParserError
from rest_framework import exceptions, status
from rest_framework.parsers import DataAndFiles, FormParser, JSONParser, MultiPartParser
from rest_framework.settings import api_settings

from core import safejson
from core.uploads import prepare_upload, upload_limit


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is larger than the API accepts."
    default_code = "too_large"


def _read_body(stream) -> bytes:
    """Read a body held in memory whole, refusing one over Django's bound for such bodies."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    raw = stream.read() if limit is None else stream.read(limit + 1)
    if limit is not None and len(raw) > limit:
        raise RequestTooLarge(
            f"The request body is larger than {limit // 1024} KiB; send less, or upload a file."
        )
    return raw


class BoundedJSONParser(JSONParser):
    """JSON bodies of bounded size and nesting: a bracket bomb is a 400, never a 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        raw = _read_body(stream)
        constant = json_strict_constant if api_settings.STRICT_JSON else None
        try:
            return safejson.loads(raw, parse_constant=constant)
        except ValueError as error:  # TooDeep and every decoding error are ValueErrors
            raise exceptions.ParseError(f"JSON parse error - {error}") from None


def json_strict_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


class BoundedFormParser(FormParser):
    """URL-encoded bodies of bounded size (DRF's own reads the whole body)."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        return QueryDict(_read_body(stream), encoding=encoding)


class UploadPipelineParser(MultiPartParser):
    """Multipart bodies through the one upload pipeline (core/uploads.py), as the web's are.

    A session-authenticated request has been parsed already, by the CSRF
    check, through the same pipeline; this serves token-authenticated ones.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        request = parser_context["request"]._request
        if not hasattr(request, "upload_problems"):  # reached without the middleware
            prepare_upload(request, max_bytes=upload_limit(parser_context["view"]))
        meta = {**request.META, "CONTENT_TYPE": media_type}
        try:
            data, files = request.parse_file_upload(meta, stream)
        except MultiPartParserError as error:
            raise exceptions.ParseError(f"Multipart form parse error - {error}") from None
        return DataAndFiles(data, files)


def uploaded_data(request, *, field: str):
    """Return the request's parsed form, refusing it if the pipeline refused one of its files."""
    data = request.data
    problems = getattr(request._request, "upload_problems", [])
    if problems:
        raise exceptions.ValidationError({field: problems})
    return data
