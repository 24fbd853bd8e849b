"""Read an uploaded Inspect AI log's header without letting the file turn on the server.

An `.eval` log is a zip archive, and Inspect's reader inflates each member it
reads whole, trusting neither the sizes the archive declares nor any limit:
a 398 KB file whose header.json inflates to 400 MiB took the worker to
954 MB. So before Inspect sees an archive, every member's declared size and
compression ratio is checked against the central directory, and each member
Inspect reads for the header (header.json, reductions.json, the journal) is
inflated here as a stream, counting bytes and stopping at the bound: a
member that declares less than it holds is caught too. Deflate and zstd
members are both streamed; no other method is read. The whole reading then
runs in a child process with a time and memory limit (core.sandbox).
"""

import os
import struct
import zipfile
import zlib
from typing import Any

import zstandard

from core import sandbox

# Inspect's header, reductions and journal of even a large evaluation stay
# far below this; its samples (not read for the header) may be larger.
MAX_MEMBER_BYTES = 64 * 1024 * 1024
MAX_SAMPLE_MEMBER_BYTES = 1024 * 1024 * 1024
# JSON deflates about 5-20 to 1; a run of zeros about 1,000 to 1.
MAX_RATIO = 200
RATIO_APPLIES_ABOVE = 1024 * 1024
MAX_MEMBERS = 100_000
ZSTD_MAX_WINDOW = 32 * 1024 * 1024
READ_SECONDS = 30
READ_MEMORY_BYTES = 1024 * 1024 * 1024

UNREADABLE = (
    "The file could not be read as an Inspect AI log: it is corrupt, truncated, "
    "or not an Inspect log. Upload the .eval or .json file Inspect wrote."
)

STORED, DEFLATE, ZSTD = 0, 8, 93
CHUNK = 1024 * 1024
_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")
_HEADER_MEMBERS = ("header.json", "reductions.json")
_JOURNAL = "_journal/"


def read_header(path: str) -> dict[str, Any]:
    """Return what an evaluation run stores from the Inspect log at `path`.

    Raises sandbox.Refused (with words for the evaluator) for a file that is
    not a readable log, and sandbox.LimitExceeded for one too costly to read.
    """
    # Imported here, not at the top: Inspect takes seconds to load, and only
    # this rare import needs it. The child forked below finds it loaded.
    import inspect_ai.log  # noqa: F401

    return sandbox.run(
        _read_header_here, path, seconds=READ_SECONDS, memory_bytes=READ_MEMORY_BYTES
    )


def _read_header_here(path: str) -> dict[str, Any]:
    from inspect_ai.log import read_eval_log  # already loaded: read_header imported it

    if path.lower().endswith(".eval"):
        check_eval_archive(path)
    try:
        log = read_eval_log(path, header_only=True)
    except Exception as error:  # the reader raises many kinds; each means "unreadable"
        raise sandbox.Refused(UNREADABLE) from error
    return _header_fields(log)


def _header_fields(log) -> dict[str, Any]:
    spec = log.eval
    scores = []
    metrics: dict[str, float] = {}
    results = log.results
    for score in (results.scores if results else None) or []:
        values = {name: metric.value for name, metric in score.metrics.items()}
        scores.append({"name": score.name, "scorer": score.scorer, "metrics": values})
        for name, value in values.items():
            metrics[f"{score.name}/{name}"] = value
    revision = spec.revision
    return {
        "inspect_eval_id": spec.eval_id,
        "inspect_run_id": spec.run_id,
        "inspect_task": spec.task,
        "inspect_task_version": str(spec.task_version),
        "inspect_model": spec.model,
        "inspect_dataset": (spec.dataset.name or "") if spec.dataset else "",
        "inspect_sample_count": (
            results.total_samples
            if results and results.total_samples
            else (spec.dataset.samples if spec.dataset else None)
        ),
        "inspect_revision": (
            f"{revision.type}:{revision.commit}" if revision and revision.commit else ""
        ),
        "inspect_status": log.status,
        "inspect_scores": scores,
        "metrics": metrics,
        "started_at": log.stats.started_at if log.stats else "",
        "completed_at": log.stats.completed_at if log.stats else "",
    }


# --- the archive, before Inspect opens it -----------------------------------------------


