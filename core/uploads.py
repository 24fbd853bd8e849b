"""The one upload pipeline: every request's files, on every route, web and API alike.

Before anything can read a request's body (Django's CSRF check, DRF's
session authentication, a view), UploadPipelineMiddleware installs here the
handlers that spool each file to a temporary file chunk by chunk under the
size cap the view declares, and the parser that refuses hostile file names
rather than rewriting them. A view that does not declare a cap takes no
file at all. The API's multipart parser (core/api.py) parses with the same
parser and handlers, so a token and a session cookie meet one rule.
"""

import hashlib
import unicodedata
from collections.abc import Callable

from django.conf import settings
from django.core.files.uploadhandler import SkipFile, TemporaryFileUploadHandler
from django.http.multipartparser import MultiPartParser

MAX_NAME_LENGTH = 255


def accepts_uploads(setting: str) -> Callable:
    """Let a view (function or class) receive files up to the size in settings.<setting>."""

    def declare(view):
        view.upload_limit_setting = setting
        return view

    return declare


def upload_limit(view) -> int:
    """Return the largest file a view receives, in bytes: 0 unless it declares more."""
    view_class = getattr(view, "view_class", None) or getattr(view, "cls", None)
    setting = getattr(view, "upload_limit_setting", None) or getattr(
        view_class, "upload_limit_setting", None
    )
    return getattr(settings, setting) if setting else 0


class CappedUploadHandler(TemporaryFileUploadHandler):
    """Spool every file to disk, hashing it as it arrives, and drop one past the cap.

    The finished file carries its SHA-256 as `sha256`, so a multi-gigabyte
    log or weight file is never read a second time only to be hashed.
    """

    def __init__(self, request, *, max_bytes: int):
        super().__init__(request)
        self.max_bytes = max_bytes

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.hasher = hashlib.sha256()

    def file_complete(self, file_size):
        done = super().file_complete(file_size)
        if done is not None:
            done.sha256 = self.hasher.hexdigest()
        return done

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > self.max_bytes:
            self.request.upload_problems.append(
                f"“{self.file_name}” is larger than the limit of {human_size(self.max_bytes)}."
                if self.max_bytes
                else f"This address takes no files; “{self.file_name}” was not kept."
            )
            self.skipped = True
            self.file.close()  # a temporary file deletes itself on close
            raise SkipFile
        self.hasher.update(raw_data)
        return super().receive_data_chunk(raw_data, start)

    def upload_interrupted(self):
        # Django also reports a file skipped for its size as interrupted.
        if not getattr(self, "skipped", False):
            self.request.upload_problems.append(
                "The upload was cut off before the whole file arrived; nothing was kept."
            )
        super().upload_interrupted()


class StrictMultiPartParser(MultiPartParser):
    """Refuse file names that try to name a path, hide characters, or run too long.

    Django quietly strips such names to a basename; a refusal tells the person
    what was wrong instead of storing the file under a name they did not choose.
    """

    def __init__(self, *args, problems: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.problems = problems

    def sanitize_file_name(self, file_name):
        problem = name_problem(file_name)
        if problem:
            self.problems.append(problem)
            return None
        return super().sanitize_file_name(file_name)


def prepare_upload(request, *, max_bytes: int) -> None:
    """Make this request stream its files to disk under a size cap; call before POST is read.

    UploadPipelineMiddleware calls it for every request, with the cap the
    view declares (`accepts_uploads`), before anything can read the body.
    """
    request.upload_problems = []
    request.upload_handlers = [CappedUploadHandler(request, max_bytes=max_bytes)]

    def parse_file_upload(meta, post_data):
        parser = StrictMultiPartParser(
            meta,
            post_data,
            request.upload_handlers,
            request.encoding,
            problems=request.upload_problems,
        )
        return parser.parse()

    request.parse_file_upload = parse_file_upload


def name_problem(raw_name: str) -> str:
    """Return why this file name is refused, or an empty string."""
    if "/" in raw_name or "\\" in raw_name or ".." in raw_name:
        return "A file name may not contain a path (“/”, “\\” or “..”); rename the file."
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in raw_name):
        return "The file name contains control characters; rename the file."
    if len(raw_name) > MAX_NAME_LENGTH:
        return f"The file name is longer than {MAX_NAME_LENGTH} characters; shorten it."
    if not raw_name.strip(" ."):
        return "The file has no name."
    return ""


def human_size(size: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:g} {unit}" if unit == "bytes" else f"{size:.0f} {unit}"
        size /= 1024
    return str(size)
