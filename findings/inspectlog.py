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

import json
import math
import os
import re
import struct
import tempfile
import zipfile
import zlib
from typing import Any

import ijson
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
# Streaming JSON through ijson's C parser runs far faster than this; it bounds a slow disk.
READ_BYTES_PER_SECOND = 20 * 1024 * 1024
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


def read_log(path: str, *, size: int, index_path: str) -> dict[str, Any]:
    """Return what an evaluation run stores from the Inspect log at `path`.

    The whole log is read, as a stream, before anything is stored: a log cut
    off or damaged anywhere is refused, not only one whose header is. The
    sample index is written to `index_path`, one JSON line a sample (read it
    back with `index_rows`), so neither process holds it whole: memory stays
    flat however many samples a log has.
    Raises sandbox.Refused (with words for the evaluator) for a file that is
    not a readable log, and sandbox.LimitExceeded for one too costly to read.
    """
    # Imported here, not at the top: Inspect takes seconds to load, and only
    # this rare import needs it.
    import inspect_ai.log  # noqa: F401

    seconds = READ_SECONDS + size / READ_BYTES_PER_SECOND
    return sandbox.run(
        _read_log_here, path, index_path, seconds=seconds, memory_bytes=READ_MEMORY_BYTES
    )


def index_rows(index_path: str):
    """Yield the sample rows `read_log` wrote, one at a time."""
    with open(index_path, encoding="utf-8") as index:
        for line in index:
            yield json.loads(line)


def _read_log_here(path: str, index_path: str) -> dict[str, Any]:
    try:
        with open(index_path, "w", encoding="utf-8") as index:
            return _read_whole_log(path, _IndexWriter(index))
    except sandbox.Refused:
        raise
    except MemoryError:
        raise
    except Exception as error:  # a log Inspect did not write breaks the reading anywhere
        raise sandbox.Refused(UNREADABLE) from error


class _IndexWriter:
    """Writes sample rows as JSON lines, counting them and the ones in error."""

    def __init__(self, out):
        self.out = out
        self.count = 0
        self.errors = 0

    def add(self, row: dict[str, Any]) -> None:
        self.out.write(json.dumps(_without_nul(row)) + "\n")
        self.count += 1
        self.errors += bool(row["error"])


def _read_whole_log(path: str, samples: _IndexWriter) -> dict[str, Any]:

    if path.lower().endswith(".eval"):
        check_eval_archive(path)
        _eval_samples(path, samples)
        log = _read_header(path)
    else:
        header = _json_log(path, samples)
        # Inspect reads the header kept here (small) with its own models, so its
        # migrations of older formats apply; the samples were read above.
        with tempfile.NamedTemporaryFile("w", suffix=".json", encoding="utf-8") as kept:
            json.dump(_restore_non_numbers(header), kept)
            kept.flush()
            log = _read_header(kept.name)
    fields = _header_fields(log)
    fields["inspect_sample_errors"] = samples.errors
    return _without_nul(fields)


def _without_nul(value: Any) -> Any:
    """Replace NUL characters, which PostgreSQL cannot store in text, with U+FFFD."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    return value


def _read_header(path: str):
    from inspect_ai.log import read_eval_log  # already loaded: read_log imported it

    try:
        return read_eval_log(path, header_only=True)
    except Exception as error:  # the reader raises many kinds; each means "unreadable"
        raise sandbox.Refused(UNREADABLE) from error


def _header_fields(log) -> dict[str, Any]:
    spec = log.eval
    scores = []
    metrics: dict[str, float | None] = {}
    notes: dict[str, str] = {}
    results = log.results
    for score in (results.scores if results else None) or []:
        values, not_numbers = {}, {}
        for name, metric in score.metrics.items():
            values[name], note = number_or_note(metric.value)
            if note:
                not_numbers[name] = note
        entry = {
            "name": score.name,
            "scorer": score.scorer,
            "reducer": score.reducer,
            "metrics": values,
        }
        if not_numbers:
            entry["not_numbers"] = not_numbers
        scores.append(entry)
        for name, value in values.items():
            key = metric_key(score.name, score.reducer, name)
            metrics[key] = value
            if name in not_numbers:
                notes[key] = not_numbers[name]
    revision = spec.revision
    dataset = spec.dataset
    error = log.error
    return {
        "inspect_eval_id": spec.eval_id,
        "inspect_run_id": spec.run_id,
        "inspect_task": spec.task,
        "inspect_task_version": str(spec.task_version),
        "inspect_model": spec.model,
        "inspect_dataset": (dataset.name or "") if dataset else "",
        # The dataset's own samples; Inspect's total counts each epoch again.
        "inspect_sample_count": dataset.samples if dataset and dataset.samples else None,
        "inspect_epochs": (spec.config.epochs if spec.config and spec.config.epochs else 1),
        "inspect_total_samples": results.total_samples if results else None,
        "inspect_completed_samples": results.completed_samples if results else None,
        "inspect_revision": (
            f"{revision.type}:{revision.commit}" if revision and revision.commit else ""
        ),
        "inspect_status": log.status,
        "inspect_error": error.message if error else "",
        "inspect_traceback": error.traceback if error else "",
        "inspect_scores": scores,
        "metrics": metrics,
        "metric_notes": notes,
        "started_at": log.stats.started_at if log.stats else "",
        "completed_at": log.stats.completed_at if log.stats else "",
    }


def metric_key(score: str, reducer: str | None, metric: str) -> str:
    """Name a metric in the run's flat metrics: score/metric, or score/metric (reducer)."""
    return f"{score}/{metric}" if not reducer else f"{score}/{metric} ({reducer})"