def check_eval_archive(path: str) -> None:
    """Refuse an `.eval` archive whose members could inflate past the bounds."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise sandbox.Refused(UNREADABLE) from None
    if len(members) > MAX_MEMBERS:
        raise sandbox.Refused(f"The log holds more than {MAX_MEMBERS:,} files; it was not read.")
    with open(path, "rb") as raw:
        for member in members:
            read_for_header = member.filename in _HEADER_MEMBERS or member.filename.startswith(
                _JOURNAL
            )
            bound = _bound(member, MAX_MEMBER_BYTES if read_for_header else MAX_SAMPLE_MEMBER_BYTES)
            if member.file_size > bound:
                raise _too_large(member)
            if read_for_header and _inflated_size(raw, member, bound) > member.file_size:
                raise sandbox.Refused(
                    f"“{member.filename}” in the log holds more than its declared size; "
                    "the archive is damaged or crafted, and was not read."
                )


def _bound(member: zipfile.ZipInfo, ceiling: int) -> int:
    """The most a member may inflate to: the ceiling, and the ratio above a small size."""
    return min(ceiling, max(RATIO_APPLIES_ABOVE, MAX_RATIO * member.compress_size))


def _too_large(member: zipfile.ZipInfo) -> sandbox.Refused:
    return sandbox.Refused(
        f"“{member.filename}” in the log inflates to more than the portal reads "
        f"({MAX_MEMBER_BYTES // 2**20} MiB, or {MAX_RATIO} times its compressed size); "
        "the file looks like a zip bomb and was not read."
    )


def _inflated_size(raw, member: zipfile.ZipInfo, bound: int) -> int:
    """Inflate a member as a stream, counting bytes; refuse it once past `bound`."""
    total = 0
    for piece in _inflate(raw, member):
        total += len(piece)
        if total > bound:
            raise _too_large(member)
    return total


def _inflate(raw, member: zipfile.ZipInfo):
    compressed = _compressed_chunks(raw, member)
    method = member.compress_type
    if method == STORED:
        yield from compressed
    elif method == DEFLATE:
        inflater = zlib.decompressobj(-15)
        try:
            for chunk in compressed:
                while chunk:
                    yield inflater.decompress(chunk, CHUNK)
                    chunk = inflater.unconsumed_tail
            while not inflater.eof and (piece := inflater.decompress(b"", CHUNK)):
                yield piece
        except zlib.error:
            raise _damaged(member) from None
    elif method == ZSTD:
        decompressor = zstandard.ZstdDecompressor(max_window_size=ZSTD_MAX_WINDOW)
        reader = decompressor.stream_reader(_ChunkReader(compressed), read_across_frames=True)
        try:
            while piece := reader.read(CHUNK):
                yield piece
        except zstandard.ZstdError:
            raise _damaged(member) from None
    else:
        raise sandbox.Refused(
            f"“{member.filename}” in the log uses a compression Inspect does not write "
            f"(method {method}); it was not read."
        )


def _compressed_chunks(raw, member: zipfile.ZipInfo):
    raw.seek(member.header_offset)
    header = raw.read(_LOCAL_HEADER.size)
    if len(header) != _LOCAL_HEADER.size or header[:4] != b"PK\x03\x04":
        raise _damaged(member)
    *_, name_length, extra_length = _LOCAL_HEADER.unpack(header)
    raw.seek(name_length + extra_length, os.SEEK_CUR)
    left = member.compress_size
    while left > 0:
        chunk = raw.read(min(CHUNK, left))
        if not chunk:
            raise _damaged(member)
        left -= len(chunk)
        yield chunk


def _damaged(member: zipfile.ZipInfo) -> sandbox.Refused:
    return sandbox.Refused(
        f"“{member.filename}” in the log is damaged: the log is corrupt or truncated."
    )


class _ChunkReader:
    """A read() over an iterator of byte chunks, for zstandard's stream reader."""

    def __init__(self, chunks):
        self._chunks = chunks
        self._chunk = b""
        self._offset = 0

    def read(self, size: int = -1) -> bytes:
        if self._offset >= len(self._chunk):
            self._chunk, self._offset = next(self._chunks, b""), 0
        end = len(self._chunk) if size < 0 else self._offset + size
        data = self._chunk[self._offset : end]
        self._offset += len(data)
        return data
