"""Measure the peak memory of a 200 MiB streamed upload (a figure, not a test).

The request body is generated on the fly, so the only large buffers are the
ones the upload path itself would hold. It goes through what a real upload
goes through: Django's multipart parser with the portal's capped upload
handler (spooling to a temporary file), then the chunked copy to storage with
the SHA-256 computed on the way.

    .venv/bin/python bench/upload_memory.py [MiB]
"""

import hashlib
import io
import os
import resource
import shutil
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caisi_portal.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.handlers.wsgi import WSGIRequest  # noqa: E402

from core.uploads import prepare_upload  # noqa: E402
from submissions.uploads import store_stream  # noqa: E402

BOUNDARY = "----bench-boundary"
CHUNK = 1024 * 1024


class GeneratedBody(io.RawIOBase):
    """A multipart body of `size` bytes of file content, produced as it is read."""

    def __init__(self, size: int):
        self.head = (
            f"--{BOUNDARY}\r\n"
            'Content-Disposition: form-data; name="file"; filename="weights.bin"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        self.tail = f"\r\n--{BOUNDARY}--\r\n".encode()
        self.size = size
        self.sent = 0
        self.pending = self.head
        self.digest = hashlib.sha256()
        self.block = bytes(range(256)) * (CHUNK // 256)

    def __len__(self):
        return len(self.head) + self.size + len(self.tail)

    def readable(self):
        return True

    def read(self, n=-1):
        if not self.pending:
            if self.sent < self.size:
                part = self.block[: min(CHUNK, self.size - self.sent)]
                self.sent += len(part)
                self.digest.update(part)
                self.pending = part
                if self.sent == self.size:
                    self.pending += self.tail
            else:
                return b""
        n = len(self.pending) if n is None or n < 0 else n
        out, self.pending = self.pending[:n], self.pending[n:]
        return out


def main(mib: int) -> None:
    settings.MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="upload-bench-"))
    try:
        measure(mib)
    finally:
        shutil.rmtree(settings.MEDIA_ROOT, ignore_errors=True)


def measure(mib: int) -> None:
    size = mib * 1024 * 1024
    body = GeneratedBody(size)
    request = WSGIRequest(
        {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": "/bench/",
            "CONTENT_TYPE": f"multipart/form-data; boundary={BOUNDARY}",
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": body,
            "SERVER_NAME": "bench",
            "SERVER_PORT": "80",
            "wsgi.url_scheme": "http",
        }
    )
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    started = time.perf_counter()
    prepare_upload(request, max_bytes=size + 1)
    upload = request.FILES["file"]
    parsed = time.perf_counter()
    stored = store_stream(upload, folder="bench", expected_sha256=body.digest.hexdigest())
    done = time.perf_counter()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    print(f"upload size            {size / 2**20:8.1f} MiB")
    print(f"spooled to             {type(upload).__name__}")
    print(f"stored                 {stored.size / 2**20:8.1f} MiB, sha256 verified")
    print(f"python heap peak       {peak / 2**20:8.1f} MiB (tracemalloc)")
    print(f"process peak RSS       {rss_after / 1024:8.1f} MiB (was {rss_before / 1024:.1f})")
    print(f"peak RSS growth        {(rss_after - rss_before) / 1024:8.1f} MiB")
    print(f"parse + spool          {parsed - started:8.2f} s")
    print(f"copy + hash to storage {done - parsed:8.2f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