def number_or_note(value: Any) -> tuple[Any, str]:
    """Return a JSON-safe value and, for a NaN or an infinity, the note that says which."""
    if isinstance(value, float) and not math.isfinite(value):
        return None, "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, str) and value.startswith(_NON_NUMBER):
        return None, value[len(_NON_NUMBER) :]
    return value, ""


# --- samples, read as a stream --------------------------------------------------------------

_SAMPLE_KEYS = ("id", "epoch", "input", "target", "messages", "output", "scores", "score", "error")
# Kept per sample in the index; the whole sample is in the log, opened in the viewer.
PREVIEW_CHARS = 4_000
PREVIEW_MESSAGES = 20


def _eval_samples(path: str, samples: _IndexWriter) -> None:
    """Read every sample member of an `.eval` archive, one by one, checking each whole."""
    with zipfile.ZipFile(path) as archive, open(path, "rb") as raw:
        for member in archive.infolist():
            if not member.filename.startswith("samples/") or not member.filename.endswith(".json"):
                continue
            bound = _bound(member, MAX_SAMPLE_MEMBER_BYTES)
            pieces = _checked(member, _inflate(raw, member), bound)
            try:
                events = ijson.parse(_ChunkReader(_numbers_for_ijson(pieces)), use_float=True)
                sample = _build_sample(events, "")
            except (ijson.JSONError, ValueError):
                raise _damaged(member) from None
            samples.add(_sample_row(sample, member.filename))


def _checked(member: zipfile.ZipInfo, pieces, bound: int):
    """Pass a member's inflated bytes on, refusing it past `bound` or on a wrong checksum."""
    total, crc = 0, 0
    for piece in pieces:
        total += len(piece)
        if total > bound:
            raise _too_large(member)
        crc = zlib.crc32(piece, crc)
        yield piece
    if total != member.file_size or crc != member.CRC:
        raise _damaged(member)


def _json_log(path: str, samples: _IndexWriter) -> dict[str, Any]:
    """Parse a `.json` log whole, as a stream: return its header values; index its samples."""
    header: dict[str, Any] = {}
    if os.path.getsize(path) == 0:
        raise sandbox.Refused(UNREADABLE)
    with open(path, "rb") as raw:
        chunks = _numbers_for_ijson(iter(lambda: raw.read(CHUNK), b""))
        events = ijson.parse(_ChunkReader(chunks), use_float=True)
        try:
            prefix, event, value = next(events)
            if event != "start_map":
                raise sandbox.Refused(UNREADABLE)
            for prefix, event, value in events:
                if event == "end_map" and prefix == "":
                    break
                key = value  # a top-level map_key
                if key == "samples":
                    _json_samples(events, samples)
                else:
                    header[key] = _build_value(events)
            if next(events, None) is not None:
                raise sandbox.Refused(UNREADABLE)
        except (ijson.JSONError, ValueError, StopIteration):
            raise sandbox.Refused(
                "The log is cut off or damaged: it does not parse to its end. "
                "Upload the whole file Inspect wrote."
            ) from None
    if "eval" not in header or "status" not in header:
        raise sandbox.Refused(UNREADABLE)
    return header


def _json_samples(events, samples: _IndexWriter) -> None:
    prefix, event, value = next(events)
    if event == "null":
        return
    if event != "start_array":
        raise ValueError("samples is not a list")
    while True:
        prefix, event, value = next(events)
        if event == "end_array":
            return
        if event != "start_map":
            raise ValueError("a sample is not an object")
        samples.add(_sample_row(_build_sample(events, prefix, started=True), ""))


def _build_value(events):
    """Build the next JSON value from the event stream."""
    builder = ijson.ObjectBuilder()
    depth = 0
    for _prefix, event, value in events:
        builder.event(event, value)
        if event in ("start_map", "start_array"):
            depth += 1
        elif event in ("end_map", "end_array"):
            depth -= 1
        if depth == 0:
            return builder.value
    raise ValueError("the log ends inside a value")


def _skip_value(events) -> None:
    depth = 0
    for _prefix, event, _value in events:
        if event in ("start_map", "start_array"):
            depth += 1
        elif event in ("end_map", "end_array"):
            depth -= 1
        if depth == 0:
            return
    raise ValueError("the log ends inside a value")


