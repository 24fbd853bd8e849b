"""The partial files of resumable weight uploads: the bytes of the tus protocol's server side.

Each upload's bytes are appended to one file of its own in
RESUMABLE_UPLOAD_ROOT as they arrive, under an exclusive lock, so two
requests never write one upload at once; the file's size is the upload's
offset, so what the disk holds and what the client is told never differ. A
piece cut off by a dropped connection keeps every byte that arrived.

The SHA-256 of the whole file is computed as the bytes arrive. This process
keeps the running digest between pieces; a piece that reaches another
process (another worker, or this one after a restart) first reads the bytes
stored since that process last digested (all of them, for one that never
did) to catch up, at disk speed, so no digest ever rests on state that could
be stale. Nothing here writes to the database.
"""

import base64
import binascii
import errno
import fcntl
import hashlib
import os
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage

CHUNK_SIZE = 1024 * 1024
# The algorithms a client may name in Upload-Checksum for one piece (the tus checksum extension).
PIECE_ALGORITHMS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "md5": hashlib.md5}
# Running digests kept in this process, the most recently used last.
KEPT_DIGESTS = 32
_running: "OrderedDict[str, tuple[int, object]]" = OrderedDict()


class Busy(Exception):
    """Another request is writing this upload right now."""


class PieceRefused(Exception):
    """The piece does not hash to the checksum sent with it; none of its bytes were kept."""


@dataclass(frozen=True)
class PieceChecksum:
    algorithm: str
    digest: bytes

    @classmethod
    def parse(cls, header: str) -> "PieceChecksum":
        """Read an Upload-Checksum header ("sha1 <base64>"); ValueError if it is not one."""
        algorithm, _, encoded = header.strip().partition(" ")
        if algorithm.lower() not in PIECE_ALGORITHMS:
            raise ValueError(
                f"Upload-Checksum names {algorithm!r}; use one of {', '.join(PIECE_ALGORITHMS)}."
            )
        try:
            digest = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("Upload-Checksum's digest is not base64.") from None
        return cls(algorithm.lower(), digest)


@dataclass(frozen=True)
class Appended:
    offset: int
    sha256: str  # of every byte stored so far


def partial_path(upload_id) -> Path:
    return Path(settings.RESUMABLE_UPLOAD_ROOT) / f"{uuid.UUID(str(upload_id)).hex}.part"


def create(upload_id) -> None:
    """Make the empty partial file of a new upload (readable by this account only)."""
    folder = Path(settings.RESUMABLE_UPLOAD_ROOT)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor = os.open(partial_path(upload_id), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    os.close(descriptor)


def remove(upload_id) -> None:
    """Remove an upload's partial file and its running digest (nothing if already gone)."""
    _running.pop(str(upload_id), None)
    partial_path(upload_id).unlink(missing_ok=True)


def stored_ids() -> list[str]:
    """Return the ids of every partial file on disk."""
    folder = Path(settings.RESUMABLE_UPLOAD_ROOT)
    if not folder.is_dir():
        return []
    return [str(uuid.UUID(p.stem)) for p in folder.glob("*.part") if _is_hex_id(p.stem)]


def _is_hex_id(stem: str) -> bool:
    try:
        return uuid.UUID(stem).hex == stem
    except ValueError:
        return False


class Writing:
    """One upload's partial file, locked for this request; see `writing`."""

    def __init__(self, upload_id, file):
        self.key, self.file = str(upload_id), file

    @property
    def offset(self) -> int:
        return os.fstat(self.file.fileno()).st_size

    def append(self, stream, *, limit: int, checksum: PieceChecksum | None = None) -> Appended:
        """Append up to `limit` bytes read from `stream`, digesting them on the way.

        A stream that ends early or breaks (the client's connection dropped)
        keeps every byte that arrived, unless a piece checksum was sent: then
        the piece is all or nothing, as the tus checksum extension says.
        """
        start = self.offset
        running = self._digest_so_far(start)
        piece = PIECE_ALGORITHMS[checksum.algorithm]() if checksum else None
        self.file.seek(start)
        remaining = limit
        try:
            while remaining > 0:
                data = stream.read(min(CHUNK_SIZE, remaining))
                if not data:
                    break
                self.file.write(data)
                running.update(data)
                if piece is not None:
                    piece.update(data)
                remaining -= len(data)
        except OSError:
            pass  # the connection dropped: keep what arrived
        self.file.flush()
        if piece is not None and piece.digest() != checksum.digest:
            self.file.truncate(start)
            _running.pop(self.key, None)
            raise PieceRefused(
                f"The piece does not match its Upload-Checksum ({checksum.algorithm}); "
                f"none of it was kept. Send it again from offset {start}."
            )
        offset = self.offset
        self._keep(offset, running)
        return Appended(offset=offset, sha256=running.copy().hexdigest())

    def _digest_so_far(self, offset: int):
        kept = _running.pop(self.key, None)
        if kept is not None and kept[0] == offset:
            return kept[1]
        # Pieces that reached other processes meanwhile are read from the disk. The
        # bytes before what this process last digested are as they were (a file
        # only grows, and a refused piece is cut off by the process that wrote it),
        # so only the bytes after it are read: with pieces spread over the workers,
        # reading from the start each time would read the file over and over.
        if kept is not None and kept[0] < offset:
            start, running = kept
        else:
            start, running = 0, hashlib.sha256()
        self.file.seek(start)
        remaining = offset - start
        while remaining > 0:
            data = self.file.read(min(CHUNK_SIZE, remaining))
            if not data:
                break
            running.update(data)
            remaining -= len(data)
        return running

    def _keep(self, offset: int, running) -> None:
        _running[self.key] = (offset, running)
        while len(_running) > KEPT_DIGESTS:
            _running.popitem(last=False)


class writing:  # noqa: N801 - used as a context manager, like open()
    """Lock an upload's partial file for this request; Busy if another holds it.

    FileNotFoundError when the upload has no partial file (it finished, was
    refused, or expired).
    """

    def __init__(self, upload_id):
        self.upload_id = upload_id

    def __enter__(self) -> Writing:
        self.file = open(partial_path(self.upload_id), "r+b")  # noqa: SIM115 - closed in __exit__
        try:
            fcntl.flock(self.file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.file.close()
            raise Busy("Another request is sending this upload; try again shortly.") from None
        return Writing(self.upload_id, self.file)

    def __exit__(self, *exc) -> None:
        fcntl.flock(self.file.fileno(), fcntl.LOCK_UN)
        self.file.close()


def store(upload_id, *, folder: str) -> str:
    """Move a finished upload's file into storage under a random name; return that name.

    On local storage on the same disk the file is renamed, not copied; to
    another disk or S3-compatible storage it is streamed in chunks.
    """
    source = partial_path(upload_id)
    name = f"{folder}/{uuid.uuid4().hex}"
    _running.pop(str(upload_id), None)
    try:
        target = Path(default_storage.path(name))
    except NotImplementedError:  # storage with no local path (S3-compatible)
        target = None
    if target is not None:
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(source, target)
            return name
        except OSError as error:
            if error.errno != errno.EXDEV:
                raise
    with open(source, "rb") as file:
        name = default_storage.save(name, File(file, name="upload"))
    source.unlink(missing_ok=True)
    return name
