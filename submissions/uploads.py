"""Stored uploads: safe names, type sniffing, and the chunked copy to storage.

A request's files arrive through the one upload pipeline (core/uploads.py:
spooled to temporary files under a size cap while the bytes arrive), then are
copied here to the storage backend in chunks while their SHA-256 is computed.
Nothing here writes to the database.
"""

import codecs
import hashlib
import os
import unicodedata
import uuid
from dataclasses import dataclass

from django.core.files import File
from django.core.files.storage import default_storage

from core import safejson, sandbox
from core.uploads import MAX_NAME_LENGTH

CHUNK_SIZE = 1024 * 1024
# A JSON document of the 50 MiB the upload allows takes a few seconds and
# several hundred MiB to parse; a crafted one is stopped at these.
JSON_CHECK_SECONDS = 20
JSON_CHECK_MEMORY = 1024 * 1024 * 1024


class UploadRefused(Exception):
    """The upload cannot be accepted; the message says why in plain words."""


# --- names ---------------------------------------------------------------------------


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
    if text_encoding(head[:4]) == "utf-16":
        # Judge a UTF-16 file by its characters, not its bytes.
        head = head.decode("utf-16", "ignore").encode("utf-8")
    if head.lstrip().removeprefix(codecs.BOM_UTF8)[:20].lower().startswith(HTML_STARTS):
        raise UploadRefused(f"“{name}” is an HTML or XML page, not a {extension} document.")
    _require_text(name, file)
    if content_type == "application/json":
        _require_json(name, file)
    return content_type


def _require_json(name: str, file) -> None:
    """Refuse a document that is not JSON, reading it in a child process with limits."""
    try:
        problem = sandbox.run(
            _json_problem, file.read(), seconds=JSON_CHECK_SECONDS, memory_bytes=JSON_CHECK_MEMORY
        )
    except sandbox.LimitExceeded as limit:
        raise UploadRefused(f"“{name}” could not be checked as JSON: {limit}.") from None
    finally:
        file.seek(0)
    if problem:
        raise UploadRefused(f"“{name}” is not valid JSON: {problem}.")


def _json_problem(data: bytes) -> str:
    try:
        safejson.loads(data)
    except ValueError as error:  # a decoding error, or nested too deep
        return str(error)
    return ""


# A byte-order mark names the encoding of a text file; without one, UTF-8.
BOMS = (
    (codecs.BOM_UTF32_LE, None),
    (codecs.BOM_UTF32_BE, None),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def text_encoding(head: bytes) -> str | None:
    """Return the encoding a text file's first bytes name (UTF-8 without a mark), or None."""
    for bom, encoding in BOMS:
        if head.startswith(bom):
            return encoding
    return "utf-8"


def read_text(file) -> str:
    """Return a checked text file's content (UTF-8, or UTF-8/UTF-16 with a byte-order mark)."""
    file.seek(0)
    data = file.read()
    file.seek(0)
    return data.decode(text_encoding(data[:4]) or "utf-8")


def _looks_like_utf16_without_bom(head: bytes) -> bool:
    """Whether text looks like UTF-16 written without a byte-order mark (every other byte NUL)."""
    sample = head[:512]
    if len(sample) < 4:
        return False
    even, odd = sample[0::2], sample[1::2]
    return even.count(0) > len(even) * 0.7 or odd.count(0) > len(odd) * 0.7


def _require_text(name: str, file) -> None:
    """Refuse a file that is not text in UTF-8, or UTF-8/UTF-16 with a byte-order mark."""
    file.seek(0)
    head = file.read(4)
    file.seek(0)
    encoding = text_encoding(head)
    if encoding is None:
        raise UploadRefused(
            f"“{name}” is UTF-32 text, which is not accepted; save it as UTF-8 and upload it again."
        )
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        for chunk in iter(lambda: file.read(CHUNK_SIZE), b""):
            text = decoder.decode(chunk)
            if "\x00" in text or (encoding.startswith("utf-8") and b"\x00" in chunk):
                if encoding == "utf-8" and _looks_like_utf16_without_bom(chunk):
                    raise UploadRefused(
                        f"“{name}” looks like UTF-16 text without a byte-order mark; save it "
                        "as UTF-8 (or as UTF-16 with a byte-order mark) and upload it again."
                    )
                raise UploadRefused(f"“{name}” contains binary data, not text.")
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        label = "UTF-16" if encoding == "utf-16" else "UTF-8"
        raise UploadRefused(
            f"“{name}” is not valid {label} text; save it as UTF-8 and upload it again."
        ) from None
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