def _build_sample(events, prefix: str, *, started: bool = False) -> dict[str, Any]:
    """Build a sample's indexed keys from its events; skip the rest (events, attachments)."""
    if not started:
        _p, event, _v = next(events)
        if event != "start_map":
            raise ValueError("a sample is not an object")
    sample: dict[str, Any] = {}
    for _p, event, value in events:
        if event == "end_map":
            return sample
        if value in _SAMPLE_KEYS:
            sample[value] = _build_value(events)
        else:
            _skip_value(events)
    raise ValueError("the log ends inside a sample")


def _sample_row(sample: dict[str, Any], member: str) -> dict[str, Any]:
    if "id" not in sample or not isinstance(sample.get("epoch", 1), int):
        raise ValueError("a sample has no id")
    scores = sample.get("scores")
    if scores is None and isinstance(sample.get("score"), dict):
        scores = {"score": sample["score"]}  # the 2024 format kept one score per sample
    error = sample.get("error") or {}
    return {
        "sample_id": str(sample["id"]),
        "epoch": sample.get("epoch", 1),
        "scores": _plain_scores(scores or {}),
        "error": str(error.get("message", "")) if isinstance(error, dict) else str(error),
        "input": _clip(_text(sample.get("input"))),
        "target": _clip(_text(sample.get("target"))),
        "output": _clip(_text((sample.get("output") or {}).get("completion", ""))),
        "messages": [
            {"role": str(m.get("role", "")), "text": _clip(_text(m.get("content")))}
            for m in (sample.get("messages") or [])[:PREVIEW_MESSAGES]
            if isinstance(m, dict)
        ],
        "member": member,
    }


def _plain_scores(scores: dict[str, Any]) -> dict[str, Any]:
    plain = {}
    for name, score in scores.items():
        value = score.get("value") if isinstance(score, dict) else score
        value, note = number_or_note(_restore_non_numbers(value))
        plain[str(name)] = {"value": value, "note": note} if note else {"value": value}
        if isinstance(score, dict) and score.get("explanation"):
            plain[str(name)]["explanation"] = _clip(_text(score["explanation"]), 2000)
    return plain


def _text(value: Any) -> str:
    """The readable text of an Inspect input, target or message content."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "\n".join(_text(item) for item in value)
    if isinstance(value, dict):
        if "content" in value:
            return _text(value["content"])
        return str(value.get("text") or value.get("reasoning") or "")
    return str(value)


def _clip(text: str, limit: int = PREVIEW_CHARS) -> str:
    return text if len(text) <= limit else text[:limit] + " …[cut]"


# --- JSON as Python writes it: NaN and the infinities -----------------------------------------

# Python's json (and so Inspect) writes NaN, Infinity and -Infinity, which are
# not JSON and which ijson refuses. Outside strings they are rewritten, as the
# bytes stream past, to a marked string that is turned back into a note.
_NON_NUMBER = "\u0001not-a-number:"
_MARK_JSON = b'"\\u0001not-a-number:'
_OUTSIDE = re.compile(rb'"|-?Infinity|NaN')
_STRING_END = re.compile(rb'[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_PARTIAL = (b"N", b"Na", b"I", b"In", b"Inf", b"Infi", b"Infin", b"Infini", b"Infinit", b"-")


def _numbers_for_ijson(chunks):
    in_string = False
    carry = b""
    for chunk in chunks:
        data = carry + chunk
        carry = b""
        out = []
        pos = 0
        while pos < len(data):
            if in_string:
                end = _STRING_END.match(data, pos)
                if end is None:
                    # The string goes on in the next chunk; keep a dangling backslash with it.
                    tail = len(data) - len(data.rstrip(b"\\"))
                    cut = len(data) - (tail % 2)
                    out.append(data[pos:cut])
                    carry = data[cut:]
                    pos = len(data)
                    break
                out.append(data[pos : end.end()])
                pos = end.end()
                in_string = False
                continue
            found = _OUTSIDE.search(data, pos)
            if found is None:
                rest = data[pos:]
                keep = max((len(p) for p in _PARTIAL if rest.endswith(p)), default=0)
                out.append(rest[: len(rest) - keep])
                carry = rest[len(rest) - keep :]
                pos = len(data)
                break
            out.append(data[pos : found.start()])
            token = found.group()
            if token == b'"':
                out.append(token)
                in_string = True
            else:
                out.append(_MARK_JSON + token + b'"')
            pos = found.end()
        yield b"".join(out)
    if carry:
        yield carry


def _restore_non_numbers(value: Any) -> Any:
    """Turn the marked strings back into floats, for Inspect's own reader."""
    if isinstance(value, str) and value.startswith(_NON_NUMBER):
        return float(value[len(_NON_NUMBER) :].lower().replace("infinity", "inf"))
    if isinstance(value, dict):
        return {k: _restore_non_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_restore_non_numbers(v) for v in value]
    return value


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
        # An empty read means the end to its reader, so empty chunks are passed over.
        while self._offset >= len(self._chunk):
            self._chunk, self._offset = next(self._chunks, None), 0
            if self._chunk is None:
                self._chunk = b""
                return b""
        end = len(self._chunk) if size < 0 else self._offset + size
        data = self._chunk[self._offset : end]
        self._offset += len(data)
        return data
