"""Streaming uploads: size caps while the bytes arrive, safe names, type sniffing.

A request's files are spooled to temporary files chunk by chunk (never held
whole in memory), then copied to the storage backend in chunks while their
SHA-256 is computed. Nothing here writes to the database.
"""

import codecs
import hashlib
import json
import os
import unicodedata
import uuid
from dataclasses import dataclass

from django.core.files import File
from django.core.files.storage import default_storage
from django.core.files.uploadhandler import SkipFile, TemporaryFileUploadHandler
from django.http.multipartparser import MultiPartParser

CHUNK_SIZE = 1024 * 1024
MAX_NAME_LENGTH = 255


class UploadRefused(Exception):
    """The upload cannot be accepted; the message says why in plain words."""


# --- receiving: caps and names, before anything is stored -----------------------


class CappedUploadHandler(TemporaryFileUploadHandler):
    """Spool every file to disk and drop one that grows past the cap."""

    def __init__(self, request, *, max_bytes: int):
        super().__init__(request)
        self.max_bytes = max_bytes

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > self.max_bytes:
            self.request.upload_problems.append(
                f"“{self.file_name}” is larger than the limit of {_human(self.max_bytes)}."
            )
            self.skipped = True
            self.file.close()  # a temporary file deletes itself on close
            raise SkipFile
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
    """Make this request stream its files to disk under a size cap; call before POST is read."""
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


def display_name(raw_name: str) -> str:
    """Return the name to show and to offer on download: normalized, no path, no controls."""
    name = unicodedata.normalize("NFC", os.path.basename(raw_name.replace("\\", "/")))
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    return name.strip(" .")[:MAX_NAME_LENGTH] or "file"


def ascii_fallback(name: str) -> str:
    """Return an ASCII-only rendering of a name for old clients."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    safe = "".join(ch if ch.isalnum() or ch in "._- " else "_" for ch in folded).strip()
    return safe or "download"


# --- what the bytes are ------------------------------------------------------------

DOCUMENT_TYPES = {
    ".pdf": "application/pdf",
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".txt": "text/plain",
    ".json": "application/json",
}
EXECUTABLE_MAGIC = (b"MZ", b"\x7fELF", b"#!", b"\xfe\xed\xfa", b"\xcf\xfa\xed\xfe", b"PK\x03\x04")
HTML_STARTS = (b"<!doctype html", b"<html", b"<head", b"<body", b"<script", b"<svg", b"<?xml")


def document_type(name: str, file) -> str:
    """Return the content type of an allowed document whose bytes match its name.

    Raises UploadRefused for another type, or for bytes that are something else
    (an HTML page or a program renamed .pdf, binary data named .txt).
    """
    extension = os.path.splitext(name)[1].lower()
    content_type = DOCUMENT_TYPES.get(extension)
    if content_type is None:
        raise UploadRefused(
            "Only PDF, Markdown (.md), plain text (.txt) and JSON (.json) documents are accepted."
        )
    file.seek(0)
    head = file.read(8192)
    file.seek(0)
    if head.startswith(EXECUTABLE_MAGIC):
        raise UploadRefused(f"“{name}” is a program or archive, not a {extension} document.")
    if content_type == "application/pdf":
        if not head.startswith(b"%PDF-"):
            raise UploadRefused(f"“{name}” is not a PDF: its content does not start as a PDF does.")
        return content_type
    if head.lstrip()[:20].lower().startswith(HTML_STARTS):
        raise UploadRefused(f"“{name}” is an HTML or XML page, not a {extension} document.")
    _require_utf8_text(name, file)
    if content_type == "application/json":
        try:
            json.load(codecs.getreader("utf-8")(file))
        except ValueError as error:
            raise UploadRefused(f"“{name}” is not valid JSON: {error}.") from None
        finally:
            file.seek(0)
    return content_type


def _require_utf8_text(name: str, file) -> None:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for chunk in iter(lambda: file.read(CHUNK_SIZE), b""):
            if b"\x00" in chunk:
                raise UploadRefused(f"“{name}” contains binary data, not text.")
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise UploadRefused(f"“{name}” is not UTF-8 text.") from None
    finally:
        file.seek(0)


# --- storing: chunked copy with the digest computed on the way ---------------------


class _HashingReader:
    """A read-only view of a file that digests what is read from it."""

    def __init__(self, file):
        self._file = file
        self.sha256 = hashlib.sha256()
        self.size = 0

    def read(self, size=-1):
        data = self._file.read(size)
        self.sha256.update(data)
        self.size += len(data)
        return data

    def seek(self, offset, whence=0):
        if (offset, whence) == (0, 0):
            self.sha256, self.size = hashlib.sha256(), 0
        return self._file.seek(offset, whence)

    def tell(self):
        return self._file.tell()


@dataclass(frozen=True)
class StoredFile:
    name: str
    size: int
    sha256: str


def store_stream(file, *, folder: str, expected_sha256: str = "") -> StoredFile:
    """Copy a file to storage under a random name in chunks, checking its SHA-256.

    On a mismatch with the expected digest the stored copy is removed and
    UploadRefused raised.
    """
    reader = _HashingReader(file)
    reader.seek(0)
    django_file = File(reader, name="upload")
    django_file.size = getattr(file, "size", None)
    name = default_storage.save(f"{folder}/{uuid.uuid4().hex}", django_file)
    digest = reader.sha256.hexdigest()
    if reader.size == 0:
        default_storage.delete(name)
        raise UploadRefused("The file is empty.")
    if expected_sha256 and digest != expected_sha256.lower():
        default_storage.delete(name)
        raise UploadRefused(
            f"The file's SHA-256 is {digest}, not the expected {expected_sha256.lower()}; "
            "it was not kept. Check that the whole file was sent."
        )
    return StoredFile(name=name, size=reader.size, sha256=digest)


def _human(size: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:g} {unit}" if unit == "bytes" else f"{size:.0f} {unit}"
        size /= 1024
    return str(size)
